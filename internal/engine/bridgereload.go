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
// a retry of the old one is dropped. A bridge not known to be off at the
// router is not changed: with another comment or none, failwatch would no
// longer find and end the rules that may carry clients now; it applies at
// a reload once a reading says it is off, or at a restart. Nor is one
// whose service's primary or standby changed, which needs a restart (the
// engine's failovers are still the old pair's). It returns the checks to
// run.
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
		if why := e.bridgeHeld(s, pairChanged); why != "" {
			r.NeedsRestart = append(r.NeedsRestart, "services."+name+".bridge ("+why+")")
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

// bridgeHeld says why a service's bridge may not change now, "" when it
// may: its pair changed, or a bridge it has is not known to be off at the
// router (on, or its reading unknown or unreadable). A service without one
// may always get one. The engine's lock is held.
func (e *Engine) bridgeHeld(s *service, pairChanged bool) string {
	if pairChanged {
		return "its servers changed too"
	}
	if !e.bridgeOf(s).On() {
		return ""
	}
	switch b := e.facts[s.cfg.Name].Bridge; {
	case b.On():
		return "on at the router now: reload again once it is off"
	case b == nil || (b.State != "off" && b.State != "missing"):
		return "not known to be off at the router: reload again once a reading says so"
	}
	return ""
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
