package failover

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/routeros"
)

// The TTL bridge: while a service's name is on its standby, the router
// carries the clients that cached the primary's address to the standby
// with dst-nat rules, for the service's ports only. setup writes the rules
// disabled; a failover enables them after the records moved, a restore
// disables them after the records are back. The rows, for a service S with
// primary P, standby T and comment prefix C (a contract: the lab reads the
// same rows):
//
//	chain=dstnat action=accept dst-address=P src-address-list=failwatch-exempt-S   "C exempt"
//	chain=dstnat action=accept dst-address=P src-address-list=<ExemptAddressList>  "C exempt-list"
//	chain=dstnat action=dst-nat dst-address=P to-addresses=T protocol=tcp dst-port=PORTS
//	    src-address-list=failwatch-clients-S in-interface-list=LIST               "C tcp"
//	... protocol=udp                                                               "C udp"
//	... protocol=icmp, without ports                                               "C icmp"
//	chain=srcnat action=masquerade dst-address=T protocol=tcp dst-port=PORTS
//	    src-address-list=failwatch-clients-S                                      "C hairpin-tcp"
//	... udp, icmp alike, for the kinds carried                                     "C hairpin-udp", "C hairpin-icmp"
//
// An accept in dstnat ends NAT processing for that packet ("accept - accept
// the packet. A packet is not passed to the next firewall rule",
// https://help.mikrotik.com/docs/display/ROS/Common+Firewall+Matchers+and+Actions),
// so the exemptions, placed before the dst-nat rules, keep failwatch's own
// probes and the management hosts on the primary. src-address-list matches
// the entries of /ip/firewall/address-list
// (https://help.mikrotik.com/docs/display/ROS/Address-lists: "Firewall
// filter, mangle, and NAT facilities can then use those address lists to
// match packets against them"). The hairpin rule is the manual's hairpin
// NAT (https://help.mikrotik.com/docs/display/ROS/NAT, "Hairpin NAT"): a
// client on the standby's subnet would otherwise get the standby's reply
// straight from the standby, not through the router, and drop it.
//
// An IPv6 pair's rows are the same in /ipv6/firewall (RouterOS 7), the
// address to translate to named to-address from 7.15 (Caps.IPv6NATTo).
//
// In ttl mode a rule's comment carries its end time: "C tcp until
// 2026-12-03T14:00:00Z"; rules are found by the prefix.

// Bridge rule kinds, the word after the comment's prefix.
const (
	BridgeTCP        = "tcp"
	BridgeUDP        = "udp"
	BridgeICMP       = "icmp"
	BridgeExempt     = "exempt"
	BridgeExemptList = "exempt-list"
	// The hairpin masquerades, one per carried protocol, for its ports
	// only (hairpin-tcp, hairpin-udp, hairpin-icmp). BridgeHairpin alone
	// is the one rule for every port an earlier setup wrote: read so that
	// turning the bridge off disables it, never turned on.
	BridgeHairpin = "hairpin"
)

// hairpinKind is the hairpin's kind for a carrying kind.
func hairpinKind(kind string) string { return BridgeHairpin + "-" + kind }

// untilWord introduces a rule's end time in its comment.
const untilWord = " until "

// BridgeComment is the prefix of a service's bridge rules' comments: the
// configured one, else "failwatch bridge SERVICE".
func BridgeComment(svc config.Service) string {
	if svc.Bridge.Comment != "" {
		return svc.Bridge.Comment
	}
	return "failwatch bridge " + svc.Name
}

// ClientsList and ExemptList are the address lists setup writes for a
// service's bridge.
func ClientsList(svc config.Service) string { return "failwatch-clients-" + svc.Name }

// ExemptList: see ClientsList.
func ExemptList(svc config.Service) string { return "failwatch-exempt-" + svc.Name }

// BridgeFamily is the firewall a pair's bridge lives in: /ipv6 for an
// AAAA pair.
func BridgeFamily(primary, standby config.Server) routeros.Family {
	if RecordType(primary, standby) == "AAAA" {
		return routeros.IPv6
	}
	return routeros.IPv4
}

