package lab

import (
	"context"
	"testing"
	"time"

	"github.com/failwatch/failwatch/internal/paper"
	"github.com/failwatch/failwatch/internal/testkit"
	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/failover"
	"github.com/failwatch/failwatch/routeros/rosim"
)

// serverEvent is the probes calling the primary to.
func serverEvent(to monitor.State) monitor.Event {
	now := time.Now()
	return monitor.Event{Time: now, Server: "public", Type: monitor.EventServer, Transition: monitor.Transition{To: to, At: now}}
}

// The lab's policy fails over when the probes call the primary DOWN, and
// keeps an UP after it: the probe loop a bridge carrying failwatch's own
// probes would make. An UP before any DOWN is the probes' start, not one.
func TestPolicyWatchSeesTheProbeLoop(t *testing.T) {
	for _, tc := range []struct {
		name   string
		states []monitor.State
		loop   bool
	}{
		{"down stays down", []monitor.State{monitor.Up, monitor.Down}, false},
		{"up again after down", []monitor.State{monitor.Up, monitor.Down, monitor.Up}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, addr := testkit.Emulator(t, rosim.Options{})
			cfg := paper.Config()
			c, _, err := routeros.New(routeros.Options{Address: addr, User: "admin", Timeout: 2 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			f := &failover.Failover{Client: c, Service: cfg.Services[0], Primary: cfg.Servers[0], Standby: cfg.Servers[1], User: "lab"}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			// As the lab does: the router's netwatch, held, does not fight
			// the policy.
			if _, err := f.HoldNetwatch(ctx); err != nil {
				t.Fatal(err)
			}
			w := &policyWatch{detected: make(chan time.Time, 1), stop: cancel}
			events := make(chan monitor.Event)
			go w.run(ctx, f, cfg, events)
			for _, s := range tc.states {
				events <- serverEvent(s)
			}
			testkit.Eventually(t, 5*time.Second, "the policy's failover", func() bool { op, _ := w.result(); return op != nil })
			op, up := w.result()
			if op.To != "private" {
				t.Errorf("failover to %q, want private", op.To)
			}
			// The UP after the DOWN is taken once the failover returned.
			if tc.loop {
				testkit.Eventually(t, 5*time.Second, "the UP after DOWN kept", func() bool { _, up = w.result(); return !up.IsZero() })
			}
			if !up.IsZero() != tc.loop {
				t.Errorf("UP after DOWN kept: %v, want %v", !up.IsZero(), tc.loop)
			}
		})
	}
}

// bridgeSteps passes an operation only when its bridge enabled the rules
// and removed the connections, both ok, after the records were verified.
func TestBridgeSteps(t *testing.T) {
	ok := func(name string) failover.Step { return failover.Step{Name: name, Status: failover.StepOK} }
	verify, enable, remove := ok("verify"), ok("bridge: enable rules"), ok("bridge: remove tracked connections")
	failed := remove
	failed.Status, failed.Detail = failover.StepFailed, "timeout"
	for _, tc := range []struct {
		name  string
		op    *failover.Result
		empty bool
	}{
		{"no failover", nil, false},
		{"bridged after the verify", &failover.Result{Steps: []failover.Step{verify, ok("bridge: read rules"), enable, remove}}, true},
		{"records not verified", &failover.Result{Steps: []failover.Step{enable, remove}}, false},
		{"no bridge step", &failover.Result{Steps: []failover.Step{verify}}, false},
		{"bridge before the verify", &failover.Result{Steps: []failover.Step{enable, remove, verify}}, false},
		{"connections not removed", &failover.Result{Steps: []failover.Step{verify, enable, failed}}, false},
	} {
		if got := bridgeSteps(tc.op); (got == "") != tc.empty {
			t.Errorf("%s: bridgeSteps = %q", tc.name, got)
		}
	}
}
