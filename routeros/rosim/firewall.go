package rosim

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// The menus the TTL bridge uses: /ip/firewall/nat, /ip/firewall/connection,
// /interface/list and /interface/list/member. What each version takes of
// them is in profile.go ([nat6], [nat7], [natf], [il6], [il7]); the
// property sets here cite:
//
//	[ct6] https://wiki.mikrotik.com/wiki/Manual:Connection_tracking and
//	[ct7] https://help.mikrotik.com/docs/pages/diffpagesbyversion.action?pageId=130220087
//	      (Connection tracking): "All properties in connection list are
//	      read-only"; assured, confirmed, connection-mark, connection-type,
//	      dst-address "(ip[:port]) Destination address and port (if a
//	      protocol is port-based)", dstnat, dying, expected, fasttrack,
//	      gre-*, icmp-code, icmp-id, icmp-type, orig-bytes,
//	      orig-fasttrack-bytes, orig-fasttrack-packets, orig-packets,
//	      orig-rate, protocol, repl-bytes on both pages; repl-* alike,
//	      reply-dst-address, reply-src-address, seen-reply, src-address,
//	      tcp-state, timeout on the 6.x page and its earlier revisions.
//	      srcnat is dstnat's twin, not read on either.
//	[ctt] https://www.easymanua.ls/mikrotik/routeros-v2-9/manual?p=485 and
//	      https://manualshive.com/en/manual/mikrotik/routeros-v2-9/1794644?page=484
//	      (the 2.9 reference manual, /ip firewall connection tracking):
//	      tcp-established-timeout 1d, udp-timeout 10s, icmp-timeout 10s.
//	[ilf] https://github.com/ansible-collections/community.routeros,
//	      plugins/module_utils/_api_data.py, ('interface', 'list'): name,
//	      include, exclude, comment; ('interface', 'list', 'member'): list,
//	      interface, disabled, comment; on 6.x and 7.x alike.
//
// Trap messages: "input does not match any value of X" is what a router
// answers for a name that is none of the menu's (an unknown interface, a
// protocol); "missing value(s) of argument(s) X" what its console and
// scripts say for a required argument left out (the API's wording not
// checked). Where this file refuses what a router refuses but no router's
// wording was found (ports without a port-based protocol), the comment
// says so.

// firewallTables makes the TTL bridge's menus.
func (r *Router) firewallTables() {
	if r.opts.Interfaces == nil {
		r.opts.Interfaces = []string{"ether1", "ether2", "ether3", "ether4", "ether5"}
	}
	if r.opts.MaxConnections <= 0 {
		r.opts.MaxConnections = 1 << 16
	}
	r.nat = r.natTable()
	r.addrLists = r.addressListTable()
	r.routes = r.routeTable()
	r.routes6 = r.route6Table()
	r.tracked = &table{path: "/ip/firewall/connection", duration: r.formatDuration, props: connectionProps(), traffic: true}
	r.ifLists = &table{
		path:     "/interface/list",
		duration: r.formatDuration,
		props: []prop{
			{name: "name"}, {name: "include"}, {name: "exclude"},
			{name: "builtin", def: "false", readOnly: true},
			{name: "dynamic", def: "false", readOnly: true},
			{name: "comment"},
		},
		check: func(row row) *trap {
			if row["name"] == "" {
				return missing("name")
			}
			return nil
		},
	}
	r.ifMembers = &table{
		path:     "/interface/list/member",
		duration: r.formatDuration,
		props: []prop{
			{name: "list"}, {name: "interface"},
			{name: "dynamic", def: "false", readOnly: true},
			{name: "disabled", def: "false", kind: kindBool},
			{name: "comment"},
		},
		check: func(row row) *trap {
			if t := missingOf(row, "interface", "list"); t != nil {
				return t
			}
			if !slices.Contains(r.opts.Interfaces, row["interface"]) {
				return noSuchValue("interface")
			}
			if !r.isList(row["list"]) {
				return noSuchValue("list")
			}
			return nil
		},
	}
}

// missingOf is the trap for the first of names a row leaves empty, nil when
// it has them all.
func missingOf(row row, names ...string) *trap {
	for _, k := range names {
		if row[k] == "" {
			return missing(k)
		}
	}
	return nil
}

func missing(name string) *trap {
	return trapf(catValue, "missing value(s) of argument(s) %s", name)
}

func noSuchValue(name string) *trap {
	return trapf(catValue, "input does not match any value of %s", name)
}

// isList says whether an interface list of that name exists, predefined
// or added. The caller holds r.mu.
func (r *Router) isList(name string) bool {
	if slices.Contains(r.prof.builtinLists, name) {
		return true
	}
	return slices.ContainsFunc(r.ifLists.rows, func(l row) bool { return l["name"] == name })
}

