package failover

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/failwatch/failwatch/routeros"
)

// hold disables the enabled netwatch entries of both servers' hosts, marking
// each so a later release (from any machine) finds it, and reads them back:
// a router that did not keep the mark would leave netwatch off for good
// after a restore, with no word.
func (o *op) hold(ctx context.Context) (string, error) {
	entries, err := o.netwatch(ctx)
	if err != nil {
		return "", err
	}
	var held []string
	for _, e := range entries {
		if e.Disabled {
			continue
		}
		if err := o.interrupted("holding netwatch " + e.ID); err != nil {
			return "", err
		}
		o.held = append(o.held, e)
		want := routeros.Netwatch{ID: e.ID, Disabled: true, Comment: e.Comment + HoldMark}
		if _, err := o.setNetwatch(ctx, want, "hold (disable)", netwatchUndo(e)); err != nil {
			return "", err
		}
		held = append(held, e.ID)
	}
	if len(held) == 0 {
		return skip("no enabled netwatch entry for the servers")
	}
	if err := o.readBackNetwatch(ctx, o.held, func(e routeros.Netwatch) bool { return e.Disabled && strings.HasSuffix(e.Comment, HoldMark) }, "hold"); err != nil {
		return "", err
	}
	return "disabled " + strings.Join(held, ", ") + " (read back)", nil
}

// release re-enables the entries a hold disabled, found by their mark, and
// reads them back.
func (o *op) release(ctx context.Context) (string, error) {
	entries, err := o.netwatch(ctx)
	if err != nil {
		return "", err
	}
	var released []string
	for _, e := range entries {
		if !strings.HasSuffix(e.Comment, HoldMark) {
			continue
		}
		o.released = append(o.released, e)
		want := routeros.Netwatch{ID: e.ID, Disabled: false, Comment: strings.TrimSuffix(e.Comment, HoldMark)}
		if _, err := o.setNetwatch(ctx, want, "release (enable)", netwatchUndo(e)); err != nil {
			return "", err
		}
		released = append(released, e.ID)
	}
	if len(released) == 0 {
		return skip("nothing held")
	}
	if err := o.readBackNetwatch(ctx, o.released, func(e routeros.Netwatch) bool { return !e.Disabled && !strings.HasSuffix(e.Comment, HoldMark) }, "release"); err != nil {
		return "", err
	}
	return "enabled " + strings.Join(released, ", ") + " (read back)", nil
}

// undoNetwatch puts back the entries this operation held or released, the
// last changed first: each only when a read-back shows it as this
// operation left it, and read back after.
func (o *op) undoNetwatch(errs *[]error) {
	type undo struct {
		what     string
		was, set routeros.Netwatch
	}
	var undos []undo
	for _, e := range o.held {
		undos = append(undos, undo{"hold", e, routeros.Netwatch{ID: e.ID, Disabled: true, Comment: e.Comment + HoldMark}})
	}
	for _, e := range o.released {
		undos = append(undos, undo{"release", e, routeros.Netwatch{ID: e.ID, Comment: strings.TrimSuffix(e.Comment, HoldMark)}})
	}
	for _, u := range slices.Backward(undos) {
		name := fmt.Sprintf("undo %s netwatch: set %s disabled=%s comment=%q", u.what, u.was.ID, yesNo(u.was.Disabled), u.was.Comment)
		err := o.do(name, StepRolledBack, func(ctx context.Context) (string, error) {
			return o.retry(ctx, func(ctx context.Context) (string, error) {
				cur, err := o.netwatchEntry(ctx, u.was.ID)
				switch {
				case err != nil:
					return "", err
				case sameNetwatch(cur, u.was):
					return skip("read back: already as before")
				case !explained(cur, u.was, u.set):
					return "", fmt.Errorf("netwatch %s was changed by someone else since (disabled %v, comment %q): left as it is", cur.ID, cur.Disabled, cur.Comment)
				}
				return o.setNetwatch(ctx, routeros.Netwatch{ID: u.was.ID, Disabled: u.was.Disabled, Comment: u.was.Comment}, "put back", "")
			})
		})
		if err == nil {
			o.putBack = append(o.putBack, u.was.ID)
		} else {
			*errs = append(*errs, err)
		}
	}
}

func sameNetwatch(a, b routeros.Netwatch) bool {
	return a.Disabled == b.Disabled && a.Comment == b.Comment
}

