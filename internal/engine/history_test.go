package engine

import (
	"fmt"
	"testing"
	"time"

	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros"
)

// Joining at any time gives the same picture: after 5,000 events (samples
// of many servers, log lines), a snapshot still has every server's state
// and the last switch from long before, and its size is bounded per kind.
func TestHistoryKeepsThePictureWhole(t *testing.T) {
	h := newHistory()
	t0 := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	servers := 10
	for i := range servers {
		h.keep(ServerEvent{Server: fmt.Sprint("s", i), Type: monitor.EventServer, Transition: monitor.Transition{From: monitor.Unknown, To: monitor.Up, At: t0}})
	}
	h.keep(Switch{Service: "www.example.test", From: "s0", To: "s1", At: t0})
	h.keep(Step{Op: "failover"})
	h.keep(Done{By: "alice"})
	for i := range 5000 {
		h.keep(ServerEvent{Server: fmt.Sprint("s", i%servers), Type: monitor.EventSample, Sample: monitor.Sample{OK: true, At: t0.Add(time.Duration(i) * time.Millisecond)}})
		if i%10 == 0 {
			h.keep(LogLine{Kind: routeros.LogLine, Entry: routeros.LogEntry{Message: fmt.Sprint("line ", i)}})
		}
	}
	events := inOrder(h.kept())
	states, samples, lines, switches, ops := 0, 0, 0, 0, 0
	for _, ev := range events {
		switch ev := ev.(type) {
		case ServerEvent:
			if ev.Type == monitor.EventServer {
				states++
			} else {
				samples++
			}
		case LogLine:
			lines++
		case Switch:
			switches++
		case Step, Done:
			ops++
		}
	}
	if states != servers || switches != 1 || ops != 2 {
		t.Errorf("states %d of %d, switches %d, operation events %d", states, servers, switches, ops)
	}
	if samples > servers*keptSamples || lines > keptPane {
		t.Errorf("%d samples (at most %d), %d lines (at most %d)", samples, servers*keptSamples, lines, keptPane)
	}
	// In the order they were published: the states before the samples.
	if _, ok := events[0].(ServerEvent); !ok {
		t.Errorf("first event %T", events[0])
	}
	if ev, ok := events[len(events)-1].(ServerEvent); !ok || !ev.Sample.At.Equal(t0.Add(4999*time.Millisecond)) {
		t.Errorf("last event %+v", events[len(events)-1])
	}
	// A new operation's steps replace the last one's.
	h.keep(Step{Op: "restore"})
	ops = 0
	for _, ev := range inOrder(h.kept()) {
		if _, ok := ev.(Step); ok {
			ops++
		}
		if _, ok := ev.(Done); ok {
			t.Error("the last operation's end is kept after a new one started")
		}
	}
	if ops != 1 {
		t.Errorf("%d steps kept", ops)
	}
}

// Where no screen can join (the exporter: monitor.Options.Compact), no
// samples are kept for one; the servers' states still are.
func TestHistoryWithoutSamples(t *testing.T) {
	h := newHistory()
	h.noSamples = true
	t0 := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	h.keep(ServerEvent{Server: "s0", Type: monitor.EventServer, Transition: monitor.Transition{From: monitor.Unknown, To: monitor.Up, At: t0}})
	for i := range 1000 {
		h.keep(ServerEvent{Server: "s0", Type: monitor.EventSample, Sample: monitor.Sample{OK: true, At: t0.Add(time.Duration(i) * time.Millisecond)}})
	}
	events := inOrder(h.kept())
	if len(events) != 1 || len(h.samples) != 0 {
		t.Fatalf("%d events kept (want the state alone), %d sample rings", len(events), len(h.samples))
	}
	if ev, ok := events[0].(ServerEvent); !ok || ev.Type != monitor.EventServer {
		t.Errorf("kept %+v", events[0])
	}
}