// BridgeRule is one of a service's bridge rules as read: its kind and end
// time from the comment.
type BridgeRule struct {
	routeros.NATRule
	Kind string `json:"kind"`
	// Until is the end time a ttl-mode rule carries, zero for none.
	Until time.Time `json:"until,omitzero"`
}

// Carries says whether the rule is one of the dst-nat rules that carry
// clients (tcp, udp, icmp): the bridge is on when they are enabled.
func (r BridgeRule) Carries() bool {
	return r.Kind == BridgeTCP || r.Kind == BridgeUDP || r.Kind == BridgeICMP
}

// comment is the rule's comment with an end time, or without one.
func (r BridgeRule) comment(prefix string, until time.Time) string {
	c := prefix + " " + r.Kind
	if !until.IsZero() {
		c += untilWord + until.UTC().Format(time.RFC3339)
	}
	return c
}

// ParseBridgeRules picks a service's bridge rules out of NAT rules read by
// the prefix: a rule whose comment is the prefix, a kind and an optional
// end time. A rule unreadable, or with a comment none of these, makes the
// reading unreadable: nothing is enabled on the strength of it.
func ParseBridgeRules(service, prefix string, rules []routeros.NATRule) ([]BridgeRule, error) {
	var out []BridgeRule
	for _, r := range rules {
		if r.Unreadable != "" {
			return nil, &UnreadableError{Service: service, Reason: "NAT rule " + r.Unreadable, Rows: 1}
		}
		rest, ok := strings.CutPrefix(r.Comment, prefix+" ")
		if !ok {
			continue
		}
		kind, until, hasUntil := strings.Cut(rest, untilWord)
		br := BridgeRule{NATRule: r, Kind: kind}
		if !slices.Contains([]string{BridgeTCP, BridgeUDP, BridgeICMP, BridgeExempt, BridgeExemptList, BridgeHairpin,
			hairpinKind(BridgeTCP), hairpinKind(BridgeUDP), hairpinKind(BridgeICMP)}, kind) {
			// Another service's prefix that starts with this one's
			// ("www" and "www2") is not this service's rule.
			continue
		}
		if hasUntil {
			t, err := time.Parse(time.RFC3339, until)
			if err != nil {
				return nil, &UnreadableError{Service: service, Reason: fmt.Sprintf("NAT rule %s: end time %q in its comment is not RFC 3339", r.ID, until), Rows: 1}
			}
			br.Until = t
		}
		out = append(out, br)
	}
	return out, nil
}

// BridgeState is what a service's bridge rules say: on when every
// carrying rule is enabled (and there is one), off when none is, partial
// in between.
type BridgeState string

// Bridge states.
const (
	BridgeMissing BridgeState = "missing"
	BridgeOn      BridgeState = "on"
	BridgeOff     BridgeState = "off"
	BridgePartial BridgeState = "partial"
)

// StateOf says whether the bridge is on.
func StateOf(rules []BridgeRule) BridgeState {
	on, off := 0, 0
	for _, r := range rules {
		switch {
		case !r.Carries():
		case r.Disabled:
			off++
		default:
			on++
		}
	}
	switch {
	case on == 0 && off == 0:
		return BridgeMissing
	case off == 0:
		return BridgeOn
	case on == 0:
		return BridgeOff
	}
	return BridgePartial
}

// UntilOf is the earliest end time an enabled carrying rule carries, zero
// for none.
func UntilOf(rules []BridgeRule) time.Time {
	var until time.Time
	for _, r := range rules {
		if r.Carries() && !r.Disabled && !r.Until.IsZero() && (until.IsZero() || r.Until.Before(until)) {
			until = r.Until
		}
	}
	return until
}

// clientOf says whether a connection's source is one the bridge carries:
// in the configured client prefixes (any source when only an interface
// list names the clients, as a connection does not say where it came in),
// and not exempt.
func clientOf(b config.Bridge, exempt func(netip.Addr) bool, src netip.Addr) bool {
	if exempt(src) {
		return false
	}
	if len(b.SrcAddresses) == 0 {
		return true
	}
	return slices.ContainsFunc(b.SrcAddresses, func(p netip.Prefix) bool { return p.Contains(src) })
}

