package failover

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/routeros"
)

// BridgeMaxConnections bounds the tracked connections one bridge step
// removes; the rest are counted, said, and left as they are (a udp or
// icmp flow in use does not time out: it stays on the primary).
const BridgeMaxConnections = 256

// bridge turns a service's bridge on (after a failover's records moved and
// were verified) or off (after a restore's records are back). It is
// best-effort inside the operation: each step is read back and reported,
// a step that cannot reach the router is tried again for a bounded time,
// and a failure is said in the steps and the notes, audited with them, and
// never rolls the records back: they are on a server that is up.
func (o *op) bridge(on bool) {
	if !o.f.Service.Bridge.On() {
		return
	}
	if err := o.interrupted("the bridge"); err != nil {
		o.bridgeFailed(on, err)
		return
	}
	verb := map[bool]string{true: "enable", false: "disable"}[on]
	var rules []BridgeRule
	if err := o.step("bridge: read rules", func(ctx context.Context) (string, error) {
		return o.retry(ctx, func(ctx context.Context) (string, error) {
			var err error
			rules, err = o.bridgeRules(ctx)
			if err != nil {
				return "", err
			}
			if StateOf(rules) == BridgeMissing {
				return skip(fmt.Sprintf("no rule commented %q on the router (run failwatch setup): going on without the bridge",
					BridgeComment(o.f.Service)+" "+BridgeTCP))
			}
			return fmt.Sprintf("%d rule(s), %s", len(rules), StateOf(rules)), nil
		})
	}); err != nil {
		o.bridgeFailed(on, err)
		return
	}
	if StateOf(rules) == BridgeMissing {
		o.res.Notes = append(o.res.Notes, fmt.Sprintf("the bridge's rules are missing on the router: %s was not bridged (run failwatch setup)", o.f.Service.Name))
		return
	}
	if err := o.step("bridge: "+verb+" rules", func(ctx context.Context) (string, error) {
		return o.retry(ctx, func(ctx context.Context) (string, error) { return o.setBridge(ctx, on) })
	}); err != nil {
		o.bridgeFailed(on, err)
		return
	}
	if !on {
		return
	}
	if err := o.step("bridge: remove tracked connections", func(ctx context.Context) (string, error) {
		return o.retry(ctx, o.dropConnections)
	}); err != nil {
		o.bridgeFailed(on, err)
	}
}

// finalError is a failure that trying again cannot mend: retry stops.
type finalError struct{ error }

func (e *finalError) Unwrap() error { return e.error }

// EndBridge turns the service's bridge off without moving the records: a
// ttl-mode bridge whose end time has passed, which whoever leads turns off
// when due, also after a restart. It is audited as "end bridge".
func (f *Failover) EndBridge(ctx context.Context) (Result, error) {
	return f.operation(ctx, "end bridge", "", func(o *op) error {
		o.bridge(false)
		return nil
	})
}

// bridgeFailed says a bridge failure in the notes: the records stand.
func (o *op) bridgeFailed(on bool, err error) {
	if on {
		o.res.Notes = append(o.res.Notes, fmt.Sprintf("turning the bridge on failed (%v); the records stay on %s; a failover again "+
			"(failwatch's engine tries, at most 3 times) turns it on without moving them", err, o.f.Standby.Name))
		return
	}
	o.res.Notes = append(o.res.Notes, fmt.Sprintf("turning the bridge off failed (%v); the records are not moved for it", err))
}

// bridgeRules reads the service's bridge rules strictly.
func (o *op) bridgeRules(ctx context.Context) ([]BridgeRule, error) {
	prefix := BridgeComment(o.f.Service)
	nat, err := o.f.Client.NATRules(ctx, BridgeFamily(o.f.Primary, o.f.Standby), prefix+" ")
	if err != nil {
		return nil, err
	}
	return ParseBridgeRules(o.f.Service.Name, prefix, nat)
}

// bridgeWant is a rule's wanted comment and disabled flag.
func (o *op) bridgeWant(r BridgeRule, on bool, until time.Time) (string, bool) {
	if !on || !r.Carries() {
		until = time.Time{}
	}
	return r.comment(BridgeComment(o.f.Service), until), !on
}

// setBridge brings the rules on or off from a fresh reading: on, the
// exemptions and the hairpin first, so no client is carried before its
// exemptions hold; off, the carrying rules first. A ttl-mode rule gets its
// end time in its comment as it is enabled. Each change is read back
// when its reply is lost, and all of them at the end.
func (o *op) setBridge(ctx context.Context, on bool) (string, error) {
	rules, err := o.bridgeRules(ctx)
	if err != nil {
		return "", err
	}
	if on {
		if err := o.checkRules(rules); err != nil {
			return "", &finalError{err}
		}
	}
	rules = o.turned(rules, on)
	until, err := o.bridgeUntil(on)
	if err != nil {
		return "", err
	}
	if kept := carriedUntil(rules); on && !kept.IsZero() {
		// A retry or a repeat keeps the end time the switch gave: the
		// clients' caches run out from the switch, not from now.
		until = kept
	}
	slices.SortStableFunc(rules, func(a, b BridgeRule) int {
		if a.Carries() == b.Carries() {
			return 0
		}
		if a.Carries() == on {
			return 1
		}
		return -1
	})
	menu := BridgeFamily(o.f.Primary, o.f.Standby).Menu("nat")
	for _, r := range rules {
		comment, disabled := o.bridgeWant(r, on, until)
		if r.Disabled == disabled && r.Comment == comment {
			continue
		}
		if err := o.interrupted("bridge rule " + r.ID); err != nil {
			return "", err
		}
		if _, err := o.setRule(ctx, menu, r, comment, disabled); err != nil {
			return "", err
		}
	}
	return o.verifyBridge(ctx, on, until)
}

