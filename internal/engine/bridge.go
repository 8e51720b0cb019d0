package engine

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/failover"
)

// BridgeFacts are what a reading says of a service's TTL bridge, derived
// once here: whether it is on, since and until when, what it carries for
// whom, and how many tracked connections it carries now. They rest on the
// same reading as the service's other facts (its State: known, stale);
// State here says what the bridge's own rows said.
type BridgeFacts struct {
	// State is on, off, partial (some carrying rules enabled), missing
	// (no rule on the router), unreadable (a row of it could not be read:
	// Why) or unknown (its reading failed: Why).
	State string `json:"state"`
	Why   string `json:"why,omitempty"`
	// Refused says why the engine will not turn this bridge on (its
	// start-up check), "" when it may.
	Refused string `json:"refused,omitempty"`
	// Since is when a reading first found it on; zero when it was on at
	// the first reading (since before failwatch looked).
	Since time.Time `json:"since,omitzero"`
	// Until is the end time a ttl-mode bridge carries, or, turned on
	// without one (setup's netwatch scripts), the one the engine gives it
	// (bridgeGivenUntil); zero for none.
	Until time.Time `json:"until,omitzero"`
	// Mode is until_restore or ttl.
	Mode string `json:"mode"`
	From string `json:"from"`
	To   string `json:"to"`
	// Scope is the clients and ports it carries, in words.
	Scope string `json:"scope"`
	// Connections counts the tracked connections it carries now
	// (answered by the standby), at most routeros.MaxBridgeConnections;
	// More the rest of those carried, over the cap.
	Connections int `json:"connections"`
	More        int `json:"more,omitempty"`
}

// On says the bridge carries clients (all or some of its rules enabled).
func (b *BridgeFacts) On() bool { return b != nil && (b.State == "on" || b.State == "partial") }

// ReadBridge derives a service's bridge facts from its reading; nil when
// the service has no bridge.
func ReadBridge(f *failover.Failover, br routeros.BridgeReading, hasReading bool) *BridgeFacts {
	b := f.Service.Bridge
	if !b.On() {
		return nil
	}
	until := b.Until
	if until == "" {
		until = config.UntilRestore
	}
	out := &BridgeFacts{Mode: string(until), From: f.Primary.Address, To: f.Standby.Address, Scope: failover.BridgeScope(b)}
	switch {
	case !hasReading:
		out.State, out.Why = "unknown", "not read"
		return out
	case br.Err != nil:
		out.State, out.Why = "unknown", br.Err.Error()
		return out
	}
	rules, err := failover.ParseBridgeRules(f.Service.Name, failover.BridgeComment(f.Service), br.Rules)
	if err != nil {
		out.State, out.Why = "unreadable", err.Error()
		return out
	}
	out.State, out.Until = string(failover.StateOf(rules)), failover.UntilOf(rules)
	standby, _ := netip.ParseAddr(f.Standby.Address)
	for _, c := range br.Conns.Rows {
		if c.Unreadable != "" {
			out.Why = "a connection row is unreadable: " + c.Unreadable
			continue
		}
		if c.ReplySrc.Addr() == standby {
			out.Connections++
		}
	}
	out.More = br.Conns.More
	return out
}

// BridgeWatches are the bridges a reading takes: the services' with one,
// for the engine's watcher and the one-shot status alike.
func BridgeWatches(fs []*failover.Failover) []routeros.BridgeWatch {
	var out []routeros.BridgeWatch
	for _, f := range fs {
		b := f.Service.Bridge
		primary, err := netip.ParseAddr(f.Primary.Address)
		standby, serr := netip.ParseAddr(f.Standby.Address)
		if !b.On() || err != nil || serr != nil {
			continue
		}
		out = append(out, routeros.BridgeWatch{Key: f.Service.Name, Family: failover.BridgeFamily(f.Primary, f.Standby),
			Prefix: failover.BridgeComment(f.Service) + " ", Primary: primary, Standby: standby, TCP: b.TCP, UDP: b.UDP, ICMP: b.ICMP})
	}
	return out
}

