package failover

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/routeros"
)

// StepStatus is where a failover step stands.
type StepStatus string

// Step statuses, in the order a step goes through them.
const (
	StepRunning    StepStatus = "running"
	StepOK         StepStatus = "ok"
	StepSkipped    StepStatus = "skipped"
	StepFailed     StepStatus = "failed"
	StepRolledBack StepStatus = "rolled back"
)

// Step is one reported step of an operation.
type Step struct {
	Name   string        `json:"name"`
	Status StepStatus    `json:"status"`
	Detail string        `json:"detail,omitempty"`
	At     time.Time     `json:"at"`
	Took   time.Duration `json:"-"` // as took_ms in JSON
}

// ms is a duration in milliseconds, for JSON.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// MarshalJSON writes the step with took_ms, as every duration in
// failwatch's JSON is.
func (s Step) MarshalJSON() ([]byte, error) {
	type plain Step
	return json.Marshal(struct {
		plain
		TookMS float64 `json:"took_ms"`
	}{plain(s), ms(s.Took)})
}

// UnmarshalJSON reads what MarshalJSON wrote (a recording).
func (s *Step) UnmarshalJSON(b []byte) error {
	type plain Step
	var v struct {
		plain
		TookMS float64 `json:"took_ms"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*s = Step(v.plain)
	s.Took = time.Duration(v.TookMS * float64(time.Millisecond))
	return nil
}

// Outcome is how an operation ended, decided from what the router holds
// when it ended (read back), never from an error alone.
type Outcome string

// Outcomes.
const (
	// OutcomeChanged: done, and verified.
	OutcomeChanged Outcome = "changed"
	// OutcomeAlreadySo: the router already was as asked; nothing sent.
	OutcomeAlreadySo Outcome = "already so"
	// OutcomeCompleted: a reply was lost, the read-back showed the change
	// applied, and the operation then completed and verified.
	OutcomeCompleted Outcome = "completed after all"
	// OutcomeRolledBack: it failed, and a read-back showed everything it
	// changed undone.
	OutcomeRolledBack Outcome = "rolled back"
	// OutcomeFailed: it failed; the read-back shows the name defined, but
	// not everything is as it was (or nothing had changed at all).
	OutcomeFailed Outcome = "failed"
	// OutcomeUnknown: the router could not be read back, or holds a name
	// with no or several enabled records: an admin must look.
	OutcomeUnknown Outcome = "unknown"
)

// Change is one change an operation made, or tried to make, on the router.
type Change struct {
	Kind string `json:"kind"` // record or netwatch
	ID   string `json:"id"`
	What string `json:"what"`
	// Status: changed, failed (refused or read back as not applied),
	// unknown (not read back), undone (rolled back).
	Status string `json:"status"`
}

// Result is the outcome of an operation.
type Result struct {
	Operation string  `json:"operation"` // failover, restore, hold or release
	Service   string  `json:"service"`
	From      string  `json:"from"` // server name active before, "" if none
	To        string  `json:"to"`
	Outcome   Outcome `json:"outcome"`
	// Changed: the router now holds something this operation changed.
	Changed bool     `json:"changed"`
	Changes []Change `json:"changes"`
	// Records are the name's records of the failed-over type as last read
	// back: after an unknown outcome, the last ones known.
	Records []routeros.Record `json:"records,omitempty"`
	Steps   []Step            `json:"steps"`
	Started time.Time         `json:"started"`
	// Parts are the services' own results of an operation over several
	// services (each also audited on its own), in the order they ran.
	Parts []Result      `json:"parts,omitempty"`
	Took  time.Duration `json:"-"`
	// TookMS is Took in milliseconds, for JSON.
	TookMS float64 `json:"took_ms"`
}

// HoldMark is appended to the comment of a netwatch entry failwatch has
// disabled, so a later restore, from any machine, knows what to release.
const HoldMark = " [held by failwatch]"

// Failover moves the service name between the primary and the standby.
type Failover struct {
	Client  *routeros.Client
	Service config.Service
	Primary config.Server
	Standby config.Server
	// User is who asked, for the audit log.
	User string
	// Reason is why, for the audit log (set by the automatic policy).
	Reason string
	// Audit receives every operation; nil keeps none.
	Audit *Audit
	// Progress is told each step as it starts and ends; it must not block.
	Progress func(Step)
	// Siblings are the other services' names on the router: a netwatch
	// entry of these servers whose scripts name a sibling and not this
	// service is the sibling's, and a hold or release leaves it alone.
	Siblings []string
}

// FailoverToStandby points the name at the standby. With hold, the router's
// netwatch entries for the servers are disabled first so they cannot move
// the name back during maintenance.
//
// Every operation outlives ctx: when ctx ends (a quit, a signal) no further
// change is started, the one under way is awaited (each call is bounded by
// the router timeout), and what was changed is rolled back, read back and
// audited before it returns.
func (f *Failover) FailoverToStandby(ctx context.Context, hold bool) (Result, error) {
	return f.operation(ctx, "failover", f.Standby.Name, func(o *op) error { return o.switchName(f.Standby, f.Primary, hold, false) })
}

// Restore points the name back at the primary and releases held netwatch
// entries.
func (f *Failover) Restore(ctx context.Context) (Result, error) {
	return f.operation(ctx, "restore", f.Primary.Name, func(o *op) error { return o.switchName(f.Primary, f.Standby, false, true) })
}

// HoldNetwatch disables the servers' netwatch entries without moving the
// name, so it stays where it is during maintenance.
func (f *Failover) HoldNetwatch(ctx context.Context) (Result, error) {
	return f.operation(ctx, "hold", "", func(o *op) error {
		return o.step("hold netwatch", o.hold)
	})
}

// ReleaseNetwatch re-enables the entries a hold disabled.
func (f *Failover) ReleaseNetwatch(ctx context.Context) (Result, error) {
	return f.operation(ctx, "release", "", func(o *op) error {
		return o.step("release netwatch", o.release)
	})
}

// Held reports whether any of the entries is held by failwatch.
func Held(entries []routeros.Netwatch) bool {
	return slices.ContainsFunc(entries, HeldEntry)
}

// HeldEntry reports whether failwatch holds this entry (its comment carries
// the hold mark); a disabled entry without it is off for another reason.
func HeldEntry(e routeros.Netwatch) bool { return strings.HasSuffix(e.Comment, HoldMark) }

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

// recordWant is the state one record should reach.
type recordWant struct {
	step     string
	id       string
	disabled bool
	// address, when set, is where the record should point.
	address string
}

func (w recordWant) holds(r routeros.Record) bool {
	return r.ID == w.id && r.Disabled == w.disabled && (w.address == "" || r.Address == w.address)
}

func (w recordWant) what() string {
	verb := "enable"
	if w.disabled {
		verb = "disable"
	}
	if w.address != "" {
		return verb + ", address " + w.address
	}
	return verb
}

// sentChange is a record change an operation sent, with the record as it
// was just before.
type sentChange struct {
	step string
	want recordWant
	was  routeros.Record
}

// reach brings one record to its wanted state, reading it back when the
// reply is lost.
func (o *op) reach(w recordWant) error {
	return o.do(w.step, StepOK, func(ctx context.Context) (string, error) {
		i := slices.IndexFunc(o.last, func(r routeros.Record) bool { return r.ID == w.id })
		if i < 0 {
			return "", fmt.Errorf("record %s is gone from %s", w.id, o.f.Service.Name)
		}
		if w.holds(o.last[i]) {
			return skip("already so")
		}
		if err := o.interrupted(w.step); err != nil {
			return "", err
		}
		o.sent = append(o.sent, sentChange{step: w.step, want: w, was: o.last[i]})
		detail, err := o.set(ctx, w)
		if detail == "" && err == nil {
			detail = w.id + " " + w.what()
		}
		return detail, err
	})
}

// set sends one record change and keeps the last reading true without
// another read.
func (o *op) set(ctx context.Context, w recordWant) (string, error) {
	detail, err := o.apply(ctx, Change{Kind: "record", ID: w.id, What: w.what()},
		func(ctx context.Context) error { return o.f.Client.Set(ctx, "/ip/dns/static", w.id, w.words()...) },
		func(ctx context.Context) (bool, error) {
			recs, err := o.readRecords(ctx)
			return slices.ContainsFunc(recs, w.holds), err
		})
	if err != nil {
		return "", err
	}
	if j := slices.IndexFunc(o.last, func(r routeros.Record) bool { return r.ID == w.id }); j >= 0 {
		o.last = slices.Clone(o.last)
		o.last[j].Disabled = w.disabled
		if w.address != "" {
			o.last[j].Address = w.address
		}
	}
	return detail, nil
}

// words are the set's property words, as sent.
func (w recordWant) words() []string {
	kv := []string{"disabled", yesNo(w.disabled)}
	if w.address != "" {
		kv = append([]string{"address", w.address}, kv...)
	}
	return kv
}

// command is the change as the router's CLI would show it.
func (w recordWant) command() string {
	kv := w.words()
	s := "set " + w.id
	for i := 0; i+1 < len(kv); i += 2 {
		s += " " + kv[i] + "=" + kv[i+1]
	}
	return s
}

func (o *op) switchName(to, from config.Server, hold, release bool) error {
	if err := o.step("read state", func(ctx context.Context) (string, error) {
		recs, err := o.readRecords(ctx)
		if err != nil {
			return "", err
		}
		if len(recs) == 0 {
			return "", fmt.Errorf("the router has no static %s record for %s", o.typ, o.f.Service.Name)
		}
		if hold || release {
			// Netwatch is changed too: it must be readable before the
			// first change, not found unreadable halfway.
			if _, err := o.netwatch(ctx); err != nil {
				return "", err
			}
		}
		o.before = recs
		o.res.From = Active(o.f.Service, recs, o.f.Primary, o.f.Standby)
		return fmt.Sprintf("%d %s record(s) for %s, active: %s", len(recs), o.typ, o.f.Service.Name, orNone(o.res.From)), nil
	}); err != nil {
		return err
	}
	wants, err := o.forward(to, from)
	if err != nil {
		return o.step("find records", func(context.Context) (string, error) { return "", err })
	}
	if hold {
		if err := o.step("hold netwatch", o.hold); err != nil {
			return err
		}
	}
	for _, w := range wants {
		if err := o.reach(w); err != nil {
			return err
		}
	}
	recordsChanged := slices.ContainsFunc(o.res.Changes, func(c Change) bool { return c.Kind == "record" })
	if err := o.step("flush DNS cache", func(ctx context.Context) (string, error) {
		if !recordsChanged {
			return skip("no record changed")
		}
		// A flush changes nothing that matters if repeated: one more try
		// on a fresh connection when the first reply is lost.
		if err := o.f.Client.FlushDNSCache(ctx); err != nil && !routeros.IsTrap(err) {
			return "", o.f.Client.FlushDNSCache(ctx)
		} else if err != nil {
			return "", err
		}
		return "", nil
	}); err != nil {
		return err
	}
	if err := o.step("verify", func(ctx context.Context) (string, error) {
		recs, err := o.readRecords(ctx)
		if err != nil {
			return "", err
		}
		if err := o.pointsAt(recs, to); err != nil {
			return "", err
		}
		return o.f.Service.Name + " -> " + to.Address, nil
	}); err != nil {
		return err
	}
	if release {
		return o.step("release netwatch", o.release)
	}
	return nil
}

// forward is what the records must become: in the toggle layout the
// target's record is enabled before the other is disabled, so the name
// always has a record even if the second change fails.
func (o *op) forward(to, from config.Server) ([]recordWant, error) {
	if o.f.Service.Layout == config.Rewrite {
		i := slices.IndexFunc(o.before, func(r routeros.Record) bool { return r.Matches(o.f.Service.Record.Comment, o.f.Service.Record.Address) })
		if i < 0 {
			return nil, fmt.Errorf("no static %s record for %s matches the service record (%s)", o.typ, o.f.Service.Name,
				describeMatch(config.Server{Record: o.f.Service.Record}))
		}
		return []recordWant{{step: "point record at " + to.Name, id: o.before[i].ID, address: to.Address}}, nil
	}
	target, ok := recordOf(o.before, to)
	if !ok {
		return nil, fmt.Errorf("no static %s record for %s matches server %s (%s)", o.typ, o.f.Service.Name, to.Name, describeMatch(to))
	}
	wants := []recordWant{{step: "enable " + to.Name + " record", id: target.ID}}
	if other, ok := recordOf(o.before, from); ok && other.ID != target.ID {
		wants = append(wants, recordWant{step: "disable " + from.Name + " record", id: other.ID, disabled: true})
	}
	return wants, nil
}

// pointsAt checks that exactly one record of the type is enabled, and that
// it points at s.
func (o *op) pointsAt(recs []routeros.Record, s config.Server) error {
	enabled := enabledRecords(recs)
	switch {
	case len(enabled) == 0:
		return fmt.Errorf("no enabled %s record for %s", o.typ, o.f.Service.Name)
	case len(enabled) > 1:
		return fmt.Errorf("%d enabled %s records for %s: the router's answer is undefined", len(enabled), o.typ, o.f.Service.Name)
	case enabled[0].Address != s.Address:
		return fmt.Errorf("%s points at %s, not %s (%s)", o.f.Service.Name, enabled[0].Address, s.Name, s.Address)
	}
	return nil
}

func enabledRecords(recs []routeros.Record) []routeros.Record {
	var out []routeros.Record
	for _, r := range recs {
		if !r.Disabled {
			out = append(out, r)
		}
	}
	return out
}

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
	if err := o.do("read back", StepOK, o.readBack); err != nil {
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
		if err := o.do("verify rollback", StepOK, o.readBack); err != nil {
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
			return fmt.Errorf("%w; UNKNOWN: check the router now: rollback left %s (%v)", cause, describeRecords(o.last), errors.Join(undoErrs...))
		}
		o.res.Outcome = OutcomeFailed
		return fmt.Errorf("%w; rollback incomplete: read back shows %s -> %s (%v)", cause, o.f.Service.Name, enabled[0].Address, errors.Join(undoErrs...))
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
		return fmt.Errorf("%w; rollback incomplete: %v", cause, errors.Join(undoErrs...))
	}
	for i := range o.res.Changes {
		if o.res.Changes[i].Status == "changed" || o.res.Changes[i].Status == "unknown" {
			o.res.Changes[i].Status = "undone"
		}
	}
	o.res.Outcome = OutcomeRolledBack
	return fmt.Errorf("%w (rolled back: %s)", cause, how)
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
		inv := recordWant{id: s.want.id, disabled: s.was.Disabled}
		if s.want.address != "" {
			inv.address = s.was.Address
		}
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
		detail, err := o.set(ctx, u.want)
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
	return fmt.Errorf("%w; UNKNOWN: check the router: could not read it back (%v); last known: %s", cause, readErr, describeRecords(o.last))
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

func recordOf(records []routeros.Record, s config.Server) (routeros.Record, bool) {
	for _, r := range records {
		if r.Matches(s.Record.Comment, s.Record.Address) {
			return r, true
		}
	}
	return routeros.Record{}, false
}

// Active names the server the service's enabled record points at, "" if
// none or if more than one is enabled (an undefined answer). Only records
// of the servers' type count (A, or AAAA for IPv6 servers): a TXT or MX
// record on the same name is normal and does not count.
func Active(svc config.Service, records []routeros.Record, servers ...config.Server) string {
	enabled := enabledRecords(OfType(records, RecordType(servers...)))
	if len(enabled) != 1 {
		return ""
	}
	for _, s := range servers {
		if svc.Layout == config.Rewrite {
			if enabled[0].Address == s.Address {
				return s.Name
			}
		} else if enabled[0].Matches(s.Record.Comment, s.Record.Address) {
			return s.Name
		}
	}
	return ""
}

// Owners names, by record ID, the server each of the name's records of the
// failed-over type belongs to, as Active matches them (by comment or
// address; by address in the rewrite layout). Records of other types, and
// records no server matches, have no owner.
func Owners(svc config.Service, records []routeros.Record, servers ...config.Server) map[string]string {
	out := map[string]string{}
	for _, r := range OfType(records, RecordType(servers...)) {
		for _, s := range servers {
			if (svc.Layout == config.Rewrite && r.Address == s.Address) ||
				(svc.Layout != config.Rewrite && r.Matches(s.Record.Comment, s.Record.Address)) {
				out[r.ID] = s.Name
				break
			}
		}
	}
	return out
}

func describeMatch(s config.Server) string {
	if s.Record.Comment != "" {
		return fmt.Sprintf("comment %q", s.Record.Comment)
	}
	return "address " + s.Record.Address
}

// Part is one service's share of an operation over several: its failover
// (with the caller's user, reason and progress) and what to do with it.
type Part struct {
	Failover *Failover
	Do       func(*Failover, context.Context) (Result, error)
}

// Each runs the parts one after the other, each a whole operation of its
// own (verified, rolled back alone, audited). Over several services each
// step is named with its service, each audit line says which operation it
// is part of, a failure stops the rest (those done stay done) and says so,
// and the result is Combine's. One part is that part's result, named.
func Each(ctx context.Context, name string, parts []Part) (Result, error) {
	started := time.Now()
	var results []Result
	var err error
	for i, p := range parts {
		f := *p.Failover
		if len(parts) > 1 {
			label, progress := f.Service.Name+": ", f.Progress
			f.Progress = func(s Step) {
				if progress != nil {
					s.Name = label + s.Name
					progress(s)
				}
			}
			reason := name
			if f.Reason != "" {
				reason += ": " + f.Reason
			}
			f.Reason = reason
		}
		var res Result
		res, err = p.Do(&f, ctx)
		results = append(results, res)
		if err != nil {
			if len(parts) > 1 {
				err = fmt.Errorf("%s: %w", f.Service.Name, err)
				var rest []string
				for _, q := range parts[i+1:] {
					rest = append(rest, q.Failover.Service.Name)
				}
				if len(rest) > 0 {
					err = fmt.Errorf("%w; not attempted: %s", err, strings.Join(rest, ", "))
				}
			}
			break
		}
	}
	if len(parts) == 1 {
		results[0].Operation = name
		return results[0], err
	}
	return Combine(name, started, results), err
}

// Combine is an operation over several services from its parts' results:
// every step (named with its service first) and change, and the outcome of
// the part that ended it (a failure stops the rest), else changed when any
// part changed anything.
func Combine(name string, started time.Time, parts []Result) Result {
	res := Result{Operation: name, Started: started, Outcome: OutcomeAlreadySo, Parts: parts, Changes: []Change{}, Steps: []Step{}}
	var names []string
	for _, p := range parts {
		names = append(names, p.Service)
		for _, st := range p.Steps {
			st.Name = p.Service + ": " + st.Name
			res.Steps = append(res.Steps, st)
		}
		res.Changes = append(res.Changes, p.Changes...)
		res.Changed = res.Changed || p.Changed
		switch p.Outcome {
		case OutcomeAlreadySo:
		case OutcomeChanged:
			if res.Outcome == OutcomeAlreadySo {
				res.Outcome = OutcomeChanged
			}
		default:
			res.Outcome = p.Outcome
		}
	}
	res.Service = strings.Join(names, ", ")
	res.Took = time.Since(started)
	res.TookMS = ms(res.Took)
	return res
}

// Summary says in one line what the operation did, from its outcome and
// changes; a failure's details are in its error. An operation over several
// services says it per service.
func (r Result) Summary() string {
	if len(r.Parts) > 0 {
		parts := make([]string, len(r.Parts))
		for i, p := range r.Parts {
			parts[i] = p.Service + ": " + p.Summary()
		}
		return strings.Join(parts, "; ")
	}
	var records int
	var netwatch []string
	verb := "held"
	for _, c := range r.Changes {
		switch {
		case c.Status != "changed":
		case c.Kind == "netwatch":
			netwatch = append(netwatch, c.ID)
			if strings.HasPrefix(c.What, "release") {
				verb = "released"
			}
		default:
			records++
		}
	}
	var s string
	switch {
	case r.Outcome != OutcomeChanged && r.Outcome != OutcomeCompleted && r.Outcome != OutcomeAlreadySo:
		return r.Operation + " " + strings.ToUpper(string(r.Outcome))
	case r.Outcome == OutcomeAlreadySo && r.To == "":
		return "netwatch already so: nothing changed"
	case r.Outcome == OutcomeAlreadySo:
		return fmt.Sprintf("%s is already on %s: nothing changed", r.Service, r.To)
	case r.To == "":
	case records > 0:
		s = fmt.Sprintf("%s now points at %s", r.Service, r.To)
	default:
		s = fmt.Sprintf("%s is already on %s", r.Service, r.To)
	}
	if len(netwatch) > 0 {
		if s != "" {
			s += "; "
		}
		s += fmt.Sprintf("netwatch %s: %s", verb, strings.Join(netwatch, ", "))
	}
	if r.Outcome == OutcomeCompleted {
		s += " (a reply was lost; the read-back shows it done)"
	}
	return s
}
