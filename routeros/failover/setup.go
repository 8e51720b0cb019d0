package failover

import (
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/failwatch/failwatch/config"
)

// Setup is the robust router configuration for a service: the static
// records (adopted where they exist, by comment or by address) with a short
// TTL, and one netwatch entry on the primary whose scripts find the records
// the same way, never by print position, with only the properties the
// router's version takes. The printed script and --apply come from the same
// items and the same rules, so they reach the same router state.
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
	// BootDelay is how long after the router boots the entry first tests
	// (startup-delay, where the router has it); default 5m, the manual's.
	BootDelay time.Duration
	// PacketCount is how many echoes an icmp netwatch test sends; default 10.
	PacketCount int
	// RTT is the primary's round trip as the router sees it (measured or
	// stated); the icmp thresholds are set above it. Zero: they are set at
	// the timeout, and the script says so.
	RTT time.Duration
	// Jitter is the spread of the primary's round trips (max-min, as
	// failwatch report measures it); thr-jitter, thr-stdev and thr-max are
	// kept above it.
	Jitter time.Duration
	// Loss is the share of echoes the primary loses when healthy (0 to 1,
	// as failwatch report measures it): a test's, or a /ping
	// confirmation's, echoes are enough that it is not mistaken for down.
	Loss float64
	// Recheck is how often a router without startup-delay re-checks the
	// primary from a scheduler entry; default 1m.
	Recheck time.Duration
	// IgnoreInitialDown, only when asked: with it a primary that is already
	// down when the entry starts (or the router boots) never fails over.
	IgnoreInitialDown bool
	// Siblings are the other services' names on the router. With them, this
	// service's netwatch entry is "failwatch NAME" (a server carrying several
	// names has an entry per name), its records are found within its name,
	// and the siblings' entries are never disabled as fighting.
	Siblings []string
	// Own are failwatch's own source addresses towards the primary, which
	// a TTL bridge always exempts (setupbridge.go).
	Own []netip.Addr
}

// item is one thing setup wants on the router.
type item struct {
	menu string
	// find is the [find ...] that selects the item, the same in the script
	// and over the API (as queries); alt, when set, selects it too (the
	// netwatch entry held by failwatch, its comment marked).
	find, alt []cond
	// props are compared and set on an existing item; addOnly are written
	// only when the item is added (which record is enabled is the
	// failover's business, not setup's).
	props, addOnly []prop
	what           string
}

type cond struct{ key, value string }

type prop struct{ key, value string }

func (s *Setup) defaults() {
	if s.TTL <= 0 {
		s.TTL = 30 * time.Second
	}
	if s.Interval <= 0 {
		s.Interval = 5 * time.Second
	}
	if s.Recheck <= 0 {
		s.Recheck = time.Minute
	}
	if s.BootDelay <= 0 {
		s.BootDelay = 5 * time.Minute
	}
	if s.PacketCount <= 0 {
		s.PacketCount = 10
	}
}

func recordComment(s config.Server) string {
	if s.Record.Comment != "" {
		return s.Record.Comment
	}
	return "failwatch " + s.Name
}

// netwatchComment names setup's netwatch entry: by the service when there
// are several (two may share a primary), else by the primary.
func (s *Setup) netwatchComment() string {
	if len(s.Siblings) > 0 {
		return siblingComment(s.Service.Name)
	}
	return "failwatch " + s.Primary.Name
}

// siblingComment is the netwatch comment of a service among several.
func siblingComment(service string) string { return "failwatch " + service }

// recordFind selects a server's record: by the configured comment, else by
// the name and the server's address (so an existing record is adopted,
// never doubled).
func (s *Setup) recordFind(srv config.Server) []cond {
	if srv.Record.Comment != "" {
		if len(s.Siblings) > 0 {
			// Another name's record may carry the same comment.
			return []cond{{"name", s.Service.Name}, {"comment", srv.Record.Comment}}
		}
		return []cond{{"comment", srv.Record.Comment}}
	}
	addr := srv.Record.Address
	if addr == "" {
		addr = srv.Address
	}
	return []cond{{"name", s.Service.Name}, {"address", addr}}
}