// Text says the bridge in the admin's words, for every screen: whether it
// is on, since and until when (in zone), what it carries for whom, and how
// many connections it carries now; why, when its rows say nothing.
func (b *BridgeFacts) Text(zone *time.Location) string {
	if zone == nil {
		zone = time.Local
	}
	at := func(t time.Time) string { return t.In(zone).Format("Jan 2 15:04:05") }
	var s string
	switch b.State {
	case "unknown", "unreadable":
		s = "bridge " + b.State + ": " + b.Why
	case "missing":
		s = "bridge missing on the router (run failwatch setup)"
	case "off":
		s = fmt.Sprintf("bridge off (%s -> %s for %s)", b.From, b.To, b.Scope)
	default:
		s = "bridge " + b.State
		if !b.Since.IsZero() {
			s += " since " + at(b.Since)
		}
		if !b.Until.IsZero() {
			s += " until " + at(b.Until)
		} else if b.Mode == string(config.UntilTTL) {
			s += " (ttl: may stay up for the records' whole TTL)"
		}
		s += fmt.Sprintf(": %s -> %s for %s, %d connection(s) carried", b.From, b.To, b.Scope, b.Connections)
		if b.More > 0 {
			s += fmt.Sprintf(" (+%d not read)", b.More)
		}
	}
	if b.Refused != "" {
		s += "; refused: " + b.Refused
	}
	return s
}

// bridgeSince carries a bridge's since from the last facts: a bridge found
// on after a reading found it otherwise turned on at this reading. The
// engine's lock is held.
func (e *Engine) bridgeSince(f *Facts) {
	b := f.Bridge
	if b == nil {
		return
	}
	if r := e.bridgeRefusal(f.Service); r != "" {
		b.Refused = r
	}
	prev := e.facts[f.Service].Bridge
	switch {
	case !b.On():
	case prev.On():
		b.Since = prev.Since
	case prev != nil && (prev.State == "off" || prev.State == "missing"):
		b.Since = f.ReadAt
	}
	e.bridgeGivenUntil(f, prev)
}

// bridgeGivenUntil gives a ttl-mode bridge found on without an end time in
// its rules (turned on by setup's netwatch scripts, which write none) the
// one a failover would have written: when a reading first found it on,
// plus the records' longest TTL, plus the margin; kept from reading to
// reading while it stays on, so endDueBridges turns it off then. A TTL
// that cannot be read gives none: the screen says it may stay up for the
// whole TTL. The engine's lock is held.
func (e *Engine) bridgeGivenUntil(f *Facts, prev *BridgeFacts) {
	b := f.Bridge
	if !b.On() || b.Mode != string(config.UntilTTL) || !b.Until.IsZero() {
		return
	}
	if prev.On() && !prev.Until.IsZero() {
		b.Until = prev.Until
		return
	}
	i := slices.IndexFunc(e.services, func(s *service) bool { return s.cfg.Name == f.Service })
	if i < 0 || len(f.Records) == 0 {
		return
	}
	var ttl time.Duration
	for _, r := range f.Records {
		d, err := config.ParseDuration(r.TTL)
		if err != nil {
			return
		}
		ttl = max(ttl, d)
	}
	first := b.Since
	if first.IsZero() {
		first = f.ReadAt
	}
	b.Until = first.Add(ttl + e.bridgeOf(e.services[i]).Margin)
}

// localAddr is failwatch's own source address towards dst: Options'
// LocalAddr, else the kernel's.
func (e *Engine) localAddr(dst netip.Addr) (netip.Addr, error) {
	if e.opts.LocalAddr != nil {
		return e.opts.LocalAddr(dst)
	}
	return routeros.LocalAddr(dst)
}

