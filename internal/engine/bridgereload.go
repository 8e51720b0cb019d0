package engine

import (
	"context"
	"reflect"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/failover"
)

// bridgeOf is a service's bridge now: the one the last reload set, else
// the config's. The engine's lock is held.
func (e *Engine) bridgeOf(s *service) config.Bridge {
	if b, ok := e.bridges[s.cfg.Name]; ok {
		return b
	}
	return s.cfg.Bridge
}

// bridged is a copy of a service's failover with its bridge now, for a
// reading's facts. The engine's lock is held.
func (e *Engine) bridged(s *service) *failover.Failover {
	f := *s.failover
	f.Service.Bridge = e.bridgeOf(s)
	return &f
}

// bridgeWatches are the bridges the readings take now. The engine's lock
// is held.
func (e *Engine) bridgeWatches() []routeros.BridgeWatch {
	var fs []*failover.Failover
	for _, s := range e.services {
		fs = append(fs, e.bridged(s))
	}
	return BridgeWatches(fs)
}

// reloadBridges applies the bridges of next's services to the running
// ones of the same name: the readings take the new bridge, its start-up
// check runs again (until it has, the bridge is refused, as at start), and
// a retry of the old one is dropped. A bridge that is on at the router is
// not changed: with another comment or none, failwatch would no longer
// find and end the rules that carry clients now; it applies at a reload
// once the bridge is off, or at a restart. Nor is one whose service's
// primary or standby changed, which needs a restart (the engine's
// failovers are still the old pair's). It returns the checks to run.
func (e *Engine) reloadBridges(next *config.Config, r *Reloaded) []bridgeCheck {
	pairChanged := !reflect.DeepEqual(carriers(e.cfg), carriers(next))
	e.mu.Lock()
	defer e.mu.Unlock()
	var checks []bridgeCheck
	for _, s := range e.services {
		name := s.cfg.Name
		nsvc, ok := next.Service(name)
		if !ok || reflect.DeepEqual(nsvc.Bridge, e.bridgeOf(s)) {
			continue
		}
		switch {
		case pairChanged:
			r.NeedsRestart = append(r.NeedsRestart, "services."+name+".bridge (its servers changed too)")
			continue
		case e.facts[name].Bridge.On():
			r.NeedsRestart = append(r.NeedsRestart, "services."+name+".bridge (on at the router now: reload again once it is off)")
			continue
		}
		e.bridges[name] = nsvc.Bridge
		e.bridgeGen[name]++
		delete(e.bridgeChecks, name)
		delete(e.bridgeRetries, name)
		delete(e.bridgeEnded, name)
		r.Bridges = append(r.Bridges, name)
		if nsvc.Bridge.On() {
			checks = append(checks, bridgeCheck{s, nsvc.Bridge, e.bridgeGen[name]})
		}
	}
	if len(r.Bridges) > 0 {
		e.watcher.SetBridges(e.bridgeWatches())
	}
	return checks
}

// bridgeCheck is a start-up check a reload runs again.
type bridgeCheck struct {
	s   *service
	b   config.Bridge
	gen int
}

// recheckBridges runs the checks a reload asked for, until the router
// answers them or the engine stops; false when it is stopping.
func (e *Engine) recheckBridges(ctx context.Context, checks []bridgeCheck) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopping {
		return false
	}
	if len(checks) > 0 {
		e.running.Go(func() {
			for _, c := range checks {
				e.checkBridgeUntilAnswered(ctx, c.s, c.b, c.gen)
			}
		})
	}
	return true
}
