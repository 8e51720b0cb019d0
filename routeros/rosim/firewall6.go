package rosim

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// The TTL bridge's IPv6 menus: /ipv6/firewall/nat, /ipv6/firewall/address-list
// and /ipv6/firewall/connection, per version:
//
//	[v6fw] the RouterOS 6 manual's IPv6 firewall pages
//	       (https://vi.scribd.com/document/363374220/Mikrotik-IPv6-pdf, its
//	       contents: Manual:IPv6/Firewall, /Address-list, /Filter,
//	       /Mangle): no NAT and no connection list, so 6.49 has neither
//	       (refusing a connection list a 6.x router may print is stricter,
//	       never looser); "Since RouterOS v7 ..." and the NAT page's IPv6
//	       section (https://help.mikrotik.com/docs/display/ROS/NAT).
//	[n6f]  https://github.com/ansible-collections/community.routeros,
//	       plugins/module_utils/_api_data.py, ('ipv6', 'firewall', 'nat'):
//	       the IPv4 rule's matchers but fragment, hotspot, ipv4-options,
//	       psd, realm, same-not-by-dst, randomise-ports and ttl, with
//	       connection-state and tcp-flags; the address to translate to is
//	       to-addresses before 7.15 and to-address from 7.15;
//	       layer7-protocol before 7.15, tls-host before 7.16; headers,
//	       hop-limit and nth from 7.15. ('ipv6', 'firewall',
//	       'address-list'): address, list, comment, disabled; timeout and
//	       dynamic from 7.15.
//	[al7]  https://help.mikrotik.com/docs/display/ROS/Address-lists: "IP-IP
//	       ranges are supported only for IPv4 addresses".
//	[ctv6] https://help.mikrotik.com/docs/spaces/ROS/pages/130220087/Connection+tracking
//	       (Connection List): "dst-address (ip[:port]) Destination address
//	       and port (for IPv4 if a protocol is port-based)", "dst-port
//	       (integer) Destination port if protocol is port-based. IPv6
//	       only", src-port, reply-src-port and reply-dst-port alike, and
//	       confirmed, dying, expected, fasttrack, hw-offload, orig-* and
//	       repl-* "IPv4 only"; its /ipv6 firewall connection print shows
//	       addresses without ports.

// ipv6Menus says what the version has of the IPv6 firewall [v6fw] [n6f]:
// the name of a NAT rule's address to translate to ("" for no
// /ipv6/firewall/nat and no connection list), whether an address-list
// entry takes timeout and dynamic, and the NAT matchers of its own.
func ipv6Menus(version string) (natTo string, listTimeout bool, natOwn []string) {
	major, rest, _ := strings.Cut(version, ".")
	minor, _ := strconv.Atoi(rest)
	switch {
	case major == "6":
		return "", false, nil
	case minor < 15:
		return "to-addresses", false, []string{"layer7-protocol", "tls-host"}
	case minor < 16:
		return "to-address", true, []string{"headers", "hop-limit", "nth", "tls-host"}
	}
	return "to-address", true, []string{"headers", "hop-limit", "nth"}
}

// nat6Matchers are the IPv6 NAT rule's matchers on every 7.x [n6f], as
// text: taken and printed; none evaluated but src-address-list.
var nat6Matchers = []string{
	"address-list", "address-list-timeout", "connection-bytes", "connection-limit", "connection-mark",
	"connection-rate", "connection-state", "connection-type", "content", "dscp", "dst-address-list",
	"dst-address-type", "dst-limit", "icmp-options", "in-bridge-port", "in-bridge-port-list",
	"ingress-priority", "ipsec-policy", "jump-target", "limit", "log-prefix", "out-bridge-port",
	"out-bridge-port-list", "packet-mark", "packet-size", "per-connection-classifier", "priority", "random",
	"routing-mark", "src-address-list", "src-address-type", "src-mac-address", "tcp-flags", "tcp-mss", "time",
}

// nat6Unevaluated are the IPv6-only matchers besides natMatchers': a rule
// that has one never matches a tracked connection.
var nat6Unevaluated = []string{"connection-state", "tcp-flags", "headers", "hop-limit"}

