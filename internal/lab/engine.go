package lab

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/failwatch/failwatch/internal/engine"
	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros"
)

// Engine is failwatch itself on the lab's router: internal/engine with
// its probes, its automatic policy, its bridge start-up check and its
// operations, as `failwatch` runs them.
const Engine Mode = "failwatch engine (probes + auto policy)"

// EngineClients is the clients' scenario 2 (ClientsScenario2) with
// failwatch's engine failing the name over and the service's bridge
// configured: setup writes the rules disabled and failwatch's own address
// in the exempt list (its netwatch is held), the engine probes every
// 100 ms (DOWN after 2 lost) and its policy fails over as soon as the
// primary is DOWN; the failover enables the bridge. A run in which the
// engine's probes see the cut primary UP at the end (its probes carried to
// the standby: the probe loop) or its start-up check refused the bridge
// is an error.
func (l *Lab) EngineClients(ctx context.Context, ttl time.Duration, count, cutAt int, interval time.Duration) ([]ClientRow, error) {
	c, f, done, err := l.startRun(ctx, Failwatch, ServiceBridge, ttl)
	if err != nil {
		return nil, err
	}
	defer done()
	e, stop, err := l.startEngine(ctx)
	if err != nil {
		return nil, err
	}
	run, err := l.runClients(ctx, c, ServiceBridge, ttl, count, cutAt, interval)
	st := e.State()
	stop()
	if err == nil && run.switched.IsZero() {
		err = fmt.Errorf("%s: %w", Engine, errNotSwitched)
	}
	if err == nil {
		err = engineRun(st)
	}
	var rows []ClientRow
	if err == nil {
		rows = []ClientRow{l.clientRow(Engine, ServiceBridge, ttl, ResolveOnce, run.once, count, run),
			l.clientRow(Engine, ServiceBridge, ttl, Caching, run.cached, count, run)}
		if d := e.LastDone(); d != nil {
			for i := range rows {
				rows[i].Op = &d.Result
			}
		}
	}
	stopped := func() {}
	return rows, errors.Join(err, l.afterClients(ctx, Failwatch, f, c, &stopped))
}

// engineRun says what is wrong with the engine's state at the end of a
// run: its bridge refused, or the cut primary UP (the probe loop).
func engineRun(st engine.State) error {
	if b := st.Facts[Name].Bridge; b == nil || b.Refused != "" {
		return fmt.Errorf("%s: the bridge was refused at start-up: %+v", Engine, b)
	}
	if h := st.Health["public"]; h.State != monitor.Down {
		return fmt.Errorf("%s: failwatch's probes say the cut primary is %s at the end: they were carried to the standby (the probe loop)", Engine, h.State)
	}
	return nil
}

// startEngine runs failwatch's engine on the lab's router until stop, once
// it has read the name on the public server, probed both servers UP and
// allowed the bridge (its start-up check, which refuses a bridge that would
// carry failwatch's own probes).
func (l *Lab) startEngine(ctx context.Context) (*engine.Engine, func(), error) {
	cfg := l.Config()
	cfg.Probe.Interval, cfg.Probe.Timeout, cfg.Probe.DownAfter, cfg.Probe.UpAfter = 100*time.Millisecond, 300*time.Millisecond, 2, 2
	cfg.Services[0].Auto.Enabled, cfg.Services[0].Auto.FailAfter, cfg.Services[0].Auto.Restore = true, 0, "manual"
	e, _, err := engine.New(cfg, engine.Options{Router: routeros.OptionsFrom(cfg.Router), Monitor: monitor.Options{Probe: cfg.Probe, ICMP: l.ICMP},
		DNS: l.DNS, User: "lab"})
	if err != nil {
		return nil, nil, err
	}
	ectx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { e.Run(ectx); close(done) }()
	stop := func() { cancel(); <-done }
	deadline := time.Now().Add(15 * time.Second)
	for {
		st := e.State()
		b := st.Facts[Name].Bridge
		if st.Active[Name] == "public" && st.Health["public"].State == monitor.Up && st.Health["private"].State == monitor.Up &&
			b != nil && b.Refused == "" && b.State == "off" {
			return e, stop, nil
		}
		if time.Now().After(deadline) {
			stop()
			return nil, nil, fmt.Errorf("%s: not ready within 15s (active %q, health %v, bridge %+v)", Engine, st.Active[Name], st.Health, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
