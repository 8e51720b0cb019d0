package rosim

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The connection table, and a new connection through the NAT rules as
// traffic would make it.

// connectionProps are /ip/firewall/connection's properties [ct6] [ct7],
// all read-only, in the order a router prints them.
func connectionProps() []prop {
	var props []prop
	for _, k := range []string{
		"protocol", "src-address", "dst-address", "reply-src-address", "reply-dst-address",
		"tcp-state", "timeout", "icmp-type", "icmp-code", "icmp-id",
		"orig-packets", "orig-bytes", "orig-fasttrack-packets", "orig-fasttrack-bytes",
		"repl-packets", "repl-bytes", "repl-fasttrack-packets", "repl-fasttrack-bytes",
		"orig-rate", "repl-rate", "connection-mark", "connection-type",
		"expected", "seen-reply", "assured", "confirmed", "dying", "fasttrack", "srcnat", "dstnat",
	} {
		props = append(props, prop{name: k, readOnly: true})
	}
	return props
}

// Conn is a connection as the first packet of a client's flow through the
// router opens it: what Track puts in /ip/firewall/connection.
type Conn struct {
	// Protocol is tcp, udp or icmp.
	Protocol string
	// Src and Dst are the client's and the address it sent to; their
	// ports are not used for icmp.
	Src, Dst netip.AddrPort
	// InInterface is where the flow came in, for in-interface and
	// in-interface-list matchers; default ether2.
	InInterface string
	// TCPState defaults to established.
	TCPState string
	// Packets and bytes each way so far; a reply makes the entry
	// seen-reply.
	OrigPackets, OrigBytes, ReplPackets, ReplBytes int
	// Timeout is what the entry has left; default the manual's
	// tcp-established-timeout (1d) for tcp, 10s (udp-timeout,
	// icmp-timeout) else [ctt].
	Timeout time.Duration
	// ICMPID is the echo's id.
	ICMPID int
}

// Track opens a connection through the router, as traffic would: the
// enabled NAT rules decide its mapping when it opens (chain dstnat, then
// srcnat, first match), and it keeps that mapping whatever the rules do
// later, as on a router. It returns the entry's .id; past MaxConnections
// it is refused, as a full table drops new connections.
func (r *Router) Track(c Conn) (string, error) {
	if c.Protocol != "tcp" && c.Protocol != "udp" && c.Protocol != "icmp" {
		return "", fmt.Errorf("rosim: track: protocol %q is none of tcp, udp, icmp", c.Protocol)
	}
	if !c.Src.Addr().Is4() || !c.Dst.Addr().Is4() {
		return r.track6(c)
	}
	ports := c.Protocol != "icmp"
	addr := func(a netip.AddrPort) string {
		if ports {
			return a.String()
		}
		return a.Addr().String()
	}
	return r.open(r.tracked, c, "8", func(c Conn, replySrc, replyDst netip.AddrPort) row {
		return row{
			"protocol": c.Protocol, "src-address": addr(c.Src), "dst-address": addr(c.Dst),
			"reply-src-address": addr(replySrc), "reply-dst-address": addr(replyDst),
			"orig-packets": strconv.Itoa(c.OrigPackets), "orig-bytes": strconv.Itoa(c.OrigBytes),
			"orig-fasttrack-packets": "0", "orig-fasttrack-bytes": "0",
			"repl-packets": strconv.Itoa(c.ReplPackets), "repl-bytes": strconv.Itoa(c.ReplBytes),
			"repl-fasttrack-packets": "0", "repl-fasttrack-bytes": "0",
			"orig-rate": "0", "repl-rate": "0",
			"expected": "false", "confirmed": "true", "dying": "false", "fasttrack": "false",
		}
	})
}

