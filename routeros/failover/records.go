package failover

import (
	"context"
	"fmt"
	"slices"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/routeros"
)

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

// inverse is the change that puts the record back as it was.
func (s sentChange) inverse() recordWant {
	inv := recordWant{id: s.want.id, disabled: s.was.Disabled}
	if s.want.address != "" {
		inv.address = s.was.Address
	}
	return inv
}

// undo is the inverse as typed in the router's terminal.
func (s sentChange) undo() string { return "/ip dns static " + s.inverse().command() }

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
		sent := sentChange{step: w.step, want: w, was: o.last[i]}
		o.sent = append(o.sent, sent)
		detail, err := o.set(ctx, w, sent.undo())
		if detail == "" && err == nil {
			detail = w.id + " " + w.what()
		}
		return detail, err
	})
}

// set sends one record change and keeps the last reading true without
// another read.
func (o *op) set(ctx context.Context, w recordWant, undo string) (string, error) {
	detail, err := o.apply(ctx, Change{Kind: "record", ID: w.id, What: w.what(), Undo: undo},
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
		if err := o.fence(); err != nil {
			return "", err
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
