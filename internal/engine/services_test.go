package engine

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/failwatch/failwatch/internal/paper/papersim"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/testkit"
	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros/failover"
	"github.com/failwatch/failwatch/routeros/rosim"
)

// threeServices is three names over three servers: core carries www and
// api (as their primary), edge carries mail and is api's standby, backup
// is the standby of www and mail. The servers section goes in at the
// second %s (testkit.ThreeServicesServers): their addresses are
// documentation ones, the probes are simulated, nothing is sent to them.
const threeServices = `router:
  address: %s
  timeout: 2s
services:
  - {name: www.example.test, primary: core, standby: backup}
  - {name: api.example.test, primary: core, standby: edge}
  - {name: mail.example.test, primary: edge, standby: backup}
%sprobe:
  interval: 100ms
%s`

// servicesEngine runs an engine for threeServices on the emulator, each
// name's records there with its primary's enabled and no netwatch; sims
// are the servers' simulated probes.
func servicesEngine(t *testing.T, extra string) (*Engine, *rosim.Router, map[string]*monitor.Simulated) {
	t.Helper()
	r, api, dns := testkit.ServicesEmulator(t, testkit.ThreeServices)
	cfg, err := config.Parse("three.yaml", []byte(fmt.Sprintf(threeServices, api, testkit.ThreeServicesServers, extra)))
	if err != nil {
		t.Fatal(err)
	}
	sims := map[string]*monitor.Simulated{"core": papersim.Private(), "edge": papersim.Private(), "backup": papersim.Private()}
	e, _ := runEngine(t, cfg, sims, Options{DNS: dns, User: "tester"})
	return e, r, sims
}

// actives is each service's active server in a reading, nil in any other
// event.
func actives(ev Reading) map[string]string {
	if len(ev.Services) == 0 {
		return nil
	}
	out := map[string]string{}
	for _, f := range ev.Services {
		out[f.Service] = f.Active
	}
	return out
}

// on is a reading with the services on those servers.
func on(want map[string]string) func(Reading) bool {
	return func(ev Reading) bool {
		got := actives(ev)
		if got == nil {
			return false
		}
		for svc, server := range want {
			if got[svc] != server {
				return false
			}
		}
		return true
	}
}

var onPrimaries = map[string]string{"www.example.test": "core", "api.example.test": "core", "mail.example.test": "edge"}

// One reading of the router serves every service: a record read and a
// netwatch read per cycle, whatever the number of names.
func TestOneReadingForEveryService(t *testing.T) {
	e, r, _ := servicesEngine(t, "")
	s := e.Subscribe(1024)
	defer s.Close()
	ev := until(t, s, on(onPrimaries))
	readings := 1
	for readings < 3 {
		if until(t, s, func(Reading) bool { return true }).Err == nil {
			readings++
		}
	}
	calls := r.Calls()
	// The readings seen, and at most one under way.
	if n := calls["/ip/dns/static/print"]; n < readings || n > readings+1 || calls["/tool/netwatch/print"] != n {
		t.Errorf("%d readings took %d record reads and %d netwatch reads", readings, n, calls["/tool/netwatch/print"])
	}
	if len(ev.Services) != 3 {
		t.Fatalf("facts %+v", ev.Services)
	}
	for _, f := range ev.Services {
		if len(f.Records) != 2 || f.Enabled != 1 {
			t.Errorf("%s: %d records, %d enabled", f.Service, len(f.Records), f.Enabled)
		}
		for _, r := range f.Records {
			if r.Name != f.Service {
				t.Errorf("%s holds %s's record %s", f.Service, r.Name, r.ID)
			}
		}
	}
}

