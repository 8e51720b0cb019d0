package engine

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/failwatch/failwatch/routeros/failover"
)

// BridgeRetries bounds how many times the engine tries again a bridge that
// did not come on with its service's failover; a try is a failover of a
// service already on its standby, which changes no record and turns the
// bridge on.
const BridgeRetries = 3

// bridgeRetry is a service whose bridge failed to come on: tries left, and
// not before when.
type bridgeRetry struct {
	left int
	next time.Time
}

// afterOperation keeps, per service, whether an operation left its bridge
// failed with the records on the standby (to be tried again); anything
// else (a bridge that came on, a restore) clears it.
func (e *Engine) afterOperation(res failover.Result, now time.Time) {
	parts := res.Parts
	if len(parts) == 0 {
		parts = []failover.Result{res}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, p := range parts {
		i := slices.IndexFunc(e.services, func(s *service) bool { return s.cfg.Name == p.Service })
		if i < 0 || !e.bridgeOf(e.services[i]).On() {
			continue
		}
		failed := slices.ContainsFunc(p.Steps, func(s failover.Step) bool {
			return strings.HasPrefix(s.Name, "bridge: ") && s.Status == failover.StepFailed
		})
		r, pending := e.bridgeRetries[p.Service]
		switch {
		case failed && p.To == e.services[i].cfg.Standby:
			if !pending {
				r.left = BridgeRetries
			}
			r.next = now.Add(e.bridgeRetryAfter)
			e.bridgeRetries[p.Service] = r
		case p.To != "":
			delete(e.bridgeRetries, p.Service)
		}
	}
}

// retryBridges tries again, when due, the bridge of each service a fresh
// reading still finds on its standby with the bridge not on; out of tries,
// it says so once and stops.
func (e *Engine) retryBridges(facts []Facts, now time.Time) {
	if e.opts.ReadOnly {
		return
	}
	for _, f := range facts {
		e.mu.Lock()
		r, pending := e.bridgeRetries[f.Service]
		standby := ""
		if i := slices.IndexFunc(e.services, func(s *service) bool { return s.cfg.Name == f.Service }); i >= 0 {
			standby = e.services[i].cfg.Standby
		}
		still := pending && f.Defined() && f.Active == standby && f.Bridge != nil && f.Bridge.State != "on"
		due := still && r.left > 0 && !e.busy && !now.Before(r.next)
		switch {
		case pending && f.Defined() && !still:
			delete(e.bridgeRetries, f.Service)
		case still && r.left == 0:
			delete(e.bridgeRetries, f.Service)
		case due:
			r.left--
			r.next = now.Add(e.bridgeRetryAfter)
			e.bridgeRetries[f.Service] = r
		}
		e.mu.Unlock()
		switch {
		case still && r.left == 0 && !due:
			e.note(true, e.about(f.Service, fmt.Sprintf("the bridge did not come on after %d tries: not tried again (see the audit log)", BridgeRetries)))
		case due:
			reason := fmt.Sprintf("the bridge did not come on: trying again (%d of %d)", BridgeRetries-r.left, BridgeRetries)
			e.note(false, e.about(f.Service, reason))
			if err := e.Request(Request{Op: OpFailover, Target: f.Service, By: Requester{User: "bridge", Role: Operator}, Name: "bridge retry", Reason: reason}); err != nil {
				e.note(true, e.about(f.Service, "bridge retry not started: "+err.Error()))
			}
		}
	}
}
