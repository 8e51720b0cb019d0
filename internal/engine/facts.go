package engine

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/failover"
)

// FactState says what a service's facts rest on: a screen, the status
// command and the metrics show it, and nothing is said or done from facts
// the engine does not have.
type FactState string

// The states of a service's facts.
const (
	// FactUnknown: no reading of the router says anything of the service
	// yet (Why: "no reading yet", or "router unreachable since T: REASON").
	FactUnknown FactState = "unknown"
	// FactKnown: the value comes from a reading at ReadAt.
	FactKnown FactState = "known"
	// FactStale: the value comes from the last good reading, ReadAt, older
	// than two reading intervals; Why says why there is none since.
	FactStale FactState = "stale"
	// FactUnreadable: a row of the service could not be read (Why, with the
	// row); nothing is changed on the strength of it.
	FactUnreadable FactState = "unreadable"
)

// Facts are what the router's readings say of one service, and what they
// rest on.
type Facts struct {
	Service string    `json:"service"`
	State   FactState `json:"state"`
	// Why is the reason of an unknown, stale or unreadable state.
	Why string `json:"why,omitempty"`
	// ReadAt is the reading the value comes from (zero: none).
	ReadAt time.Time `json:"read_at,omitzero"`
	// Active is the server the name's records point at, "" when none or
	// several (and while the state is unknown or unreadable).
	Active string `json:"active"`
	// Enabled counts the name's enabled records of the failed-over type:
	// 1 is a defined answer, 0 none, more an undefined one.
	Enabled int `json:"enabled"`
	// Records are the name's records (the reading's, not repeated in a
	// recording); Owners the server of each record of the failed-over
	// type, by ID.
	Records []routeros.Record `json:"-"`
	Owners  map[string]string `json:"owners,omitempty"`
	// Held: failwatch holds a netwatch entry of this service's servers
	// (one of its own, not a sibling service's).
	Held bool `json:"held,omitempty"`
	// Bridge is the service's TTL bridge as the reading found it, nil
	// when it has none (bridge.go).
	Bridge *BridgeFacts `json:"bridge,omitempty"`
}

// HasValue says the facts carry what a reading said (known, or stale and
// shown as such).
func (f Facts) HasValue() bool { return f.State == FactKnown || f.State == FactStale }

// Defined says the facts are a fresh reading with exactly one enabled
// record, of a configured server: the only facts a move may rest on.
func (f Facts) Defined() bool { return f.State == FactKnown && f.Active != "" }

// Undefined says a reading found no enabled record, or several: the only
// case that is "no single server".
func (f Facts) Undefined() bool { return f.HasValue() && f.Enabled != 1 && len(f.Records) > 0 }

// Where is where the facts say the name points, in the admin's words:
// the server; "no single server" only when a reading found no enabled
// record of the name, or several ("no record" when it has none at all);
// "unknown (why)" or "unreadable: why" when no reading says; a stale value
// says since when it was read, in the viewer's zone, without ticking.
func (f Facts) Where(zone *time.Location) string {
	if zone == nil {
		zone = time.Local
	}
	var where string
	switch {
	case f.State == FactUnknown:
		return "unknown (" + f.Why + ")"
	case f.State == FactUnreadable:
		return f.Why
	case f.Active != "":
		where = f.Active
	case len(f.Records) == 0:
		where = "no record"
	case f.Enabled == 1:
		where = "a server not in the config"
	default:
		where = "no single server"
	}
	if f.State == FactStale {
		where += " (stale: read " + clock(f.ReadAt.In(zone), time.Time{}) + ", " + f.Why + ")"
	}
	return where
}

// Alarm says the facts show a fault of the name itself (no single
// server, a server not in the config, an unreadable row), not merely a
// reading missing: the screens show it red.
func (f Facts) Alarm() bool {
	return f.State == FactUnreadable || (f.HasValue() && f.Active == "")
}

// Read derives a service's facts from one good reading: the one place
// facts come from, for the engine and the one-shot commands alike.
func Read(f *failover.Failover, st routeros.RouterState) Facts {
	svc := f.Service
	// The wall clock only, as a recording keeps it.
	out := Facts{Service: svc.Name, ReadAt: st.At.Round(0)}
	if err := f.Unreadable(st.Records); err != nil {
		out.State, out.Why = FactUnreadable, err.Error()
		return out
	}
	recs := slices.DeleteFunc(slices.Clone(st.Records), func(r routeros.Record) bool { return r.Name != svc.Name })
	out.State, out.Records = FactKnown, recs
	out.Active = failover.Active(svc, recs, f.Primary, f.Standby)
	for _, r := range failover.OfType(recs, failover.RecordType(f.Primary, f.Standby)) {
		if !r.Disabled {
			out.Enabled++
		}
	}
	out.Owners = failover.Owners(svc, recs, f.Primary, f.Standby)
	out.Held = slices.ContainsFunc(failover.Own(st.Netwatch, svc.Name, f.Siblings), func(n routeros.Netwatch) bool {
		return (n.Host == f.Primary.Address || n.Host == f.Standby.Address) && failover.HeldEntry(n)
	})
	br, ok := st.Bridges[svc.Name]
	out.Bridge = ReadBridge(f, br, ok)
	return out
}

// unreachable is why a failed reading read nothing, and since when the
// router has been so.
func unreachable(st routeros.RouterState) string {
	since := st.Link.Since
	if since.IsZero() {
		since = st.At
	}
	return fmt.Sprintf("router unreachable since %s: %s", clock(since, st.At), st.Err)
}

