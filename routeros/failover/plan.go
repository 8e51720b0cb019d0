package failover

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/routeros"
)

// PlanStep is one change --apply makes: in the admin's words with whole
// values, and the API words that make it.
type PlanStep struct {
	Say   string
	Words []string
}

// Plan is what --apply will change on one router, for its version.
type Plan struct {
	Caps  Caps
	Steps []PlanStep
	Notes []string
	setup *Setup
}

// Plan reads the router's version and items and lists the changes needed,
// in an order that never leaves the name without a record: records first
// (a new primary record is enabled only when the name has no enabled one),
// then fighting netwatch entries disabled, then the entry itself. It
// refuses, before anything is changed, what cannot be done safely.
func (s *Setup) Plan(ctx context.Context, c *routeros.Client) (*Plan, error) {
	id, err := c.Identity(ctx)
	if err != nil {
		return nil, err
	}
	caps, err := CapsOf(id.Version)
	if err != nil {
		return nil, err
	}
	items, notes := s.items(caps)
	p := &Plan{Caps: caps, Notes: notes, setup: s}
	recs, err := c.StaticRecords(ctx, s.Service.Name)
	if err != nil {
		return nil, err
	}
	if err := Unreadable(s.Service, s.Siblings, recs, s.Primary, s.Standby); err != nil {
		return nil, fmt.Errorf("%w; nothing was changed", err)
	}
	typ := RecordType(s.Primary, s.Standby)
	var ours []string
	for _, it := range items {
		if it.menu == "/tool/netwatch" {
			fights, err := s.Fighting(ctx, c)
			if err != nil {
				return nil, err
			}
			for _, n := range fights {
				p.Steps = append(p.Steps, PlanStep{
					Say:   fmt.Sprintf("- /tool/netwatch %s (%s, comment %q): disable: its scripts switch the records too and would fight", n.ID, n.Host, n.Comment),
					Words: []string{"/tool/netwatch/set", "=.id=" + n.ID, "=disabled=yes"},
				})
			}
		}
		words := []string{it.menu + "/print"}
		for _, c := range it.find {
			words = append(words, "?"+c.key+"="+c.value)
		}
		r, err := c.Run(ctx, words...)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", it.menu, err)
		}
		if err := unreadableRows(it.menu, r.Rows); err != nil {
			return nil, err
		}
		switch len(r.Rows) {
		case 0:
			add := append(append([]prop{}, it.props...), it.addOnly...)
			if it.menu == "/ip/dns/static" {
				add = s.safeEnable(add, recs, typ)
			}
			p.Steps = append(p.Steps, addStep(it, add))
		case 1:
			row := r.Rows[0]
			if it.menu == "/ip/dns/static" {
				ours = append(ours, row[".id"])
			}
			if st, ok := setStep(it, row); ok {
				p.Steps = append(p.Steps, st)
			}
		default:
			return nil, fmt.Errorf("%d items in %s match %s (%s): remove the extra ones first; nothing was changed", len(r.Rows), it.menu, findText(it.find), it.what)
		}
	}
	if s.Service.Layout != config.Rewrite {
		for _, r := range enabledRecords(OfType(recs, typ)) {
			if !containsID(ours, r.ID) && !s.matchesServer(r) {
				return nil, fmt.Errorf("an enabled %s record for %s (%s %s) belongs to neither server: remove or disable it first; nothing was changed", typ, s.Service.Name, r.ID, r.Address)
			}
		}
	}
	return p, nil
}

// addStep adds an item with the properties given.
func addStep(it item, add []prop) PlanStep {
	words := []string{it.menu + "/add"}
	for _, p := range add {
		words = append(words, "="+p.key+"="+p.value)
	}
	return PlanStep{Say: fmt.Sprintf("+ %s add %s (%s)", it.menu, propsText(add), it.what), Words: words}
}