// firewall6Tables makes the IPv6 menus the version has; nil for a menu it
// lacks, which is then no command at all.
func (r *Router) firewall6Tables() {
	natTo, listTimeout, own := ipv6Menus(r.prof.name)
	r.addrLists6 = r.addressList6Table(listTimeout)
	if natTo == "" {
		return
	}
	props := natProps(natTo, kindToAddress6, kindAddrMatch6, slices.Concat(nat6Matchers, own))
	r.nat6 = &table{path: "/ipv6/firewall/nat", duration: r.formatDuration, props: props, check: r.checkNAT, ordered: true}
	r.tracked6 = &table{path: "/ipv6/firewall/connection", duration: r.formatDuration, props: connection6Props(), traffic: true}
}

// addressList6Table is /ipv6/firewall/address-list [n6f]: IPv6 addresses
// and prefixes only [al7].
func (r *Router) addressList6Table(timeout bool) *table {
	props := []prop{{name: "list"}, {name: "address"}}
	if timeout {
		props = append(props, prop{name: "timeout", kind: kindDuration}, prop{name: "dynamic", def: "false", kind: kindBool})
	} else {
		props = append(props, prop{name: "dynamic", def: "false", readOnly: true})
	}
	return r.listTable("/ipv6/firewall/address-list", props, listAddress6, false)
}

// listAddress6 is an IPv6 address or prefix as the router keeps it: a
// host prefix as its address, a prefix by its network.
func listAddress6(v string) (string, bool) {
	p, ok := prefix6(v)
	if !ok {
		return "", false
	}
	if p.IsSingleIP() {
		return p.Addr().String(), true
	}
	return p.String(), true
}

// connection6Props are /ipv6/firewall/connection's properties [ctv6], all
// read-only: the ports apart from the addresses, none of the IPv4-only
// counters and flags.
func connection6Props() []prop {
	var props []prop
	for _, k := range []string{
		"protocol", "src-address", "src-port", "dst-address", "dst-port",
		"reply-src-address", "reply-src-port", "reply-dst-address", "reply-dst-port",
		"tcp-state", "timeout", "icmp-type", "icmp-code", "icmp-id",
		"connection-mark", "connection-type", "seen-reply", "assured", "srcnat", "dstnat",
	} {
		props = append(props, prop{name: k, readOnly: true})
	}
	return props
}

// prefix6 parses an IPv6 address or prefix, as the IPv6 menus take them:
// no ranges, no IPv4 [al7].
func prefix6(v string) (netip.Prefix, bool) {
	if a, err := netip.ParseAddr(v); err == nil {
		return netip.PrefixFrom(a, 128), a.Is6() && !a.Is4In6() && a.Zone() == ""
	}
	p, err := netip.ParsePrefix(v)
	if err != nil || !p.Addr().Is6() || p.Addr().Is4In6() {
		return netip.Prefix{}, false
	}
	return p.Masked(), true
}

// firewallValue6 checks an IPv6 firewall property's value: a matcher that
// "!" negates, or the address to translate to.
func firewallValue6(p prop, v string) (string, *trap) {
	body := v
	if p.kind == kindAddrMatch6 {
		body = strings.TrimPrefix(v, "!")
	}
	if _, ok := prefix6(body); !ok {
		return "", trapf(catValue, "invalid value for argument %s", p.name)
	}
	return v, nil
}

// addrMatches says whether a matcher's value (without its "!") holds a:
// an IPv4 address, prefix or range for an IPv4 a, an IPv6 address or
// prefix for an IPv6 one.
func addrMatches(v string, a netip.Addr) bool {
	if a.Is4() {
		m, ok := parseAddrMatch(v)
		return ok && m.contains(a)
	}
	p, ok := prefix6(v)
	return ok && p.Contains(a)
}

// toAddress is the address a translation goes to: the first of a range,
// or a prefix's address.
func toAddress(v string) netip.Addr {
	if p, ok := prefix6(v); ok {
		return p.Addr()
	}
	lo, _, _ := parseAddrRange(v)
	return lo
}

// natRows are the NAT rules of a connection's family. The caller holds
// r.mu.
func (r *Router) natRows(c Conn) []row {
	if c.Dst.Addr().Is4() {
		return r.nat.rows
	}
	if r.nat6 == nil {
		return nil
	}
	return r.nat6.rows
}