// explained says whether every way cur differs from was is what this
// operation set (a router may have kept part of a change): then undoing it
// is sending the inverse of what was sent.
func explained(cur, was, set routeros.Netwatch) bool {
	return (cur.Disabled == was.Disabled || cur.Disabled == set.Disabled) && (cur.Comment == was.Comment || cur.Comment == set.Comment)
}

// netwatchUndo puts an entry's disabled flag and comment back, as typed in
// the router's terminal.
func netwatchUndo(was routeros.Netwatch) string {
	return fmt.Sprintf("/tool netwatch set %s disabled=%s comment=%s", was.ID, yesNo(was.Disabled), rosQuote(was.Comment))
}

// setNetwatch changes an entry's disabled flag and comment, reading it back
// when the reply is lost.
func (o *op) setNetwatch(ctx context.Context, want routeros.Netwatch, what, undo string) (string, error) {
	return o.apply(ctx, Change{Kind: "netwatch", ID: want.ID, What: what, Undo: undo},
		func(ctx context.Context) error {
			return o.f.Client.SetNetwatch(ctx, want.ID, want.Disabled, want.Comment)
		},
		func(ctx context.Context) (bool, error) {
			e, err := o.netwatchEntry(ctx, want.ID)
			return err == nil && e.Disabled == want.Disabled && e.Comment == want.Comment, err
		})
}

// netwatch reads the entries for both servers' hosts that are this
// service's (not another's, see Siblings).
func (o *op) netwatch(ctx context.Context) ([]routeros.Netwatch, error) {
	entries, err := o.f.Client.NetwatchEntries(ctx, o.f.Primary.Address, o.f.Standby.Address)
	if err != nil {
		return nil, err
	}
	own := Own(entries, o.f.Service.Name, o.f.Siblings)
	if err := unreadableNetwatch(o.f.Service.Name, own); err != nil {
		return nil, err
	}
	return own, nil
}

// Own keeps the netwatch entries that are service's: an entry whose up or
// down script names a sibling service and not this one switches the
// sibling's records, and is the sibling's. Entries that name no service
// (the paper's, by print position) are every service's on their host.
func Own(entries []routeros.Netwatch, service string, siblings []string) []routeros.Netwatch {
	names := func(e routeros.Netwatch, name string) bool {
		return namesService(e.UpScript, name) || namesService(e.DownScript, name)
	}
	var out []routeros.Netwatch
	for _, e := range entries {
		if !names(e, service) && slices.ContainsFunc(siblings, func(s string) bool { return names(e, s) }) {
			continue
		}
		out = append(out, e)
	}
	return out
}

func (o *op) netwatchEntry(ctx context.Context, id string) (routeros.Netwatch, error) {
	entries, err := o.netwatch(ctx)
	if err != nil {
		return routeros.Netwatch{}, err
	}
	i := slices.IndexFunc(entries, func(e routeros.Netwatch) bool { return e.ID == id })
	if i < 0 {
		return routeros.Netwatch{}, fmt.Errorf("netwatch %s is gone", id)
	}
	return entries[i], nil
}

// readBackNetwatch checks that every entry changed is as ok says.
func (o *op) readBackNetwatch(ctx context.Context, changed []routeros.Netwatch, ok func(routeros.Netwatch) bool, what string) error {
	entries, err := o.netwatch(ctx)
	if err != nil {
		return fmt.Errorf("read back the %s: %w", what, err)
	}
	for _, c := range changed {
		i := slices.IndexFunc(entries, func(e routeros.Netwatch) bool { return e.ID == c.ID })
		if i < 0 {
			return fmt.Errorf("read back the %s: netwatch %s is gone", what, c.ID)
		}
		if e := entries[i]; !ok(e) {
			return fmt.Errorf("read back the %s: the router did not keep it on netwatch %s (disabled %v, comment %q)", what, e.ID, e.Disabled, e.Comment)
		}
	}
	return nil
}

// namesService says whether a script names the DNS name as a whole word:
// www.example.test does not name example.test.
func namesService(script, name string) bool {
	for i := 0; ; {
		j := strings.Index(script[i:], name)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(name)
		if (start == 0 || !nameByte(script[start-1])) && (end == len(script) || !nameByte(script[end])) {
			return true
		}
		i = start + 1
	}
}

func nameByte(b byte) bool {
	return b == '.' || b == '-' || b == '_' || '0' <= b && b <= '9' || 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z'
}
