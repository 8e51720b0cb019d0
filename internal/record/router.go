package record

import (
	"net/netip"
	"time"

	"github.com/failwatch/failwatch/internal/engine"
	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros"
)

// logJSON is a line of the router's log, or its follower's news, as a
// recording writes it.
type logJSON struct {
	Kind   logKind   `json:"kind"`
	At     time.Time `json:"at,omitzero"`
	Reason string    `json:"reason,omitempty"`
	// Entry is only on a line.
	Entry *entryJSON `json:"entry,omitempty"`
}

// logKind is a routeros.LogEventKind by its name.
type logKind routeros.LogEventKind

// logKinds are the names of the log follower's kinds of event, in their
// order.
var logKinds = []string{"line", "connected", "disconnected", "gap"}

func (k logKind) MarshalText() ([]byte, error) { return nameOf(k, logKinds, "log event kind") }

func (k *logKind) UnmarshalText(b []byte) error { return byName(k, b, logKinds, "log event kind") }

type entryJSON struct {
	ID  string `json:"id"`
	Seq uint64 `json:"seq"`
	// Time is absent when the router's zone was not known (ZoneUnknown):
	// RawTime is then what to show.
	Time        time.Time          `json:"time,omitzero"`
	RawTime     string             `json:"raw_time,omitempty"`
	Topics      []string           `json:"topics"`
	Message     string             `json:"message"`
	Netwatch    *netwatchEventJSON `json:"netwatch,omitempty"`
	History     bool               `json:"history,omitempty"`
	ZoneUnknown bool               `json:"zone_unknown,omitempty"`
}

// netwatchEventJSON is a netwatch event a log line tells of.
type netwatchEventJSON struct {
	Status string `json:"status"`
	Type   string `json:"type"`
	Host   string `json:"host"`
}

func logOf(ev routeros.LogEvent) *logJSON {
	out := &logJSON{Kind: logKind(ev.Kind), At: ev.At, Reason: ev.Reason}
	if ev.Kind == routeros.LogLine {
		e := ev.Entry
		out.Entry = &entryJSON{ID: e.ID, Seq: e.Seq, Time: e.Time, RawTime: e.RawTime, Topics: e.Topics, Message: e.Message,
			History: e.History, ZoneUnknown: e.ZoneUnknown}
		if e.Topics == nil {
			out.Entry.Topics = []string{}
		}
		if n := e.Netwatch; n != nil {
			out.Entry.Netwatch = &netwatchEventJSON{Status: n.Status, Type: n.Type, Host: n.Host}
		}
	}
	return out
}

func (l *logJSON) event(err error) routeros.LogEvent {
	ev := routeros.LogEvent{Kind: routeros.LogEventKind(l.Kind), At: l.At, Reason: l.Reason, Err: err}
	if e := l.Entry; e != nil {
		ev.Entry = routeros.LogEntry{ID: e.ID, Seq: e.Seq, Time: e.Time, RawTime: e.RawTime, Topics: e.Topics, Message: e.Message,
			History: e.History, ZoneUnknown: e.ZoneUnknown}
		if n := e.Netwatch; n != nil {
			ev.Entry.Netwatch = &routeros.NetwatchEvent{Status: n.Status, Type: n.Type, Host: n.Host}
		}
	}
	return ev
}

// dnsJSON is what the resolver answered for a service's name.
type dnsJSON struct {
	Service string `json:"service"`
	Name    string `json:"name"`
	// Resolver is the DNS server asked; Server the failwatch server the
	// answer is, absent when none is known.
	Resolver string       `json:"resolver"`
	Addrs    []netip.Addr `json:"addrs"`
	Server   string       `json:"server,omitempty"`
	TTLMS    *float64     `json:"ttl_ms,omitempty"`
	RCode    string       `json:"rcode,omitempty"`
	RTTMS    *float64     `json:"rtt_ms,omitempty"`
	At       time.Time    `json:"at"`
}

func dnsOf(ev engine.DNSAnswer) *dnsJSON {
	out := &dnsJSON{Service: ev.Service, Name: ev.Name, Resolver: ev.DNSAnswer.Server, Addrs: ev.Addrs, Server: ev.Server,
		TTLMS: msOrAbsent(ev.TTL), RCode: ev.RCode, RTTMS: msOrAbsent(ev.RTT), At: ev.At}
	if out.Addrs == nil {
		out.Addrs = []netip.Addr{}
	}
	return out
}

func (d *dnsJSON) event(err error) engine.DNSAnswer {
	return engine.DNSAnswer{Service: d.Service, Server: d.Server, DNSAnswer: monitor.DNSAnswer{Server: d.Resolver, Name: d.Name,
		Addrs: d.Addrs, TTL: durationOf(d.TTLMS), RCode: d.RCode, RTT: durationOf(d.RTTMS), At: d.At, Err: err}}
}

// readingJSON is a reading of the router with the facts the engine
// derived from it. The router's rows keep RouterOS's own texts (a
// record's ttl, a netwatch entry's interval, the uptime), as the router
// panel shows them.
type readingJSON struct {
	At        time.Time           `json:"at"`
	Connected bool                `json:"connected"`
	Link      linkJSON            `json:"link"`
	Identity  routeros.Identity   `json:"identity,omitzero"`
	Records   []routeros.Record   `json:"records"`
	Netwatch  []routeros.Netwatch `json:"netwatch"`
	// Services are each service's facts; their records are the
	// reading's of its name, not written twice.
	Services       []engine.Facts    `json:"services"`
	Held           bool              `json:"held"`
	NetwatchByHost map[string]string `json:"netwatch_by_host,omitempty"`
	HeldEntries    map[string]bool   `json:"held_entries,omitempty"`
}

type linkJSON struct {
	State linkState `json:"state"`
	Since time.Time `json:"since,omitzero"`
	Err   string    `json:"error,omitempty"`
}

// linkState is a routeros.LinkState by its name.
type linkState routeros.LinkState

// linkStates are the names of the router connection's states, in their
// order.
var linkStates = []string{"unknown", "connected", "reconnecting", "unreachable"}

func (s linkState) MarshalText() ([]byte, error) { return nameOf(s, linkStates, "router link state") }

func (s *linkState) UnmarshalText(b []byte) error {
	return byName(s, b, linkStates, "router link state")
}

// nonNil is s, or an empty list: JSON.md's lists are [] when empty.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func readingOf(r engine.Reading) *readingJSON {
	st := r.RouterState
	return &readingJSON{At: st.At, Connected: st.Connected, Link: linkJSON{State: linkState(st.Link.State), Since: st.Link.Since, Err: text(st.Link.Err)},
		Identity: st.Identity, Records: nonNil(st.Records), Netwatch: nonNil(st.Netwatch),
		Services: nonNil(r.Services), Held: r.Held, NetwatchByHost: r.NetwatchByHost, HeldEntries: r.HeldEntries}
}

func (r *readingJSON) event(err error) engine.Reading {
	st := routeros.RouterState{At: r.At, Connected: r.Connected, Err: err,
		Link:     routeros.Link{State: routeros.LinkState(r.Link.State), Since: r.Link.Since, Err: errOf(r.Link.Err)},
		Identity: r.Identity, Records: r.Records, Netwatch: r.Netwatch}
	ev := engine.Reading{RouterState: st, Services: r.Services, Held: r.Held, NetwatchByHost: r.NetwatchByHost, HeldEntries: r.HeldEntries}
	for i, f := range ev.Services {
		for _, rec := range st.Records {
			if rec.Name == f.Service {
				ev.Services[i].Records = append(ev.Services[i].Records, rec)
			}
		}
	}
	return ev
}