// setStep sets what differs on an existing item; false when nothing does.
func setStep(it item, row map[string]string) (PlanStep, bool) {
	words := []string{it.menu + "/set", "=.id=" + row[".id"]}
	var diffs []string
	for _, p := range it.props {
		if !sameValue(row[p.key], p.value) {
			words = append(words, "="+p.key+"="+p.value)
			diffs = append(diffs, fmt.Sprintf("%s %s -> %s", p.key, rosQuote(row[p.key]), rosQuote(p.value)))
		}
	}
	if len(diffs) == 0 {
		return PlanStep{}, false
	}
	return PlanStep{Say: fmt.Sprintf("~ %s %s (%s): %s", it.menu, row[".id"], it.what, strings.Join(diffs, ", ")), Words: words}, true
}

// unreadableRows refuses setup's own items when the router printed one
// that cannot be read strictly: a set is never sent to an id it made up.
func unreadableRows(menu string, rows []map[string]string) error {
	for _, row := range rows {
		why := ""
		if menu == "/ip/dns/static" {
			why = routeros.RecordFrom(row).Unreadable
		} else {
			why = routeros.NetwatchFrom(row).Unreadable
		}
		if why != "" {
			return fmt.Errorf("unreadable: %s %s; nothing was changed", menu, why)
		}
	}
	return nil
}

// safeEnable keeps a new record disabled when the name already has an
// enabled record of its type: two would make the router's answer undefined.
func (s *Setup) safeEnable(add []prop, recs []routeros.Record, typ string) []prop {
	if len(enabledRecords(OfType(recs, typ))) == 0 {
		return add
	}
	for i, p := range add {
		if p.key == "disabled" {
			add[i].value = "yes"
		}
	}
	return add
}

func (s *Setup) matchesServer(r routeros.Record) bool {
	for _, srv := range []config.Server{s.Primary, s.Standby} {
		if r.Matches(srv.Record.Comment, srv.Record.Address) || (srv.Record.Comment == "" && r.Address == srv.Address) {
			return true
		}
	}
	return false
}

func containsID(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// Fighting lists the enabled netwatch entries on the servers' hosts, other
// than setup's own, whose scripts switch static DNS records: they would
// fight a failover by hand or an automatic policy.
func (s *Setup) Fighting(ctx context.Context, c *routeros.Client) ([]routeros.Netwatch, error) {
	entries, err := c.NetwatchEntries(ctx, s.hosts()...)
	if err != nil {
		return nil, err
	}
	own := Own(entries, s.Service.Name, s.Siblings)
	if err := unreadableNetwatch(s.Service.Name, own); err != nil {
		return nil, fmt.Errorf("%w; nothing was changed", err)
	}
	var out []routeros.Netwatch
	for _, n := range Switching(own) {
		if n.Comment != s.netwatchComment() && !slices.ContainsFunc(s.Siblings, func(sib string) bool { return n.Comment == siblingComment(sib) }) {
			out = append(out, n)
		}
	}
	return out, nil
}

// notSiblings are find-where conditions that leave the siblings' entries
// alone.
func (s *Setup) notSiblings() string {
	var b strings.Builder
	for _, sib := range s.Siblings {
		b.WriteString(" and comment!=" + rosQuote(siblingComment(sib)))
	}
	return b.String()
}

// Switching keeps the enabled entries whose scripts switch static DNS
// records, in either syntax: the router's own failover, which a failover by
// hand or by policy would fight unless they are held.
func Switching(entries []routeros.Netwatch) []routeros.Netwatch {
	var out []routeros.Netwatch
	for _, n := range entries {
		if !n.Disabled && (fightRe.MatchString(n.UpScript) || fightRe.MatchString(n.DownScript)) {
			out = append(out, n)
		}
	}
	return out
}

// sameValue compares as RouterOS stores values: booleans as true/false,
// durations normalised, percentages without the sign.
func sameValue(have, want string) bool {
	if have == want {
		return true
	}
	switch want {
	case "yes":
		return have == "true"
	case "no":
		return have == "false" || have == ""
	}
	if a, err := config.ParseDuration(have); err == nil {
		if b, err := config.ParseDuration(want); err == nil {
			return a == b
		}
	}
	return strings.TrimSuffix(have, "%") == strings.TrimSuffix(want, "%")
}

// Apply makes the changes in order, then plans again to verify that nothing
