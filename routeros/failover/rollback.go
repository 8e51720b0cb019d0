package failover

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/failwatch/failwatch/routeros"
)

// rollback undoes what the operation changed: it sends only the inverse of
// a change this operation sent, and only when a fresh read-back shows that
// change in effect; the outcome is decided from a last read-back.
//
// Undoing runs in the reverse order of the operation: a restore released
// netwatch after moving the records, so netwatch is held again first (a
// released entry's script could otherwise move the records under the
// rollback). A netwatch script may still have run in between: the records
// get a second pass when the first read-back does not show them as before.
func (o *op) rollback(cause error) error {
	o.undoing = true
	var undoErrs []error
	if len(o.released) > 0 {
		o.undoNetwatch(&undoErrs)
	}
	if o.before == nil {
		if len(o.released) == 0 {
			o.undoNetwatch(&undoErrs)
		}
		return o.rolledBack(cause, undoErrs, "netwatch read back as it was")
	}
	if err := o.do("read back", StepOK, o.readBackRetried); err != nil {
		o.res.Outcome = OutcomeUnknown
		return o.unknown(cause, err)
	}
	var kept string
	for pass := range 2 {
		var passErrs []error
		var undos []sentChange
		undos, kept = o.undos()
		for _, u := range undos {
			if err := o.undoRecord(u); err != nil {
				passErrs = append(passErrs, err)
			}
		}
		if pass == 0 && len(o.released) == 0 {
			o.undoNetwatch(&passErrs)
		}
		if err := o.do("verify rollback", StepOK, o.readBackRetried); err != nil {
			o.res.Outcome = OutcomeUnknown
			return o.unknown(cause, err)
		}
		undoErrs = append(undoErrs, passErrs...)
		if o.recordsAsBefore() || len(undos) == 0 {
			break
		}
	}
	if !o.recordsAsBefore() {
		if kept != "" {
			undoErrs = append(undoErrs, errors.New(kept))
		}
		enabled := enabledRecords(o.last)
		if len(enabled) != 1 {
			o.res.Outcome = OutcomeUnknown
			return fmt.Errorf("%w; UNKNOWN: check the router now: rollback left %s (%v)%s", cause, describeRecords(o.last), errors.Join(undoErrs...), o.mayRemain(true))
		}
		o.res.Outcome = OutcomeFailed
		return fmt.Errorf("%w; rollback incomplete: read back shows %s -> %s (%v)%s", cause, o.f.Service.Name, enabled[0].Address, errors.Join(undoErrs...), o.mayRemain(true))
	}
	if enabled := enabledRecords(o.last); len(enabled) == 1 {
		return o.rolledBack(cause, undoErrs, fmt.Sprintf("read back shows %s -> %s, as before", o.f.Service.Name, enabled[0].Address))
	}
	return o.rolledBack(cause, undoErrs, "read back shows "+describeRecords(o.last)+", as before")
}

// rolledBack ends a rollback whose records are as before: rolled back,
// unless a netwatch undo failed.
func (o *op) rolledBack(cause error, undoErrs []error, how string) error {
	if len(undoErrs) > 0 {
		o.res.Outcome = OutcomeFailed
		return fmt.Errorf("%w; rollback incomplete: %v%s", cause, errors.Join(undoErrs...), o.mayRemain(true))
	}
	for i := range o.res.Changes {
		if o.res.Changes[i].Status == "changed" || o.res.Changes[i].Status == "unknown" {
			o.res.Changes[i].Status = "undone"
		}
	}
	o.res.Outcome = OutcomeRolledBack
	return fmt.Errorf("%w (rolled back: %s)", cause, how)
}

// readBackRetried is readBack, tried again while the router cannot be
// reached (see retry).
func (o *op) readBackRetried(ctx context.Context) (string, error) {
	return o.retry(ctx, o.readBack)
}

// readBack is a step that reads the records and lists them.
func (o *op) readBack(ctx context.Context) (string, error) {
	recs, err := o.readRecords(ctx)
	if err != nil {
		return "", err
	}
	return describeRecords(recs), nil
}