// turned are the rules a turn changes: off, every one of the bridge's;
// on, only the kinds setup writes for its configuration (a rule of
// another kind, such as the every-port hairpin an earlier setup wrote, is
// left off).
func (o *op) turned(rules []BridgeRule, on bool) []BridgeRule {
	if !on {
		return rules
	}
	want := o.wantRules()
	return slices.DeleteFunc(slices.Clone(rules), func(r BridgeRule) bool {
		_, ok := want[r.Kind]
		return !ok
	})
}

// carriedUntil is the earliest end time a carrying rule's comment holds,
// enabled or not (a turn on that stopped half way), zero for none.
func carriedUntil(rules []BridgeRule) time.Time {
	var until time.Time
	for _, r := range rules {
		if r.Carries() && !r.Until.IsZero() && (until.IsZero() || r.Until.Before(until)) {
			until = r.Until
		}
	}
	return until
}

// setRule sends one rule's change, read back when its reply is lost.
func (o *op) setRule(ctx context.Context, menu string, r BridgeRule, comment string, disabled bool) (string, error) {
	what := map[bool]string{true: "disable", false: "enable"}[disabled] + " " + r.Kind
	if comment != r.Comment {
		what += ", comment " + comment
	}
	// As typed in the router's terminal: /ip firewall nat set ...
	undo := fmt.Sprintf("%s set %s disabled=%s comment=%q", strings.ReplaceAll(menu, "/", " ")[1:], r.ID, yesNo(r.Disabled), r.Comment)
	undo = "/" + undo
	return o.apply(ctx, Change{Kind: "nat", ID: r.ID, What: what, Undo: undo},
		func(ctx context.Context) error {
			return o.f.Client.Set(ctx, menu, r.ID, "disabled", yesNo(disabled), "comment", comment)
		},
		func(ctx context.Context) (bool, error) {
			now, err := o.bridgeRules(ctx)
			return slices.ContainsFunc(now, func(n BridgeRule) bool {
				return n.ID == r.ID && n.Disabled == disabled && n.Comment == comment
			}), err
		})
}

// verifyBridge reads the rules back and says what the bridge now does.
func (o *op) verifyBridge(ctx context.Context, on bool, until time.Time) (string, error) {
	rules, err := o.bridgeRules(ctx)
	if err != nil {
		return "", err
	}
	for _, r := range o.turned(rules, on) {
		comment, disabled := o.bridgeWant(r, on, until)
		switch {
		case r.Disabled != disabled:
			return "", fmt.Errorf("read back: rule %s (%s) is disabled=%t, not %t as sent", r.ID, r.Comment, r.Disabled, disabled)
		case r.Comment != comment:
			return "", fmt.Errorf("read back: rule %s's comment is %q, not %q as sent", r.ID, r.Comment, comment)
		}
	}
	if !on {
		return fmt.Sprintf("off: %s is no longer carried to %s (bridged connections drain)", o.f.Primary.Address, o.f.Standby.Address), nil
	}
	s := fmt.Sprintf("on: %s -> %s for %s", o.f.Primary.Address, o.f.Standby.Address, BridgeScope(o.f.Service.Bridge))
	if !until.IsZero() {
		s += ", until " + until.UTC().Format(time.RFC3339)
	}
	return s, nil
}

// BridgeScope says which clients and ports a bridge carries.
func BridgeScope(b config.Bridge) string {
	var clients []string
	for _, p := range b.SrcAddresses {
		clients = append(clients, p.String())
	}
	if b.InInterfaceList != "" {
		clients = append(clients, "in "+b.InInterfaceList)
	}
	var ports []string
	for _, p := range []struct {
		name  string
		ports []int
	}{{"tcp", b.TCP}, {"udp", b.UDP}} {
		if len(p.ports) > 0 {
			ports = append(ports, p.name+" "+joinInts(p.ports))
		}
	}
	if b.ICMP {
		ports = append(ports, "icmp")
	}
	return strings.Join(clients, ", ") + " (" + strings.Join(ports, "; ") + ")"
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ",")
}

