package engine

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/failwatch/failwatch/routeros/failover"
)

// BridgeRetries bounds how many times the engine tries again a bridge that
// did not come on with its service's failover, or did not go off with its
// restore. A try on is a failover of a service already on its standby,
// which changes no record and turns the bridge on; a try off is an "end
// bridge", which moves no record either.
const BridgeRetries = 3

// bridgeRetry is a service whose bridge failed to come on (or, off, to go
// off): tries left, and not before when.
type bridgeRetry struct {
	off  bool
	left int
	next time.Time
}

// afterOperation keeps, per service, whether an operation left its bridge
// failed with the records on the standby (to be turned on again) or on
// the primary (to be turned off again: a bridge left on would carry the
// clients of a primary that is back); anything else (a bridge that came
// on, one that went off) clears it.
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
		cfg := e.services[i].cfg
		off := p.To == cfg.Primary || p.Operation == string(OpEndBridge)
		r, pending := e.bridgeRetries[p.Service]
		switch {
		case failed && (p.To == cfg.Standby || off):
			if !pending || r.off != off {
				r = bridgeRetry{off: off, left: BridgeRetries}
			}
			r.next = now.Add(e.bridgeRetryAfter)
			e.bridgeRetries[p.Service] = r
		case p.To != "" || off:
			delete(e.bridgeRetries, p.Service)
		}
	}
}

// retryBridges tries again, when due, the bridge of each service a fresh
// reading still finds on its standby with the bridge not on, or on its
// primary with the bridge on; out of tries, it says so once and stops.
func (e *Engine) retryBridges(facts []Facts, now time.Time) {
	if e.opts.ReadOnly {
		return
	}
	for _, f := range facts {
		e.mu.Lock()
		r, pending := e.bridgeRetries[f.Service]
		var primary, standby string
		if i := slices.IndexFunc(e.services, func(s *service) bool { return s.cfg.Name == f.Service }); i >= 0 {
			primary, standby = e.services[i].cfg.Primary, e.services[i].cfg.Standby
		}
		still := pending && f.Defined() && f.Bridge != nil &&
			((!r.off && f.Active == standby && f.Bridge.State != "on") || (r.off && f.Active == primary && f.Bridge.On()))
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
		word := map[bool]string{false: "come on", true: "go off"}[r.off]
		switch {
		case still && r.left == 0 && !due:
			e.note(true, e.about(f.Service, fmt.Sprintf("the bridge did not %s after %d tries: not tried again (see the audit log)", word, BridgeRetries)))
		case due:
			reason := fmt.Sprintf("the bridge did not %s: trying again (%d of %d)", word, BridgeRetries-r.left, BridgeRetries)
			e.note(false, e.about(f.Service, reason))
			req := Request{Op: OpFailover, Target: f.Service, By: Requester{User: "bridge", Role: Operator}, Name: "bridge retry", Reason: reason}
			if r.off {
				req.Op, req.Name = OpEndBridge, "bridge off retry"
			}
			if err := e.Request(req); err != nil {
				e.note(true, e.about(f.Service, "bridge retry not started: "+err.Error()))
			}
		}
	}
}