// bridgeRefusal is why a service's bridge may not be turned on: the
// start-up check's refusal, or that it has not run yet. The engine's lock
// is held.
func (e *Engine) bridgeRefusal(service string) string {
	r, ok := e.bridgeChecks[service]
	if !ok {
		return "not checked yet (the router has not answered its check since start-up or the reload that set it)"
	}
	return r
}

// allowBridge gives a failover's copy the service's bridge now (a reload
// may have changed it), and takes it off a failover's when the start-up
// check refused it or has not run: the records move without it. Turning a
// bridge off (restore, end bridge) is never refused.
func (e *Engine) allowBridge(f *failover.Failover, op Op) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if i := slices.IndexFunc(e.services, func(s *service) bool { return s.cfg.Name == f.Service.Name }); i >= 0 {
		f.Service.Bridge = e.bridgeOf(e.services[i])
	}
	if !f.Service.Bridge.On() || (op != OpFailover && op != OpFailoverHold) {
		return
	}
	if e.bridgeRefusal(f.Service.Name) != "" {
		f.Service.Bridge = config.Bridge{}
	}
}

// checkBridges runs each bridge's start-up check until the router answers
// it.
func (e *Engine) checkBridges(ctx context.Context) {
	for _, s := range e.services {
		e.mu.Lock()
		b, gen := e.bridgeOf(s), e.bridgeGen[s.cfg.Name]
		e.mu.Unlock()
		if b.On() {
			e.checkBridgeUntilAnswered(ctx, s, b, gen)
		}
	}
}

// checkBridgeUntilAnswered runs one bridge's start-up check until the
// router answers it, and says a refusal in the log (a policy note) and the
// facts; a check of a bridge a reload has since replaced (gen) is dropped.
func (e *Engine) checkBridgeUntilAnswered(ctx context.Context, s *service, b config.Bridge, gen int) {
	for {
		cctx, cancel := context.WithTimeout(ctx, 4*e.client.Timeout())
		refused, err := e.checkBridge(cctx, s, b)
		cancel()
		e.mu.Lock()
		current := e.bridgeGen[s.cfg.Name] == gen
		if err == nil && current {
			e.bridgeChecks[s.cfg.Name] = refused
		}
		e.mu.Unlock()
		if !current {
			return
		}
		if err == nil {
			if refused != "" {
				e.note(true, e.about(s.cfg.Name, "bridge refused: "+refused))
			}
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(5 * time.Second):
		}
	}
}

// checkBridge is one bridge's start-up check: its interface list must not
// hold the WAN interface (the default route's), and failwatch's own
// source address towards the primary must be exempt or outside the
// clients, or its probes of a dead primary would be carried to the
// standby, show the primary up and make the policy loop. err is a reading
// that failed: the check is run again.
func (e *Engine) checkBridge(ctx context.Context, s *service, b config.Bridge) (refused string, err error) {
	f := s.failover
	if b.InInterfaceList != "" {
		list, err := e.client.ReadInterfaceList(ctx, b.InInterfaceList)
		if err != nil {
			return "", err
		}
		route, err := e.defaultRoutes(ctx, failover.BridgeFamily(f.Primary, f.Standby))
		if err != nil {
			return "", err
		}
		switch {
		case list.Unknown != "":
			return list.Unknown + ": failwatch cannot tell whether it holds the WAN interface", nil
		case len(route.Untold) > 0:
			// One untold is enough: its interface may be in the list,
			// whatever the others say.
			return fmt.Sprintf("the default route (gateway %s) does not say its interface: failwatch cannot tell the WAN interface", route.Untold[0]), nil
		}
		for _, wan := range route.Interfaces {
			if list.Holds(wan) {
				return fmt.Sprintf("in_interface_list %s holds %s, the default route's (WAN) interface: the bridge would carry the internet's packets", b.InInterfaceList, wan), nil
			}
		}
	}
	primary, perr := netip.ParseAddr(f.Primary.Address)
	if perr != nil {
		return "primary address " + f.Primary.Address + " does not parse", nil
	}
	own, lerr := e.localAddr(primary)
	if lerr != nil {
		return fmt.Sprintf("failwatch's own source address towards %s cannot be told (%v)", primary, lerr), nil
	}
	exempt, err := e.exempt(ctx, s, b, own)
	if err != nil {
		return "", err
	}
	client := b.InInterfaceList != "" || slices.ContainsFunc(b.SrcAddresses, func(p netip.Prefix) bool { return p.Contains(own) })
	if client && !exempt {
		return fmt.Sprintf("failwatch's own address %s towards %s is among the bridge's clients and not exempt: its probes of a dead primary "+
			"would be carried to the standby and make the policy loop; add it to bridge.exempt and run failwatch setup (only the router's list exempts)", own, primary), nil
	}
	return "", nil
}

