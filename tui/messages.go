package tui

import (
	"context"
	"fmt"
	"github.com/failwatch/failwatch/config"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/failwatch/failwatch/internal/engine"
	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/failover"
)

// The messages the dashboard renders. Probes and router watchers produce
// them; the program's wiring sends them in. The dashboard never asks the
// network for anything itself.
type (
	// ServerMsg is a probe event of one server.
	ServerMsg monitor.Event
	// RouterMsg is a reading of the router's records and netwatch, with the
	// facts the engine derived from it: the dashboard shows them, it does
	// not work them out again.
	RouterMsg struct {
		routeros.RouterState
		// Services are each service's facts: the server its records point
		// at, how many are enabled, whose each record is.
		Services []engine.Facts
		// Held: some of the router's netwatch entries are held by failwatch.
		Held bool
		// Netwatch is the router's netwatch per server address: a status,
		// "held", "disabled", or absent for none.
		Netwatch map[string]string
		// HeldEntries: the netwatch entries failwatch holds, by ID.
		HeldEntries map[string]bool
	}
	// ServersMsg is the server list after the config was reloaded: cards
	// of servers still there keep their history.
	ServersMsg []config.Server
	// LogMsg is a line (or a connect, disconnect or gap) of the router log.
	LogMsg routeros.LogEvent
	// LogBatchMsg is several of them, in order: a burst of router log
	// lines costs one screen update, not one per line (see ForwardLog).
	LogBatchMsg []routeros.LogEvent
	// DNSMsg is what the resolver answers for a service's name, and the
	// server that answer is, as the engine tells it ("" for none known).
	DNSMsg struct {
		Service, Server string
		monitor.DNSAnswer
	}
	// StepMsg is a step of an operation as it starts and ends.
	StepMsg struct {
		Op   string
		Step failover.Step
	}
	// OpDoneMsg ends an operation.
	OpDoneMsg struct {
		Result failover.Result
		Err    error
	}
	// DemoMsg says the demo took the public server down or up.
	DemoMsg struct {
		Down bool
		At   time.Time
	}
	// SwitchMsg is the name moving to another server, as the engine saw
	// it (with or without a fault before it).
	SwitchMsg engine.Switch
	// NoteMsg is a line for the event pane from the wiring (a replay's
	// end, say).
	NoteMsg struct {
		At     time.Time
		Source string
		Text   string
	}
	// PolicyMsg is a decision, or a refusal, of the automatic policy.
	PolicyMsg struct {
		At      time.Time
		Text    string
		Refused bool
	}
	tickMsg time.Time
)

// Actions are the requests keys turn into. Each runs in a command, off the
// dashboard's Update loop, and must return at once; what happens next comes
// back as messages.
type Actions interface {
	Failover(service string, hold bool)
	Restore(service string)
	Hold(service string)
	Release(service string)
	// Evacuate moves every service whose records point at the server to
	// its other server; Primaries restores every service to its primary.
	Evacuate(server string)
	Primaries()
	ResetStats()
	// DemoToggle takes the demo's public server down or brings it back.
	DemoToggle()
}

// maxLogBatch bounds one LogBatchMsg.
const maxLogBatch = 1000

// Forward sends what an engine subscription carries to a dashboard until
// ctx ends. Events already waiting are taken together, and the router log
// lines among them go as one message: each message costs a screen update,
// so a router logging thousands of lines a second would otherwise leave the
// dashboard ever further behind.
func Forward(ctx context.Context, events <-chan engine.Event, send func(tea.Msg)) {
	var lines []routeros.LogEvent
	flush := func() {
		switch len(lines) {
		case 0:
		case 1:
			send(LogMsg(lines[0]))
		default:
			send(LogBatchMsg(lines))
		}
		lines = nil
	}
	for {
		var ev engine.Event
		select {
		case ev = <-events:
		case <-ctx.Done():
			return
		}
		for {
			if ev.Log != nil {
				lines = append(lines, *ev.Log)
				if len(lines) >= maxLogBatch {
					flush()
				}
			} else {
				flush()
				if msg := Message(ev); msg != nil {
					send(msg)
				}
			}
			select {
			case ev = <-events:
				continue
			default:
			}
			break
		}
		flush()
	}
}

// Message is the dashboard's message for an engine event.
func Message(ev engine.Event) tea.Msg {
	switch {
	case ev.Server != nil:
		return ServerMsg(*ev.Server)
	case ev.Router != nil:
		return RouterMsg{RouterState: *ev.Router, Services: ev.Services, Held: ev.Held, Netwatch: ev.Netwatch, HeldEntries: ev.HeldEntries}
	case ev.Log != nil:
		return LogMsg(*ev.Log)
	case ev.DNS != nil:
		return DNSMsg{Service: ev.Service, Server: ev.Answer, DNSAnswer: *ev.DNS}
	case ev.Step != nil:
		return StepMsg{Op: ev.Step.Op, Step: ev.Step.Step}
	case ev.Done != nil:
		return OpDoneMsg{Result: ev.Done.Result, Err: ev.Done.Err}
	case ev.Switch != nil:
		return SwitchMsg(*ev.Switch)
	case ev.Policy != nil:
		return PolicyMsg{At: ev.Policy.At, Text: ev.Policy.Text, Refused: ev.Policy.Refused}
	case ev.Servers != nil:
		return ServersMsg(ev.Servers)
	case ev.Dropped > 0:
		return LogMsg{Kind: routeros.LogGap, At: time.Now(), Reason: fmt.Sprintf("this screen fell behind and missed %d events", ev.Dropped)}
	}
	return nil
}
