package routeros

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/failwatch/failwatch/config"
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
	Took   time.Duration `json:"took_ns"`
}

// Result is the outcome of a failover or restore.
type Result struct {
	Operation string    `json:"operation"` // failover or restore
	Service   string    `json:"service"`
	From      string    `json:"from"` // server name active before, "" if none
	To        string    `json:"to"`
	Changed   bool      `json:"changed"`
	Steps     []Step    `json:"steps"`
	Started   time.Time `json:"started"`
	Took      time.Duration
}

// HoldMark is appended to the comment of a netwatch entry failwatch has
// disabled, so a later restore, from any machine, knows what to release.
const HoldMark = " [held by failwatch]"

// Failover moves the service name between the primary and the standby.
type Failover struct {
	Client  *Client
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
}

// FailoverToStandby points the name at the standby. With hold, the router's
// netwatch entries for the servers are disabled first so they cannot move
// the name back during maintenance.
func (f *Failover) FailoverToStandby(ctx context.Context, hold bool) (Result, error) {
	return f.run(ctx, "failover", f.Standby, f.Primary, hold, false)
}

// Restore points the name back at the primary and releases held netwatch
// entries.
func (f *Failover) Restore(ctx context.Context) (Result, error) {
	return f.run(ctx, "restore", f.Primary, f.Standby, false, true)
}

// op is one running operation: its steps and what to undo.
type op struct {
	f      *Failover
	res    *Result
	undo   []func(context.Context) error
	undoOn []string
}

func (o *op) step(ctx context.Context, name string, fn func(context.Context) (string, error)) error {
	return o.do(ctx, name, StepOK, fn)
}

