package failover

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/failwatch/failwatch/routeros"
)

// op is one running operation.
type op struct {
	f *Failover
	// caller's context: once it ends, no new change starts.
	caller context.Context
	res    *Result
	typ    string // the record type failed over: A or AAAA
	// before and last are the name's records of that type, as read at the
	// start and as last read.
	before, last []routeros.Record
	// sent are the record changes this operation sent, in order, each with
	// the record as it was: a rollback sends only their inverses.
	sent []sentChange
	// held and released are the netwatch entries this operation changed,
	// as they were before.
	held, released []routeros.Netwatch
	// dirty: a change was sent whose effect may stand (applied, or its
	// reply lost): a failure must then be rolled back.
	dirty bool
	// lost: a reply was lost and the read-back showed the change applied.
	lost bool
	// undoing: the changes now sent are a rollback's, not the operation's.
	undoing bool
	// putBack are the netwatch entries a rollback read back as before.
	putBack []string
	// fenced: the fence refused a change; nothing more is sent.
	fenced error
}

// fence asks the failover's Fence before a change; once it refuses, every
// later change is refused too.
func (o *op) fence() error {
	if o.fenced == nil && o.f.Fence != nil {
		if err := o.f.Fence(); err != nil {
			o.fenced = fmt.Errorf("stopped, nothing more sent (not even a rollback): %w", err)
		}
	}
	return o.fenced
}

// errSkipped marks a step that had nothing to do; see skip.
var errSkipped = errors.New("skipped")

// skip ends a step that had nothing to do, saying why.
func skip(why string) (string, error) { return why, errSkipped }

// unknownError is a change whose reply never came and whose effect could
// not be read back.
type unknownError struct{ call, readBack error }

func (e *unknownError) Error() string {
	return fmt.Sprintf("%v; could not read the router back: %v", e.call, e.readBack)
}

// step runs one reported step.
func (o *op) step(name string, fn func(context.Context) (string, error)) error {
	return o.do(name, StepOK, fn)
}

// do runs a step; done is the status it ends with when it succeeds. Steps
// run on a context of their own: the caller's may end at any moment, and a
// step cut off between a change and its read-back would leave the router
// in a state nobody knows.
func (o *op) do(name string, done StepStatus, fn func(context.Context) (string, error)) error {
	s := Step{Name: name, Status: StepRunning, At: time.Now()}
	o.report(s)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(o.caller), 4*o.f.Client.Timeout())
	detail, err := fn(ctx)
	cancel()
	s.Took, s.Detail = time.Since(s.At), detail
	switch {
	case errors.Is(err, errSkipped):
		s.Status, err = StepSkipped, nil
	case err != nil:
		s.Status, s.Detail = StepFailed, err.Error()
	default:
		s.Status = done
	}
	o.res.Steps = append(o.res.Steps, s)
	o.report(s)
	return err
}

func (o *op) report(s Step) {
	if o.f.Progress != nil {
		o.f.Progress(s)
	}
}

// interrupted says whether the caller has gone, before a change starts.
func (o *op) interrupted(before string) error {
	if o.caller.Err() == nil {
		return nil
	}
	return fmt.Errorf("interrupted before %s (%v)", before, context.Cause(o.caller))
}

// operation runs body as one audited operation: on a failure it rolls back
// and decides the outcome from a read-back.
func (f *Failover) operation(ctx context.Context, name, to string, body func(*op) error) (Result, error) {
	res := Result{Operation: name, Service: f.Service.Name, To: to, Started: time.Now()}
	o := &op{f: f, caller: ctx, res: &res, typ: RecordType(f.Primary, f.Standby)}
	err := body(o)
	switch {
	case o.fenced != nil:
		// What was sent may stand: only a leader that may send can find
		// out and finish or undo it (the journal).
		res.Outcome = OutcomeUnknown
		if !errors.Is(err, o.fenced) {
			err = errors.Join(err, o.fenced)
		}
	case err != nil && o.dirty:
		err = o.rollback(err)
	case err != nil:
		res.Outcome = OutcomeFailed
		err = fmt.Errorf("%w (nothing was changed)", err)
	case o.lost:
		res.Outcome = OutcomeCompleted
	case slices.ContainsFunc(res.Changes, func(c Change) bool { return c.Status == "changed" }):
		res.Outcome = OutcomeChanged
	default:
		res.Outcome = OutcomeAlreadySo
	}
	res.Changed = slices.ContainsFunc(res.Changes, func(c Change) bool { return c.Status == "changed" || c.Status == "unknown" })
	res.Took = time.Since(res.Started)
	res.TookMS = ms(res.Took)
	if res.Changes == nil {
		res.Changes = []Change{}
	}
	if res.Steps == nil {
		res.Steps = []Step{}
	}
	if f.Audit != nil {
		if aerr := f.Audit.Append(f.User, f.Reason, res, err); aerr != nil {
			err = errors.Join(err, fmt.Errorf("audit log: %w", aerr))
		}
	}
	return res, err
}

// readRecords reads the name's records of the failed-over type; a reading
// with a row of the service it cannot read is an error, never acted on.
func (o *op) readRecords(ctx context.Context) ([]routeros.Record, error) {
	all, err := o.f.Client.StaticRecords(ctx, o.f.Service.Name)
	if err != nil {
		return nil, err
	}
	if err := o.f.Unreadable(all); err != nil {
		return nil, err
	}
	o.last = OfType(all, o.typ)
	o.res.Records = o.last
	return o.last, nil
}

// apply sends one change. A !trap is the router refusing it: not applied.
// Any other error (the connection closed, !fatal, no reply in time) leaves
// it unknown, so the router is read back, on a fresh connection, and
// applied decides.
func (o *op) apply(ctx context.Context, change Change, send func(context.Context) error, applied func(context.Context) (bool, error)) (string, error) {
	note := func(status string) {
		if !o.undoing {
			change.Status = status
			o.res.Changes = append(o.res.Changes, change)
		}
	}
	if err := o.fence(); err != nil {
		return "", err
	}
	err := send(ctx)
	if err == nil {
		o.dirty = true
		note("changed")
		return "", nil
	}
	if routeros.IsTrap(err) {
		note("failed")
		return "", err
	}
	o.dirty = true
	ok, rerr := applied(ctx)
	switch {
	case rerr != nil:
		note("unknown")
		return "", &unknownError{call: err, readBack: rerr}
	case ok:
		if !o.undoing {
			o.lost = true
		}
		note("changed")
		return fmt.Sprintf("reply lost (%v); read back: applied", err), nil
	}
	note("failed")
	return "", fmt.Errorf("%w; read back: not applied", err)
}

// retry runs a rollback's read-back or inverse again while the router
// cannot be reached, for up to three router timeouts (see retry).
func (o *op) retry(ctx context.Context, fn func(context.Context) (string, error)) (string, error) {
	var detail string
	err := retry(ctx, 3*o.f.Client.Timeout(), func(ctx context.Context) (err error) {
		detail, err = fn(ctx)
		return err
	})
	return detail, err
}