// undos are the inverses of the record changes this operation sent that
// the last read-back shows in effect, the last sent first: the forward
// order enabled before it disabled, so the inverse does too. A change read
// back as not applied, or changed since by someone else, is not ours to
// undo. When the name has one enabled record now and the inverses would
// leave it none or several, they are not sent (kept says why): a rollback
// never takes a defined answer away.
func (o *op) undos() (undos []sentChange, kept string) {
	final := slices.Clone(o.last)
	for _, s := range slices.Backward(o.sent) {
		i := slices.IndexFunc(final, func(r routeros.Record) bool { return r.ID == s.want.id })
		if i < 0 || !s.want.holds(final[i]) {
			continue
		}
		inv := s.inverse()
		inv.step = "undo " + s.step + ": " + inv.command()
		undos = append(undos, sentChange{step: inv.step, want: inv, was: final[i]})
		final[i].Disabled, final[i].Address = s.was.Disabled, s.was.Address
	}
	now, after := len(enabledRecords(o.last)), len(enabledRecords(final))
	if len(undos) > 0 && now == 1 && after != 1 {
		return nil, fmt.Sprintf("kept %s on its one enabled record: undoing would leave %d enabled", o.f.Service.Name, after)
	}
	return undos, ""
}

// undoRecord sends one inverse, reading it back when the reply is lost.
func (o *op) undoRecord(u sentChange) error {
	return o.do(u.step, StepRolledBack, func(ctx context.Context) (string, error) {
		detail, err := o.retry(ctx, func(ctx context.Context) (string, error) { return o.set(ctx, u.want, "") })
		if detail == "" && err == nil {
			detail = "read back: " + u.want.what()
		}
		return detail, err
	})
}

// recordsAsBefore says whether every record this operation sent a change
// for reads back as it was before.
func (o *op) recordsAsBefore() bool {
	for _, s := range o.sent {
		i := slices.IndexFunc(o.last, func(r routeros.Record) bool { return r.ID == s.want.id })
		if i < 0 || o.last[i].Disabled != s.was.Disabled || o.last[i].Address != s.was.Address {
			return false
		}
	}
	return true
}

// unknown is the error for an operation whose end state could not be read.
func (o *op) unknown(cause, readErr error) error {
	return fmt.Errorf("%w; UNKNOWN: check the router: could not read it back (%v); last known: %s%s", cause, readErr, describeRecords(o.last), o.mayRemain(false))
}

// mayRemain lists, for a rollback that did not finish, each change of this
// operation that may still be on the router, with the command that undoes
// it: a record change unless the last reading (known: taken after the
// undos) shows the record as it was, a netwatch change unless its undo was
// read back.
func (o *op) mayRemain(known bool) string {
	var undo []string
	for _, s := range o.sent {
		i := slices.IndexFunc(o.last, func(r routeros.Record) bool { return r.ID == s.want.id })
		if known && i >= 0 && o.last[i].Disabled == s.was.Disabled && o.last[i].Address == s.was.Address {
			continue
		}
		undo = append(undo, s.undo())
	}
	for _, e := range append(slices.Clone(o.held), o.released...) {
		if !slices.Contains(o.putBack, e.ID) {
			undo = append(undo, netwatchUndo(e))
		}
	}
	undo = slices.Compact(undo)
	if len(undo) == 0 {
		return ""
	}
	return "; these changes may remain on the router, each undone by: " + strings.Join(undo, "; ")
}

// describeRecords lists records as an admin would check them.
func describeRecords(recs []routeros.Record) string {
	if len(recs) == 0 {
		return "no records"
	}
	parts := make([]string, len(recs))
	for i, r := range recs {
		state := "enabled"
		if r.Disabled {
			state = "disabled"
		}
		parts[i] = fmt.Sprintf("%s %s %s %s", r.ID, r.Type, r.Address, state)
		if r.Comment != "" {
			parts[i] += fmt.Sprintf(" %q", r.Comment)
		}
	}
	return strings.Join(parts, ", ")
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