// do runs a step; done is the status it ends with when it succeeds.
func (o *op) do(ctx context.Context, name string, done StepStatus, fn func(context.Context) (string, error)) error {
	s := Step{Name: name, Status: StepRunning, At: time.Now()}
	o.report(s)
	detail, err := fn(ctx)
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

// errSkipped marks a step that had nothing to do; see skip.
var errSkipped = errors.New("skipped")

// skip ends a step that had nothing to do, saying why.
func skip(why string) (string, error) { return why, errSkipped }

// onFailure registers how to undo a step that succeeded.
func (o *op) onFailure(name string, fn func(context.Context) error) {
	o.undo = append(o.undo, fn)
	o.undoOn = append(o.undoOn, name)
}

// rollback undoes in reverse order. It runs on a fresh context: the one
// that failed may be the one that expired.
func (o *op) rollback() error {
	var errs []error
	for i := len(o.undo) - 1; i >= 0; i-- {
		ctx, cancel := context.WithTimeout(context.Background(), o.f.Client.opts.Timeout)
		err := o.do(ctx, "undo: "+o.undoOn[i], StepRolledBack, func(ctx context.Context) (string, error) { return "", o.undo[i](ctx) })
		cancel()
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (f *Failover) run(ctx context.Context, name string, to, from config.Server, hold, release bool) (Result, error) {
	return f.operation(name, to.Name, func(o *op) error { return f.switchName(ctx, o, to, from, hold, release) })
}

// HoldNetwatch disables the servers' netwatch entries without moving the
// name, so it stays where it is during maintenance.
func (f *Failover) HoldNetwatch(ctx context.Context) (Result, error) {
	return f.operation("hold", "", func(o *op) error {
		return o.step(ctx, "hold netwatch", func(ctx context.Context) (string, error) { return f.hold(ctx, o) })
	})
}

// ReleaseNetwatch re-enables the entries a hold disabled.
func (f *Failover) ReleaseNetwatch(ctx context.Context) (Result, error) {
	return f.operation("release", "", func(o *op) error {
		return o.step(ctx, "release netwatch", func(ctx context.Context) (string, error) { return f.release(ctx) })
	})
}

// Held reports whether any of the entries is held by failwatch.
func Held(entries []Netwatch) bool {
	for _, e := range entries {
		if strings.HasSuffix(e.Comment, HoldMark) {
			return true
		}
	}
	return false
}

// operation runs body as one audited operation with rollback.
func (f *Failover) operation(name, to string, body func(*op) error) (Result, error) {
	res := Result{Operation: name, Service: f.Service.Name, To: to, Started: time.Now()}
	o := &op{f: f, res: &res}
	err := body(o)
	if err != nil {
		if rerr := o.rollback(); rerr != nil {
			err = fmt.Errorf("%w; rollback also failed: %v (check the records on the router now)", err, rerr)
		} else if len(o.undo) > 0 {
			err = fmt.Errorf("%w (rolled back: the name still points where it did)", err)
		}
	}
	res.Took = time.Since(res.Started)
	if f.Audit != nil {
		if aerr := f.Audit.Append(f.User, f.Reason, res, err); aerr != nil {
			err = errors.Join(err, fmt.Errorf("audit log: %w", aerr))
		}
	}
	return res, err
}

func (f *Failover) switchName(ctx context.Context, o *op, to, from config.Server, hold, release bool) error {
	var records []Record
	if err := o.step(ctx, "read state", func(ctx context.Context) (string, error) {
		var err error
		records, err = f.Client.StaticRecords(ctx, f.Service.Name)
		if err != nil {
			return "", err
		}
		if len(records) == 0 {
			return "", fmt.Errorf("the router has no static record for %s", f.Service.Name)
		}
		o.res.From = f.activeServer(records)
		return fmt.Sprintf("%d record(s) for %s, active: %s", len(records), f.Service.Name, orNone(o.res.From)), nil
	}); err != nil {
		return err
	}

	if hold {
		if err := o.step(ctx, "hold netwatch", func(ctx context.Context) (string, error) { return f.hold(ctx, o) }); err != nil {
			return err
		}
	}

	var err error
	if f.Service.Layout == config.Rewrite {
		err = f.rewrite(ctx, o, records, to)
	} else {
		err = f.toggle(ctx, o, records, to, from)
	}
	if err != nil {
		return err
	}

	if err := o.step(ctx, "flush DNS cache", func(ctx context.Context) (string, error) {
		if !o.res.Changed {
			return skip("nothing changed")
		}
		return "", f.Client.FlushDNSCache(ctx)
	}); err != nil {
		return err
	}
	if err := o.step(ctx, "verify", func(ctx context.Context) (string, error) { return f.verify(ctx, to) }); err != nil {
		return err
	}
	if release {
		if err := o.step(ctx, "release netwatch", func(ctx context.Context) (string, error) { return f.release(ctx) }); err != nil {
			return err
		}
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func (f *Failover) recordOf(records []Record, s config.Server) (Record, bool) {
	for _, r := range records {
		if r.Matches(s.Record.Comment, s.Record.Address) {
			return r, true
		}
	}
	return Record{}, false
}

func (f *Failover) activeServer(records []Record) string {
	return Active(f.Service, records, f.Primary, f.Standby)
}

// Active names the server the service's enabled record points at, "" if
// none or if more than one record is enabled (an undefined answer).
func Active(svc config.Service, records []Record, servers ...config.Server) string {
	var enabled []Record
	for _, r := range records {
		if !r.Disabled {
			enabled = append(enabled, r)
		}
	}
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

// toggle enables the target's record before disabling the other, so the
// name always has an enabled record, even if the second step fails.
func (f *Failover) toggle(ctx context.Context, o *op, records []Record, to, from config.Server) error {
	target, ok := f.recordOf(records, to)
	if !ok {
		return o.step(ctx, "find records", func(context.Context) (string, error) {
			return "", fmt.Errorf("no static record for %s matches server %s (%s)", f.Service.Name, to.Name, describeMatch(to))
		})
	}
	other, hasOther := f.recordOf(records, from)
	if err := o.step(ctx, "enable "+to.Name+" record", func(ctx context.Context) (string, error) {
		if !target.Disabled {
			return skip("already enabled")
		}
		if err := f.Client.SetRecordDisabled(ctx, target.ID, false); err != nil {
			return "", err
		}
		o.res.Changed = true
		o.onFailure("enable "+to.Name+" record", func(ctx context.Context) error {
			return f.Client.SetRecordDisabled(ctx, target.ID, true)
		})
		return target.ID + " " + target.Address, nil
	}); err != nil {
		return err
	}
	return o.step(ctx, "disable "+from.Name+" record", func(ctx context.Context) (string, error) {
		if !hasOther || other.Disabled {
			return skip("already disabled")
		}
		if err := f.Client.SetRecordDisabled(ctx, other.ID, true); err != nil {
			return "", err
		}
		o.res.Changed = true
		o.onFailure("disable "+from.Name+" record", func(ctx context.Context) error {
			return f.Client.SetRecordDisabled(ctx, other.ID, false)
		})
		return other.ID + " " + other.Address, nil
	})
}

func describeMatch(s config.Server) string {
	if s.Record.Comment != "" {
		return fmt.Sprintf("comment %q", s.Record.Comment)
	}
	return "address " + s.Record.Address
}

// rewrite points the one record at the target: a single atomic set.
func (f *Failover) rewrite(ctx context.Context, o *op, records []Record, to config.Server) error {
	var rec Record
	found := false
	for _, r := range records {
		if r.Matches(f.Service.Record.Comment, f.Service.Record.Address) {
			rec, found = r, true
			break
		}
	}
	return o.step(ctx, "point record at "+to.Name, func(ctx context.Context) (string, error) {
		if !found {
			return "", fmt.Errorf("no static record for %s matches the service record (%s)", f.Service.Name,
				describeMatch(config.Server{Record: f.Service.Record}))
		}
		if rec.Address == to.Address && !rec.Disabled {
			return skip("already points at " + to.Address)
		}
		if err := f.Client.set(ctx, "/ip/dns/static", rec.ID, "address", to.Address, "disabled", "no"); err != nil {
			return "", err
		}
		o.res.Changed = true
		o.onFailure("point record at "+to.Name, func(ctx context.Context) error {
			return f.Client.set(ctx, "/ip/dns/static", rec.ID, "address", rec.Address, "disabled", yesNo(rec.Disabled))
		})
		return rec.ID + " " + rec.Address + " -> " + to.Address, nil
	})
}

// verify reads the records back: exactly one enabled, pointing at target.
func (f *Failover) verify(ctx context.Context, to config.Server) (string, error) {
	records, err := f.Client.StaticRecords(ctx, f.Service.Name)
	if err != nil {
		return "", err
	}
	var enabled []Record
	for _, r := range records {
		if !r.Disabled {
			enabled = append(enabled, r)
		}
	}
	switch {
	case len(enabled) == 0:
		return "", fmt.Errorf("no enabled record for %s", f.Service.Name)
	case len(enabled) > 1:
		return "", fmt.Errorf("%d enabled records for %s: the router's answer is undefined", len(enabled), f.Service.Name)
	case enabled[0].Address != to.Address:
		return "", fmt.Errorf("%s points at %s, not %s (%s)", f.Service.Name, enabled[0].Address, to.Name, to.Address)
	}
	return f.Service.Name + " -> " + to.Address, nil
}

// hold disables the enabled netwatch entries of both servers' hosts.
func (f *Failover) hold(ctx context.Context, o *op) (string, error) {
	entries, err := f.Client.NetwatchEntries(ctx, f.Primary.Address, f.Standby.Address)
	if err != nil {
		return "", err
	}
	var held []string
	for _, e := range entries {
		if e.Disabled {
			continue
		}
		if err := f.Client.SetNetwatch(ctx, e.ID, true, e.Comment+HoldMark); err != nil {
			return "", err
		}
		o.onFailure("hold netwatch "+e.ID, func(ctx context.Context) error {
			return f.Client.SetNetwatch(ctx, e.ID, false, e.Comment)
		})
		held = append(held, e.ID)
	}
	if len(held) == 0 {
		return skip("no enabled netwatch entry for the servers")
	}
	return "disabled " + strings.Join(held, ", "), nil
}

// release re-enables the entries hold disabled, found by their mark.
func (f *Failover) release(ctx context.Context) (string, error) {
	entries, err := f.Client.NetwatchEntries(ctx, f.Primary.Address, f.Standby.Address)
	if err != nil {
		return "", err
	}
	var released []string
	for _, e := range entries {
		if !strings.HasSuffix(e.Comment, HoldMark) {
			continue
		}
		if err := f.Client.SetNetwatch(ctx, e.ID, false, strings.TrimSuffix(e.Comment, HoldMark)); err != nil {
			return "", err
		}
		released = append(released, e.ID)
	}
	if len(released) == 0 {
		return skip("nothing held")
	}
	return "enabled " + strings.Join(released, ", "), nil
}

// Audit appends every operation to a JSON-lines file.
type Audit struct {
	mu   sync.Mutex
	path string
}

// NewAudit returns an audit log writing to path, creating its directory.
func NewAudit(path string) *Audit { return &Audit{path: path} }

type auditLine struct {
	Time    time.Time `json:"time"`
	User    string    `json:"user"`
	Op      string    `json:"operation"`
	Service string    `json:"service"`
	Reason  string    `json:"reason,omitempty"`
	From    string    `json:"from"`
	To      string    `json:"to"`
	Result  string    `json:"result"`
	Error   string    `json:"error,omitempty"`
	TookMS  float64   `json:"took_ms"`
	Steps   []Step    `json:"steps"`
}

// Append writes one line for an operation.
func (a *Audit) Append(user, reason string, r Result, opErr error) error {
	line := auditLine{Time: r.Started, User: user, Reason: reason, Op: r.Operation, Service: r.Service, From: r.From, To: r.To,
		TookMS: float64(r.Took.Microseconds()) / 1000, Steps: r.Steps}
	switch {
	case opErr != nil:
		line.Result, line.Error = "failed", opErr.Error()
	case r.Changed:
		line.Result = "ok"
	default:
		line.Result = "unchanged"
	}
	b, err := json.Marshal(line)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(a.path), 0o700); err != nil {
		return err
	}
	fh, err := os.OpenFile(a.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := fh.Write(append(b, '\n')); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}