// Moving every service off the shared server moves exactly the names it
// carries, each to its own standby, verified, and leaves the third alone.
func TestEvacuateMovesTheServersNames(t *testing.T) {
	e, _, _ := servicesEngine(t, "")
	s := e.Subscribe(4096)
	defer s.Close()
	until(t, s, on(onPrimaries))
	if err := e.Request(Request{Op: OpEvacuate, Target: "core", By: Requester{User: "alice", Role: Operator}, Reason: "maintenance"}); err != nil {
		t.Fatal(err)
	}
	var steps []string
	var done Done
	until(t, s, func(ev Event) bool {
		switch ev := ev.(type) {
		case Step:
			if ev.Step.Status != failover.StepRunning {
				steps = append(steps, ev.Step.Name)
			}
		case Done:
			done = ev
			return true
		}
		return false
	})
	if done.Err != nil || len(done.Result.Parts) != 2 || done.Result.Operation != "move off core" {
		t.Fatalf("done: %+v %v", done.Result, done.Err)
	}
	for i, want := range []string{"www.example.test", "api.example.test"} {
		if p := done.Result.Parts[i]; p.Service != want || p.Outcome != failover.OutcomeChanged {
			t.Errorf("part %d: %s %s", i, p.Service, p.Outcome)
		}
	}
	if !strings.HasPrefix(steps[0], "www.example.test: ") || !strings.HasPrefix(steps[len(steps)-1], "api.example.test: ") {
		t.Errorf("steps do not say whose they are: %q", steps)
	}
	until(t, s, on(map[string]string{"www.example.test": "backup", "api.example.test": "edge", "mail.example.test": "edge"}))
	// The audit log has each service's line, each saying what it was part of.
	audit, err := os.ReadFile(e.opts.AuditLog)
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(string(audit)), "\n"); len(lines) != 2 ||
		!strings.Contains(lines[0], `"service":"www.example.test"`) || !strings.Contains(lines[1], `"reason":"move off core: maintenance"`) {
		t.Errorf("audit log:\n%s", audit)
	}
	if err := e.Request(Request{Op: OpEvacuate, Target: "core", By: Requester{User: "alice", Role: Operator}}); err == nil || !strings.Contains(err.Error(), "nothing to move") {
		t.Errorf("a second move off core: %v", err)
	}
	if err := e.Request(Request{Op: OpPrimaries, By: Requester{User: "alice", Role: Operator}}); err != nil {
		t.Fatal(err)
	}
	if d := until(t, s, func(Done) bool { return true }); d.Err != nil || len(d.Result.Parts) != 2 {
		t.Fatalf("back to primaries: %+v %v", d.Result, d.Err)
	}
	until(t, s, on(onPrimaries))
}

// A trap on the second service's change rolls back that service alone, says
// so, and stops; the first stays moved, verified.
func TestTrapRollsBackOneService(t *testing.T) {
	e, r, _ := servicesEngine(t, "")
	s := e.Subscribe(4096)
	defer s.Close()
	until(t, s, on(onPrimaries))
	// www takes two record changes; api's second (disabling core's
	// record, after its standby's was enabled) is refused.
	r.Inject("/ip/dns/static/set", 3, rosim.Fault{Message: "failure: item is locked by another session"})
	if err := e.Request(Request{Op: OpEvacuate, Target: "core", By: Requester{User: "alice", Role: Operator}}); err != nil {
		t.Fatal(err)
	}
	done := until(t, s, func(Done) bool { return true })
	if done.Err == nil || !strings.Contains(done.Err.Error(), "api.example.test: ") || !strings.Contains(done.Err.Error(), "rolled back") {
		t.Fatalf("err %v", done.Err)
	}
	if len(done.Result.Parts) != 2 || done.Result.Parts[0].Outcome != failover.OutcomeChanged ||
		done.Result.Parts[1].Outcome != failover.OutcomeRolledBack || done.Result.Outcome != failover.OutcomeRolledBack {
		t.Errorf("outcomes: %+v", done.Result)
	}
	until(t, s, on(map[string]string{"www.example.test": "backup", "api.example.test": "core", "mail.example.test": "edge"}))
}

// Two services whose shared primary goes down fail over automatically one
// after the other: no step of one runs between the other's first and its
// end.
func TestAutoFailoversDoNotInterleave(t *testing.T) {
	e, _, sims := servicesEngine(t, "auto: {enabled: true, fail_after: 300ms, hold_down: 1m}\n")
	s := e.Subscribe(8192)
	defer s.Close()
	until(t, s, func(ev Reading) bool {
		snap := e.State()
		return on(onPrimaries)(ev) && snap.Health["backup"].State == monitor.Up && snap.Health["edge"].State == monitor.Up
	})
	sims["core"].SetDown(true)
	var order []string
	dones := 0
	until(t, s, func(ev Event) bool {
		switch ev := ev.(type) {
		case Step:
			if ev.Step.Status == failover.StepRunning && ev.Step.Name == "read state" {
				order = append(order, "start")
			}
		case Done:
			order = append(order, "end "+ev.Result.Service)
			dones++
		}
		return dones == 2
	})
	if got := strings.Join(order, ","); got != "start,end www.example.test,start,end api.example.test" &&
		got != "start,end api.example.test,start,end www.example.test" {
		t.Errorf("operations interleaved: %s", got)
	}
	until(t, s, on(map[string]string{"www.example.test": "backup", "api.example.test": "edge", "mail.example.test": "edge"}))
}

// With many names the resolver is asked for at most ten a second, in turn:
// every name is answered within a few seconds, the router's DNS is not
// asked for every name every second.
func TestResolverAskedTenNamesASecond(t *testing.T) {
	_, _, perSecond, answered := servicesLoad(t, 25, 5, 4*time.Second)
	if perSecond > dnsPerSecond+1 || answered != 25 {
		t.Errorf("%.1f queries a second, %d of 25 names answered", perSecond, answered)
	}
}
