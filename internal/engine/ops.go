package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/failwatch/failwatch/routeros/failover"
)

// Op is an operation a subscriber can ask for.
type Op string

// The operations. The first five act on one service; the last two on
// every service they concern, one service after the other.
const (
	OpFailover     Op = "failover"
	OpFailoverHold Op = "failover with hold"
	OpRestore      Op = "restore"
	OpHold         Op = "hold"
	OpRelease      Op = "release"
	// OpEvacuate moves every service whose records point at the server
	// named by the target to its other server (maintenance of that server).
	OpEvacuate Op = "move off"
	// OpPrimaries restores every service not on its primary.
	OpPrimaries Op = "back to primaries"
	// OpResetStats clears every server's displayed and lifetime
	// statistics (not what the up/down state and the policy decide from):
	// an operator's request, audited and announced, that changes nothing
	// on the router and takes no operation's turn.
	OpResetStats Op = "reset statistics"
	// OpEndBridge turns a service's TTL bridge off without moving its
	// records: the engine's, for a ttl bridge past its end (bridge.go).
	OpEndBridge Op = "end bridge"
)

// serviceOps are what the one-service operations do to a service.
var serviceOps = map[Op]func(*failover.Failover, context.Context) (failover.Result, error){
	OpFailover: func(f *failover.Failover, ctx context.Context) (failover.Result, error) {
		return f.FailoverToStandby(ctx, false)
	},
	OpFailoverHold: func(f *failover.Failover, ctx context.Context) (failover.Result, error) {
		return f.FailoverToStandby(ctx, true)
	},
	OpRestore:   (*failover.Failover).Restore,
	OpHold:      (*failover.Failover).HoldNetwatch,
	OpRelease:   (*failover.Failover).ReleaseNetwatch,
	OpEndBridge: (*failover.Failover).EndBridge,
}

// part is one service's share of an operation.
type part struct {
	svc *service
	op  Op
}

// Request starts an operation, one at a time whoever asks; its steps and
// end reach every subscriber. A viewer's request is refused, and so is one
// made while another operation runs ("busy: alice's failover is running");
// refusals are audited, one line per requester and reason with a count.
func (e *Engine) Request(r Request) error {
	if e.opts.ReadOnly {
		return ErrReadOnly
	}
	if err, handled := e.haRequest(r); handled {
		return err
	}
	e.mu.Lock()
	if err := r.By.allowed(); err != nil {
		defer e.mu.Unlock()
		return e.refuse(r, err)
	}
	if e.ctx == nil || e.ctx.Err() != nil {
		e.mu.Unlock()
		return ErrBusy
	}
	if r.Op == OpResetStats {
		e.mu.Unlock()
		return e.resetStats(r.By)
	}
	if e.busy {
		defer e.mu.Unlock()
		current := e.current
		return e.refuse(r, &current)
	}
	if r.Move != "" {
		if q := Ask(r.Asked, r.Target, e.cfg.Services, e.facts); q.Nothing != "" || q.Move != r.Move || q.Op != r.Op {
			e.mu.Unlock()
			return &ChangedError{Now: q}
		}
	}
	parts, err := e.plan(r.Op, r.Target)
	if err != nil {
		e.mu.Unlock()
		return err
	}
	if r.Name == "" {
		r.Name = string(r.Op)
		if r.Op == OpEvacuate {
			r.Name += " " + r.Target
		}
	}
	who := r.By.String()
	if who == "" {
		who = e.opts.User
	}
	e.busy, e.current = true, BusyError{Who: who, Op: r.Name}
	started := time.Now()
	e.started(parts, who, r.Name, started)
	ctx := e.ctx
	e.ops.Add(1)
	e.mu.Unlock()
	go func() {
		defer e.ops.Done()
		done := e.run(ctx, r.Name, who, r.Reason, parts)
		done.By = who
		e.mu.Lock()
		e.busy, e.last = false, done
		e.ended(done.Result, time.Now())
		e.mu.Unlock()
		e.afterOperation(done.Result, time.Now())
		e.flushRefusals()
		e.publish(*done)
		e.watcher.Poke()
	}()
	return nil
}

