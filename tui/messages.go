package tui

import (
	"context"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/failwatch/failwatch/internal/engine"
)

// The dashboard's messages are the engine's events (engine.ServerEvent,
// engine.Reading, engine.LogLine, engine.DNSAnswer, engine.Step,
// engine.Done, engine.Switch, engine.PolicyNote, engine.ServersChanged,
// engine.Dropped), taken as they are, and the few below that only the
// dashboard and its wiring have. The dashboard never asks the network for
// anything itself.
type (
	// LogBatchMsg is several router log lines, in order: a burst of them
	// costs one screen update, not one per line (see Forward).
	LogBatchMsg []engine.LogLine
	// DemoMsg says the demo took the public server down or up.
	DemoMsg struct {
		Down bool
		At   time.Time
	}
	// NoteMsg is a line for the event pane from the wiring (a replay's
	// end, say).
	NoteMsg struct {
		At     time.Time
		Source string
		Text   string
	}
	tickMsg time.Time
)

// Actions are the requests keys turn into. Each runs in a command, off the
// dashboard's Update loop, and must return at once; what happens next comes
// back as messages.
type Actions interface {
	// Answer requests a confirmed question's move, naming the question
	// (engine.Ask): the engine refuses it if its facts now say another.
	Answer(engine.Question)
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
	var lines []engine.LogLine
	flush := func() {
		switch len(lines) {
		case 0:
		case 1:
			send(lines[0])
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
			if line, ok := ev.(engine.LogLine); ok {
				lines = append(lines, line)
				if len(lines) >= maxLogBatch {
					flush()
				}
			} else {
				flush()
				send(ev)
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