// open enters a new connection into a family's connection table t:
// refused past MaxConnections, its mapping decided now by the NAT rules,
// its row as the family prints it (rowOf, given the reply's ends), its
// state with the family's ICMP echo request type (echo). It takes r.mu.
func (r *Router) open(t *table, c Conn, echo string, rowOf func(c Conn, replySrc, replyDst netip.AddrPort) row) (string, error) {
	c.defaults()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(t.rows) >= r.opts.MaxConnections {
		return "", fmt.Errorf("rosim: track: the connection table is full (%d entries)", r.opts.MaxConnections)
	}
	replySrc, replyDst, dstnat, srcnat := r.translated(c)
	row := rowOf(c, replySrc, replyDst)
	row["timeout"], row["seen-reply"] = r.formatDuration(c.Timeout), strconv.FormatBool(c.ReplPackets > 0)
	row["srcnat"], row["dstnat"] = strconv.FormatBool(srcnat), strconv.FormatBool(dstnat)
	c.state(row, echo)
	return t.insert(row), nil
}

// natFor runs a new connection through one NAT chain and returns where it
// is translated to (the destination in dstnat, the source in srcnat).
func (r *Router) natFor(c Conn, chain string, from netip.AddrPort) (netip.AddrPort, bool) {
	to, translated, _ := r.natChain(c, chain, chain, from, 0)
	return to, translated
}

// natChain walks one chain as a router does: the first enabled rule whose
// matchers all hold acts; passthrough, log and the address-list actions go
// on to the next rule, jump walks its target and comes back unless that
// decided, return comes back undecided; any other action decides,
// untranslated unless it is the base chain's own translation (a
// masquerade in srcnat to its out interface's address, when the emulator
// can tell it: masquerade.go). A rule with a
// matcher natMatches does not evaluate never matches: the emulator does
// not pretend to know. The caller holds r.mu.
func (r *Router) natChain(c Conn, base, chain string, from netip.AddrPort, depth int) (to netip.AddrPort, translated, decided bool) {
	for _, rule := range r.natRows(c) {
		if rule["chain"] != chain || rule["disabled"] == "true" || !r.natMatches(rule, c) {
			continue
		}
		switch rule["action"] {
		case "passthrough", "log", "add-src-to-address-list", "add-dst-to-address-list":
			continue
		case "jump":
			// RouterOS refuses jump loops; the depth only keeps a
			// looping table from hanging the emulator.
			if depth < 16 {
				if to, translated, decided := r.natChain(c, base, rule["jump-target"], from, depth+1); decided {
					return to, translated, true
				}
			}
			continue
		case "return":
			return from, false, false
		case "masquerade":
			if base != "srcnat" {
				break
			}
			if to, ok := r.masquerade(rule, c, from); ok {
				return to, true, true
			}
		case "dst-nat", "src-nat":
			if (base == "dstnat") == (rule["action"] == "dst-nat") {
				return translate(rule, from), true, true
			}
		}
		return from, false, true
	}
	return from, false, false
}

// translate applies a rule's to-addresses and to-ports: the first of
// each range, as a router picks for a single flow.
func translate(rule row, from netip.AddrPort) netip.AddrPort {
	addr, port := from.Addr(), from.Port()
	for _, k := range []string{"to-addresses", "to-address"} {
		if v, ok := rule[k]; ok {
			addr = toAddress(v)
		}
	}
	if v, ok := rule["to-ports"]; ok {
		r, _ := parsePorts(v)
		port = uint16(r[0][0])
	}
	return netip.AddrPortFrom(addr, port)
}

