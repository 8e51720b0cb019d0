package engine

import (
	"slices"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/failover"
)

// Event is one thing that happened, of exactly one of the types in this
// file: subscribers switch on the type, and the dashboard takes each as
// its message as it is.
type Event interface{ event() }

// ServerEvent is a probe event of one server: a sample, or a check's or
// the server's state changing.
type ServerEvent monitor.Event

// Reading is one reading of the router with the facts the engine derived
// from it, once: each service's, whether any netwatch entry is held, and
// the router's netwatch per host address (see failover.NetwatchByHost).
type Reading struct {
	routeros.RouterState
	Services       []Facts
	Held           bool
	NetwatchByHost map[string]string
	// HeldEntries are the netwatch entries (by ID) failwatch holds, for
	// the router panel.
	HeldEntries map[string]bool
}

// LogLine is a line of the router's log, or its follower connecting,
// disconnecting or missing lines.
type LogLine routeros.LogEvent

// DNSAnswer is what the resolver answers for a service's name, and the
// server that answer is ("" for none known).
type DNSAnswer struct {
	Service, Server string
	monitor.DNSAnswer
}

// Step is a step of an operation as it starts and ends.
type Step struct {
	Op   string
	Step failover.Step
}

// Done ends an operation.
type Done struct {
	Result failover.Result
	Err    error
	// By is who asked for it (the requester, or the policy's "auto").
	By string
}

// Switch is the name's records moving from one server to another, however
// it happened (netwatch, failwatch, an admin). It has one definition of
// fault-to-switch: when the server switched from was DOWN (or DEGRADED) by
// the probes at the moment of the switch, After is from its going so to the
// switch; otherwise (a planned failover, a restore) there was no fault.
// When the router's netwatch saw the server down before the probes did,
// After is from its probes' first unanswered one, or from netwatch's
// event, and DownBy says which saw it ("probes" or "netwatch").
// From and To are servers two defined readings found: a reading with no
// single enabled record between them is not a switch. Cause says who
// moved it, as far as the engine saw.
type Switch struct {
	Service  string
	From, To string
	At       time.Time
	Fault    bool
	After    time.Duration
	DownBy   string
	Cause    Cause
}

// FactsChanged is services' facts changing state with no reading to carry
// them: known facts gone stale while the router does not answer.
type FactsChanged []Facts

// StatsReset is every server's displayed and lifetime statistics cleared,
// by whom: every screen clears its sparklines and says so.
type StatsReset struct {
	By string
	At time.Time
}

// PolicyNote is a decision, or a refusal, of the automatic policy.
type PolicyNote struct {
	At      time.Time
	Text    string
	Refused bool
}

// ServersChanged is the server list after a reload changed it.
type ServersChanged []config.Server

// Snapshot is the picture a subscriber starts from, as one event: the
// first on every subscription, however late it joins. Events are what the
// engine kept, in the order it published them: each server's address and
// last transitions with its recent samples, the last reading, each
// service's DNS answer and last switch, the last event-pane lines, and the
// current or last operation; Facts are each service's facts now.
type Snapshot struct {
	Events []Event
	Facts  []Facts
	Busy   bool
}

// Dropped is the number of events a subscriber missed because it did not
// keep up; the events after it are current again.
type Dropped int

func (ServerEvent) event()    {}
func (Reading) event()        {}
func (LogLine) event()        {}
func (DNSAnswer) event()      {}
func (Step) event()           {}
func (Done) event()           {}
func (Switch) event()         {}
func (FactsChanged) event()   {}
func (PolicyNote) event()     {}
func (ServersChanged) event() {}
func (Dropped) event()        {}
func (Snapshot) event()       {}
func (StatsReset) event()     {}

// Of is the facts of the named service in a reading; ok is false when the
// reading has none for it.
func (r Reading) Of(service string) (f Facts, ok bool) {
	i := slices.IndexFunc(r.Services, func(f Facts) bool { return f.Service == service })
	if i < 0 {
		return Facts{}, false
	}
	return r.Services[i], true
}
