package tui

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/failwatch/failwatch/internal/engine"
	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/failover"
)

// How the dashboard takes the engine's events into what it shows: each
// server's samples and states, the router's readings and each service's
// facts, DNS answers, switches, the router's log, operations.

// notUp says how a server is when the probes do not call it UP, "" when
// they do (or it is unknown to the dashboard).
func (m *Model) notUp(name string) string {
	s := m.find(name)
	if s == nil || s.state == monitor.Up {
		return ""
	}
	since := ""
	if !s.since.IsZero() {
		since = fmt.Sprintf(" for %s", m.c.now().Sub(s.since).Round(time.Second))
	}
	return fmt.Sprintf("%s is %s%s", name, s.state, since)
}

func (m *Model) find(name string) *serverView {
	for _, s := range m.c.servers {
		if s.cfg.Name == name {
			return s
		}
	}
	return nil
}

func (m *Model) server(ev monitor.Event) {
	s := m.find(ev.Server)
	if s == nil {
		return
	}
	s.version++
	switch ev.Type {
	case monitor.EventResolved:
		s.addr = ev.Addr
	case monitor.EventUnresolved:
		s.reason = ev.Reason
		m.events.add(ev.Time, "local", s.cfg.Name+": "+ev.Reason, warn)
	case monitor.EventSample:
		m.setCheck(s, ev.Check)
		if s.checks[0].Label == ev.Check.Label {
			s.history = appendCapped(s.history, ev.Sample, m.opts.History)
			s.countCell(ev.Sample)
			s.keepStatus(ev.Sample, ev.Check.Window, m.c.now())
		}
		if s.series == nil {
			s.series = map[string][]monitor.Sample{}
		}
		s.series[ev.Check.Label] = appendCapped(s.series[ev.Check.Label], ev.Sample, m.opts.History)
	case monitor.EventCheck:
		m.setCheck(s, ev.Check)
		if ev.Transition.From != monitor.Unknown || ev.Transition.To == monitor.Down {
			m.events.add(ev.Time, "local", fmt.Sprintf("%s %s %s: %s", s.cfg.Name, ev.Check.Label, ev.Transition.To, ev.Reason), stateLevel(ev.Transition.To))
		}
	case monitor.EventServer:
		s.state, s.since = ev.Transition.To, ev.Transition.At
		if ev.Transition.From != monitor.Unknown || ev.Transition.To != monitor.Up {
			m.events.add(ev.Time, "local", fmt.Sprintf("%s is %s", s.cfg.Name, ev.Transition.To), stateLevel(ev.Transition.To))
		}
	}
}

// appendCapped appends x and keeps at most max samples, dropping the
// oldest half at once when full, so each append costs O(1) on average.
func appendCapped(samples []monitor.Sample, x monitor.Sample, max int) []monitor.Sample {
	if len(samples) >= max {
		samples = append(samples[:0], samples[len(samples)-max/2:]...)
	}
	return append(samples, x)
}

// setCheck keeps a check's latest status. The card's series and numbers
// are its first check's: ICMP when the server has one (whichever check
// answers first), so a TCP connect time is never shown as the round trip.
func (m *Model) setCheck(s *serverView, c monitor.CheckStatus) {
	for i := range s.checks {
		if s.checks[i].Label == c.Label {
			s.checks[i] = c
			return
		}
	}
	s.checks = append(s.checks, c)
	if c.Label == "icmp" && len(s.checks) > 1 {
		copy(s.checks[1:], s.checks[:len(s.checks)-1])
		s.checks[0] = c
		// The series so far was another check's.
		s.history = s.history[:0]
	}
}

func (m *Model) routerState(msg engine.Reading) {
	st := msg.RouterState
	now := st.At
	if st.Err != nil {
		state := "unreachable"
		if st.Link.State == routeros.LinkReconnecting {
			state = "reconnecting"
		}
		if m.c.router.connected || !m.c.router.seen || m.c.router.state != state {
			m.events.add(now, "router", state+": "+st.Err.Error(), bad)
		}
		m.c.router.connected, m.c.router.seen, m.c.router.err = false, true, st.Err.Error()
		m.c.router.state, m.c.router.since = state, st.Link.Since
		m.c.router.version++
		m.facts(now, msg.Services)
		return
	}
	if !m.c.router.connected && m.c.router.seen {
		m.events.add(now, "router", "connected again", good)
	}
	m.c.router.connected, m.c.router.seen, m.c.router.err = true, true, ""
	m.c.router.identity = st.Identity
	m.c.router.netwatch, m.c.router.heldEntries = st.Netwatch, msg.HeldEntries
	m.c.router.version++
	m.facts(now, msg.Services)
	m.c.router.held = msg.Held
	for _, s := range m.c.servers {
		if nw := msg.NetwatchByHost[s.cfg.Address]; nw != s.netwatch {
			s.netwatch = nw
			s.version++
		}
	}
}

