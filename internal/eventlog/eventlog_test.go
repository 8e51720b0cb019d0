package eventlog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/failwatch/failwatch/internal/engine"
	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/failover"
)

// logged runs the events through Run and returns the lines, without times.
func logged(t *testing.T, evs ...engine.Event) []string {
	t.Helper()
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
	ch := make(chan engine.Event, len(evs))
	for _, ev := range evs {
		ch <- ev
	}
	close(ch)
	Run(context.Background(), ch, log)
	return strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
}

func TestLines(t *testing.T) {
	connected := engine.Reading{RouterState: routeros.RouterState{Connected: true, Identity: routeros.Identity{Name: "edge", Version: "7.18"}},
		Services: []engine.Facts{{Service: "www.example.test", Active: "public"}, {Service: "api.example.test", Active: "private"}}}
	lost := engine.Reading{RouterState: routeros.RouterState{Err: errors.New("dial tcp 127.0.0.1:8728: connection refused"),
		Link: routeros.Link{State: routeros.LinkUnreachable}}}
	for _, tc := range []struct {
		name string
		evs  []engine.Event
		want []string
	}{
		{"server down", []engine.Event{engine.ServerEvent{Type: monitor.EventServer, Server: "public",
			Transition: monitor.Transition{From: monitor.Up, To: monitor.Down, Reason: "3 lost in a row"}}},
			[]string{`level=WARN msg="server state" server=public from=UP to=DOWN reason="3 lost in a row"`}},
		{"server state without a reason of its own", []engine.Event{engine.ServerEvent{Type: monitor.EventServer, Server: "private",
			Transition: monitor.Transition{From: monitor.Unknown, To: monitor.Degraded}}},
			[]string{`level=WARN msg="server state" server=private from=UNKNOWN to=DEGRADED`}},
		{"check up", []engine.Event{engine.ServerEvent{Type: monitor.EventCheck, Server: "public", Check: monitor.CheckStatus{Label: "tcp/80"},
			Transition: monitor.Transition{From: monitor.Down, To: monitor.Up, Reason: "2 replies in a row"}}},
			[]string{`level=INFO msg="check state" server=public check=tcp/80 from=DOWN to=UP reason="2 replies in a row"`}},
		{"samples are not logged", []engine.Event{engine.ServerEvent{Type: monitor.EventSample, Server: "public"}}, []string{""}},
		{"router once per change", []engine.Event{connected, connected, lost, lost, connected},
			[]string{
				`level=INFO msg="router connected" identity=edge version=7.18 active.www.example.test=public active.api.example.test=private`,
				`level=WARN msg="router not answering" link=unreachable err="dial tcp 127.0.0.1:8728: connection refused"`,
				`level=INFO msg="router connected" identity=edge version=7.18 active.www.example.test=public active.api.example.test=private`,
			}},
		{"switch after a fault", []engine.Event{engine.Switch{Service: "www.example.test", From: "public", To: "private", Fault: true, After: 17 * time.Second, DownBy: "probes",
			Cause: engine.Cause{Kind: engine.CauseNetwatch, Line: "netwatch,info event down [ type: simple, host: 192.0.2.1 ]"}}},
			[]string{`level=WARN msg="active server changed" service=www.example.test from=public to=private after_ms=17000 down_by=probes cause=netwatch log_line="netwatch,info event down [ type: simple, host: 192.0.2.1 ]"`}},
		{"operation", []engine.Event{
			engine.Step{Op: "failover", Step: failover.Step{Name: "enable private", Status: failover.StepOK, Took: 12 * time.Millisecond}},
			engine.Done{Result: failover.Result{Operation: "failover", Outcome: failover.OutcomeChanged, From: "public", To: "private", Took: 40 * time.Millisecond}, By: "ssh:alice"},
		}, []string{
			`level=INFO msg="operation step" operation=failover step="enable private" status=ok took_ms=12`,
			`level=INFO msg="operation done" operation=failover outcome=changed from=public to=private took_ms=40 user=ssh:alice`,
		}},
		{"policy refusal", []engine.Event{engine.PolicyNote{Text: "standby private is DOWN", Refused: true}},
			[]string{`level=WARN msg="policy refused" reason="standby private is DOWN"`}},
		// A router's trap text is the router's: its escapes are quoted.
		{"router text quoted", []engine.Event{engine.Done{Err: errors.New("trap: \x1b[2Jbad"),
			Result: failover.Result{Operation: "restore", Outcome: failover.OutcomeFailed}}},
			[]string{`level=ERROR msg="operation done" operation=restore outcome=failed from="" to="" took_ms=0 err="trap: \x1b[2Jbad"`}},
		{"fell behind", []engine.Event{engine.Dropped(12)}, []string{`level=WARN msg="log fell behind, events lost" dropped=12`}},
	} {
		got := logged(t, tc.evs...)
		if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
			t.Errorf("%s:\ngot  %q\nwant %q", tc.name, got, tc.want)
		}
		for _, line := range got {
			if strings.ContainsRune(line, 0x1b) {
				t.Errorf("%s: raw escape in %q", tc.name, line)
			}
		}
	}
}

// After the context ends, what is already queued is still logged: the
// last steps of an operation the engine finished while stopping.
func TestRunDrainsAfterCancel(t *testing.T) {
	var buf bytes.Buffer
	ch := make(chan engine.Event, 2)
	ch <- engine.PolicyNote{Text: "failing over"}
	ch <- engine.PolicyNote{Text: "restoring"}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	log, _ := New(&buf, "json")
	Run(ctx, ch, log)
	var decisions []string
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var rec struct{ Msg, Decision string }
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("not JSON: %q: %v", line, err)
		}
		decisions = append(decisions, rec.Decision)
	}
	if strings.Join(decisions, ",") != "failing over,restoring" {
		t.Errorf("logged %q", buf.String())
	}
}

func TestNewRefusesUnknownFormat(t *testing.T) {
	if _, err := New(&bytes.Buffer{}, "xml"); err == nil || !strings.Contains(err.Error(), `"xml"`) {
		t.Errorf("got %v", err)
	}
}