// natMatches says whether a rule's matchers all hold for a new connection;
// src-address-list (and its "!") against /ip/firewall/address-list
// (addresslist.go).
func (r *Router) natMatches(rule row, c Conn) bool {
	for _, k := range slices.Concat(natMatchers, nat6Unevaluated) {
		if _, ok := rule[k]; ok && !slices.Contains(natParams, k) && k != "src-address-list" {
			return false
		}
	}
	if _, ok := rule["out-interface"]; ok {
		return false
	}
	if _, ok := rule["out-interface-list"]; ok {
		return false
	}
	test := func(k string, holds func(v string) bool) bool {
		v, ok := rule[k]
		if !ok {
			return true
		}
		body := strings.TrimPrefix(v, "!")
		return holds(body) != (body != v)
	}
	addrIn := func(a netip.Addr) func(string) bool {
		return func(v string) bool { return addrMatches(v, a) }
	}
	portIn := func(p uint16) func(string) bool {
		return func(v string) bool {
			ranges, _ := parsePorts(v)
			return slices.ContainsFunc(ranges, func(r [2]int) bool { return int(p) >= r[0] && int(p) <= r[1] })
		}
	}
	anyPort := func(v string) bool { return portIn(c.Src.Port())(v) || portIn(c.Dst.Port())(v) }
	return test("protocol", func(v string) bool { return protocolNumber(v) == protocols[c.Protocol] }) &&
		test("src-address", addrIn(c.Src.Addr())) &&
		test("dst-address", addrIn(c.Dst.Addr())) &&
		test("src-port", portIn(c.Src.Port())) &&
		test("dst-port", portIn(c.Dst.Port())) &&
		test("port", anyPort) &&
		test("in-interface", func(v string) bool { return v == c.InInterface }) &&
		test("in-interface-list", func(v string) bool { return r.inList(v, c.InInterface) }) &&
		test("src-address-list", func(v string) bool { return r.inAddressList(v, c.Src.Addr()) })
}

// inList says whether an interface is in a list: every one is in all and
// (none being dynamic) in static, none in none and dynamic; an added list
// holds its enabled members (its include and exclude are not followed).
// The caller holds r.mu.
func (r *Router) inList(list, iface string) bool {
	switch list {
	case "all", "static":
		return true
	case "none", "dynamic":
		return false
	}
	return slices.ContainsFunc(r.ifMembers.rows, func(m row) bool {
		return m["list"] == list && m["interface"] == iface && m["disabled"] != "true"
	})
}

// defaults fills what a connection left out: traffic from the LAN side
// (ether2), and a timeout of a day for tcp, 10s for the others.
func (c *Conn) defaults() {
	if c.InInterface == "" {
		c.InInterface = "ether2"
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
		if c.Protocol == "tcp" {
			c.Timeout = 24 * time.Hour
		}
	}
}

// translated is a new connection through the enabled NAT rules: where its
// replies come from and go to, and whether dstnat or srcnat changed them.
// Source NAT sees the destination dstnat made. Caller holds r.mu.
func (r *Router) translated(c Conn) (replySrc, replyDst netip.AddrPort, dstnat, srcnat bool) {
	replySrc, replyDst = c.Dst, c.Src
	if to, ok := r.natFor(c, "dstnat", c.Dst); ok {
		replySrc, dstnat = to, true
	}
	after := c
	after.Dst = replySrc
	if to, ok := r.natFor(after, "srcnat", c.Src); ok {
		replyDst, srcnat = to, true
	}
	return replySrc, replyDst, dstnat, srcnat
}

// state fills a connection row's protocol state: tcp's state (established
// unless said), whether it is assured, and an echo's type (echoType: 8 for
// ICMP, 128 for ICMPv6), code and id.
func (c Conn) state(row row, echoType string) {
	switch c.Protocol {
	case "tcp":
		if c.TCPState == "" {
			c.TCPState = "established"
		}
		row["tcp-state"] = c.TCPState
		row["assured"] = strconv.FormatBool(c.TCPState == "established")
	case "udp":
		row["assured"] = strconv.FormatBool(c.ReplPackets > 0)
	case "icmp", "icmpv6":
		row["icmp-type"], row["icmp-code"], row["icmp-id"] = echoType, "0", strconv.Itoa(c.ICMPID)
		row["assured"] = strconv.FormatBool(c.ReplPackets > 0)
	}
}
