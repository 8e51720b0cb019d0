package failover

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/paper"
	"github.com/failwatch/failwatch/internal/testkit"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/rosim"
	"github.com/failwatch/failwatch/routeros/routerostest"
)

func paperFailover(t *testing.T, c *routeros.Client, layout config.Layout) (*Failover, *[]Step, string) {
	audit := filepath.Join(t.TempDir(), "audit", "audit.jsonl")
	var steps []Step
	servers := paper.Servers(paper.PublicAddress, paper.PrivateAddress)
	svc := paper.Service()
	svc.Layout = layout
	f := &Failover{
		Client:   c,
		Service:  svc,
		Primary:  servers[0],
		Standby:  servers[1],
		User:     "tester",
		Audit:    NewAudit(audit),
		Progress: func(s Step) { steps = append(steps, s) },
	}
	return f, &steps, audit
}

// enabled returns the addresses of the enabled records for the paper's name.
func enabled(t *testing.T, c *routeros.Client) []string {
	t.Helper()
	return routerostest.EnabledAddresses(t, c, paper.Name)
}

func stepNames(steps []Step, status StepStatus) []string {
	var out []string
	for _, s := range steps {
		if s.Status == status {
			out = append(out, s.Name)
		}
	}
	return out
}

func TestFailoverAndRestoreWithHold(t *testing.T) {
	r, addr := emulator(t, rosim.Options{})
	c := client(t, addr, "admin", "")
	f, steps, audit := paperFailover(t, c, config.Toggle)
	ctx := context.Background()

	res, err := f.FailoverToStandby(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := enabled(t, c); !slices.Equal(got, []string{paper.PrivateAddress}) || res.From != "public" || res.To != "private" || !res.Changed {
		t.Errorf("after failover: enabled %v, result %+v", got, res)
	}
	wantOK := []string{"read state", "hold netwatch", "enable private record", "disable public record", "flush DNS cache", "verify"}
	if got := stepNames(*steps, StepOK); !slices.Equal(got, wantOK) {
		t.Errorf("steps ok %q, want %q", got, wantOK)
	}
	if got := stepNames(*steps, StepRunning); !slices.Equal(got, wantOK) {
		t.Errorf("each step is reported as it starts: %q", got)
	}
	if r.CacheFlushes() != 1 {
		t.Errorf("cache flushed %d times", r.CacheFlushes())
	}
	nw, _ := c.NetwatchEntries(ctx)
	for _, e := range nw {
		if !e.Disabled || !strings.HasSuffix(e.Comment, HoldMark) {
			t.Errorf("netwatch %s not held: %+v", e.ID, e)
		}
	}

	// Idempotent: failing over again changes nothing and says so.
	*steps = nil
	res, err = f.FailoverToStandby(ctx, false)
	if err != nil || res.Changed || r.CacheFlushes() != 1 {
		t.Errorf("second failover: changed %v, err %v, flushes %d", res.Changed, err, r.CacheFlushes())
	}
	if got := stepNames(*steps, StepSkipped); !slices.Equal(got, []string{"enable private record", "disable public record", "flush DNS cache"}) {
		t.Errorf("skipped %q", got)
	}

	res, err = f.Restore(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := enabled(t, c); !slices.Equal(got, []string{paper.PublicAddress}) || res.From != "private" {
		t.Errorf("after restore: enabled %v, from %q", got, res.From)
	}
	nw, _ = c.NetwatchEntries(ctx)
	for _, e := range nw {
		if e.Disabled || strings.Contains(e.Comment, "held") {
			t.Errorf("netwatch %s not released: %+v", e.ID, e)
		}
	}

	lines := testkit.JSONLines(t, audit)
	if len(lines) != 3 {
		t.Fatalf("audit has %d lines", len(lines))
	}
	for i, want := range []struct{ op, result, from, to string }{
		{"failover", "changed", "public", "private"}, {"failover", "already so", "private", "private"}, {"restore", "changed", "private", "public"},
	} {
		l := lines[i]
		if l["operation"] != want.op || l["result"] != want.result || l["from"] != want.from || l["to"] != want.to || l["user"] != "tester" {
			t.Errorf("audit line %d: %v", i, l)
		}
	}
}

// The router refuses the second record change: the first is undone, the name
// is still answered by the public server, the trap's text reaches the user,
// and the audit says failed.
func TestFailoverRollsBackOnTrap(t *testing.T) {
	r, addr := emulator(t, rosim.Options{})
	dns, err := r.ServeDNS("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := client(t, addr, "admin", "")
	f, steps, audit := paperFailover(t, c, config.Toggle)
	r.Inject("/ip/dns/static/set", 1, rosim.Fault{Message: "failure: item is locked by another session"})

	_, err = f.FailoverToStandby(context.Background(), true)
	if err == nil || !strings.Contains(err.Error(), "item is locked by another session") || !strings.Contains(err.Error(), "rolled back") {
		t.Fatalf("err %v", err)
	}
	if got := enabled(t, c); !slices.Equal(got, []string{paper.PublicAddress}) {
		t.Errorf("after rollback: enabled %v", got)
	}
	wantUndo := []string{"undo enable private record: set *1 disabled=yes",
		`undo hold netwatch: set *2 disabled=no comment=""`, `undo hold netwatch: set *1 disabled=no comment=""`}
	if got := stepNames(*steps, StepRolledBack); !slices.Equal(got, wantUndo) {
		t.Errorf("rolled back steps %q, want %q", got, wantUndo)
	}
	nw, _ := c.NetwatchEntries(context.Background())
	for _, e := range nw {
		if e.Disabled {
			t.Errorf("netwatch %s left held after rollback", e.ID)
		}
	}
	if got := testkit.LookupA(t, dns.String(), paper.Name); !slices.Equal(got, []string{paper.PublicAddress}) {
		t.Errorf("DNS answers %v after the rollback", got)
	}
	if l := testkit.JSONLines(t, audit); len(l) != 1 || l[0]["result"] != "rolled back" {
		t.Errorf("audit %v", l)
	}
}

func TestRewriteLayout(t *testing.T) {
	c := client(t, testkit.Start(t, rosim.New(rosim.Options{})), "admin", "")
	ctx := context.Background()
	if _, err := c.Run(ctx, "/ip/dns/static/add", "=name="+paper.Name, "=address="+paper.PublicAddress, "=comment=service", "=ttl=30s"); err != nil {
		t.Fatal(err)
	}
	f, _, _ := paperFailover(t, c, config.Rewrite)
	f.Service.Record = config.RecordMatch{Comment: "service"}
	res, err := f.FailoverToStandby(ctx, false)
	if err != nil || res.From != "public" {
		t.Fatalf("%v %+v", err, res)
	}
	if got := enabled(t, c); !slices.Equal(got, []string{paper.PrivateAddress}) {
		t.Errorf("after failover: %v", got)
	}
	if _, err := f.Restore(ctx); err != nil {
		t.Fatal(err)
	}
	if got := enabled(t, c); !slices.Equal(got, []string{paper.PublicAddress}) {
		t.Errorf("after restore: %v", got)
	}
}

func TestFailoverMissingRecord(t *testing.T) {
	_, addr := emulator(t, rosim.Options{})
	c := client(t, addr, "admin", "")
	f, _, _ := paperFailover(t, c, config.Toggle)
	f.Standby.Record = config.RecordMatch{Comment: "Backup"}
	_, err := f.FailoverToStandby(context.Background(), false)
	if err == nil || !strings.Contains(err.Error(), `no static A record for tomtotrading.com matches server private (comment "Backup")`) {
		t.Errorf("err %v", err)
	}
	if got := enabled(t, c); !slices.Equal(got, []string{paper.PublicAddress}) {
		t.Errorf("records changed: %v", got)
	}
}

// The paper's netwatch scripts, run by the emulator's engine: the public
// host goes down, the records flip by print position, the router logs it,
// and the DNS answer changes; it comes back and they flip back.
func TestPaperNetwatchFlipsRecords(t *testing.T) {
	sim := rosim.NewSimulated()
	r, addr := emulator(t, rosim.Options{Probe: sim.Probe})
	dns, _ := r.ServeDNS("127.0.0.1:0")
	c := client(t, addr, "admin", "")
	ctx := context.Background()
	nw, _ := c.NetwatchEntries(ctx)
	for _, e := range nw {
		if err := c.Set(ctx, "/tool/netwatch", e.ID, "interval", "100ms"); err != nil {
			t.Fatal(err)
		}
	}
	waitFor := func(want string) {
		t.Helper()
		testkit.EventuallyLast(t, 5*time.Second, "DNS answered "+want, func() (string, bool) {
			got := testkit.LookupA(t, dns.String(), paper.Name)
			if slices.Equal(got, []string{want}) {
				return "", true
			}
			return fmt.Sprintf("answer %v; records %v", got, enabled(t, c)), false
		})
	}
	waitFor(paper.PublicAddress)
	sim.SetUp(netip.MustParseAddr(paper.PublicAddress), false)
	waitFor(paper.PrivateAddress)
	sim.SetUp(netip.MustParseAddr(paper.PublicAddress), true)
	waitFor(paper.PublicAddress)

	logs, err := c.Run(ctx, "/log/print", "?topics=netwatch,info")
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, row := range logs.Rows {
		msgs = append(msgs, row["message"])
	}
	want := "event down [ type: simple, host: 104.247.193.168 ]"
	if !slices.Contains(msgs, want) {
		t.Errorf("log %q lacks %q", msgs, want)
	}
	changes, _ := c.Run(ctx, "/log/print", "?message=static dns entry changed")
	if len(changes.Rows) < 4 {
		t.Errorf("%d 'static dns entry changed' lines, want at least 4", len(changes.Rows))
	}
}

// The router dropped the idle session: a failover pressed right then
// works, its first step (a read) redialling transparently.
func TestFailoverRightAfterADrop(t *testing.T) {
	r, addr := emulator(t, rosim.Options{})
	c := client(t, addr, "admin", "")
	if _, err := c.StaticRecords(context.Background(), paper.Name); err != nil {
		t.Fatal(err)
	}
	testkit.Hangup(t, r)
	f, _, _ := paperFailover(t, c, config.Toggle)
	if res, err := f.FailoverToStandby(context.Background(), false); err != nil || res.Outcome != OutcomeChanged {
		t.Fatalf("failover right after a drop: %v", err)
	}
}

// A failover without hold while the router's own switching entries are
// enabled (the paper's two) says that their next up event may move the
// name back and how to prevent it; with hold, nothing to warn of.
func TestFailoverWarnsOfTheRoutersNetwatch(t *testing.T) {
	for _, hold := range []bool{false, true} {
		_, addr := emulator(t, rosim.Options{})
		c := client(t, addr, "admin", "")
		f, _, _ := paperFailover(t, c, config.Toggle)
		res, err := f.FailoverToStandby(context.Background(), hold)
		if err != nil {
			t.Fatal(err)
		}
		warned := len(res.Notes) == 1 && strings.Contains(res.Notes[0], "*1 (104.247.193.168), *2 (104.247.193.168) are enabled") &&
			strings.Contains(res.Notes[0], "may move tomtotrading.com back to public; hold netwatch (failover --hold)")
		if warned == hold {
			t.Errorf("hold %v: notes %q", hold, res.Notes)
		}
	}
}
