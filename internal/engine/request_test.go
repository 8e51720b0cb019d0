package engine

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/failwatch/failwatch/internal/testkit"
	"github.com/failwatch/failwatch/routeros/rosim"
)

// The engine, not only the key map, refuses a viewer: nothing runs, and
// the refusal is audited.
func TestViewerRequestIsRefused(t *testing.T) {
	e, _, stop := paperRig(t, false)
	onPublic(t, e, 256)
	eve := Requester{User: "ssh:eve", Key: "SHA256:abc", Role: Viewer}
	for range 3 {
		if err := e.Request(Request{Op: OpFailover, By: eve}); !errors.Is(err, ErrViewer) {
			t.Fatalf("a viewer's request: %v", err)
		}
	}
	if e.Busy() || e.LastDone() != nil {
		t.Fatal("a viewer's request started an operation")
	}
	if err := e.Request(Request{Op: OpFailover, By: Requester{User: "nobody"}}); !errors.Is(err, ErrViewer) {
		t.Errorf("a requester without a role is a viewer: %v", err)
	}
	stop()
	lines := testkit.JSONLines(t, e.opts.AuditLog)
	if len(lines) != 2 {
		t.Fatalf("audit: %v", lines)
	}
	if l := lines[1]; l["user"] != "ssh:eve SHA256:abc" || l["result"] != "refused" || l["count"] != 3.0 || l["operation"] != "failover" {
		t.Errorf("audit line %v", l)
	}
}

// A request made while another operation runs is answered with whose it
// is, and audited as refused in one line per requester with a count, when
// the operation ends: a held key cannot flood the audit log.
func TestBusyRefusalsSayWhoseAndAreCoalesced(t *testing.T) {
	e, r, _ := paperRig(t, false)
	s := onPublic(t, e, 1024)
	// The first record change takes a while: the operation is under way
	// while bob and carol ask.
	r.Inject("/ip/dns/static/set", 0, rosim.Fault{Kind: rosim.FaultSlow, Delay: 300 * time.Millisecond})
	alice := Requester{User: "alice", Role: Operator}
	if err := e.Request(Request{Op: OpFailover, By: alice}); err != nil {
		t.Fatal(err)
	}
	for range 40 {
		for _, who := range []string{"bob", "carol"} {
			err := e.Request(Request{Op: OpRestore, By: Requester{User: who, Role: Operator}})
			if !errors.Is(err, ErrBusy) || err.Error() != "busy: alice's failover is running" {
				t.Fatalf("%s during alice's failover: %v", who, err)
			}
		}
	}
	if d := until(t, s, func(Done) bool { return true }); d.Err != nil {
		t.Fatal(d.Err)
	}
	var refused []map[string]any
	for _, l := range testkit.JSONLines(t, e.opts.AuditLog) {
		if l["result"] == "refused" {
			refused = append(refused, l)
		}
	}
	if len(refused) != 2 {
		t.Fatalf("refusal lines: %v", refused)
	}
	for i, who := range []string{"bob", "carol"} {
		if l := refused[i]; l["user"] != who || l["count"] != 40.0 || !strings.Contains(l["error"].(string), "alice's failover") {
			t.Errorf("refusal line %v", l)
		}
	}
}

// c is a request like the others: a viewer's is refused and audited; an
// operator's clears the statistics, is audited and announced to every
// subscriber, and takes no operation's turn (it works while one runs).
func TestResetStatsIsARequest(t *testing.T) {
	e, _ := paperEngine(t, false)
	s := onPublic(t, e, 4096)
	if err := e.Request(Request{Op: OpResetStats, By: Requester{User: "noc", Role: Viewer}}); !errors.Is(err, ErrViewer) {
		t.Errorf("a viewer's reset: %v", err)
	}
	if err := e.Request(Request{Op: OpFailoverHold, By: Requester{User: "alice", Role: Operator}}); err != nil {
		t.Fatal(err)
	}
	if err := e.Request(Request{Op: OpResetStats, By: Requester{User: "bob", Role: Operator}}); err != nil {
		t.Errorf("a reset during an operation: %v", err)
	}
	if r := until(t, s, func(StatsReset) bool { return true }); r.By != "bob" {
		t.Errorf("announced as %+v", r)
	}
	until(t, s, func(Done) bool { return true })
	e.flushRefusals()
	audit, err := os.ReadFile(e.opts.AuditLog)
	if err != nil {
		t.Fatal(err)
	}
	var reset, refused bool
	for _, line := range strings.Split(strings.TrimSpace(string(audit)), "\n") {
		var l struct{ User, Operation, Result string }
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatal(err)
		}
		reset = reset || (l.Operation == string(OpResetStats) && l.User == "bob" && l.Result == "changed")
		refused = refused || (l.Operation == string(OpResetStats) && l.User == "noc" && l.Result == "refused")
	}
	if !reset || !refused {
		t.Errorf("audit log:\n%s", audit)
	}
}
