package engine

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/failover"
)

// autoPolicy asks each service's policy once a second, and at once when a
// server's state changed (a DOWN acted on at the next tick would cost a
// client up to a second more of its pings), and carries out its decisions,
// one operation at a time: a service whose decision meets another's
// operation asks again at the next tick.
func (e *Engine) autoPolicy(ctx context.Context) {
	type watched struct {
		svc    *service
		policy *failover.Policy
	}
	var all []watched
	for _, svc := range e.services {
		a := svc.cfg.Auto
		if !a.Enabled {
			continue
		}
		all = append(all, watched{svc, failover.NewPolicy(a, svc.cfg.Primary, svc.cfg.Standby)})
		e.note(false, e.about(svc.cfg.Name, fmt.Sprintf("automatic failover on: after %s down, hold-down %s, restore %s",
			config.FormatDuration(a.FailAfter), config.FormatDuration(a.HoldDown), a.Restore)))
	}
	t := time.NewTicker(e.policyEvery)
	defer t.Stop()
	for {
		var now time.Time
		select {
		case <-ctx.Done():
			return
		case now = <-t.C:
		case <-e.policyNow:
			now = time.Now()
		}
		s := e.State()
		for _, w := range all {
			f, name := w.svc.failover, w.svc.cfg.Name
			mine := failover.Own(s.Router.Netwatch, name, f.Siblings)
			mine = slices.DeleteFunc(mine, func(n routeros.Netwatch) bool { return n.Host != f.Primary.Address && n.Host != f.Standby.Address })
			d := w.policy.Decide(failover.PolicyInput{Now: now, RouterConnected: s.Router.Connected, Busy: s.Busy, Active: s.Active[name],
				Primary: s.Health[f.Primary.Name], Standby: s.Health[f.Standby.Name], Switching: failover.Switching(mine)})
			d = e.ha.gate(name, f.Primary.Name, d)
			switch {
			case d.Refused != "":
				e.note(true, e.about(name, d.Refused))
			case d.Action == failover.ActionFailover:
				e.act(OpFailover, name, "auto failover", "failing over: ", d.Reason)
				s.Busy = true
			case d.Action == failover.ActionRestore:
				e.act(OpRestore, name, "auto restore", "restoring: ", d.Reason)
				s.Busy = true
			}
		}
	}
}

// askPolicy has the automatic policy decide now rather than at its next
// tick; a request already waiting stands for this one.
func (e *Engine) askPolicy() {
	select {
	case e.policyNow <- struct{}{}:
	default:
	}
}

// act carries out a policy decision on a service, saying so first.
func (e *Engine) act(op Op, service, name, doing, reason string) {
	e.note(false, e.about(service, doing+reason))
	if err := e.Request(Request{Op: op, Target: service, By: Requester{User: "auto", Role: Operator}, Name: name, Reason: reason}); err != nil {
		e.note(true, e.about(service, name+" not started: "+err.Error()))
	}
}

// about puts a service's name before a note about it when there are
// several.
func (e *Engine) about(service, text string) string {
	if len(e.services) > 1 {
		return service + ": " + text
	}
	return text
}

func (e *Engine) note(refused bool, text string) {
	e.publish(PolicyNote{At: time.Now(), Text: text, Refused: refused})
}
