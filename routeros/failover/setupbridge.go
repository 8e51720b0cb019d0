package failover

import (
	"context"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"github.com/failwatch/failwatch/routeros"
)

// setup's share of the TTL bridge: the rows of bridge.go, written disabled
// (found again by their list and address, or their comment, so a second
// run updates them instead of adding them twice), and the netwatch
// scripts' lines that turn them on and off, so the router bridges its
// clients when failwatch is not running too.

// BridgeSupported says whether the router's version can carry the
// service's bridge: an IPv6 pair needs /ipv6/firewall/nat.
func (s *Setup) BridgeSupported(caps Caps) error {
	if !s.Service.Bridge.On() || BridgeFamily(s.Primary, s.Standby) == routeros.IPv4 || caps.IPv6NAT {
		return nil
	}
	return fmt.Errorf("service %s: the bridge is IPv4 only on RouterOS %s (it has no /ipv6 firewall nat); its pair is IPv6", s.Service.Name, caps.Version)
}

// bridgeItems are the bridge's rows as setup items: the address-list
// entries found by list and address, the rules by their comment; every
// rule written disabled (whether the bridge is on is the failover's
// business). A version that cannot carry it gets none, and a note.
func (s *Setup) bridgeItems(caps Caps, notes *[]string) []item {
	if !s.Service.Bridge.On() {
		return nil
	}
	if err := s.BridgeSupported(caps); err != nil {
		*notes = append(*notes, err.Error()+": not written.")
		return nil
	}
	*notes = append(*notes, fmt.Sprintf("The TTL bridge: dst-nat rules (disabled) carry the clients that cached %s to %s for %s; "+
		"failwatch's own address and the exemptions are never carried; the netwatch scripts turn them on and off with the records.",
		s.Primary.Address, s.Standby.Address, BridgeScope(s.Service.Bridge)))
	if len(s.Own) == 0 {
		*notes = append(*notes, "failwatch's own address towards the primary is not known here: it is not in the exempt list; "+
			"add it to bridge.exempt, or failwatch refuses the bridge at start if its probes would be carried.")
	}
	var out []item
	for _, bi := range BridgeItems(s.Service, s.Primary, s.Standby, s.Own) {
		it := item{menu: bi.Menu}
		for _, p := range bi.Props {
			if p[0] == "to-addresses" && strings.HasPrefix(bi.Menu, "/ipv6/") {
				p[0] = caps.IPv6NATTo
			}
			switch {
			case strings.HasSuffix(bi.Menu, "/address-list") && (p[0] == "list" || p[0] == "address"):
				it.find = append(it.find, cond{p[0], p[1]})
				it.addOnly = append(it.addOnly, prop{p[0], p[1]})
			case p[0] == "comment" && strings.HasSuffix(bi.Menu, "/nat"):
				it.find = []cond{{"comment", p[1]}}
				it.addOnly = append(it.addOnly, prop{p[0], p[1]})
				it.what = "the bridge rule " + strings.TrimPrefix(p[1], BridgeComment(s.Service)+" ")
			case p[0] == "comment":
				// An entry's comment names the bridge it is for.
				it.props = append(it.props, prop{p[0], p[1]})
			case p[0] == "disabled":
				it.addOnly = append(it.addOnly, prop{p[0], p[1]})
			default:
				it.props = append(it.props, prop{p[0], p[1]})
			}
		}
		if it.what == "" {
			it.what = "the address list entry " + it.find[0].value + " " + it.find[1].value
		}
		out = append(out, it)
	}
	return out
}

// refuseBridgeOn refuses a setup while the bridge is on in ttl mode: its
// rules' comments carry an end time, so setup would not find them by
// their comment and would add them twice.
func (s *Setup) refuseBridgeOn(ctx context.Context, c *routeros.Client) error {
	if !s.Service.Bridge.On() {
		return nil
	}
	nat, err := c.NATRules(ctx, BridgeFamily(s.Primary, s.Standby), BridgeComment(s.Service)+" ")
	if err != nil {
		return err
	}
	rules, err := ParseBridgeRules(s.Service.Name, BridgeComment(s.Service), nat)
	if err != nil {
		return fmt.Errorf("%w; nothing was changed", err)
	}
	for _, r := range rules {
		if !r.Until.IsZero() {
			return fmt.Errorf("the bridge of %s is on until %s (rule %s): run setup once it has ended; nothing was changed", s.Service.Name, r.Until.UTC().Format("2006-01-02T15:04:05Z"), r.ID)
		}
	}
	return nil
}

