package lab

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros/failover"
)

// policyWatch is failwatch's probes and automatic policy on the lab's
// primary, and what they did: when the probes called it DOWN, the failover
// the policy ran, and whether the probes saw it UP again afterwards.
type policyWatch struct {
	detected chan time.Time
	stop     context.CancelFunc

	mu sync.Mutex
	// op is the failover's result, nil until it returned.
	op *failover.Result
	// upAgain is when the probes first called the primary UP after DOWN.
	upAgain time.Time
}

// result is the failover's result (nil if none ran) and when the probes
// saw the primary UP again after DOWN (zero: they did not).
func (w *policyWatch) result() (*failover.Result, time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.op, w.upAgain
}

// ProbeInterval is failwatch's probe interval on the lab's path.
const ProbeInterval = 100 * time.Millisecond

// watchWithPolicy probes the public server as failwatch does and lets the
// automatic policy fail over, until stop.
func (l *Lab) watchWithPolicy(ctx context.Context, f *failover.Failover, cfg *config.Config) *policyWatch {
	ctx, cancel := context.WithCancel(ctx)
	w := &policyWatch{detected: make(chan time.Time, 1), stop: cancel}
	probe := cfg.Probe
	probe.Interval, probe.Timeout, probe.DownAfter, probe.UpAfter = ProbeInterval, 300*time.Millisecond, 2, 2
	m, _ := monitor.NewServer(cfg.Servers[0], monitor.Options{Probe: probe, ICMP: l.ICMP})
	events := make(chan monitor.Event, 16)
	go m.Run(ctx, events)
	go w.run(ctx, f, cfg, events)
	return w
}

// run is the policy: each time the probes call the primary DOWN, it
// decides from a fresh reading of the records, and fails over when the
// policy says so. An UP after a DOWN is kept: while the primary is cut it
// can only be the probes carried to the standby by a bridge that does not
// exempt failwatch's own address (the probe loop).
func (w *policyWatch) run(ctx context.Context, f *failover.Failover, cfg *config.Config, events <-chan monitor.Event) {
	policy := failover.NewPolicy(config.Auto{Enabled: true, Restore: "manual"}, "public", "private")
	standby := failover.Health{State: monitor.Up, Since: time.Now()}
	down := false
	for {
		var ev monitor.Event
		select {
		case <-ctx.Done():
			return
		case ev = <-events:
		}
		if ev.Type != monitor.EventServer {
			continue
		}
		health := failover.Health{State: ev.Transition.To, Since: ev.Transition.At}
		if health.State == monitor.Up && down {
			w.mu.Lock()
			if w.upAgain.IsZero() {
				w.upAgain = ev.Time
			}
			w.mu.Unlock()
		}
		if health.State != monitor.Down {
			continue
		}
		down = true
		select {
		case w.detected <- ev.Time:
		default:
		}
		recs, err := f.Client.StaticRecords(ctx, Name)
		if err != nil {
			continue
		}
		nw, _ := f.Client.NetwatchEntries(ctx)
		d := policy.Decide(failover.PolicyInput{Now: time.Now(), RouterConnected: true,
			Active:  failover.Active(cfg.Services[0], recs, cfg.Servers...),
			Primary: health, Standby: standby, Switching: failover.Switching(nw)})
		if d.Action == failover.ActionFailover {
			f.Reason = d.Reason
			res, _ := f.FailoverToStandby(ctx, false)
			w.mu.Lock()
			w.op = &res
			w.mu.Unlock()
		}
	}
}

// bridgeSteps are an operation's bridge steps, after its records' verify
// step: "" when the records were verified and every bridge step that
// enables the rules and removes the connections is ok, else what is not.
func bridgeSteps(op *failover.Result) string {
	if op == nil {
		return "no failover ran"
	}
	verified := slices.IndexFunc(op.Steps, func(s failover.Step) bool { return s.Name == "verify" && s.Status == failover.StepOK })
	if verified < 0 {
		return "the records were not verified"
	}
	var bad []string
	for _, name := range []string{"bridge: enable rules", "bridge: remove tracked connections"} {
		i := slices.IndexFunc(op.Steps, func(s failover.Step) bool { return s.Name == name })
		switch {
		case i < 0:
			bad = append(bad, name+": not run")
		case i < verified:
			bad = append(bad, name+": before the records were verified")
		case op.Steps[i].Status != failover.StepOK:
			bad = append(bad, name+": "+string(op.Steps[i].Status)+" ("+op.Steps[i].Detail+")")
		}
	}
	return strings.Join(bad, "; ")
}