// natMatchers are the other properties [natf] lists, as text: taken and
// printed; the matchers among them are not evaluated but src-address-list
// (see natMatches).
var natMatchers = []string{
	"address-list", "address-list-timeout", "connection-bytes", "connection-limit", "connection-mark",
	"connection-rate", "connection-type", "content", "dscp", "dst-address-list", "dst-address-type",
	"dst-limit", "fragment", "hotspot", "icmp-options", "in-bridge-port", "in-bridge-port-list",
	"ingress-priority", "ipsec-policy", "ipv4-options", "jump-target", "layer7-protocol", "limit",
	"log-prefix", "nth", "out-bridge-port", "out-bridge-port-list", "packet-mark", "packet-size",
	"per-connection-classifier", "priority", "psd", "random", "randomise-ports", "realm",
	"routing-mark", "same-not-by-dst", "src-address-list", "src-address-type", "src-mac-address",
	"tcp-mss", "time", "ttl",
}

// natParams are the properties among natMatchers that say how an action
// acts, not which packets match.
var natParams = []string{"address-list", "address-list-timeout", "jump-target", "log-prefix", "randomise-ports", "same-not-by-dst"}

// natTable is /ip/firewall/nat with the properties of [natf], in the
// order a router prints them: chain and action first, the counters and
// flags last.
func (r *Router) natTable() *table {
	matchers := natMatchers
	if r.prof.natTLSHost {
		matchers = append(slices.Clip(natMatchers), "tls-host")
	}
	props := natProps("to-addresses", kindToAddresses, kindAddrMatch, matchers)
	return &table{path: "/ip/firewall/nat", duration: r.formatDuration, props: props, check: r.checkNAT, ordered: true}
}

// natProps are a NAT menu's properties in the order a router prints them:
// chain and action first, then the translation (to, of kind toKind), the
// matchers (addresses of kind addrKind, then the others by name), the
// counters and flags last. IPv4's and IPv6's differ only in these.
func natProps(to string, toKind, addrKind propKind, matchers []string) []prop {
	props := []prop{
		{name: "chain"}, {name: "action", def: "accept"},
		{name: to, kind: toKind}, {name: "to-ports", kind: kindToPorts},
		{name: "protocol", kind: kindProtocol},
		{name: "src-address", kind: addrKind}, {name: "dst-address", kind: addrKind},
		{name: "src-port", kind: kindPorts}, {name: "dst-port", kind: kindPorts}, {name: "port", kind: kindPorts},
		{name: "in-interface"}, {name: "in-interface-list"}, {name: "out-interface"}, {name: "out-interface-list"},
	}
	for _, m := range matchers {
		props = append(props, prop{name: m})
	}
	return append(props,
		prop{name: "log", def: "false", kind: kindBool},
		prop{name: "bytes", def: "0", readOnly: true},
		prop{name: "packets", def: "0", readOnly: true},
		prop{name: "invalid", def: "false", readOnly: true},
		prop{name: "dynamic", def: "false", readOnly: true},
		prop{name: "disabled", def: "false", kind: kindBool},
		prop{name: "comment"})
}

// checkNAT refuses a rule a router refuses. The caller holds r.mu.
func (r *Router) checkNAT(row row) *trap {
	if row["chain"] == "" {
		return missing("chain")
	}
	if !slices.Contains(r.prof.natActions, row["action"]) {
		return noSuchValue("action")
	}
	for _, k := range []string{"src-port", "dst-port", "port"} {
		// A router takes ports only with a protocol that has them; this
		// wording is ours, not checked against a router's.
		if _, ok := row[k]; ok && !portProtocol(strings.TrimPrefix(row["protocol"], "!")) {
			return trapf(catValue, "%s can be used only with protocol tcp, udp, udp-lite, sctp or dccp", k)
		}
	}
	for _, k := range []string{"in-interface", "out-interface"} {
		if v, ok := row[k]; ok && !slices.Contains(r.opts.Interfaces, strings.TrimPrefix(v, "!")) {
			return noSuchValue(k)
		}
	}
	for _, k := range []string{"in-interface-list", "out-interface-list"} {
		if v, ok := row[k]; ok && !r.isList(strings.TrimPrefix(v, "!")) {
			return noSuchValue(k)
		}
	}
	return nil
}