// bridgeActions are the scripts' lines that turn the bridge on (after the
// records moved to the standby: exemptions first, then the rules that
// carry, then the tracked connections from before removed, as NAT applies
// to new connections only) and off (after the records are back: the
// carrying rules first; bridged connections drain). A failure is logged
// and never stops the records' switch, which ran before.
func (s *Setup) bridgeActions() (on, off string) {
	if !s.Service.Bridge.On() {
		return "", ""
	}
	fam := BridgeFamily(s.Primary, s.Standby)
	nat := cliMenu(fam.Menu("nat"))
	prefix := BridgeComment(s.Service)
	kinds := func(ks ...string) string {
		return "comment~" + rosQuote("^"+regexp.QuoteMeta(prefix)+" ("+strings.Join(ks, "|")+")( until .*)?$")
	}
	guard := func(what, body string) string {
		return "; :do { " + body + " } on-error={ :log warning " + rosQuote("failwatch: the bridge of "+s.Service.Name+" could not be turned "+what) + " }"
	}
	hairpins := []string{hairpinKind(BridgeTCP), hairpinKind(BridgeUDP), hairpinKind(BridgeICMP)}
	on = guard("on", nat+" enable [find where "+kinds(append([]string{BridgeExempt, BridgeExemptList}, hairpins...)...)+"]; "+
		nat+" enable [find where "+kinds(BridgeTCP, BridgeUDP, BridgeICMP)+"]; "+
		cliMenu(fam.Menu("connection"))+" remove [find where "+s.bridgedConnections()+"]")
	off = guard("off", nat+" disable [find where "+kinds(BridgeTCP, BridgeUDP, BridgeICMP)+"]; "+
		nat+" disable [find where "+kinds(append([]string{BridgeExempt, BridgeExemptList, BridgeHairpin}, hairpins...)...)+"]")
	return on, off
}

// bridgedConnections selects the tracked connections to the primary's
// carried ports not translated yet: those opened before the bridge. An
// IPv6 connection has its port apart from its address (routeros's
// conntrack6.go).
func (s *Setup) bridgedConnections() string {
	b := s.Service.Bridge
	p := s.Primary.Address
	a, err := netip.ParseAddr(p)
	v6 := err == nil && a.Is6()
	var alts []string
	for _, pr := range []struct {
		name  string
		ports []int
	}{{"tcp", b.TCP}, {"udp", b.UDP}} {
		var dsts []string
		for _, port := range pr.ports {
			if v6 {
				dsts = append(dsts, fmt.Sprintf("(dst-address=%s and dst-port=%d)", rosQuote(p), port))
				continue
			}
			dsts = append(dsts, fmt.Sprintf("dst-address=%s", rosQuote(fmt.Sprintf("%s:%d", p, port))))
		}
		if len(dsts) > 0 {
			alts = append(alts, "(protocol="+pr.name+" and ("+strings.Join(dsts, " or ")+"))")
		}
	}
	if b.ICMP {
		icmp := map[bool]string{true: "icmpv6", false: "icmp"}[v6]
		alts = append(alts, "(protocol="+icmp+" and dst-address="+rosQuote(s.Primary.Address)+")")
	}
	return "dstnat=no and (" + strings.Join(alts, " or ") + ")"
}

// bridgeMenus are the menus setup's bridge writes, with the query that
// selects its rows there, for --apply's snapshot and rollback; none when
// setup writes no bridge.
func (s *Setup) bridgeMenus(caps Caps) map[string][]string {
	if !s.Service.Bridge.On() || s.BridgeSupported(caps) != nil {
		return nil
	}
	fam := BridgeFamily(s.Primary, s.Standby)
	return map[string][]string{
		// A query matches a whole value: the rules are picked by their
		// comment's prefix in bridgeRow.
		fam.Menu("nat"):          nil,
		fam.Menu("address-list"): {"?list=" + ClientsList(s.Service), "?list=" + ExemptList(s.Service), "?#|"},
	}
}

