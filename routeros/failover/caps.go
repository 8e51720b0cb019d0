package failover

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/failwatch/failwatch/routeros"
)

// Caps is what a router's netwatch takes: from its version (the sources
// are cited in routeros/rosim/profile.go), or, for --apply, from the router
// itself.
type Caps struct {
	Version string
	// Types: 7.4 and later have type (icmp, tcp-conn, http-get, ...) and
	// the probe options; before, and on 6.x, netwatch is simple ICMP with
	// host, interval, timeout and the two scripts.
	Types bool
	// HTTPCodes: http-codes (7.13rc4 lists it); before it, the early 7.x
	// http-code-min/max.
	HTTPCodes bool
	// Name: a netwatch entry's name (7.13rc4 lists it).
	Name bool
	// StartupDelay: startup-delay, no test until the router has been up
	// that long (7.13rc4 lists it; the first release to have it is not
	// sourced, so older ones are taken to lack it).
	StartupDelay bool
	// IgnoreInitial: ignore-initial-up/down (7.17 and later).
	IgnoreInitial bool
	// IPv6NAT: /ipv6/firewall/nat, for an IPv6 pair's bridge: RouterOS 7
	// (https://help.mikrotik.com/docs/display/ROS/NAT has IPv6 properties;
	// the 6.x manual's IPv6 firewall has address lists, filter and mangle,
	// no NAT).
	IPv6NAT bool
	// IPv6NATTo names an IPv6 rule's address to translate to: to-address
	// from 7.15, to-addresses before (community.routeros's _api_data.py,
	// ('ipv6', 'firewall', 'nat')); "" without IPv6NAT.
	IPv6NATTo string
}

// CapsOf reads what a version string ("7.18.2 (stable)") takes.
func CapsOf(version string) (Caps, error) {
	v, _, _ := strings.Cut(strings.TrimSpace(version), " ")
	parts := strings.Split(v, ".")
	var major, minor int
	var err1, err2 error
	if len(parts) >= 2 {
		major, err1 = strconv.Atoi(parts[0])
		minor, err2 = strconv.Atoi(strings.TrimRightFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
	}
	if len(parts) < 2 || err1 != nil || err2 != nil || major < 6 {
		return Caps{}, fmt.Errorf("RouterOS version %q: failwatch setup supports 6.x and 7.x", version)
	}
	at := func(m int) bool { return major > 7 || (major == 7 && minor >= m) }
	caps := Caps{Version: version, Types: at(4), HTTPCodes: at(13), Name: at(13), StartupDelay: at(13), IgnoreInitial: at(17), IPv6NAT: major >= 7}
	if caps.IPv6NAT {
		caps.IPv6NATTo = map[bool]string{true: "to-address", false: "to-addresses"}[at(15)]
	}
	return caps, nil
}

// optional are the netwatch properties setup leaves out, with a note, when
// the router does not take them.
var optional = []struct {
	props []string
	set   func(*Caps, bool)
	gone  string
}{
	{[]string{"ignore-initial-up", "ignore-initial-down"}, func(c *Caps, v bool) { c.IgnoreInitial = v },
		"a rebooted router's first test runs its script, as setup wants"},
	{[]string{"startup-delay"}, func(c *Caps, v bool) { c.StartupDelay = v },
		"the entry tests from the moment the router boots"},
	{[]string{"name"}, func(c *Caps, v bool) { c.Name = v }, "the entry is known by its comment"},
	{[]string{"http-codes"}, func(c *Caps, v bool) { c.HTTPCodes = v }, "http-code-min and http-code-max instead"},
}

// learn asks a 7.x router which netwatch properties it takes
// (/console/inspect), never by sending a change and reading its trap: a
// missing optional one is left out with a note; a missing one setup needs
// refuses before anything is changed. A router that will not say (a
// restricted user) is taken at its version's word, and the notes say so;
// 6.x netwatch has its five properties and nothing to ask.
func (s *Setup) learn(ctx context.Context, c *routeros.Client, caps Caps) (Caps, []string, error) {
	if !caps.Types {
		return caps, nil, nil
	}
	r, err := c.Run(ctx, "/console/inspect", "=request=child", "=path=tool,netwatch,add")
	if err != nil && !routeros.IsTrap(err) {
		return caps, nil, fmt.Errorf("ask which netwatch properties the router takes: %w", err)
	}
	if err != nil {
		return caps, []string{fmt.Sprintf("The router did not say which netwatch properties it takes (%v): going by its version, %s.", err, caps.Version)}, nil
	}
	var has []string
	for _, row := range r.Rows {
		if row["node-type"] == "arg" {
			has = append(has, row["name"])
		}
	}
	var notes []string
	for _, o := range optional {
		takes := !slices.ContainsFunc(o.props, func(p string) bool { return !slices.Contains(has, p) })
		before := caps
		o.set(&caps, takes)
		if !takes && before != caps {
			notes = append(notes, fmt.Sprintf("This router (RouterOS %s) does not take netwatch %s: left out (%s).", caps.Version, strings.Join(o.props, " and "), o.gone))
		}
	}
	items, _ := s.items(caps)
	for _, it := range items {
		if it.menu != "/tool/netwatch" {
			continue
		}
		for _, p := range append(slices.Clone(it.props), it.addOnly...) {
			if !slices.Contains(has, p.key) {
				return caps, nil, fmt.Errorf("this router (RouterOS %s) does not take netwatch %s, which setup needs; nothing was changed", caps.Version, p.key)
			}
		}
	}
	return caps, notes, nil
}