// defaultRoutes are the WAN's default routes for a bridge of the family:
// IPv4's, and for an IPv6 pair IPv6's too (its packets leave by the IPv6
// default route, which may be another interface).
func (e *Engine) defaultRoutes(ctx context.Context, fam routeros.Family) (routeros.DefaultRoute, error) {
	route, err := e.client.ReadDefaultRoute(ctx)
	if err != nil || fam != routeros.IPv6 {
		return route, err
	}
	route6, err := e.client.ReadDefaultRoute6(ctx)
	route.Interfaces = append(route.Interfaces, route6.Interfaces...)
	route.Untold = append(route.Untold, route6.Untold...)
	return route, err
}

// exempt says whether an address is exempt from a service's bridge: in an
// enabled, permanent entry of the exempt lists on the router. bridge.exempt in the
// config exempts nobody until setup has written it there: the router's
// rule matches its list, not failwatch's config.
func (e *Engine) exempt(ctx context.Context, s *service, b config.Bridge, a netip.Addr) (bool, error) {
	fam := failover.BridgeFamily(s.failover.Primary, s.failover.Standby)
	for _, l := range []string{failover.ExemptList(s.cfg), b.ExemptAddressList} {
		if l == "" {
			continue
		}
		entries, err := e.client.AddressList(ctx, fam, l)
		if err != nil {
			return false, err
		}
		for _, en := range entries {
			// An entry that runs out, or the router's own, exempts
			// failwatch only for a while: not an exemption to rest on.
			if en.Unreadable == "" && !en.Disabled && en.Permanent() && routeros.InMatch(a, en.Address) {
				return true, nil
			}
		}
	}
	return false, nil
}

// endDueBridges turns off each ttl-mode bridge a reading finds on past its
// end time, also after a restart, once a minute at most while it stays on
// (a router that refuses is not asked in a loop), and never while another
// operation runs (it waits for the next reading).
func (e *Engine) endDueBridges(facts []Facts, now time.Time) {
	if e.opts.ReadOnly {
		return
	}
	for _, f := range facts {
		b := f.Bridge
		if f.State != FactKnown || !b.On() || b.Until.IsZero() || now.Before(b.Until) {
			continue
		}
		e.mu.Lock()
		last, busy := e.bridgeEnded[f.Service], e.busy
		due := !busy && now.Sub(last) >= time.Minute
		if due {
			e.bridgeEnded[f.Service] = now
		}
		e.mu.Unlock()
		if !due {
			continue
		}
		reason := "the bridge's end time " + b.Until.UTC().Format(time.RFC3339) + " has passed"
		e.note(false, e.about(f.Service, "ending the bridge: "+reason))
		if err := e.Request(Request{Op: OpEndBridge, Target: f.Service, By: Requester{User: "bridge", Role: Operator}, Name: "end bridge", Reason: reason}); err != nil {
			e.note(true, e.about(f.Service, "end bridge not started: "+err.Error()))
		}
	}
}