// BridgeItem is one item of a service's bridge as setup writes it: a menu
// and its properties in order, every rule disabled.
type BridgeItem struct {
	Menu  string
	Props [][2]string
}

// Hairpin says whether the bridge needs the hairpin source NAT: a client
// prefix holds the standby's address, so the standby would answer the
// client directly, not through the router.
func Hairpin(b config.Bridge, standby config.Server) bool {
	a, err := netip.ParseAddr(standby.Address)
	return err == nil && slices.ContainsFunc(b.SrcAddresses, func(p netip.Prefix) bool { return p.Contains(a) })
}

// listAddress is a prefix as the router keeps it in an address list: a
// host prefix (/32, /128) as its bare address, so that the read-back of
// what was written compares equal.
func listAddress(p netip.Prefix) string {
	if p.IsSingleIP() {
		return p.Addr().String()
	}
	return p.Masked().String()
}

// BridgeItems are the address-list entries and the rules of a service's
// bridge, in the order they must stand (exemptions before the rules that
// carry): the contract every writer and reader of the rows keeps (see the
// table at the top of this file). own are failwatch's own source
// addresses towards the primary, always exempt.
func BridgeItems(svc config.Service, primary, standby config.Server, own []netip.Addr) []BridgeItem {
	b := svc.Bridge
	fam := BridgeFamily(primary, standby)
	prefix := BridgeComment(svc)
	var items []BridgeItem
	entry := func(list, address string) {
		items = append(items, BridgeItem{fam.Menu("address-list"), [][2]string{{"list", list}, {"address", address}, {"comment", prefix}}})
	}
	for _, p := range b.SrcAddresses {
		entry(ClientsList(svc), listAddress(p))
	}
	for _, a := range own {
		entry(ExemptList(svc), a.String())
	}
	for _, p := range b.Exempt {
		entry(ExemptList(svc), listAddress(p))
	}
	rule := func(kind string, props ...[2]string) {
		props = append(props, [2]string{"disabled", "yes"}, [2]string{"comment", prefix + " " + kind})
		items = append(items, BridgeItem{fam.Menu("nat"), props})
	}
	accept := func(kind, list string) {
		rule(kind, [2]string{"chain", "dstnat"}, [2]string{"action", "accept"}, [2]string{"dst-address", primary.Address}, [2]string{"src-address-list", list})
	}
	accept(BridgeExempt, ExemptList(svc))
	if b.ExemptAddressList != "" {
		accept(BridgeExemptList, b.ExemptAddressList)
	}
	type hairpin struct {
		kind  string
		props [][2]string
	}
	var hairpins []hairpin
	carry := func(kind, protocol string, ports []int) {
		props := [][2]string{{"chain", "dstnat"}, {"action", "dst-nat"}, {"dst-address", primary.Address}, {"to-addresses", standby.Address}, {"protocol", protocol}}
		h := [][2]string{{"chain", "srcnat"}, {"action", "masquerade"}, {"dst-address", standby.Address}, {"protocol", protocol}}
		if len(ports) > 0 {
			props = append(props, [2]string{"dst-port", joinInts(ports)})
			h = append(h, [2]string{"dst-port", joinInts(ports)})
		}
		hairpins = append(hairpins, hairpin{hairpinKind(kind), append(h, [2]string{"src-address-list", ClientsList(svc)})})
		if len(b.SrcAddresses) > 0 {
			props = append(props, [2]string{"src-address-list", ClientsList(svc)})
		}
		if b.InInterfaceList != "" {
			props = append(props, [2]string{"in-interface-list", b.InInterfaceList})
		}
		rule(kind, props...)
	}
	if len(b.TCP) > 0 {
		carry(BridgeTCP, "tcp", b.TCP)
	}
	if len(b.UDP) > 0 {
		carry(BridgeUDP, "udp", b.UDP)
	}
	if b.ICMP {
		carry(BridgeICMP, map[routeros.Family]string{routeros.IPv4: "icmp", routeros.IPv6: "icmpv6"}[fam], nil)
	}
	if Hairpin(b, standby) {
		// For the carried protocols and ports only: srcnat sees the
		// destination dstnat made (the standby, the port unchanged).
		for _, h := range hairpins {
			rule(h.kind, h.props...)
		}
	}
	return items
}
