package engine

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/failwatch/failwatch/internal/ha"
	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros/failover"
)

// journal keeps one operation part's journal in etcd (ha:): written before
// its first change and at each step, so a new leader knows what a dead one
// was doing. A change is sent only once the journal says it will be: the
// fence refuses while the last journal write failed.
type journal struct {
	m   *ha.Member
	mu  sync.Mutex
	j   ha.Journal
	err error
}

// journaled wraps one part's progress with its journal and gives the
// fence its changes must pass; without ha: it is the progress as it was
// and no fence.
func (e *Engine) journaled(ctx context.Context, p part, progress func(failover.Step)) (func(failover.Step), func() error) {
	if e.ha == nil {
		return progress, nil
	}
	to := ""
	switch p.op {
	case OpFailover, OpFailoverHold:
		to = p.svc.cfg.Standby
	case OpRestore:
		to = p.svc.cfg.Primary
	}
	j := &journal{m: e.ha.m, j: ha.Journal{Op: string(p.op), Service: p.svc.cfg.Name, From: e.State().Active[p.svc.cfg.Name], To: to}}
	return func(s failover.Step) {
			j.step(ctx, s)
			progress(s)
		}, func() error {
			if err := e.ha.m.MaySend(); err != nil {
				return err
			}
			j.mu.Lock()
			defer j.mu.Unlock()
			if j.err != nil {
				return fmt.Errorf("the operation's journal could not be written: %w", j.err)
			}
			return nil
		}
}

// step records a step as it starts and as it ends (sent, read back).
func (j *journal) step(ctx context.Context, s failover.Step) {
	j.mu.Lock()
	defer j.mu.Unlock()
	st := ha.JournalStep{Name: s.Name, Status: string(s.Status), Detail: s.Detail}
	if n := len(j.j.Steps); n > 0 && j.j.Steps[n-1].Name == s.Name && j.j.Steps[n-1].Status == string(failover.StepRunning) {
		j.j.Steps[n-1] = st
	} else {
		j.j.Steps = append(j.j.Steps, st)
	}
	if err := j.m.WriteJournal(ctx, j.j); err != nil && j.err == nil {
		j.err = err
	}
}

// closeJournal removes the journal once the operation has ended (done,
// rolled back or failed, each audited); a leader that may no longer send
// leaves it for the next.
func (e *Engine) closeJournal(ctx context.Context) {
	if e.ha != nil {
		_ = e.ha.m.CloseJournal(context.WithoutCancel(ctx))
	}
}

// recoverEvery, each time this instance comes to lead and may send, looks
// for a journal an earlier leader left and finishes or undoes its
// operation.
func (e *Engine) recoverEvery(ctx context.Context) {
	for ctx.Err() == nil {
		if !e.ha.m.WaitSendable(ctx.Done()) {
			return
		}
		for e.recoverJournal(ctx) && ctx.Err() == nil && e.ha.m.Leading() {
			// The router could not be read: again in a while.
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
		for ctx.Err() == nil && e.ha.m.Leading() {
			select {
			case <-ctx.Done():
			case <-e.ha.m.Changed():
			}
		}
	}
}

// recoverJournal finishes or undoes the journal's operation from the
// router's read-back: a name with exactly one enabled record is defined
// and left to the policy; otherwise the operation is finished towards its
// target when this instance sees the target UP, else undone towards where
// it came from. Hold and release are done again (both are idempotent).
// again says to try later: the journal or the router could not be read.
func (e *Engine) recoverJournal(ctx context.Context) (again bool) {
	j, err := e.ha.m.ReadJournal(ctx)
	if err != nil {
		e.note(true, "journal: "+err.Error())
		return true
	}
	if j == nil {
		return false
	}
	about := fmt.Sprintf("%s's %s of %s", j.Leader, j.Op, j.Service)
	svc, err := e.service(j.Service)
	if err != nil {
		e.note(true, "journal of "+about+": "+err.Error())
		e.closeJournal(ctx)
		return false
	}
	op, name, why, err := e.recovery(ctx, svc, j)
	if err != nil {
		e.note(true, "journal of "+about+": the router could not be read back ("+err.Error()+"): trying again")
		return true
	}
	if op == "" {
		e.note(false, "journal of "+about+": "+why)
		e.closeJournal(ctx)
		return false
	}
	e.note(false, "journal of "+about+": "+why)
	if err := e.Request(Request{Op: op, Target: svc.cfg.Name, By: Requester{User: "ha", Role: Operator}, Name: name, Reason: about + " did not end: " + why}); err != nil {
		e.note(true, name+" not started: "+err.Error())
		return true
	}
	return false
}

// recovery is what to do about a journal, from the router's read-back.
func (e *Engine) recovery(ctx context.Context, svc *service, j *ha.Journal) (op Op, name, why string, err error) {
	f := svc.failover
	switch Op(j.Op) {
	case OpHold, OpRelease:
		return Op(j.Op), "finish " + j.Op, "done again (it is idempotent)", nil
	}
	rctx, cancel := context.WithTimeout(ctx, f.Client.Timeout())
	all, err := f.Client.StaticRecords(rctx, svc.cfg.Name)
	cancel()
	if err == nil {
		err = f.Unreadable(all)
	}
	if err != nil {
		return "", "", "", err
	}
	var on []string
	for _, r := range failover.OfType(all, failover.RecordType(f.Primary, f.Standby)) {
		if !r.Disabled {
			on = append(on, r.Address)
		}
	}
	if len(on) == 1 {
		return "", "", fmt.Sprintf("the router reads back %s -> %s: nothing to finish", svc.cfg.Name, on[0]), nil
	}
	toward, verb := j.To, "finish"
	if e.State().Health[j.To].State != monitor.Up {
		toward, verb = j.From, "undo"
	}
	why = fmt.Sprintf("the router reads back %d enabled records: %s towards %s", len(on), verb, toward)
	switch toward {
	case svc.cfg.Standby:
		return OpFailover, verb + " " + j.Op, why, nil
	case svc.cfg.Primary:
		return OpRestore, verb + " " + j.Op, why, nil
	}
	return "", "", fmt.Sprintf("the router reads back %d enabled records and the journal names no server to go to: check the router", len(on)), nil
}
