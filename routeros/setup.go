package routeros

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/failwatch/failwatch/config"
)

// Setup is the robust router configuration for a service: static records
// found by comment with a short TTL, and one netwatch entry on the primary
// whose scripts find the records by comment, not by print position.
type Setup struct {
	Service config.Service
	Primary config.Server
	Standby config.Server
	Probe   config.Probe
	// TTL of the records; default 30s. Clients keep an answer for its TTL,
	// so the paper's 1d can keep them on a dead server for a day.
	TTL time.Duration
	// Interval of the netwatch entry; default 5s.
	Interval time.Duration
	// PacketCount is how many echoes an icmp netwatch test sends; default 5.
	PacketCount int
}

// desired is one item as setup wants it.
type desired struct {
	menu    string
	comment string
	// props in the order they are written; on an existing item only these
	// are compared and set.
	props []prop
	// addOnly are set when the item is added, never changed after: which
	// record is enabled is the failover's business, not setup's.
	addOnly []prop
}

type prop struct{ key, value string }

func (s *Setup) defaults() {
	if s.TTL <= 0 {
		s.TTL = 30 * time.Second
	}
	if s.Interval <= 0 {
		s.Interval = 5 * time.Second
	}
	if s.PacketCount <= 0 {
		s.PacketCount = 5
	}
}

func recordComment(s config.Server) string {
	if s.Record.Comment != "" {
		return s.Record.Comment
	}
	return "failwatch " + s.Name
}

func (s *Setup) netwatchComment() string { return "failwatch " + s.Primary.Name }

func findComment(c string) string { return `[find comment=` + strconv.Quote(c) + `]` }

// scripts are the netwatch entry's down and up scripts.
func (s *Setup) scripts() (down, up string) {
	flush := "; /ip dns cache flush"
	if s.Service.Layout == config.Rewrite {
		set := func(addr string) string {
			return "/ip dns static set " + findComment(s.Service.Record.Comment) + " address=" + addr + " disabled=no" + flush
		}
		return set(s.Standby.Address), set(s.Primary.Address)
	}
	// Enable first, then disable: the name always has a record.
	swap := func(on, off config.Server) string {
		return "/ip dns static enable " + findComment(recordComment(on)) +
			"; /ip dns static disable " + findComment(recordComment(off)) + flush
	}
	return swap(s.Standby, s.Primary), swap(s.Primary, s.Standby)
}

func (s *Setup) items() []desired {
	s.defaults()
	ttl := config.FormatDuration(s.TTL)
	var out []desired
	if s.Service.Layout == config.Rewrite {
		out = append(out, desired{menu: "/ip/dns/static", comment: s.Service.Record.Comment,
			props:   []prop{{"name", s.Service.Name}, {"ttl", ttl}},
			addOnly: []prop{{"address", s.Primary.Address}}})
	} else {
		for _, srv := range []config.Server{s.Primary, s.Standby} {
			d := desired{menu: "/ip/dns/static", comment: recordComment(srv),
				props: []prop{{"name", s.Service.Name}, {"address", srv.Address}, {"ttl", ttl}}}
			if srv.Role == config.Standby {
				d.addOnly = []prop{{"disabled", "yes"}}
			}
			out = append(out, d)
		}
	}
	down, up := s.scripts()
	nw := desired{menu: "/tool/netwatch", comment: s.netwatchComment(), props: []prop{{"host", s.Primary.Address}}}
	if u := s.httpCheck(); u != nil {
		port := u.Port()
		if port == "" {
			port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
		}
		typ := "http-get"
		if u.Scheme == "https" {
			typ = "https-get"
		}
		nw.props = append(nw.props, prop{"type", typ}, prop{"port", port}, prop{"http-codes", "200-399"})
	} else {
		nw.props = append(nw.props, prop{"type", "icmp"}, prop{"packet-count", strconv.Itoa(s.PacketCount)},
			prop{"thr-loss-percent", strconv.FormatFloat(s.Probe.DownLossPercent, 'f', -1, 64) + "%"})
	}
	nw.props = append(nw.props,
		prop{"interval", config.FormatDuration(s.Interval)}, prop{"timeout", config.FormatDuration(max(s.Probe.Timeout, time.Second))},
		// Without these a router reboot, or adding the entry, runs a script
		// on the first test: a flip nobody asked for.
		prop{"ignore-initial-up", "yes"}, prop{"ignore-initial-down", "yes"},
		prop{"down-script", down}, prop{"up-script", up})
	return append(out, nw)
}

func (s *Setup) httpCheck() *url.URL {
	for _, c := range s.Primary.Checks {
		if c.Kind == config.HTTP {
			if u, err := url.Parse(c.URL); err == nil {
				return u
			}
		}
	}
	return nil
}

func quote(v string) string {
	if v != "" && !strings.ContainsAny(v, " \t\";[]$\\") {
		return v
	}
	return strconv.Quote(v)
}

func propsText(props []prop) string {
	parts := make([]string, len(props))
	for i, p := range props {
		parts[i] = p.key + "=" + quote(p.value)
	}
	return strings.Join(parts, " ")
}

