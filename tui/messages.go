package tui

import (
	"time"

	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros"
)

// The messages the dashboard renders. Probes and router watchers produce
// them; the program's wiring sends them in. The dashboard never asks the
// network for anything itself.
type (
	// ServerMsg is a probe event of one server.
	ServerMsg monitor.Event
	// RouterMsg is a reading of the router's records and netwatch.
	RouterMsg routeros.RouterState
	// LogMsg is a line (or a connect, disconnect or gap) of the router log.
	LogMsg routeros.LogEvent
	// DNSMsg is what the resolver answers for the service name.
	DNSMsg monitor.DNSAnswer
	// StepMsg is a step of an operation as it starts and ends.
	StepMsg struct {
		Op   string
		Step routeros.Step
	}
	// OpDoneMsg ends an operation.
	OpDoneMsg struct {
		Result routeros.Result
		Err    error
	}
	// DemoMsg says the demo took the public server down or up.
	DemoMsg struct {
		Down bool
		At   time.Time
	}
	// PolicyMsg is a decision, or a refusal, of the automatic policy.
	PolicyMsg struct {
		At      time.Time
		Text    string
		Refused bool
	}
	tickMsg time.Time
)

// Actions are the requests keys turn into. Each must return at once; what
// happens next comes back as messages.
type Actions interface {
	Failover(hold bool)
	Restore()
	Hold()
	Release()
	ResetStats()
	// DemoToggle takes the demo's public server down or brings it back.
	DemoToggle()
}