func findText(conds []cond) string {
	parts := []string{"find"}
	for _, c := range conds {
		parts = append(parts, c.key+"="+rosQuote(c.value))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// itemFind is the [find ...] of an item: with an alternative, find's where
// form, either selecting it.
func itemFind(it item) string {
	if len(it.alt) == 0 {
		return findText(it.find)
	}
	var either []string
	for _, conds := range [][]cond{it.find, it.alt} {
		var all []string
		for _, c := range conds {
			all = append(all, c.key+"="+rosQuote(c.value))
		}
		either = append(either, "("+strings.Join(all, " and ")+")")
	}
	return "[find where " + strings.Join(either, " or ") + "]"
}

func (s *Setup) serviceFind() []cond {
	if s.Service.Record.Comment != "" {
		return []cond{{"comment", s.Service.Record.Comment}}
	}
	return []cond{{"name", s.Service.Name}, {"address", s.Service.Record.Address}}
}

func recordType(srv config.Server) []prop {
	if RecordType(srv) == "AAAA" {
		return []prop{{"type", "AAAA"}}
	}
	return nil
}

// items are what setup wants, for the version's caps; notes say in the
// script what was chosen and why.
func (s *Setup) items(caps Caps) ([]item, []string) {
	s.defaults()
	ttl := config.FormatDuration(s.TTL)
	var out []item
	var notes []string
	if s.Service.Layout == config.Rewrite {
		out = append(out, item{menu: "/ip/dns/static", find: s.serviceFind(), what: "the service record",
			props:   []prop{{"name", s.Service.Name}, {"ttl", ttl}},
			addOnly: append(recordType(s.Primary), prop{"address", s.Primary.Address}, prop{"comment", s.Service.Record.Comment})})
	} else {
		for _, srv := range []config.Server{s.Primary, s.Standby} {
			it := item{menu: "/ip/dns/static", find: s.recordFind(srv), what: srv.Name + "'s record",
				props: []prop{{"ttl", ttl}}}
			if srv.Record.Comment == "" {
				// Adopted by address: the comment names it from now on.
				it.props = append(it.props, prop{"comment", recordComment(srv)})
			} else {
				it.addOnly = append(it.addOnly, prop{"comment", srv.Record.Comment})
			}
			it.addOnly = append(append(it.addOnly, prop{"name", s.Service.Name}), recordType(srv)...)
			it.addOnly = append(it.addOnly, prop{"address", srv.Address}, prop{"disabled", yesNo(srv.Name == s.Standby.Name)})
			out = append(out, it)
		}
	}
	out = append(out, s.bridgeItems(caps, &notes)...)
	down, up := s.scripts(caps, &notes)
	if !caps.StartupDelay {
		out = append(out, s.schedulerItem(&notes))
	}
	nw := item{menu: "/tool/netwatch", find: []cond{{"comment", s.netwatchComment()}}, alt: []cond{{"comment", s.netwatchComment() + HoldMark}}, what: "the netwatch entry",
		props: []prop{{"host", s.Primary.Address}}, addOnly: []prop{{"comment", s.netwatchComment()}}}
	timeout := max(s.Probe.Timeout, time.Second)
	switch {
	case !caps.Types:
		notes = append(notes, fmt.Sprintf("RouterOS %s: netwatch is simple ICMP (one echo per test, no thresholds, no HTTP check), so its scripts confirm with /ping before they switch.", caps.Version))
	case s.httpCheck() != nil:
		nw.props = append(nw.props, s.httpProps(caps, &notes)...)
	default:
		nw.props = append(nw.props, s.icmpProps(timeout, &notes)...)
	}
	nw.props = append(nw.props, prop{"interval", config.FormatDuration(s.Interval)}, prop{"timeout", config.FormatDuration(timeout)})
	if caps.Name {
		nw.props = append(nw.props, prop{"name", s.netwatchComment()})
	}
	if caps.StartupDelay {
		nw.props = append(nw.props, prop{"startup-delay", config.FormatDuration(s.BootDelay)})
	}
	if caps.IgnoreInitial {
		// Never ignore-initial-up=yes: after a reboot (or setup) with the
		// name on the standby, the primary's first up would be ignored and
		// the name kept there until the primary failed and recovered again.
		// Maintenance holds the entries instead (failover --hold).
		nw.props = append(nw.props, prop{"ignore-initial-up", "no"})
		notes = append(notes, "ignore-initial-up=no: the primary's first up after a reboot or a change moves the name back; for maintenance, failover --hold keeps it on the standby.")
		if s.IgnoreInitialDown {
			nw.props = append(nw.props, prop{"ignore-initial-down", "yes"})
			notes = append(notes, "ignore-initial-down=yes (asked for): a primary already down when this entry starts never fails over.")
		} else {
			nw.props = append(nw.props, prop{"ignore-initial-down", "no"})
		}
	} else {
		notes = append(notes, fmt.Sprintf("RouterOS %s has no ignore-initial-*: the entry's first test runs its script.", caps.Version))
	}
	nw.props = append(nw.props, prop{"down-script", down}, prop{"up-script", up})
	return append(out, nw), notes
}

// httpProps check the primary's HTTP service. Netwatch's http-get sends no
// Host header and no path: it can test a server reached by its address, not
// a name-based virtual host; for those the TCP port is what it can test.
func (s *Setup) httpProps(caps Caps, notes *[]string) []prop {
	u := s.httpCheck()
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	if a, err := netip.ParseAddr(u.Hostname()); err != nil || a.String() != s.Primary.Address || (u.Path != "" && u.Path != "/") {
		*notes = append(*notes, fmt.Sprintf("netwatch http-get sends no Host header and no path, so it cannot test %s: tcp-conn to port %s instead.", u, port))
		return []prop{{"type", "tcp-conn"}, {"port", port}}
	}
	typ := "http-get"
	if u.Scheme == "https" {
		typ = "https-get"
	}
	out := []prop{{"type", typ}, {"port", port}}
	if caps.HTTPCodes {
		return append(out, prop{"http-codes", "200-399"})
	}
	return append(out, prop{"http-code-min", "200"}, prop{"http-code-max", "399"})
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

// rosQuote writes a RouterOS string: quotes, with " \ and $ escaped (an
// unescaped $ starts a variable) and control characters as escapes.
func rosQuote(v string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range v {
		switch r {
		case '"', '\\', '$':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\%02X`, r)
				continue
			}
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func propsText(props []prop) string {
	parts := make([]string, len(props))
	for i, p := range props {
		parts[i] = p.key + "=" + rosQuote(p.value)
	}
	return strings.Join(parts, " ")
}

// fightPattern finds the scripts that switch static records, in both
// syntaxes: "/ip dns static" and "/ip/dns/static".
const fightPattern = "dns.static"

var fightRe = regexp.MustCompile(fightPattern)

// Script is the configuration as a RouterOS script for the version's caps,
// to paste into a terminal or /import. Running it again finds everything as
// before and updates it: nothing is added twice.
func (s *Setup) Script(caps Caps) string {
	items, notes := s.items(caps)
	var b strings.Builder
	fmt.Fprintf(&b, "# failwatch setup for %s: %s (primary) %s, %s (standby) %s, %s layout, RouterOS %s\n",
		s.Service.Name, s.Primary.Name, s.Primary.Address, s.Standby.Name, s.Standby.Address, s.Service.Layout, caps.Version)
	b.WriteString("# Safe to run again: every item is found as below and updated, never added twice.\n")
	fmt.Fprintf(&b, "# TTL %s: clients cache the answer for the TTL, so the paper's 1d can keep them\n# on a dead server for a day after the switch.\n",
		config.FormatDuration(s.TTL))
	for _, n := range notes {
		b.WriteString("# " + n + "\n")
	}
	menu := ""
	for _, it := range items {
		if it.menu != menu {
			menu = it.menu
			b.WriteString("/" + strings.ReplaceAll(menu[1:], "/", " ") + "\n")
		}
		if it.menu == "/tool/netwatch" {
			s.netwatchLines(&b, it)
			continue
		}
		if line, ok := s.exemptionLine(it); ok {
			b.WriteString(line)
			continue
		}
		find := findText(it.find)
		fmt.Fprintf(&b, ":if ([:len %s] = 0) do={ add %s } else={ set %s %s }\n",
			find, propsText(append(append([]prop{}, it.props...), it.addOnly...)), find, propsText(it.props))
	}
	return b.String()
}

// netwatchLines write the entry so that every line, and every prefix of
// the script a router stops at, leaves one working failover: the entry is
// added disabled (or updated where it is, held or not), then, only when it
// reads back, one line enables it and disables the entries that would
// fight it, undoing the enable if that fails.
func (s *Setup) netwatchLines(b *strings.Builder, it item) {
	find, own := itemFind(it), findText(it.find)
	add := append(append(append([]prop{}, it.props...), it.addOnly...), prop{"disabled", "yes"})
	b.WriteString("# The entry is added disabled (or updated where it is; one held by failwatch\n" +
		"# stays held), checked, then enabled in one line with the entries that would\n" +
		"# fight it (other entries on the servers whose scripts switch the records, such\n" +
		"# as the paper's by print position) disabled: a failure there puts it back.\n" +
		"# Whichever line a router stops at, one failover works: the old or this one.\n")
	fmt.Fprintf(b, ":if ([:len %s] = 0) do={ add %s } else={ set %s %s }\n", find, propsText(add), find, propsText(it.props))
	check := findText(append(slices.Clone(it.find), cond{"host", s.Primary.Address}))
	fmt.Fprintf(b, ":if ([:len %s] = 1) do={ :do { enable %s; disable [%s] } on-error={ disable %s } }\n", check, own, s.fightsFind(), own)
}

// fightsFind selects the enabled entries on the servers' hosts, other than
// setup's own and the siblings', whose scripts switch the records.
func (s *Setup) fightsFind() string {
	var hosts []string
	for _, h := range s.hosts() {
		hosts = append(hosts, "host="+rosQuote(h))
	}
	return fmt.Sprintf("find where disabled=no and comment!=%s%s and (%s) and (down-script~%s or up-script~%s)",
		rosQuote(s.netwatchComment()), s.notSiblings(), strings.Join(hosts, " or "), rosQuote(fightPattern), rosQuote(fightPattern))
}

func (s *Setup) hosts() []string {
	if s.Standby.Address == s.Primary.Address {
		return []string{s.Primary.Address}
	}
	return []string{s.Primary.Address, s.Standby.Address}
}