// Script is the configuration as a RouterOS script to paste into a
// terminal. Running it again finds everything by comment and updates it:
// nothing is added twice.
func (s *Setup) Script() string {
	items := s.items()
	var b strings.Builder
	fmt.Fprintf(&b, "# failwatch setup for %s: %s (primary) %s, %s (standby) %s, %s layout\n",
		s.Service.Name, s.Primary.Name, s.Primary.Address, s.Standby.Name, s.Standby.Address, s.Service.Layout)
	b.WriteString("# Safe to run again: every item is found by its comment and updated, never added twice.\n")
	fmt.Fprintf(&b, "# TTL %s: clients cache the answer for the TTL, so the paper's 1d can keep them\n# on a dead server for a day after the switch.\n",
		config.FormatDuration(s.TTL))
	menu := ""
	for _, d := range items {
		if d.menu != menu {
			menu = d.menu
			b.WriteString("/" + strings.ReplaceAll(menu[1:], "/", " ") + "\n")
		}
		if d.menu == "/tool/netwatch" {
			b.WriteString("# Older entries for this host that switch the records (such as the paper's, by\n# print position) would fight this one: disable them.\n")
			fmt.Fprintf(&b, "disable [find host=%s comment!=%s down-script~\"dns static\"]\n", quote(s.Primary.Address), strconv.Quote(d.comment))
		}
		all := append(append([]prop{}, d.props...), d.addOnly...)
		fmt.Fprintf(&b, ":if ([:len [find comment=%s]] = 0) do={ add %s comment=%s } else={ set [find comment=%s] %s }\n",
			strconv.Quote(d.comment), propsText(all), strconv.Quote(d.comment), strconv.Quote(d.comment), propsText(d.props))
	}
	return b.String()
}

// PlanStep is one thing --apply does, said in the admin's words, and the API
// words that do it.
type PlanStep struct {
	Say   string
	Words []string
}

// Plan compares the router with the setup and lists the changes needed;
// an empty plan means the router already has it.
func (s *Setup) Plan(ctx context.Context, c *Client) ([]PlanStep, error) {
	var changes []PlanStep
	for _, d := range s.items() {
		r, err := c.Run(ctx, d.menu+"/print", "?comment="+d.comment)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", d.menu, err)
		}
		switch len(r.Rows) {
		case 0:
			words := []string{d.menu + "/add"}
			for _, p := range append(append([]prop{}, d.props...), d.addOnly...) {
				words = append(words, "="+p.key+"="+p.value)
			}
			words = append(words, "=comment="+d.comment)
			changes = append(changes, PlanStep{Say: fmt.Sprintf("+ %s add %s comment=%q", d.menu, summary(d.props), d.comment), Words: words})
		case 1:
			row := r.Rows[0]
			words := []string{d.menu + "/set", "=.id=" + row[".id"]}
			var diffs []string
			for _, p := range d.props {
				if !sameValue(row[p.key], p.value) {
					words = append(words, "="+p.key+"="+p.value)
					diffs = append(diffs, fmt.Sprintf("%s %s -> %s", p.key, short(row[p.key]), short(p.value)))
				}
			}
			if len(diffs) > 0 {
				changes = append(changes, PlanStep{Say: fmt.Sprintf("~ %s %s (%q): %s", d.menu, row[".id"], d.comment, strings.Join(diffs, ", ")), Words: words})
			}
		default:
			return nil, fmt.Errorf("%d items in %s have the comment %q: remove the extra ones first", len(r.Rows), d.menu, d.comment)
		}
	}
	fights, err := s.Fighting(ctx, c)
	if err != nil {
		return nil, err
	}
	for _, n := range fights {
		changes = append(changes, PlanStep{
			Say:   fmt.Sprintf("- /tool/netwatch %s (%s, comment %q): disable: its scripts switch the records too and would fight", n.ID, n.Host, n.Comment),
			Words: []string{"/tool/netwatch/set", "=.id=" + n.ID, "=disabled=yes"},
		})
	}
	return changes, nil
}

// Fighting lists the enabled netwatch entries on the servers' hosts, other
// than setup's own, whose scripts switch static DNS records: they would
// fight a failover by hand or an automatic policy.
func (s *Setup) Fighting(ctx context.Context, c *Client) ([]Netwatch, error) {
	entries, err := c.NetwatchEntries(ctx, s.Primary.Address, s.Standby.Address)
	if err != nil {
		return nil, err
	}
	var out []Netwatch
	for _, n := range Switching(entries) {
		if n.Comment != s.netwatchComment() {
			out = append(out, n)
		}
	}
	return out, nil
}

// Switching keeps the enabled entries whose scripts switch static DNS
// records: the router's own failover, which a failover by hand or by policy
// would fight unless they are held.
func Switching(entries []Netwatch) []Netwatch {
	var out []Netwatch
	for _, n := range entries {
		scripts := n.UpScript + n.DownScript
		if !n.Disabled && (strings.Contains(scripts, "dns static") || strings.Contains(scripts, "dns/static")) {
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
		return have == "false"
	}
	if a, err := config.ParseDuration(have); err == nil {
		if b, err := config.ParseDuration(want); err == nil {
			return a == b
		}
	}
	return strings.TrimSuffix(have, "%") == strings.TrimSuffix(want, "%")
}

func summary(props []prop) string {
	var parts []string
	for _, p := range props {
		parts = append(parts, p.key+"="+short(p.value))
	}
	return strings.Join(parts, " ")
}

func short(v string) string {
	if len(v) > 40 {
		return strconv.Quote(v[:37] + "...")
	}
	if v == "" {
		return `""`
	}
	return v
}

// Apply makes the changes, then plans again to verify that nothing is left.
func (s *Setup) Apply(ctx context.Context, c *Client, changes []PlanStep) error {
	for _, ch := range changes {
		if _, err := c.Run(ctx, ch.Words...); err != nil {
			return fmt.Errorf("%s: %w", ch.Say, err)
		}
	}
	left, err := s.Plan(ctx, c)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if len(left) > 0 {
		return fmt.Errorf("verify: %d change(s) did not take: %s", len(left), left[0].Say)
	}
	return nil
}
