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
// values, and the API words that make it (or, for a change that needs a
// read-back first, what runs it).
type PlanStep struct {
	Say   string
	Words []string
	// Undo is the router terminal command that puts back what it changes.
	Undo string
	run  func(context.Context, *routeros.Client) error
}

// Plan is what --apply will change on one router, for its version.
type Plan struct {
	Caps  Caps
	Steps []PlanStep
	Notes []string
	setup *Setup
}

// Plan reads the router's version and items and lists the changes needed,
// in an order that never leaves the name without a record, nor the router
// without a working failover: records first (a new primary record is
// enabled only when the name has no enabled one), then the netwatch entry
// (a new one added disabled), then, once a read-back shows the entry as
// written, the entry enabled and the entries that would fight it
// disabled. It refuses, before anything is changed, what cannot be done
// safely.
func (s *Setup) Plan(ctx context.Context, c *routeros.Client) (*Plan, error) {
	id, err := c.Identity(ctx)
	if err != nil {
		return nil, err
	}
	caps, err := CapsOf(id.Version)
	if err != nil {
		return nil, err
	}
	caps, learnt, err := s.learn(ctx, c, caps)
	if err != nil {
		return nil, err
	}
	if err := s.BridgeSupported(caps); err != nil {
		return nil, fmt.Errorf("%w; nothing was changed", err)
	}
	if err := s.refuseBridgeOn(ctx, c); err != nil {
		return nil, err
	}
	items, notes := s.items(caps)
	p := &Plan{Caps: caps, Notes: append(learnt, notes...), setup: s}
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
		rows, err := readItem(ctx, c, it)
		if err != nil {
			return nil, err
		}
		placed, err := s.placeExemption(ctx, c, p, it, rows)
		if err != nil {
			return nil, err
		}
		switch {
		case placed:
		case it.menu == "/tool/netwatch":
			if err := s.planNetwatch(ctx, c, p, it, rows); err != nil {
				return nil, err
			}
		case len(rows) == 0:
			add := append(append([]prop{}, it.props...), it.addOnly...)
			p.Steps = append(p.Steps, addStep(it, s.safeEnable(add, recs, typ)))
		default:
			ours = append(ours, rows[0][".id"])
			if st, ok := setStep(it, rows[0]); ok {
				p.Steps = append(p.Steps, st)
			}
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

// readItem reads the items its find selects (by either of its finds); more
// than one is refused before anything changes.
func readItem(ctx context.Context, c *routeros.Client, it item) ([]map[string]string, error) {
	// Each find's conditions must all hold; either find selects.
	words := []string{it.menu + "/print"}
	for i, conds := range [][]cond{it.find, it.alt} {
		for _, c := range conds {
			words = append(words, "?"+c.key+"="+c.value)
		}
		if len(conds) > 1 {
			words = append(words, "?#"+strings.Repeat("&", len(conds)-1))
		}
		if i == 1 && len(conds) > 0 {
			words = append(words, "?#|")
		}
	}
	r, err := c.Run(ctx, words...)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", it.menu, err)
	}
	if err := unreadableRows(it.menu, r.Rows); err != nil {
		return nil, err
	}
	if len(r.Rows) > 1 {
		return nil, fmt.Errorf("%d items in %s match %s (%s): remove the extra ones first; nothing was changed", len(r.Rows), it.menu, itemFind(it), it.what)
	}
	return r.Rows, nil
}

// planNetwatch adds the entry disabled (or updates it where it is), then,
// after a read-back shows it as written, enables it and disables the
// entries that would fight it. An entry held by failwatch is updated and
// left held: a restore releases it.
func (s *Setup) planNetwatch(ctx context.Context, c *routeros.Client, p *Plan, it item, rows []map[string]string) error {
	fights, err := s.Fighting(ctx, c)
	if err != nil {
		return err
	}
	enabled := false
	switch {
	case len(rows) == 0:
		p.Steps = append(p.Steps, addStep(it, append(append(append([]prop{}, it.props...), it.addOnly...), prop{"disabled", "yes"})))
	case strings.HasSuffix(rows[0]["comment"], HoldMark):
		if st, ok := setStep(it, rows[0]); ok {
			p.Steps = append(p.Steps, st)
		}
		p.Notes = append(p.Notes, fmt.Sprintf("The netwatch entry %s is held by failwatch (maintenance): updated and left held; restore releases it.", rows[0][".id"]))
		return nil
	default:
		if st, ok := setStep(it, rows[0]); ok {
			p.Steps = append(p.Steps, st)
		}
		enabled = rows[0]["disabled"] != "true"
	}
	if !enabled {
		p.Steps = append(p.Steps, PlanStep{
			Say:  fmt.Sprintf("~ %s (%s): enable it, once a read-back shows it as written", it.menu, it.what),
			Undo: cliMenu(it.menu) + " disable " + findText(it.find),
			run:  func(ctx context.Context, c *routeros.Client) error { return enableChecked(ctx, c, it) },
		})
	}
	for _, n := range fights {
		p.Steps = append(p.Steps, PlanStep{
			Say:   fmt.Sprintf("- /tool/netwatch %s (%s, comment %q): disable: its scripts switch the records too and would fight", n.ID, n.Host, n.Comment),
			Words: []string{"/tool/netwatch/set", "=.id=" + n.ID, "=disabled=yes"},
			Undo:  "/tool netwatch enable " + n.ID,
		})
	}
	return nil
}

// enableChecked reads the item back, checks that it holds every property
// as written, and only then enables it.
func enableChecked(ctx context.Context, c *routeros.Client, it item) error {
	rows, err := readItem(ctx, c, it)
	if err != nil {
		return err
	}
	if len(rows) != 1 {
		return fmt.Errorf("read back: %s (%s) is not there", it.menu, it.what)
	}
	for _, p := range it.props {
		if !sameValue(rows[0][p.key], p.value) {
			return fmt.Errorf("read back: %s %s %s is %s, not %s: left disabled", it.menu, rows[0][".id"], p.key, rosQuote(rows[0][p.key]), rosQuote(p.value))
		}
	}
	_, err = c.Run(ctx, it.menu+"/set", "=.id="+rows[0][".id"], "=disabled=no")
	return err
}

// addStep adds an item with the properties given.
func addStep(it item, add []prop) PlanStep {
	words := []string{it.menu + "/add"}
	for _, p := range add {
		words = append(words, "="+p.key+"="+p.value)
	}
	return PlanStep{Say: fmt.Sprintf("+ %s add %s (%s)", it.menu, propsText(add), it.what), Words: words,
		Undo: cliMenu(it.menu) + " remove " + itemFind(it)}
}

// cliMenu is a menu as typed in the router's terminal: /tool netwatch.
func cliMenu(menu string) string { return "/" + strings.ReplaceAll(menu[1:], "/", " ") }

// setStep sets what differs on an existing item; false when nothing does.
func setStep(it item, row map[string]string) (PlanStep, bool) {
	words := []string{it.menu + "/set", "=.id=" + row[".id"]}
	var diffs, undo []string
	for _, p := range it.props {
		if !sameValue(row[p.key], p.value) {
			words = append(words, "="+p.key+"="+p.value)
			diffs = append(diffs, fmt.Sprintf("%s %s -> %s", p.key, rosQuote(row[p.key]), rosQuote(p.value)))
			undo = append(undo, p.key+"="+rosQuote(row[p.key]))
		}
	}
	if len(diffs) == 0 {
		return PlanStep{}, false
	}
	return PlanStep{Say: fmt.Sprintf("~ %s %s (%s): %s", it.menu, row[".id"], it.what, strings.Join(diffs, ", ")), Words: words,
		Undo: cliMenu(it.menu) + " set " + row[".id"] + " " + strings.Join(undo, " ")}, true
}

// unreadableRows refuses setup's own items when the router printed one
// that cannot be read strictly: a set is never sent to an id it made up.
func unreadableRows(menu string, rows []map[string]string) error {
	for _, row := range rows {
		why := ""
		switch menu {
		case "/ip/dns/static":
			why = routeros.RecordFrom(row).Unreadable
		case "/tool/netwatch":
			why = routeros.NetwatchFrom(row).Unreadable
		default:
			if !routeros.ValidID(row[".id"]) || (row["disabled"] != "true" && row["disabled"] != "false") {
				why = fmt.Sprintf("an item that is not in a form a router sends (.id %q, disabled %q)", row[".id"], row["disabled"])
			}
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
