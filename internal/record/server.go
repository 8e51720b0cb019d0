package record

import (
	"net/netip"
	"time"

	"github.com/failwatch/failwatch/internal/jsonout"
	"github.com/failwatch/failwatch/monitor"
)

// serverJSON is a server's probe event as a recording writes it: most of
// a recording's lines, so each part is written only when it is set.
type serverJSON struct {
	Time       time.Time      `json:"time"`
	Server     string         `json:"server"`
	Type       serverType     `json:"type"`
	Addr       netip.Addr     `json:"addr,omitzero"`
	Reason     string         `json:"reason,omitempty"`
	Sample     sampleJSON     `json:"sample,omitzero"`
	Check      checkJSON      `json:"check,omitzero"`
	Transition transitionJSON `json:"transition,omitzero"`
	State      monitor.State  `json:"state"`
}

// serverType is a monitor.EventType by its name.
type serverType monitor.EventType

// serverTypes are the names of monitor's event types, in their order.
var serverTypes = []string{"resolved", "unresolved", "sample", "check", "server"}

func (t serverType) MarshalText() ([]byte, error) { return nameOf(t, serverTypes, "server event type") }

func (t *serverType) UnmarshalText(b []byte) error {
	return byName(t, b, serverTypes, "server event type")
}

type sampleJSON struct {
	At      time.Time `json:"at"`
	RTTMS   *float64  `json:"rtt_ms,omitempty"`
	OK      bool      `json:"ok"`
	Err     string    `json:"error,omitempty"`
	NotSent bool      `json:"not_sent,omitempty"`
}

type checkJSON struct {
	Label    string        `json:"label"`
	State    monitor.State `json:"state"`
	Since    time.Time     `json:"since,omitzero"`
	Window   statsJSON     `json:"window"`
	Lifetime statsJSON     `json:"lifetime"`
	LastErr  string        `json:"last_error,omitempty"`
}

type statsJSON struct {
	Sent     int      `json:"sent"`
	Received int      `json:"received"`
	NotSent  int      `json:"not_sent"`
	LastMS   *float64 `json:"last_ms,omitempty"`
	LastOK   bool     `json:"last_ok"`
	jsonout.RTT
}

type transitionJSON struct {
	From   monitor.State `json:"from"`
	To     monitor.State `json:"to"`
	At     time.Time     `json:"at"`
	Reason string        `json:"reason,omitempty"`
}

// msOrAbsent is d in milliseconds, absent when there is none (no reply
// yet, or no round trip to speak of).
func msOrAbsent(d time.Duration) *float64 {
	if d == 0 {
		return nil
	}
	ms := jsonout.Millis(d)
	return &ms
}

// durationOf is a recorded *_ms back, 0 when absent.
func durationOf(ms *float64) time.Duration {
	if ms == nil {
		return 0
	}
	return duration(*ms)
}

func statsOf(s monitor.Stats) statsJSON {
	return statsJSON{Sent: s.Sent, Received: s.Received, NotSent: s.NotSent, LastMS: msOrAbsent(s.Last), LastOK: s.LastOK,
		RTT: jsonout.RTTOf(s, msOrAbsent)}
}

func (s statsJSON) stats() monitor.Stats {
	return monitor.Stats{Sent: s.Sent, Received: s.Received, NotSent: s.NotSent, Last: durationOf(s.LastMS), LastOK: s.LastOK,
		Min: durationOf(s.MinMS), Avg: durationOf(s.AvgMS), Max: durationOf(s.MaxMS), Mdev: durationOf(s.MdevMS),
		Jitter: durationOf(s.JitterMS), P95: durationOf(s.P95MS)}
}

func serverOf(ev monitor.Event) *serverJSON {
	// An event's parts it does not have are zero, and so left out.
	s, c, tr := ev.Sample, ev.Check, ev.Transition
	return &serverJSON{Time: ev.Time, Server: ev.Server, Type: serverType(ev.Type), Addr: ev.Addr, Reason: ev.Reason, State: ev.State,
		Sample:     sampleJSON{At: s.At, RTTMS: msOrAbsent(s.RTT), OK: s.OK, Err: s.Err, NotSent: s.NotSent},
		Check:      checkJSON{Label: c.Label, State: c.State, Since: c.Since, Window: statsOf(c.Window), Lifetime: statsOf(c.Lifetime), LastErr: c.LastErr},
		Transition: transitionJSON{From: tr.From, To: tr.To, At: tr.At, Reason: tr.Reason}}
}

func (s *serverJSON) event() monitor.Event {
	x, c, tr := s.Sample, s.Check, s.Transition
	return monitor.Event{Time: s.Time, Server: s.Server, Type: monitor.EventType(s.Type), Addr: s.Addr, Reason: s.Reason, State: s.State,
		Sample:     monitor.Sample{At: x.At, RTT: durationOf(x.RTTMS), OK: x.OK, Err: x.Err, NotSent: x.NotSent},
		Check:      monitor.CheckStatus{Label: c.Label, State: c.State, Since: c.Since, Window: c.Window.stats(), Lifetime: c.Lifetime.stats(), LastErr: c.LastErr},
		Transition: monitor.Transition{From: tr.From, To: tr.To, At: tr.At, Reason: tr.Reason}}
}
