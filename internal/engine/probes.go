package engine

import (
	"context"
	"sync"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros/failover"
)

// probing is one server's monitor and how to stop it.
type probing struct {
	m      *monitor.Server
	cancel context.CancelFunc
	// done receives once the monitor has returned.
	done <-chan error
}

func (e *Engine) newProbing(s config.Server, i, n int) (*probing, error) {
	mo := e.opts.Monitor
	mo.Phase = monitor.Spread(i, n, e.cfg.Probe.Interval)
	m, err := monitor.NewServer(s, mo)
	if err != nil {
		return nil, err
	}
	return &probing{m: m}, nil
}

// start runs a monitor in the engine's probe group until ctx ends or it is
// stopped. Its events are taken on the group's goroutine, one for every
// server: no goroutine and no queue per server (8 KB of stack each).
func (e *Engine) start(ctx context.Context, p *probing) {
	ctx, p.cancel = context.WithCancel(ctx)
	p.done = e.probes.Start(ctx, p.m, func(ev monitor.Event) { e.sawServerEvent(p, ev) })
}

// sawServerEvent keeps each server's health for the policy and the
// snapshot, and publishes the event. It runs on the probe group's
// goroutine and waits for nothing but the engine's lock. The last events of
// a monitor a reload stopped or replaced are dropped: its server's history
// is forgotten, and a replaced one's samples would mix with the new one's.
func (e *Engine) sawServerEvent(p *probing, ev monitor.Event) {
	e.mu.Lock()
	if e.monitors[ev.Server] != p {
		e.mu.Unlock()
		return
	}
	switch {
	case ev.Type == monitor.EventServer:
		e.state.Health[ev.Server] = failover.Health{State: ev.Transition.To, Since: ev.Transition.At}
	case ev.Type == monitor.EventSample && !ev.Sample.NotSent:
		e.sawSample(ev.Server, ev.Check.Label, ev.Sample)
	}
	e.publishLocked(ServerEvent(ev))
	e.mu.Unlock()
	if ev.Type == monitor.EventServer {
		e.askPolicy()
	}
}

func hosts(servers []config.Server) []string {
	out := make([]string, len(servers))
	for i, s := range servers {
		out[i] = s.Address
	}
	return out
}

// dnsPerSecond is how many names the resolver is asked a second: with more
// services each is asked less often (50 names: each every 5 s), so the
// router's DNS is not asked 50 times a second.
const dnsPerSecond = 10

// askDNS asks what the services' names resolve to, up to dnsPerSecond of
// them a second in turn, those of one second at once: a resolver that does
// not answer costs one timeout a second, not one per name.
func (e *Engine) askDNS(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	next := 0
	for {
		var wg sync.WaitGroup
		for i := range min(dnsPerSecond, len(e.services)) {
			svc := e.services[(next+i)%len(e.services)]
			wg.Go(func() {
				f := svc.failover
				qctx, cancel := context.WithTimeout(ctx, time.Second)
				ans := monitor.Query(qctx, svc.dns, svc.cfg.Name, failover.RecordType(f.Primary, f.Standby))
				cancel()
				if ctx.Err() != nil {
					return
				}
				answer := ""
				for _, s := range e.Servers() {
					if len(ans.Addrs) > 0 && ans.Addrs[0].String() == s.Address {
						answer = s.Name
					}
				}
				e.mu.Lock()
				e.state.DNS[svc.cfg.Name] = ans
				e.mu.Unlock()
				e.publish(DNSAnswer{Service: svc.cfg.Name, Server: answer, DNSAnswer: ans})
			})
		}
		wg.Wait()
		next = (next + dnsPerSecond) % max(len(e.services), 1)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