// facts takes the engine's facts of services, from a reading or from
// their ageing.
func (m *Model) facts(now time.Time, facts []engine.Facts) {
	for _, f := range facts {
		if sv := m.c.findService(f.Service); sv != nil {
			m.serviceFacts(now, sv, f)
		}
	}
}

// serviceFacts takes the facts of one service: no enabled record or
// several is an alarm (and its end is said too), facts going stale,
// unknown or unreadable and back are events; a move of the name is the
// engine's Switch. Facts without a value keep the records last shown.
func (m *Model) serviceFacts(now time.Time, sv *serviceView, f engine.Facts) {
	was := sv.facts
	sv.facts, sv.active = f, f.Active
	if f.State != was.State {
		// The router panel says what its records rest on.
		m.c.router.version++
	}
	if f.State == engine.FactKnown {
		sv.records, sv.owners, sv.held = f.Records, f.Owners, f.Held
	}
	name := sv.cfg.Name
	switch {
	case f.State == was.State && (f.State != engine.FactUnreadable || f.Why == was.Why):
	case f.State == engine.FactKnown && was.State != engine.FactUnknown:
		m.events.add(now, "router", m.about(sv, "facts read again: "+f.Where(m.c.zone)), good)
	case f.State == engine.FactStale || f.State == engine.FactUnreadable || (f.State == engine.FactUnknown && was.State != engine.FactUnknown):
		m.events.add(now, "router", m.about(sv, "ACTIVE "+f.Where(m.c.zone)), warn)
	}
	switch undefined := f.Undefined(); {
	case undefined && !sv.undefined:
		text := fmt.Sprintf("%d enabled records for %s: the router's answer is undefined", f.Enabled, name)
		if f.Enabled == 0 {
			text = "no enabled record for " + name + ": the router answers nothing"
		}
		m.events.add(now, "router", text, bad)
		sv.undefined = true
	case !undefined && sv.undefined:
		m.events.add(now, "router", m.about(sv, "one enabled record again: "+f.Where(m.c.zone)), good)
		sv.undefined = false
	}
}

// about puts a service's name before an event about it when there are
// several.
func (m *Model) about(sv *serviceView, text string) string {
	if len(m.c.services) > 1 {
		return sv.cfg.Name + ": " + text
	}
	return text
}

func (m *Model) dnsAnswer(msg engine.DNSAnswer) {
	sv := m.c.findService(msg.Service)
	if sv == nil {
		return
	}
	a, dns := msg.DNSAnswer, &sv.dns
	if a.Err != nil {
		dns.err = withoutLocalPort(a.Err.Error())
		return
	}
	dns.err = ""
	var addr netip.Addr
	if len(a.Addrs) > 0 {
		addr = a.Addrs[0]
	}
	if dns.seen && addr != dns.addr {
		from, to := describe(dns.addr, dns.server), describe(addr, msg.Server)
		l := info
		text := m.about(sv, fmt.Sprintf("DNS answer changed: %s %s %s", from, m.c.styles.Glyphs.Arrow, to))
		if !addr.IsValid() {
			// Clients get no address: the outage itself, not routine.
			l, text = bad, text+": clients get no address for "+sv.cfg.Name
		}
		m.events.add(a.At, "dns", text, l)
	}
	dns.seen, dns.addr, dns.ttl = true, addr, a.TTL
	dns.server = msg.Server
}

// switched notes the engine's switch of a service: the one account of when
// its name moved and how long after its server's fault.
func (m *Model) switched(sw engine.Switch) {
	sv := m.c.findService(sw.Service)
	if sv == nil {
		return
	}
	note := fmt.Sprintf("switch: %s %s %s", sw.From, m.c.styles.Glyphs.Arrow, sw.To)
	if len(m.c.services) > 1 {
		note = fmt.Sprintf("switch %s: %s %s %s", sv.cfg.Name, sw.From, m.c.styles.Glyphs.Arrow, sw.To)
	}
	switch {
	case sw.Fault:
		note += fmt.Sprintf(", %s after %s", sw.After.Round(10*time.Millisecond), wentDown(sw))
	case sw.Cause.Kind == engine.CauseFailwatch:
		note += " (no fault: a planned move " + sw.Cause.Short() + ")"
	default:
		note += " (" + sw.Cause.Short() + ", no fault seen)"
	}
	sv.lastSwitch, sv.switchAt = note, sw.At
	m.events.add(sw.At, "router", note+"; "+sw.Cause.String(), info)
}

func describe(addr netip.Addr, server string) string {
	if !addr.IsValid() {
		return "nothing"
	}
	if server == "" {
		return addr.String()
	}
	return fmt.Sprintf("%s (%s)", addr, server)
}