// bridgeUntil is when a ttl-mode bridge ends: the records' longest TTL
// plus the margin after now, as the clients' caches hold the primary's
// answer that long at most. Zero for until_restore, and for off.
func (o *op) bridgeUntil(on bool) (time.Time, error) {
	b := o.f.Service.Bridge
	if !on || b.Until != config.UntilTTL {
		return time.Time{}, nil
	}
	var ttl time.Duration
	for _, r := range o.last {
		d, err := config.ParseDuration(r.TTL)
		if err != nil {
			return time.Time{}, &finalError{fmt.Errorf("ttl mode: record %s's TTL %q is not a duration", r.ID, r.TTL)}
		}
		ttl = max(ttl, d)
	}
	return time.Now().Add(ttl + b.Margin).Truncate(time.Second), nil
}

// dropConnections removes the tracked connections from the bridged clients
// to the primary's carried ports that opened before the bridge (NAT
// applies to new connections only): each removal is a change that may
// have been applied, read back when its reply is lost, and the table is
// read back at the end. An unreadable row removes nothing.
func (o *op) dropConnections(ctx context.Context) (string, error) {
	fam := BridgeFamily(o.f.Primary, o.f.Standby)
	b := o.f.Service.Bridge
	exempt, err := o.exemptSources(ctx, fam)
	if err != nil {
		return "", err
	}
	primary, err := netip.ParseAddr(o.f.Primary.Address)
	if err != nil {
		return "", fmt.Errorf("primary address %q: %w", o.f.Primary.Address, err)
	}
	// Only the connections to remove count toward the cap: untranslated
	// (answered by the primary itself) and from a client not exempt.
	target := func(c routeros.Connection) bool {
		return c.ReplySrc.Addr() == primary && clientOf(b, exempt, c.Src.Addr())
	}
	conns, err := o.f.Client.ConnectionsTo(ctx, fam, primary, b.TCP, b.UDP, b.ICMP, BridgeMaxConnections, target)
	if err != nil {
		return "", err
	}
	var targets []routeros.Connection
	for _, c := range conns.Rows {
		if c.Unreadable != "" {
			return "", &UnreadableError{Service: o.f.Service.Name, Reason: "connection " + c.Unreadable, Rows: 1}
		}
		targets = append(targets, c)
	}
	var errs []error
	removed := 0
	for _, c := range targets {
		if err := o.interrupted("removing connection " + c.ID); err != nil {
			errs = append(errs, err)
			break
		}
		ok, err := o.removeConnection(ctx, fam, c)
		if err != nil {
			errs = append(errs, err)
		}
		if ok {
			removed++
		}
	}
	detail := fmt.Sprintf("removed %d of %d tracked connection(s) from bridged clients to %s", removed, len(targets), o.f.Primary.Address)
	if conns.More > 0 {
		detail += fmt.Sprintf(" (%d more over the cap of %d: left as they are, on the primary)", conns.More, BridgeMaxConnections)
	}
	return detail, errors.Join(errs...)
}

// exemptSources is what the exemptions hold: the configured prefixes, and
// the entries of the exempt lists on the router (failwatch's own addresses
// among them).
func (o *op) exemptSources(ctx context.Context, fam routeros.Family) (func(netip.Addr) bool, error) {
	b := o.f.Service.Bridge
	lists := []string{ExemptList(o.f.Service)}
	if b.ExemptAddressList != "" {
		lists = append(lists, b.ExemptAddressList)
	}
	var values []string
	for _, l := range lists {
		entries, err := o.f.Client.AddressList(ctx, fam, l)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if e.Unreadable != "" {
				return nil, &UnreadableError{Service: o.f.Service.Name, Reason: "address list " + e.Unreadable, Rows: 1}
			}
			if !e.Disabled {
				values = append(values, e.Address)
			}
		}
	}
	return func(a netip.Addr) bool {
		return slices.ContainsFunc(b.Exempt, func(p netip.Prefix) bool { return p.Contains(a) }) ||
			slices.ContainsFunc(values, func(v string) bool { return routeros.InMatch(a, v) })
	}, nil
}

// removeConnection removes one connection and says whether it is gone: a
// reply lost is read back; a refusal whose read-back finds it gone is a
// connection that timed out on its own, not a change.
func (o *op) removeConnection(ctx context.Context, fam routeros.Family, c routeros.Connection) (bool, error) {
	change := Change{Kind: "connection", ID: c.ID, What: fmt.Sprintf("remove %s %s -> %s", c.Protocol, c.Src, c.Dst)}
	err := o.f.Client.Remove(ctx, fam.Menu("connection"), c.ID)
	if err == nil {
		change.Status = "changed"
		o.res.Changes = append(o.res.Changes, change)
		return true, nil
	}
	there, rerr := o.f.Client.ConnectionExists(ctx, fam, c.ID)
	switch {
	case rerr != nil:
		change.Status = "unknown"
		err = &unknownError{call: err, readBack: rerr}
	case !there && routeros.IsTrap(err):
		return true, nil
	case !there:
		change.Status = "changed"
		o.res.Changes = append(o.res.Changes, change)
		return true, nil
	default:
		change.Status = "failed"
	}
	o.res.Changes = append(o.res.Changes, change)
	return false, err
}