// protocols are the names a protocol matcher takes besides a number.
var protocols = map[string]int{
	"icmp": 1, "igmp": 2, "ggp": 3, "ipencap": 4, "st": 5, "tcp": 6, "egp": 8, "pup": 12, "udp": 17,
	"hmp": 20, "xns-idp": 22, "rdp": 27, "iso-tp4": 29, "dccp": 33, "xtp": 36, "ddp": 37,
	"idpr-cmtp": 38, "ipv6": 41, "ipv6-route": 43, "ipv6-frag": 44, "rsvp": 46, "gre": 47,
	"ipsec-esp": 50, "ipsec-ah": 51, "icmpv6": 58, "ipv6-nonxt": 59, "ipv6-opts": 60, "rspf": 73,
	"vmtp": 81, "ospf": 89, "ipip": 94, "etherip": 97, "encap": 98, "pim": 103, "vrrp": 112,
	"l2tp": 115, "sctp": 132, "udp-lite": 136,
}

// protocolNumber is a protocol name's or number's number, -1 for none.
func protocolNumber(v string) int {
	if n, ok := protocols[v]; ok {
		return n
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 && n <= 255 {
		return n
	}
	return -1
}

// portProtocol says whether a protocol has ports.
func portProtocol(v string) bool {
	switch protocolNumber(v) {
	case 6, 17, 33, 132, 136:
		return true
	}
	return false
}

// firewallValue checks a firewall property's value and returns it as the
// router keeps it.
func firewallValue(p prop, v string) (string, *trap) {
	bad := trapf(catValue, "invalid value for argument %s", p.name)
	body, neg := v, ""
	if p.kind == kindAddrMatch || p.kind == kindPorts || p.kind == kindProtocol {
		if b, ok := strings.CutPrefix(v, "!"); ok {
			body, neg = b, "!"
		}
	}
	switch p.kind {
	case kindAddrMatch:
		if _, ok := parseAddrMatch(body); !ok {
			return "", bad
		}
	case kindToAddresses:
		lo, hi, ok := parseAddrRange(body)
		if !ok || !lo.Is4() || hi.Less(lo) {
			return "", bad
		}
	case kindPorts:
		if _, ok := parsePorts(body); !ok {
			return "", bad
		}
	case kindToPorts:
		if r, ok := parsePorts(body); !ok || len(r) != 1 {
			return "", bad
		}
	case kindProtocol:
		body = strings.ToLower(body)
		if protocolNumber(body) < 0 {
			return "", noSuchValue(p.name)
		}
		return neg + body, nil
	}
	return v, nil
}

// addrMatch is an IPv4 address, prefix or range as a matcher takes it.
type addrMatch struct{ lo, hi netip.Addr }

func (m addrMatch) contains(a netip.Addr) bool {
	return a.Is4() && !a.Less(m.lo) && !m.hi.Less(a)
}

func parseAddrMatch(v string) (addrMatch, bool) {
	if p, err := netip.ParsePrefix(v); err == nil {
		if !p.Addr().Is4() {
			return addrMatch{}, false
		}
		p = p.Masked()
		lo := p.Addr().As4()
		hi := lo
		for i := p.Bits(); i < 32; i++ {
			hi[i/8] |= 0x80 >> (i % 8)
		}
		return addrMatch{p.Addr(), netip.AddrFrom4(hi)}, true
	}
	lo, hi, ok := parseAddrRange(v)
	if !ok || !lo.Is4() || hi.Less(lo) {
		return addrMatch{}, false
	}
	return addrMatch{lo, hi}, true
}

// parseAddrRange parses "a" or "a-b".
func parseAddrRange(v string) (lo, hi netip.Addr, ok bool) {
	first, last, isRange := strings.Cut(v, "-")
	lo, err := netip.ParseAddr(first)
	if err != nil {
		return lo, hi, false
	}
	if !isRange {
		return lo, lo, true
	}
	hi, err = netip.ParseAddr(last)
	return lo, hi, err == nil && hi.Is4() == lo.Is4()
}

// parsePorts parses "80", "80,443" or "1000-2000,8080". It is the
// router's own judgement of what it takes, kept apart from the client's
// reading (routeros.ParsePorts) on purpose: the emulator checks the
// client, which a shared parser could not.
func parsePorts(v string) ([][2]int, bool) {
	var out [][2]int
	for part := range strings.SplitSeq(v, ",") {
		first, last, isRange := strings.Cut(part, "-")
		lo, err1 := strconv.Atoi(first)
		hi, err2 := lo, error(nil)
		if isRange {
			hi, err2 = strconv.Atoi(last)
		}
		if err1 != nil || err2 != nil || lo < 0 || hi > 65535 || hi < lo {
			return nil, false
		}
		out = append(out, [2]int{lo, hi})
	}
	return out, true
}
