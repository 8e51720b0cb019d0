package tui

import (
	"context"
	"time"

	tea "charm.land/bubbletea/v2"

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
	// LogBatchMsg is several of them, in order: a burst of router log
	// lines costs one screen update, not one per line (see ForwardLog).
	LogBatchMsg []routeros.LogEvent
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

// maxLogBatch bounds one LogBatchMsg.
const maxLogBatch = 1000

// ForwardLog sends what a log follower emits to a dashboard until ctx ends,
// taking every event already waiting into one message: each message costs a
// screen update, so a router logging thousands of lines a second would
// otherwise leave the dashboard ever further behind. each, when set, sees
// every event first (the wiring pokes the router watcher with it).
func ForwardLog(ctx context.Context, in <-chan routeros.LogEvent, send func(tea.Msg), each func(routeros.LogEvent)) {
	for {
		var batch []routeros.LogEvent
		select {
		case ev := <-in:
			batch = append(batch, ev)
		case <-ctx.Done():
			return
		}
	drain:
		for len(batch) < maxLogBatch {
			select {
			case ev := <-in:
				batch = append(batch, ev)
			default:
				break drain
			}
		}
		if each != nil {
			for _, ev := range batch {
				each(ev)
			}
		}
		if len(batch) == 1 {
			send(LogMsg(batch[0]))
		} else {
			send(LogBatchMsg(batch))
		}
	}
}
