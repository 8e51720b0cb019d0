package failover

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/failwatch/failwatch/routeros"
)

// What the bridge's rules must be before any is enabled. A rule that
// carries more than setup wrote (every port, every source: edited by hand
// or written for another pair) would carry what the admin never asked
// for; an exemption that is missing, changed, or stands after a rule that
// carries exempts nobody, as rules are evaluated in print order and the
// first dst-nat wins (https://help.mikrotik.com/docs/display/ROS/NAT:
// "rules are processed ... from top to bottom"; NATRules reads in print
// order), so failwatch's own probes of the primary would be carried to
// the standby and the policy would loop.

// wantRules are the rules BridgeItems writes, by kind: each property as
// written but disabled and comment (which the failover changes).
func (o *op) wantRules() map[string]map[string]string {
	out := map[string]map[string]string{}
	menu := BridgeFamily(o.f.Primary, o.f.Standby).Menu("nat")
	for _, it := range BridgeItems(o.f.Service, o.f.Primary, o.f.Standby, nil) {
		if it.Menu != menu {
			continue
		}
		props, kind := map[string]string{}, ""
		for _, p := range it.Props {
			switch p[0] {
			case "comment":
				kind = strings.TrimPrefix(p[1], BridgeComment(o.f.Service)+" ")
			case "disabled":
			default:
				props[p[0]] = p[1]
			}
		}
		out[kind] = props
	}
	return out
}

// ruleProps are a rule's properties as read, in BridgeItems' words.
func ruleProps(r routeros.NATRule) map[string]string {
	out := map[string]string{}
	for k, v := range map[string]string{
		"chain": r.Chain, "action": r.Action, "protocol": r.Protocol, "src-address": r.SrcAddress, "dst-address": r.DstAddress,
		"dst-port": r.DstPort, "to-addresses": r.ToAddresses, "to-ports": r.ToPorts, "src-address-list": r.SrcAddressList,
		"in-interface-list": r.InInterfaceList,
	} {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

// sameRule says how a rule as read differs from the one wanted: each
// property missing, changed or extra; "" when none does.
func sameRule(r BridgeRule, want map[string]string) string {
	got := ruleProps(r.NATRule)
	var diffs []string
	for k, v := range want {
		if !sameProp(k, got[k], v) {
			diffs = append(diffs, fmt.Sprintf("%s=%q, not %q", k, got[k], v))
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s=%q, not written by setup", k, v))
		}
	}
	for _, x := range r.Extra {
		diffs = append(diffs, x+", not written by setup")
	}
	if r.Invalid {
		diffs = append(diffs, "invalid (the router cannot apply it)")
	}
	if r.Dynamic {
		diffs = append(diffs, "dynamic (not a rule setup writes)")
	}
	slices.Sort(diffs)
	return strings.Join(diffs, "; ")
}

// sameProp compares addresses as addresses (a router may print an IPv6
// address in another form than written); the rest as text.
func sameProp(key, got, want string) bool {
	if key == "dst-address" || key == "to-addresses" {
		a, errA := netip.ParseAddr(got)
		b, errB := netip.ParseAddr(want)
		if errA == nil && errB == nil {
			return a == b
		}
	}
	return got == want
}

// checkRules says whether the rules may be enabled: every rule of a kind
// setup writes is as setup writes it, a carrying rule of a kind it does
// not write (a protocol not configured) is refused, and the exemptions
// (exempt, and exempt-list when configured) are there, one each, before
// every rule that carries.
func (o *op) checkRules(rules []BridgeRule) error {
	want := o.wantRules()
	fix := " (run failwatch setup to write it again): not enabling the bridge"
	firstCarry := slices.IndexFunc(rules, BridgeRule.Carries)
	for _, r := range rules {
		w, ok := want[r.Kind]
		switch {
		case !ok && r.Carries():
			return fmt.Errorf("rule %s (%s) carries %s, which the bridge's configuration does not: remove it"+
				" or configure it: not enabling the bridge", r.ID, r.Comment, r.Kind)
		case !ok:
			continue
		}
		if d := sameRule(r, w); d != "" {
			return fmt.Errorf("rule %s (%s) is not as setup writes it: %s%s", r.ID, r.Comment, d, fix)
		}
	}
	for _, kind := range []string{BridgeExempt, BridgeExemptList} {
		if _, ok := want[kind]; !ok {
			continue
		}
		at := slices.IndexFunc(rules, func(r BridgeRule) bool { return r.Kind == kind })
		n := len(slices.DeleteFunc(slices.Clone(rules), func(r BridgeRule) bool { return r.Kind != kind }))
		switch {
		case at < 0:
			return fmt.Errorf("the exemption rule %q is missing: failwatch's own probes of the primary would be carried%s",
				BridgeComment(o.f.Service)+" "+kind, fix)
		case n > 1:
			return fmt.Errorf("%d rules are commented %q: remove the extra ones: not enabling the bridge", n, BridgeComment(o.f.Service)+" "+kind)
		case firstCarry >= 0 && at > firstCarry:
			return fmt.Errorf("the exemption rule %s (%s) stands after rule %s (%s), which carries first: it exempts nobody%s",
				rules[at].ID, rules[at].Comment, rules[firstCarry].ID, rules[firstCarry].Comment, fix)
		}
	}
	return nil
}