// plan is what op on target means service by service, from the records as
// last read; the engine's lock is held.
func (e *Engine) plan(op Op, target string) ([]part, error) {
	var parts []part
	switch op {
	case OpEvacuate:
		if _, ok := e.cfg.Server(target); !ok {
			return nil, fmt.Errorf("no server is named %q", target)
		}
		for _, svc := range e.services {
			switch active := e.state.Active[svc.cfg.Name]; {
			case active != target:
			case target == svc.cfg.Primary && svc.cfg.HoldNetwatch:
				parts = append(parts, part{svc, OpFailoverHold})
			case target == svc.cfg.Primary:
				parts = append(parts, part{svc, OpFailover})
			default:
				parts = append(parts, part{svc, OpRestore})
			}
		}
		if len(parts) == 0 {
			return nil, fmt.Errorf("no service's records point at %s: nothing to move", target)
		}
	case OpPrimaries:
		for _, svc := range e.services {
			// Only those a fresh reading puts elsewhere: nothing is moved
			// on facts the engine does not have.
			if f := e.facts[svc.cfg.Name]; f.State == FactKnown && f.Active != svc.cfg.Primary {
				parts = append(parts, part{svc, OpRestore})
			}
		}
		if len(parts) == 0 {
			return nil, errors.New("every service is on its primary: nothing to restore")
		}
	case OpFailover, OpFailoverHold, OpRestore, OpHold, OpRelease, OpEndBridge:
		svc, err := e.service(target)
		if err != nil {
			return nil, err
		}
		parts = []part{{svc, op}}
	default:
		return nil, fmt.Errorf("unknown operation %q", op)
	}
	return parts, nil
}

// service finds a service by name; "" is the only one.
func (e *Engine) service(name string) (*service, error) {
	if name == "" && len(e.services) == 1 {
		return e.services[0], nil
	}
	for _, svc := range e.services {
		if svc.cfg.Name == name {
			return svc, nil
		}
	}
	if name == "" {
		return nil, fmt.Errorf("%d services: name the one to act on", len(e.services))
	}
	return nil, fmt.Errorf("no service is named %q", name)
}

// run carries out the parts one after the other (failover.Each): each
// verified, rolled back alone, audited; a failure stops the rest.
func (e *Engine) run(ctx context.Context, name, who, reason string, parts []part) *Done {
	var each []failover.Part
	for _, p := range parts {
		f := *p.svc.failover
		f.User, f.Reason = who, reason
		e.allowBridge(&f, p.op)
		f.Progress, f.Fence = e.journaled(ctx, p, func(s failover.Step) { e.publish(Step{Op: name, Step: s}) })
		each = append(each, failover.Part{Failover: &f, Do: serviceOps[p.op]})
	}
	defer e.closeJournal(ctx)
	res, err := failover.Each(ctx, name, each)
	return &Done{Result: res, Err: err}
}

// LastDone is how the latest operation ended, nil before the first.
func (e *Engine) LastDone() *Done {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.last
}

// Busy says whether an operation is under way.
func (e *Engine) Busy() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.busy
}

// resetStats clears every server's displayed and lifetime statistics for
// by, audits it and tells every subscriber.
func (e *Engine) resetStats(by Requester) error {
	at := time.Now()
	e.mu.Lock()
	for _, p := range e.monitors {
		p.m.Reset()
	}
	e.mu.Unlock()
	res := failover.Result{Operation: string(OpResetStats), Outcome: failover.OutcomeChanged, Started: at,
		Changes: []failover.Change{}, Steps: []failover.Step{}}
	if err := e.audit.Append(by.String(), "", res, nil); err != nil {
		e.note(true, "audit log: "+err.Error())
	}
	e.publish(StatsReset{By: by.String(), At: at})
	return nil
}