func (m *Model) logEvent(ev routeros.LogEvent) {
	switch ev.Kind {
	case routeros.LogLine:
		at := ev.Entry.Time
		text := strings.Join(ev.Entry.Topics, ",") + ": " + ev.Entry.Message
		if at.IsZero() {
			at = ev.At
		}
		if ev.Entry.ZoneUnknown {
			// The router's clock could not be read: its own time, as
			// it printed it, and the line placed when it came.
			text = "[router time " + ev.Entry.RawTime + "] " + text
		}
		l := info
		if n := ev.Entry.Netwatch; n != nil && n.Status == "up" {
			l = good
		} else if n != nil {
			l = bad
		}
		m.events.add(at, "router", text, l)
	case routeros.LogGap:
		m.events.insert(event{at: ev.At, source: "router", text: "log gap: " + ev.Reason, gap: true})
	case routeros.LogConnected:
		m.events.logDown = ""
		m.events.add(ev.At, "router", "log: "+ev.Reason, muted)
	case routeros.LogDisconnected:
		reason := "connection lost"
		if ev.Err != nil {
			reason = ev.Err.Error()
		}
		if reason != m.events.logDown {
			m.events.add(ev.At, "router", "log follow stopped: "+reason+" (retrying)", warn)
		}
		m.events.logDown = reason
	}
}

func (m *Model) step(msg engine.Step) {
	if m.header.op == nil || m.header.op.done || m.header.op.name != msg.Op {
		m.header.op = &opView{name: msg.Op}
	}
	for i := range m.header.op.steps {
		if m.header.op.steps[i].Name == msg.Step.Name && m.header.op.steps[i].Status == failover.StepRunning {
			m.header.op.steps[i] = msg.Step
			m.stepEvent(msg)
			return
		}
	}
	m.header.op.steps = append(m.header.op.steps, msg.Step)
	if msg.Step.Status != failover.StepRunning {
		m.stepEvent(msg)
	}
}

func (m *Model) stepEvent(msg engine.Step) {
	s := msg.Step
	text := fmt.Sprintf("%s: %s %s", msg.Op, s.Name, s.Status)
	if s.Detail != "" {
		text += " (" + s.Detail + ")"
	}
	l := muted
	switch s.Status {
	case failover.StepFailed:
		l = bad
	case failover.StepRolledBack:
		l = warn
	}
	m.events.add(s.At.Add(s.Took), "op", text, l)
}

func (m *Model) opDone(msg engine.Done) {
	if m.header.op == nil || m.header.op.name != msg.Result.Operation {
		m.header.op = &opView{name: msg.Result.Operation}
	}
	m.header.op.done, m.header.op.err, m.header.op.took = true, msg.Err, msg.Result.Took
	m.header.op.ended = msg.Result.Started.Add(msg.Result.Took)
	at := msg.Result.Started.Add(msg.Result.Took)
	switch {
	case msg.Err != nil && msg.Result.Outcome == failover.OutcomeRolledBack:
		m.events.add(at, "op", msg.Result.Operation+" FAILED: "+msg.Err.Error(), warn)
	case msg.Err != nil:
		m.events.add(at, "op", msg.Result.Operation+" FAILED: "+msg.Err.Error(), bad)
	case msg.Result.Outcome == failover.OutcomeAlreadySo:
		m.events.add(at, "op", msg.Result.Operation+": "+msg.Result.Summary(), info)
	default:
		m.events.add(at, "op", fmt.Sprintf("%s done in %s: %s", msg.Result.Operation, msg.Result.Took.Round(time.Millisecond), msg.Result.Summary()), good)
	}
	// What the router may do next (its own netwatch moving the name
	// back), and how to put back by hand what a failure left changed.
	for _, r := range append([]failover.Result{msg.Result}, msg.Result.Parts...) {
		for _, note := range r.Notes {
			m.events.add(at, "op", "warning: "+note, warn)
		}
		if msg.Err == nil {
			continue
		}
		for _, c := range r.Changes {
			if c.Undo != "" && (c.Status == "changed" || c.Status == "unknown") {
				m.events.add(at, "op", fmt.Sprintf("%s %s %s is %s; to put it back: %s", c.Kind, c.ID, c.What, c.Status, c.Undo), warn)
			}
		}
	}
}

func stateLevel(st monitor.State) level {
	switch st {
	case monitor.Up:
		return good
	case monitor.Down:
		return bad
	}
	return warn
}

// wentDown is the fault a switch is timed from: the server going down as
// the probes saw it, or as the router's netwatch did when it saw it first.
func wentDown(sw engine.Switch) string {
	if sw.DownBy == "netwatch" {
		return "the router's netwatch saw " + sw.From + " down"
	}
	return sw.From + " went down"
}