// Age is what a service's facts become when a reading failed (st.Err set)
// or none came (st is the zero state) at now: a value is kept for two
// reading intervals, then it is stale; with no value at all it is
// unknown, and says why.
func Age(prev Facts, st routeros.RouterState, now time.Time, every time.Duration) Facts {
	why := "no reading yet"
	switch {
	case st.Err != nil:
		why = unreachable(st)
	case !prev.ReadAt.IsZero():
		why = "no reading since " + clock(prev.ReadAt, now)
	}
	fresh := !prev.ReadAt.IsZero() && now.Sub(prev.ReadAt) <= 2*every
	switch {
	case prev.State == FactKnown && fresh:
		return prev
	case prev.HasValue():
		prev.State, prev.Why = FactStale, why
		return prev
	case prev.State == FactUnreadable && fresh:
		return prev
	}
	return Facts{Service: prev.Service, State: FactUnknown, Why: why, ReadAt: prev.ReadAt}
}

// clock is a time as a reason gives it: the time of day on the day of now,
// with the date before.
func clock(t, now time.Time) string {
	if y, m, d := t.Date(); !now.IsZero() && (y != now.Year() || m != now.Month() || d != now.Day()) {
		return t.Format("Jan 2 15:04:05")
	}
	return t.Format("15:04:05")
}

// reading derives each service's facts from one router reading, once, and
// publishes them with a switch event per service whose records moved from
// one server to the other. A failed reading ages the facts instead: they
// are kept for two intervals, then shown stale, never emptied into "none".
func (e *Engine) reading(st routeros.RouterState) {
	// The entries failwatch holds, for the panel; held is any.
	heldEntries := map[string]bool{}
	for _, n := range st.Netwatch {
		if failover.HeldEntry(n) {
			heldEntries[n.ID] = true
		}
	}
	e.mu.Lock()
	e.state.Router = st
	servers := e.servers
	if st.Err == nil {
		e.state.Held = len(heldEntries) > 0
	}
	held := e.state.Held
	facts := make([]Facts, 0, len(e.services))
	var switches []*Switch
	for _, svc := range e.services {
		name := svc.cfg.Name
		var f Facts
		if st.Err != nil {
			f = Age(e.facts[name], st, st.At, e.watcher.Every)
		} else {
			f = Read(e.bridged(svc), st)
			e.bridgeSince(&f)
		}
		e.setFacts(f)
		facts = append(facts, f)
		if sw := e.switched(svc, f, st.At); sw != nil {
			switches = append(switches, sw)
		}
	}
	e.mu.Unlock()
	e.publish(Reading{RouterState: st, Services: facts, Held: held, HeldEntries: heldEntries,
		NetwatchByHost: failover.NetwatchByHost(st.Netwatch, hosts(servers)...)})
	for _, sw := range switches {
		e.publish(*sw)
	}
	if st.Err == nil {
		e.endDueBridges(facts, st.At)
		e.retryBridges(facts, st.At)
	}
}

// setFacts keeps a service's facts, and what the policy and the plans may
// rest on: an active server only from a defined reading. The engine's
// lock is held.
func (e *Engine) setFacts(f Facts) {
	e.facts[f.Service] = f
	e.state.Active[f.Service] = ""
	if f.Defined() {
		e.state.Active[f.Service] = f.Active
	}
}

// switched is the switch a service's new facts show, if any: a move from
// the last server a defined reading found to another one. A reading with
// no single enabled record between the two (the paper's netwatch scripts
// race and briefly leave two) is not a switch of its own: the dashboard
// shows it as the undefined answer it is. The engine's lock is held.
func (e *Engine) switched(svc *service, f Facts, at time.Time) *Switch {
	if !f.Defined() {
		return nil
	}
	name := svc.cfg.Name
	was := e.defined[name]
	e.defined[name] = f.Active
	if was == "" || was == f.Active {
		return nil
	}
	sw := &Switch{Service: name, From: was, To: f.Active, At: at, Cause: e.cause(svc, f.Active, at)}
	h := e.state.Health[was]
	if h.State == monitor.Down || h.State == monitor.Degraded {
		sw.Fault, sw.After, sw.DownBy = true, at.Sub(h.Since), "probes"
	} else if down, ok := e.netwatchDown(svc, was, at); ok {
		// The router's netwatch saw the server down before the probes
		// called it so: it went down when they began losing it, or, as
		// far as anyone knows, when netwatch said so.
		sw.Fault, sw.DownBy = true, "netwatch"
		if since, losing := e.lossSince(was); losing && since.Before(down) {
			down, sw.DownBy = since, "probes"
		}
		sw.After = max(at.Sub(down), 0)
	}
	return sw
}

// ageFacts ages every service's facts at now when no reading came (a
// router that accepts the connection and never answers), and publishes
// those whose state changed: the screens learn of stale facts without a
// reading to carry them.
func (e *Engine) ageFacts(now time.Time) {
	e.mu.Lock()
	var changed FactsChanged
	for _, svc := range e.services {
		prev := e.facts[svc.cfg.Name]
		f := Age(prev, routeros.RouterState{}, now, e.watcher.Every)
		if f.State != prev.State {
			e.setFacts(f)
			changed = append(changed, f)
		}
	}
	e.mu.Unlock()
	if len(changed) > 0 {
		e.publish(changed)
	}
}

// ageFactsEvery runs ageFacts once a reading interval.
func (e *Engine) ageFactsEvery(ctx context.Context) {
	t := time.NewTicker(e.watcher.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			e.ageFacts(now)
		}
	}
}