// bridgeRow says whether a row of a snapshot's menu is setup's to put
// back: in the NAT table, only the bridge's rules; elsewhere, every row the
// query selected.
func (s *Setup) bridgeRow(menu string, row map[string]string) bool {
	if !strings.HasSuffix(menu, "/firewall/nat") {
		return true
	}
	return strings.HasPrefix(row["comment"], BridgeComment(s.Service)+" ")
}

// isExemption says whether a setup item is one of the bridge's exemption
// rules, which must stand before the rules that carry.
func (s *Setup) isExemption(it item) bool {
	prefix := BridgeComment(s.Service)
	return strings.HasSuffix(it.menu, "/firewall/nat") && len(it.find) == 1 &&
		(it.find[0].value == prefix+" "+BridgeExempt || it.find[0].value == prefix+" "+BridgeExemptList)
}

// exemptionLine is the script's line for an exemption rule: added, when
// missing, before the first rule that carries already there (:pick of
// their [find], place-before), so a run after the exemption was removed
// does not put it at the end, where it would exempt nobody. One that
// stands after them is for --apply to move (placeExemption).
func (s *Setup) exemptionLine(it item) (string, bool) {
	if !s.isExemption(it) {
		return "", false
	}
	prefix := BridgeComment(s.Service)
	carrying := "[find where comment~" + rosQuote("^"+regexp.QuoteMeta(prefix)+" ("+BridgeTCP+"|"+BridgeUDP+"|"+BridgeICMP+")( until .*)?$") + "]"
	find, add := findText(it.find), propsText(append(append([]prop{}, it.props...), it.addOnly...))
	return fmt.Sprintf(":if ([:len %s] = 0) do={ :local c %s; :if ([:len $c] = 0) do={ add %s } else={ add %s place-before=[:pick $c 0] } } else={ set %s %s }\n",
		find, carrying, add, add, find, propsText(it.props)), true
}

// placeExemption plans an exemption rule that must stand before rules
// that carry already on the router (a second run after the exemption was
// removed, or one that stands after them): it is added just before the
// first of them with place-before (added at the end it would exempt
// nobody: rules are evaluated in print order), and a misplaced one is
// removed after the new one stands. false when the item is not such a
// rule, or stands where it must (the plan goes on as for any item).
func (s *Setup) placeExemption(ctx context.Context, c *routeros.Client, p *Plan, it item, rows []map[string]string) (bool, error) {
	prefix := BridgeComment(s.Service)
	if !s.isExemption(it) {
		return false, nil
	}
	nat, err := c.NATRules(ctx, BridgeFamily(s.Primary, s.Standby), prefix+" ")
	if err != nil {
		return false, err
	}
	rules, err := ParseBridgeRules(s.Service.Name, prefix, nat)
	if err != nil {
		return false, fmt.Errorf("%w; nothing was changed", err)
	}
	first := slices.IndexFunc(rules, BridgeRule.Carries)
	at := slices.IndexFunc(rules, func(r BridgeRule) bool { return r.Comment == it.find[0].value })
	if first < 0 || (len(rows) > 0 && at >= 0 && at < first) {
		return false, nil
	}
	add := addStep(it, append(append(append([]prop{}, it.props...), it.addOnly...), prop{"place-before", rules[first].ID}))
	add.Say += " before " + rules[first].ID + " (" + rules[first].Comment + "), which carries"
	p.Steps = append(p.Steps, add)
	if len(rows) > 0 {
		id := rows[0][".id"]
		p.Steps = append(p.Steps, PlanStep{
			Say:   fmt.Sprintf("- %s %s (%s): remove: it stands after %s, which carries, and exempts nobody", it.menu, id, it.what, rules[first].ID),
			Words: []string{it.menu + "/remove", "=.id=" + id},
			Undo:  cliMenu(it.menu) + " add " + rowText(rows[0]),
		})
	}
	return true, nil
}

// rowText is a rule as its add would write it again: its properties
// without the router's own (.id, counters, flags).
func rowText(row map[string]string) string {
	var ps []prop
	for k, v := range row {
		if !slices.Contains([]string{".id", "bytes", "packets", "invalid", "dynamic"}, k) {
			ps = append(ps, prop{k, v})
		}
	}
	slices.SortFunc(ps, func(a, b prop) int { return strings.Compare(a.key, b.key) })
	return propsText(ps)
}
