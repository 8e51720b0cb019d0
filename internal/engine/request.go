package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/failwatch/failwatch/routeros/failover"
)

// Role is what a requester may ask of the engine.
type Role string

// Roles, as serve.users gives them.
const (
	// Viewer watches: the engine refuses every request of a viewer, not
	// only the viewer's key map.
	Viewer Role = "viewer"
	// Operator fails over, restores, holds and releases.
	Operator Role = "operator"
)

// Requester is who asks: a local user, an SSH user with their key, or the
// automatic policy.
type Requester struct {
	User string
	// Key is the SSH key's SHA256 fingerprint, "" for a local user.
	Key  string
	Role Role
}

// String is the requester as the audit log and the screens name them.
func (r Requester) String() string {
	if r.Key != "" {
		return r.User + " " + r.Key
	}
	return r.User
}

// Request is an operation asked of the engine.
type Request struct {
	Op Op
	// Target is the service a one-service operation acts on ("" when there
	// is only one), or the server OpEvacuate empties.
	Target string
	By     Requester
	// Name is how the events name the operation (the policy says "auto
	// failover"); "" names it by its Op.
	Name string
	// Reason goes to the audit log.
	Reason string
	// Asked and Move are the question this request answers (Ask): the
	// operation its key asked for and the move it showed. When Move is
	// set, the engine asks the question again from its facts and refuses
	// the request if the move is not the same.
	Asked Op
	Move  string
}

// ErrBusy is an operation asked for while another runs; the error is a
// *BusyError saying whose.
var ErrBusy = errors.New("another operation is under way")

// ErrReadOnly is an operation asked of a read-only engine.
var ErrReadOnly = errors.New("read-only: no operations")

// ErrViewer is an operation asked by a viewer.
var ErrViewer = errors.New("a viewer watches only: no operations")

// BusyError says whose operation is under way.
type BusyError struct {
	Who, Op string
}

func (e *BusyError) Error() string     { return fmt.Sprintf("busy: %s's %s is running", e.Who, e.Op) }
func (e *BusyError) Is(err error) bool { return err == ErrBusy }

// refusal is one requester's refused requests of one kind, counted until
// they are audited in one line: a held key or a crafted client cannot
// flood the audit log.
type refusal struct {
	req   Request
	why   error
	count int
	first time.Time
}

// refusalKey groups refusals: per requester, operation and reason.
func refusalKey(r Request, why error) string {
	return r.By.String() + "\x00" + string(r.Op) + "\x00" + why.Error()
}

// refuse counts a refused request, to be audited when the operation under
// way ends (or, with none, at the next flush); the engine's lock is held.
func (e *Engine) refuse(r Request, why error) error {
	k := refusalKey(r, why)
	if f := e.refused[k]; f != nil {
		f.count++
		return why
	}
	if len(e.refused) >= maxRefusals {
		// A flood of requesters: the count of the rest is lost, not memory.
		return why
	}
	e.refused[k] = &refusal{req: r, why: why, count: 1, first: time.Now()}
	return why
}

// maxRefusals bounds the refusals waiting for their audit line.
const maxRefusals = 256

// flushRefusals writes one audit line per requester and reason refused
// since the last flush, with how many times; called without the lock.
func (e *Engine) flushRefusals() {
	e.mu.Lock()
	pending := e.refused
	e.refused = map[string]*refusal{}
	e.mu.Unlock()
	keys := make([]string, 0, len(pending))
	for k := range pending {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		f := pending[k]
		service := f.req.Target
		if svc, err := e.service(f.req.Target); err == nil {
			service = svc.cfg.Name
		}
		if err := e.audit.Refused(f.first, f.req.By.String(), string(f.req.Op), service, f.why.Error(), f.count); err != nil {
			e.note(true, "audit log: "+err.Error())
		}
	}
}

// flushRefusalsEvery audits the refusals made while no operation ran
// (a viewer's) every period; those made during an operation are audited
// when it ends.
func (e *Engine) flushRefusalsEvery(ctx context.Context, period time.Duration) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if !e.Busy() {
				e.flushRefusals()
			}
		}
	}
}

// allowed says whether the requester may ask for operations.
func (r Requester) allowed() error {
	if r.Role != Operator {
		return fmt.Errorf("%w (%s is a %s)", ErrViewer, r, orRole(r.Role))
	}
	return nil
}

func orRole(r Role) Role {
	if r == "" {
		return Viewer
	}
	return r
}

// auditFor is the audit log refusals go to: the engine's own.
func auditFor(audits map[string]*failover.Audit, path string) *failover.Audit {
	if audits[path] == nil {
		audits[path] = failover.NewAudit(path)
	}
	return audits[path]
}
