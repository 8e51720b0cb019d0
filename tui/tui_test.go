package tui

import (
	"context"
	"errors"
	"fmt"
	"image/color"
	"math"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/engine"
	"github.com/failwatch/failwatch/internal/paper"
	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/failover"
)

var t0 = time.Date(2023, 10, 23, 18, 33, 31, 0, time.UTC)

func paperServers() []config.Server {
	servers := paper.Servers(paper.PublicAddress, paper.PrivateAddress)
	servers[0].Checks = append(servers[0].Checks, config.Check{Kind: config.HTTP, URL: "http://" + paper.Name + "/"})
	return servers
}

type recorder struct{ calls []string }

// Answer records the request a confirmed question makes: its operation
// and target.
func (r *recorder) Answer(q engine.Question) {
	r.calls = append(r.calls, strings.TrimSpace(fmt.Sprintf("%s %s", q.Op, q.Target)))
}
func (r *recorder) ResetStats() { r.calls = append(r.calls, "reset") }
func (r *recorder) DemoToggle() { r.calls = append(r.calls, "demo") }

// withFacts is a reading of the paper's service with the facts the engine
// derives: its records are the reading's.
func withFacts(msg engine.Reading, active string, enabled int, owners map[string]string) engine.Reading {
	msg.Services = []engine.Facts{{Service: paper.Name, State: engine.FactKnown, ReadAt: msg.At, Active: active, Enabled: enabled, Owners: owners, Records: msg.Records, Held: msg.Held}}
	return msg
}

// scene is the paper's scenario 2 as messages: the public server loses
// every fourth probe and then goes down, netwatch fails over, the DNS answer
// changes, and an admin's failover with hold has run.
func scene() []tea.Msg {
	var msgs []tea.Msg
	send := func(name string, i int, label string, rtt time.Duration, ok bool, series *monitor.Series, h *monitor.Hysteresis) {
		at := t0.Add(time.Duration(i) * time.Second)
		x := monitor.Sample{At: at, RTT: rtt, OK: ok}
		if !ok {
			x.Err = "timeout"
		}
		series.Add(x)
		tr, changed := h.Observe(x)
		st, since := h.State()
		cs := monitor.CheckStatus{Label: label, State: st, Since: since, Window: series.Window(), Lifetime: series.Lifetime(), LastErr: x.Err}
		msgs = append(msgs, engine.ServerEvent{Time: at, Server: name, Type: monitor.EventSample, Sample: x, Check: cs})
		if changed {
			msgs = append(msgs, engine.ServerEvent{Time: at, Server: name, Type: monitor.EventCheck, Check: cs, Transition: tr, Reason: tr.Reason})
			// Both of public's checks change together: one server change.
			if label == "icmp" {
				msgs = append(msgs, engine.ServerEvent{Time: at, Server: name, Type: monitor.EventServer, Transition: tr, State: tr.To})
			}
		}
	}
	th := monitor.Thresholds{DownAfter: 3, UpAfter: 2, LossWindow: 20, DownLossPercent: 50}
	pubS, pubH := monitor.NewSeries(120), monitor.NewHysteresis(th)
	webS, webH := monitor.NewSeries(120), monitor.NewHysteresis(th)
	privS, privH := monitor.NewSeries(120), monitor.NewHysteresis(th)
	for i := range 60 {
		rtt := 195838*time.Microsecond + time.Duration(4e6*math.Sin(float64(i)))
		up := i < 50
		send("public", i, "icmp", rtt, up && i%4 != 3, pubS, pubH)
		send("public", i, "http http://tomtotrading.com/", rtt+3*time.Millisecond, up, webS, webH)
		send("private", i, "icmp", 2741*time.Microsecond+time.Duration(3e5*math.Cos(float64(i))), true, privS, privH)
	}
	records := []routeros.Record{
		{ID: "*1", Name: "tomtotrading.com", Type: "A", Address: "192.10.10.2", TTL: "1d", Comment: "ServerPrivate"},
		{ID: "*2", Name: "tomtotrading.com", Type: "A", Address: "104.247.193.168", TTL: "1d", Comment: "Server Public", Disabled: true},
		{ID: "*3", Name: "tomtotrading.com", Type: "TXT", Data: "v=spf1 -all", TTL: "1d"},
	}
	owners := map[string]string{"*1": "private", "*2": "public"}
	msgs = append(msgs,
		engine.Reading{RouterState: routeros.RouterState{At: t0, Connected: true, Identity: routeros.Identity{Name: "edge-1", Version: "7.18.2 (stable)"},
			Records: []routeros.Record{records[0], records[1]}}},
		engine.DNSAnswer{Server: "public", DNSAnswer: monitor.DNSAnswer{At: t0, Addrs: []netip.Addr{netip.MustParseAddr("104.247.193.168")}, TTL: 24 * time.Hour}},
		engine.LogLine{Kind: routeros.LogConnected, Reason: "following the router log", At: t0},
	)
	// As the engine sends them: each reading with the facts it derived.
	msgs[len(msgs)-3] = withFacts(engine.Reading{RouterState: routeros.RouterState{At: t0, Connected: true, Identity: routeros.Identity{Name: "edge-1", Version: "7.18.2 (stable)"},
		Records: []routeros.Record{{ID: "*1", Name: "tomtotrading.com", Type: "A", Address: "192.10.10.2", TTL: "1d", Comment: "ServerPrivate", Disabled: true},
			{ID: "*2", Name: "tomtotrading.com", Type: "A", Address: "104.247.193.168", TTL: "1d", Comment: "Server Public"}}}}, "public", 1, owners)
	down := t0.Add(52 * time.Second)
	for _, l := range []struct{ topics, msg string }{
		{"netwatch,info", "event down [ type: simple, host: 104.247.193.168 ]"},
		{"system,info", "static dns entry changed"},
		{"system,info", "static dns entry changed"},
	} {
		e := routeros.ParseLogEntry(map[string]string{".id": "*10", "time": down.Format("2006-01-02 15:04:05"), "topics": l.topics, "message": l.msg}, down)
		msgs = append(msgs, engine.LogLine{Kind: routeros.LogLine, Entry: e, At: down})
	}
	msgs = append(msgs,
		engine.LogLine{Kind: routeros.LogGap, Reason: "router log lines *11 to *13 were missed", At: down.Add(time.Second)},
		withFacts(engine.Reading{RouterState: routeros.RouterState{At: down, Connected: true, Identity: routeros.Identity{Name: "edge-1", Version: "7.18.2 (stable)"}, Records: records,
			Netwatch: []routeros.Netwatch{{ID: "*1", Host: "104.247.193.168", Type: "icmp", Status: "down", Since: "2026-10-14 18:34:23", Comment: "x" + failover.HoldMark}}},
			Held: true, NetwatchByHost: map[string]string{"104.247.193.168": "down"},
			HeldEntries: map[string]bool{"*1": true}}, "private", 1, owners),
		engine.Switch{Service: paper.Name, From: "public", To: "private", At: down, Fault: true, After: 2900 * time.Millisecond,
			Cause: engine.Cause{Kind: engine.CauseNetwatch, Line: "netwatch,info event down [ type: simple, host: 104.247.193.168 ]"}},
		engine.DNSAnswer{Server: "private", DNSAnswer: monitor.DNSAnswer{At: down.Add(1500 * time.Millisecond), Addrs: []netip.Addr{netip.MustParseAddr("192.10.10.2")}, TTL: 24 * time.Hour}},
	)
	steps := []string{"read state", "hold netwatch", "enable private record", "disable public record", "flush DNS cache", "verify"}
	for i, s := range steps {
		status := failover.StepOK
		if i == 2 || i == 3 || i == 4 {
			status = failover.StepSkipped
		}
		msgs = append(msgs, engine.Step{Op: "failover", Step: failover.Step{Name: s, Status: status, At: down.Add(3 * time.Second)}})
	}
	msgs = append(msgs, engine.Done{Result: failover.Result{Operation: "failover", Service: "tomtotrading.com", To: "private", Changed: true, Outcome: failover.OutcomeChanged, Changes: []failover.Change{{Kind: "netwatch", ID: "*1", What: "hold (disable)", Status: "changed"}, {Kind: "netwatch", ID: "*2", What: "hold (disable)", Status: "changed"}}, Started: down.Add(3 * time.Second), Took: 12 * time.Millisecond}})
	return msgs
}

func fixture(opts Options) Model {
	opts.Services = []config.Service{{Name: "tomtotrading.com", Layout: config.Toggle, HoldNetwatch: true, Primary: "public", Standby: "private"}}
	opts.Servers = paperServers()
	opts.RouterAddr = "192.168.137.2:8728"
	opts.Now = func() time.Time { return t0.Add(70 * time.Second) }
	opts.Zone = time.UTC
	if opts.Actions == nil {
		opts.Actions = &recorder{}
	}
	return New(opts)
}

// TestGolden renders the scene at three sizes, in colour and in ASCII
// without colour, through a real Bubble Tea program.
func TestGolden(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}, {200, 60}} {
		for _, plain := range []bool{false, true} {
			name := fmt.Sprintf("%dx%d", size[0], size[1])
			if plain {
				name += "-ascii-nocolor"
			}
			t.Run(name, func(t *testing.T) {
				tm := teatest.NewTestModel(t, fixture(Options{ASCII: plain, NoColor: plain}), teatest.WithInitialTermSize(size[0], size[1]))
				for _, msg := range scene() {
					tm.Send(msg)
				}
				tm.Send(tea.QuitMsg{})
				out := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).View().Content
				if plain {
					if ansi := regexp.MustCompile("\x1b\\[").FindString(out); ansi != "" {
						t.Error("no-colour output has escape sequences")
					}
					for _, r := range out {
						if r > 127 {
							t.Fatalf("ASCII output has %q", r)
						}
					}
				}
				if lines := strings.Count(out, "\n") + 1; lines != size[1] {
					t.Errorf("%d lines on a %d-line terminal", lines, size[1])
				}
				golden.RequireEqual(t, out)
			})
		}
	}
}

// plain is the screen without escape sequences.
func plain(m Model) string { return ansi.Strip(m.render()) }

// A wall display: large status, no footer, no action keys.
func TestGoldenWall(t *testing.T) {
	tm := teatest.NewTestModel(t, fixture(Options{Wall: true, ReadOnly: true}), teatest.WithInitialTermSize(200, 60))
	for _, msg := range scene() {
		tm.Send(msg)
	}
	tm.Send(tea.QuitMsg{})
	out := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).View().Content
	plain := ansi.Strip(out)
	if strings.Contains(plain, "fail over to standby") || !strings.Contains(plain, "[READ-ONLY]") {
		t.Errorf("wall screen:\n%s", plain)
	}
	golden.RequireEqual(t, out)
}

// update applies msgs; a key's command (a request to the Actions) runs at
// once, as the program would run it.
func update(m Model, msgs ...tea.Msg) Model {
	for _, msg := range msgs {
		next, cmd := m.Update(msg)
		m = next.(Model)
		if _, ok := msg.(tea.KeyPressMsg); ok && cmd != nil {
			cmd()
		}
	}
	return m
}

func press(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	}
	return tea.KeyPressMsg{Code: rune(k[0]), Text: k}
}

// beforeSwitch is the scene up to the reading that finds the name on
// the public server (which the probes call DOWN by then).
func beforeSwitch() []tea.Msg {
	msgs := scene()
	i := slices.IndexFunc(msgs, func(m tea.Msg) bool { _, ok := m.(engine.Reading); return ok })
	return msgs[:i+1]
}

// eventTexts is the event pane's lines, one a line.
func eventTexts(m Model) string {
	var texts []string
	for _, e := range m.events.events {
		texts = append(texts, e.text)
	}
	return strings.Join(texts, "\n")
}

// afterSwitch is the scene's reading that finds the name on the private
// server, netwatch held.
func afterSwitch() engine.Reading {
	msgs := scene()
	i := slices.IndexFunc(msgs, func(m tea.Msg) bool { r, ok := m.(engine.Reading); return ok && r.Held })
	return msgs[i].(engine.Reading)
}

func TestConfirmation(t *testing.T) {
	rec := &recorder{}
	m := update(fixture(Options{Actions: rec}), tea.WindowSizeMsg{Width: 120, Height: 40})
	m = update(m, beforeSwitch()...)
	m = update(m, press("f"))
	if !strings.Contains(plain(m), "Fail over tomtotrading.com from public to private, holding the") {
		t.Fatalf("no confirmation:\n%s", plain(m))
	}
	m = update(m, press("n"))
	if len(rec.calls) != 0 || !strings.Contains(plain(m), "cancelled: Fail over") {
		t.Errorf("n did not cancel: %v", rec.calls)
	}
	// The standby is UP: y is enough.
	m = update(m, press("f"), press("y"))
	if strings.Join(rec.calls, ",") != "failover with hold tomtotrading.com" {
		t.Errorf("calls %v", rec.calls)
	}

	// On private, held, with the primary DOWN: restoring to it takes its
	// name, typed; y alone does nothing. f has nothing to do: no question.
	rec = &recorder{}
	m = update(fixture(Options{Actions: rec}), tea.WindowSizeMsg{Width: 120, Height: 40})
	m = update(m, scene()...)
	m = update(m, press("r"), press("y"), press("enter"))
	if len(rec.calls) != 0 || !strings.Contains(plain(m), "the name did not match") {
		t.Errorf("y restored to a DOWN primary: %v\n%s", rec.calls, plain(m))
	}
	m = update(m, press("r"))
	for _, k := range "public" {
		m = update(m, press(string(k)))
	}
	m = update(m, press("enter"), press("f"))
	if strings.Contains(plain(m), "Fail over tomtotrading.com") || !strings.Contains(plain(m), "tomtotrading.com is already on private: nothing to do") {
		t.Errorf("f on private asked a question:\n%s", plain(m))
	}
	m = update(m, press("c"))
	if !strings.Contains(plain(m), "Reset every server's statistics") {
		t.Errorf("c did not ask:\n%s", plain(m))
	}
	m = update(m, press("y"))
	want := []string{"restore tomtotrading.com", "reset"}
	if strings.Join(rec.calls, ",") != strings.Join(want, ",") {
		t.Errorf("calls %v, want %v", rec.calls, want)
	}
	// The reset is the engine's, announced on every screen.
	m = update(m, engine.StatsReset{By: "alice", At: t0.Add(70 * time.Second)})
	if !strings.Contains(plain(m), "statistics reset by alice") || len(m.c.servers[0].history) != 0 {
		t.Errorf("after the engine's reset:\n%s", plain(m))
	}
}

// Questions from the engine's facts: when the name moves while a question
// is open, it is redrawn with the move y now makes, and a y within a
// second of the redraw is ignored; when nothing is left to do it closes
// with a note. Never a question whose move differs from what y does.
func TestQuestionFollowsTheFacts(t *testing.T) {
	now := t0.Add(70 * time.Second)
	rec := &recorder{}
	opts := Options{Actions: rec}
	m := fixture(opts)
	m.opts.Now = func() time.Time { return now }
	m.c.now = m.opts.Now
	m = update(m, tea.WindowSizeMsg{Width: 120, Height: 40})
	m = update(m, beforeSwitch()...)
	m = update(m, press("f"))
	moved := afterSwitch()
	moved.Held, moved.Services[0].Held = false, false
	m = update(m, moved)
	if out := plain(m); !strings.Contains(out, "tomtotrading.com is already on private: hold the router's netwatch") ||
		!strings.Contains(eventTexts(m), "the facts changed; the question is now") {
		t.Fatalf("the question after the name moved:\n%s", out)
	}
	m = update(m, press("y"))
	if len(rec.calls) != 0 {
		t.Errorf("a y within a second of the redraw answered: %v", rec.calls)
	}
	now = now.Add(2 * time.Second)
	m = update(m, press("y"))
	if strings.Join(rec.calls, ",") != "hold tomtotrading.com" {
		t.Errorf("calls %v, want the hold the question showed", rec.calls)
	}

	// Held now: the same question has nothing left to do, and closes.
	m = update(m, beforeSwitch()[len(beforeSwitch())-1], press("f"))
	m = update(m, afterSwitch())
	if out := plain(m); strings.Contains(out, "Fail over tomtotrading.com") || !strings.Contains(eventTexts(m), "question closed, the facts changed: tomtotrading.com is already on private: nothing to do") {
		t.Errorf("the question with nothing left to do:\n%s", out)
	}
}

// A key that asks closes what would hide the question: with help or the
// detail view open, f shows its confirmation before y can answer it.
func TestConfirmationIsAlwaysSeen(t *testing.T) {
	for _, open := range []string{"?", "enter"} {
		rec := &recorder{}
		m := update(fixture(Options{Actions: rec}), tea.WindowSizeMsg{Width: 120, Height: 40})
		m = update(m, beforeSwitch()...)
		m = update(m, press(open), press("f"))
		if !strings.Contains(plain(m), "Fail over tomtotrading.com from public to private") {
			t.Errorf("after %q then f, the question is not on screen:\n%s", open, plain(m))
		}
	}
}

// Restoring to a primary that is DOWN says so in the question.
func TestRestoreToADownPrimaryWarns(t *testing.T) {
	m := update(fixture(Options{}), tea.WindowSizeMsg{Width: 200, Height: 60})
	m = update(m, scene()...)
	m = update(m, press("r"))
	if !strings.Contains(plain(m), "WARNING: public is DOWN for 18s") || !strings.Contains(plain(m), "type public and enter to confirm") {
		t.Errorf("no warning:\n%s", plain(m))
	}
}

func TestReadOnly(t *testing.T) {
	rec := &recorder{}
	m := update(fixture(Options{Actions: rec, ReadOnly: true}), tea.WindowSizeMsg{Width: 120, Height: 40})
	m = update(m, press("f"), press("y"), press("r"), press("y"), press("h"), press("y"), press("c"))
	out := plain(m)
	if len(rec.calls) != 0 || strings.Contains(out, "Fail over") || !strings.Contains(out, "[READ-ONLY]") {
		t.Errorf("read-only acted: %v\n%s", rec.calls, out)
	}
	if strings.Contains(out, "fail over to standby") || strings.Contains(out, "restore primary") {
		t.Errorf("read-only help shows action keys:\n%s", out)
	}
}

// A theme from the config wins over what the terminal says.
func TestThemeFromConfig(t *testing.T) {
	dark := update(fixture(Options{}), tea.WindowSizeMsg{Width: 120, Height: 40})
	light := update(fixture(Options{Theme: "light"}), tea.WindowSizeMsg{Width: 120, Height: 40},
		tea.BackgroundColorMsg{Color: color.Black})
	if dark.isDark == light.isDark || light.isDark || dark.render() == light.render() {
		t.Errorf("light theme: isDark %v", light.isDark)
	}
	auto := update(fixture(Options{}), tea.BackgroundColorMsg{Color: color.White})
	if auto.isDark {
		t.Error("auto did not follow a white background")
	}
}

func TestTooSmallAndPause(t *testing.T) {
	m := update(fixture(Options{}), tea.WindowSizeMsg{Width: 60, Height: 20})
	if !strings.Contains(plain(m), "terminal too small: 60x20, failwatch needs at least 80x24") {
		t.Errorf("small terminal:\n%s", plain(m))
	}
	m = update(m, tea.WindowSizeMsg{Width: 100, Height: 30})
	m = update(m, scene()...)
	m = update(m, press("p"))
	frozen := m.View().Content
	later := t0.Add(80 * time.Second)
	m = update(m, engine.LogLine{Kind: routeros.LogDisconnected, Err: errors.New("connection reset"), At: later})
	if m.View().Content != frozen || !strings.Contains(frozen, "[PAUSED]") {
		t.Error("the paused screen changed")
	}
	m = update(m, press("p"))
	if !strings.Contains(m.View().Content, "log follow stopped: connection reset") {
		t.Error("unpausing did not show what came in")
	}
	// A reconnect loop against a dead router says it once.
	for range 5 {
		m = update(m, engine.LogLine{Kind: routeros.LogDisconnected, Err: errors.New("connection reset"), At: later})
	}
	if n := strings.Count(plain(m), "log follow stopped: connection reset"); n != 1 {
		t.Errorf("the same disconnect shown %d times", n)
	}
}

func TestDetailAndSelection(t *testing.T) {
	m := update(fixture(Options{}), tea.WindowSizeMsg{Width: 120, Height: 40})
	m = update(m, scene()...)
	m = update(m, press("j"), press("enter"))
	out := plain(m)
	if !strings.Contains(out, "private · standby · 192.10.10.2") || !strings.Contains(out, "lifetime 60") {
		t.Errorf("detail of the second server:\n%s", out)
	}
	m = update(m, press("esc"))
	if strings.Contains(plain(m), "(esc back)") {
		t.Error("esc did not leave the detail view")
	}
}

// The dashboard tells the engine's switch (one definition of
// fault-to-switch), and a planned move as one with no fault to blame.
func TestSwitchTime(t *testing.T) {
	m := update(fixture(Options{}), tea.WindowSizeMsg{Width: 120, Height: 40})
	m = update(m, scene()...)
	if !strings.Contains(plain(m), "switch: public → private, 2.9s after public went down") ||
		!strings.Contains(plain(m), "DNS answer changed: 104.247.193.168 (public) → 192.10.10.2 (private)") {
		t.Errorf("no switch time:\n%s", plain(m))
	}
	m = update(m, engine.Switch{Service: paper.Name, From: "private", To: "public", At: t0.Add(90 * time.Second),
		Cause: engine.Cause{Kind: engine.CauseFailwatch, Who: "ssh:alice", Op: "restore"}})
	if !strings.Contains(plain(m), "switch: private → public (no fault: a planned move by ssh:alice)") {
		t.Errorf("a planned move:\n%s", plain(m))
	}
}

// Who did it: a move failwatch did not make is never called planned; it
// names the router's netwatch with its line, another admin, or says the
// cause is unknown.
func TestSwitchCause(t *testing.T) {
	for _, c := range []struct {
		cause        engine.Cause
		header, line string
	}{
		{engine.Cause{Kind: engine.CauseNetwatch, Line: "netwatch,info event up [ type: simple, host: 104.247.193.168 ]"},
			"switch: private → public (by netwatch, no fault seen)", "by the router's netwatch: netwatch,info event up [ type: simple, host: 104.247.193.168 ]"},
		{engine.Cause{Kind: engine.CauseOutside, Who: "admin", Line: "system,info static dns entry changed by admin"},
			"switch: private → public (outside failwatch, no fault seen)", "changed outside failwatch: system,info static dns entry changed by admin"},
		{engine.Cause{Kind: engine.CauseUnknown, Why: "the router's log is not being followed"},
			"switch: private → public (cause unknown, no fault seen)", "cause unknown: the router's log is not being followed"},
	} {
		m := update(fixture(Options{}), tea.WindowSizeMsg{Width: 200, Height: 50})
		m = update(m, scene()...)
		m = update(m, engine.Switch{Service: paper.Name, From: "private", To: "public", At: t0.Add(90 * time.Second), Cause: c.cause})
		screen := plain(m)
		if !strings.Contains(screen, c.header) || !strings.Contains(screen, c.line) || strings.Contains(screen, "planned") {
			t.Errorf("%s: want %q and %q, no planned move:\n%s", c.cause.Kind, c.header, c.line, screen)
		}
	}
}

func BenchmarkView(b *testing.B) {
	m := update(fixture(Options{}), tea.WindowSizeMsg{Width: 120, Height: 40})
	m = update(m, scene()...)
	b.ReportAllocs()
	for b.Loop() {
		_ = m.View()
	}
}

// Forward keeps the order of the events, takes the log lines waiting
// together into one message (at most maxLogBatch lines), and sends the
// other events as they are, where they stand among the lines.
func TestForwardBatchesLogLines(t *testing.T) {
	in := make(chan engine.Event, 2600)
	for i := range 2500 {
		in <- engine.LogLine{Kind: routeros.LogLine, Entry: routeros.LogEntry{Seq: uint64(i)}}
		if i == 1200 {
			in <- engine.DNSAnswer{DNSAnswer: monitor.DNSAnswer{Name: "between"}}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var msgs []tea.Msg
	done := make(chan struct{})
	lines := 0
	go func() {
		defer close(done)
		Forward(ctx, in, func(m tea.Msg) {
			msgs = append(msgs, m)
			if b, ok := m.(LogBatchMsg); ok {
				lines += len(b)
			}
			if lines == 2500 {
				cancel()
			}
		})
	}()
	<-done
	var got []uint64
	dnsAt := -1
	for _, m := range msgs {
		switch m := m.(type) {
		case LogBatchMsg:
			if len(m) > maxLogBatch {
				t.Errorf("a batch of %d lines", len(m))
			}
			for _, ev := range m {
				got = append(got, ev.Entry.Seq)
			}
		case engine.DNSAnswer:
			dnsAt = len(got)
		}
	}
	if len(got) != 2500 || len(msgs) > 5 || dnsAt != 1201 {
		t.Fatalf("%d messages, %d lines, the DNS event after line %d", len(msgs), len(got), dnsAt)
	}
	for i, s := range got {
		if s != uint64(i) {
			t.Fatalf("line %d is %d: out of order", i, s)
		}
	}
}

// The header tells a dropped connection (reconnecting) from a router that
// does not answer a redial (unreachable, since when).
func TestRouterLinkInHeader(t *testing.T) {
	m := update(fixture(Options{}), tea.WindowSizeMsg{Width: 120, Height: 40})
	since := time.Date(2026, 11, 25, 18, 30, 5, 0, time.UTC)
	m = update(m, engine.Reading{RouterState: routeros.RouterState{At: since, Err: errors.New("EOF"), Link: routeros.Link{State: routeros.LinkReconnecting, Since: since}}})
	if s := plain(m); !strings.Contains(s, "router reconnecting: EOF") || strings.Contains(s, "unreachable") {
		t.Errorf("reconnecting:\n%s", s)
	}
	m = update(m, engine.Reading{RouterState: routeros.RouterState{At: since, Err: errors.New("refused"), Link: routeros.Link{State: routeros.LinkUnreachable, Since: since}}})
	if s := plain(m); !strings.Contains(s, "router unreachable since 18:30:05: refused") {
		t.Errorf("unreachable:\n%s", s)
	}
}

// A router line stamped in the router's zone is shown in the viewer's.
func TestRouterTimesInTheViewersZone(t *testing.T) {
	jakarta := time.FixedZone("+07:00", 7*3600)
	m := update(fixture(Options{}), tea.WindowSizeMsg{Width: 120, Height: 40},
		engine.LogLine{Kind: routeros.LogLine, At: t0, Entry: routeros.LogEntry{Time: t0.In(jakarta), Topics: []string{"system", "info"}, Message: "static dns entry changed"}})
	s := plain(m)
	if !strings.Contains(s, "18:33:31 router system,info: static dns entry changed") || strings.Contains(s, "01:33:31") {
		t.Errorf("not in the viewer's zone:\n%s", s)
	}
}

// A long resolver error is cut, with an ellipsis, before ACTIVE and the
// flags are; the name resolving to nothing is an alarm, not routine.
func TestHeaderKeepsActive(t *testing.T) {
	m := update(fixture(Options{ReadOnly: true}), tea.WindowSizeMsg{Width: 80, Height: 24})
	m = update(m, scene()...)
	m = update(m, engine.DNSAnswer{DNSAnswer: monitor.DNSAnswer{At: t0.Add(80 * time.Second), Err: errors.New("dns 127.0.0.1:53: no answer: read udp 127.0.0.1:39912->127.0.0.1:53: read: connection refused")}})
	header := strings.Split(plain(m), "\n")[1]
	if !strings.Contains(header, "ACTIVE private") || !strings.Contains(header, "[READ-ONLY]") || !strings.Contains(header, "…") {
		t.Errorf("header: %q", header)
	}
	m = update(fixture(Options{}), tea.WindowSizeMsg{Width: 120, Height: 40})
	m = update(m, scene()...)
	m = update(m, engine.DNSAnswer{DNSAnswer: monitor.DNSAnswer{At: t0.Add(80 * time.Second)}})
	if !strings.Contains(plain(m), "clients get no address for tomtotrading.com") {
		t.Errorf("no alarm for an empty answer:\n%s", plain(m))
	}
}

// Two enabled records, or none, is an alarm, and its end is said.
func TestUndefinedAnswerAlarm(t *testing.T) {
	m := update(fixture(Options{}), tea.WindowSizeMsg{Width: 120, Height: 40})
	recs := []routeros.Record{{ID: "*1", Address: "192.10.10.2"}, {ID: "*2", Address: "104.247.193.168"}}
	m = update(m,
		withFacts(engine.Reading{RouterState: routeros.RouterState{At: t0, Connected: true, Records: recs}}, "public", 1, nil),
		withFacts(engine.Reading{RouterState: routeros.RouterState{At: t0.Add(time.Second), Connected: true, Records: recs}}, "", 2, nil),
		withFacts(engine.Reading{RouterState: routeros.RouterState{At: t0.Add(2 * time.Second), Connected: true, Records: recs}}, "private", 1, nil))
	out := plain(m)
	if !strings.Contains(out, "2 enabled records for tomtotrading.com: the router's answer is undefined") ||
		!strings.Contains(out, "one enabled record again: private") {
		t.Errorf("events:\n%s", out)
	}
}

// A card's numbers are its ICMP check's even when another check answers
// first, and they say which check they are from.
func TestCardShowsICMPFirst(t *testing.T) {
	m := update(fixture(Options{}), tea.WindowSizeMsg{Width: 120, Height: 40})
	tcp := monitor.CheckStatus{Label: "tcp/443", State: monitor.Up, Window: monitor.Stats{Sent: 1, Received: 1, Last: 9 * time.Millisecond, Avg: 9 * time.Millisecond}}
	icmp := monitor.CheckStatus{Label: "icmp", State: monitor.Up, Window: monitor.Stats{Sent: 1, Received: 1, Last: 2 * time.Millisecond, Avg: 2 * time.Millisecond}}
	m = update(m,
		engine.ServerEvent{Time: t0, Server: "private", Type: monitor.EventSample, Sample: monitor.Sample{OK: true, RTT: 9 * time.Millisecond}, Check: tcp},
		engine.ServerEvent{Time: t0, Server: "private", Type: monitor.EventSample, Sample: monitor.Sample{OK: true, RTT: 2 * time.Millisecond}, Check: icmp})
	if out := plain(m); !strings.Contains(out, "rtt ms  last 2.00") || strings.Contains(out, "last 9.00") {
		t.Errorf("the card:\n%s", out)
	}
}

// A finished operation leaves the header when the name switches again (or
// a minute after it ended): the header tells the latest, not the last
// thing someone did.
func TestHeaderOperationClears(t *testing.T) {
	m := update(fixture(Options{}), tea.WindowSizeMsg{Width: 120, Height: 40})
	m = update(m, scene()...)
	header := func() string { return strings.Join(strings.Split(plain(m), "\n")[:3], "\n") }
	if !strings.Contains(header(), "failover") {
		t.Fatalf("the operation is not in the header:\n%s", header())
	}
	m = update(m, engine.Switch{Service: paper.Name, From: "private", To: "public", At: t0.Add(65 * time.Second), Cause: engine.Cause{Kind: engine.CauseNetwatch}})
	if h := header(); strings.Contains(h, "read state") || !strings.Contains(h, "switch: private → public") {
		t.Errorf("after a later switch:\n%s", h)
	}
}

// Events stay in time order (a late one goes in its place, marked), carry
// their date when not today, are cut with an ellipsis, and filter by kind.
func TestEventPane(t *testing.T) {
	m := update(fixture(Options{}), tea.WindowSizeMsg{Width: 80, Height: 30})
	m = update(m,
		engine.PolicyNote{At: t0.Add(10 * time.Second), Text: "second"},
		engine.PolicyNote{At: t0.Add(3 * time.Second), Text: "first, late"},
		engine.PolicyNote{At: t0.Add(9 * time.Second), Text: "same moment"},
		engine.LogLine{Kind: routeros.LogLine, At: t0, Entry: routeros.LogEntry{Time: t0.Add(-48 * time.Hour), Topics: []string{"system"}, Message: "two days ago"}},
		NoteMsg{At: t0.Add(20 * time.Second), Source: "op", Text: strings.Repeat("long ", 30)})
	out := plain(m)
	i, j := strings.Index(out, "first, late (came late)"), strings.Index(out, "second")
	if i < 0 || j < 0 || i > j {
		t.Errorf("order:\n%s", out)
	}
	// "(came late)" only for a line more than 5 s older than the newest.
	if !strings.Contains(out, "same moment") || strings.Contains(out, "same moment (came late)") {
		t.Errorf("a line of the same moment marked late:\n%s", out)
	}
	if !strings.Contains(out, "Oct 21 18:33:31 router system: two days ago") || !strings.Contains(out, "lon…") {
		t.Errorf("date or ellipsis:\n%s", out)
	}
	m = update(m, press("e"))
	out = plain(m)
	if !strings.Contains(out, "two days ago") || strings.Contains(out, "second") || !strings.Contains(out, "(router; e for more)") {
		t.Errorf("the router filter:\n%s", out)
	}
}

// Help says how the ICMP round trips are timed and how far from ping.
func TestHelpSaysHowRTTsAreTimed(t *testing.T) {
	m := update(fixture(Options{}), tea.WindowSizeMsg{Width: 100, Height: 50}, press("?"))
	out := strings.Join(strings.Fields(plain(m)), " ")
	if !strings.Contains(out, "reply stamped by the kernel on arrival") || !strings.Contains(out, "avg +0.007 ms") {
		t.Errorf("help:\n%s", plain(m))
	}
}

// The router panel shows the name's records with their servers and the
// servers' netwatch entries as the engine labelled them: in full when there
// is room, in two lines at 80x24, not on a wall.
func TestRouterPanel(t *testing.T) {
	msg := withFacts(engine.Reading{RouterState: routeros.RouterState{At: time.Now(), Connected: true,
		Records: []routeros.Record{
			{ID: "*1", Type: "A", Address: "104.247.193.168", TTL: "30s", Comment: "Server Public"},
			{ID: "*2", Type: "A", Address: "192.10.10.2", TTL: "30s", Comment: "ServerPrivate", Disabled: true},
			{ID: "*3", Type: "TXT", Data: "v=spf1 -all", TTL: "1d"},
		},
		Netwatch: []routeros.Netwatch{
			{ID: "*4", Host: "104.247.193.168", Type: "icmp", Status: "up", Since: "2026-11-26 01:02:03"},
			{ID: "*5", Host: "192.10.10.2", Type: "tcp-conn", Status: "unknown", Disabled: true, Comment: "x" + failover.HoldMark},
			{ID: "*6", Host: "192.10.10.2", Type: "simple", Status: "down", Disabled: true},
		}},
		HeldEntries: map[string]bool{"*5": true}}, "public", 1, map[string]string{"*1": "public", "*2": "private"})
	oneSpace := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	full := oneSpace(plain(update(fixture(Options{}), tea.WindowSizeMsg{Width: 200, Height: 60}, msg)))
	for _, want := range []string{
		`*1 on A 104.247.193.168 ttl 30s public "Server Public"`,
		`*2 off A 192.10.10.2 ttl 30s private "ServerPrivate"`,
		`*3 on TXT v=spf1 -all ttl 1d`,
		`*4 104.247.193.168 icmp up since 2026-11-26 01:02:03`,
		`*5 192.10.10.2 tcp-conn held`,
		`*6 192.10.10.2 simple disabled`,
	} {
		if !strings.Contains(full, want) {
			t.Errorf("200x60: no %q in\n%s", want, full)
		}
	}
	small := oneSpace(plain(update(fixture(Options{}), tea.WindowSizeMsg{Width: 80, Height: 24}, msg)))
	for _, want := range []string{"Records *1 on A public", "*2 off A private", "Netwatch *4 104.247.193.168 up", "*5 192.10.10.2 held"} {
		if !strings.Contains(small, want) {
			t.Errorf("80x24: no %q in\n%s", want, small)
		}
	}
	if wall := plain(update(fixture(Options{Wall: true}), tea.WindowSizeMsg{Width: 200, Height: 60}, msg)); strings.Contains(wall, "Netwatch") {
		t.Errorf("the wall shows the router panel:\n%s", wall)
	}
}

// A reloaded server list adds and removes cards; a card whose server did
// not change keeps its history, and the selection stays on its server.
func TestServersReloaded(t *testing.T) {
	m := update(fixture(Options{}), tea.WindowSizeMsg{Width: 200, Height: 60})
	m = update(m, scene()...)
	m = update(m, press("down"))
	private := m.c.servers[1]
	if private.cfg.Name != "private" || len(private.history) == 0 || m.c.selected != 1 {
		t.Fatalf("fixture: %+v selected %d", private.cfg, m.c.selected)
	}
	web3 := config.Server{Name: "web3", Role: config.Monitor, Address: "192.0.2.30"}
	m = update(m, engine.ServersChanged{m.c.servers[1].cfg, web3})
	if len(m.c.servers) != 2 || m.c.servers[0] != private || m.c.servers[1].cfg.Name != "web3" || m.c.selected != 0 {
		t.Fatalf("after reload: %d cards, selected %d", len(m.c.servers), m.c.selected)
	}
	if out := plain(m); !strings.Contains(out, "web3 · monitor") || strings.Contains(out, "public · primary") {
		t.Errorf("cards:\n%s", out)
	}
}

// `/` narrows the events to a search typed in place (keys that would act
// are text while typing), enter keeps it, esc clears it; G goes back to the
// newest after scrolling.
func TestEventSearch(t *testing.T) {
	m := update(fixture(Options{}), tea.WindowSizeMsg{Width: 120, Height: 60})
	m = update(m, scene()...)
	typed := []tea.Msg{press("/")}
	for _, r := range "hold q" {
		typed = append(typed, press(string(r)))
	}
	m = update(m, typed...)
	if !m.events.searching || m.events.query != "hold q" {
		t.Fatalf("typing: searching %v query %q", m.events.searching, m.events.query)
	}
	m = update(m, tea.KeyPressMsg{Code: tea.KeyBackspace}, tea.KeyPressMsg{Code: tea.KeyBackspace}, tea.KeyPressMsg{Code: tea.KeyEnter})
	out := plain(m)
	events := out[strings.Index(out, "Events"):]
	if m.events.searching || !strings.Contains(events, `search "hold": `) || !strings.Contains(events, "failover: hold netwatch ok") ||
		strings.Contains(events, "verify ok") {
		t.Errorf("search:\n%s", events)
	}
	m = update(m, tea.KeyPressMsg{Code: tea.KeyEscape})
	if m.events.query != "" || !strings.Contains(plain(m), "verify ok") {
		t.Errorf("esc did not clear the search: %q", m.events.query)
	}
	m = update(m, press("u"), press("u"))
	if m.events.scroll == 0 {
		t.Fatal("u did not scroll")
	}
	if m = update(m, press("G")); m.events.scroll != 0 {
		t.Errorf("G left scroll at %d", m.events.scroll)
	}
}

// Help comes in sections, with a legend for every glyph and colour and the
// word that y confirms; read-only has no Actions section.
func TestHelpSectionsAndLegend(t *testing.T) {
	out := plain(update(fixture(Options{}), tea.WindowSizeMsg{Width: 120, Height: 40}, press("?")))
	for _, want := range []string{"Actions", "Navigation", "View", "Legend", "f        fail over to standby",
		"/        search events", "a lost probe", "taller is slower", "y confirms, any other key cancels", "DEGRADED some do"} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q:\n%s", want, out)
		}
	}
	ro := plain(update(fixture(Options{ReadOnly: true}), tea.WindowSizeMsg{Width: 120, Height: 40}, press("?")))
	if strings.Contains(ro, "Actions") || strings.Contains(ro, "fail over to standby") || !strings.Contains(ro, "Navigation") {
		t.Errorf("read-only help:\n%s", ro)
	}
}

// The line mode's status line and the lines it prints at once.
func TestLines(t *testing.T) {
	l := NewLines(Options{Services: []config.Service{paper.Service()}, Servers: []config.Server{{Name: "public"}, {Name: "private"}}, Zone: time.UTC})
	if got := l.Line(); !strings.Contains(got, "ACTIVE unknown (no reading yet) | public UNKNOWN | private UNKNOWN | dns not asked yet | router connecting") {
		t.Errorf("before anything: %q", got)
	}
	for _, ev := range []engine.Event{
		engine.Reading{RouterState: routeros.RouterState{Connected: true}, Services: []engine.Facts{{Service: paper.Name, State: engine.FactKnown, Active: "public"}}},
		engine.ServerEvent{Server: "public", Type: monitor.EventSample, State: monitor.Down,
			Check: monitor.CheckStatus{Label: "icmp", Window: monitor.Stats{Sent: 4, Received: 3, Last: 196 * time.Millisecond}}},
		engine.DNSAnswer{DNSAnswer: monitor.DNSAnswer{Addrs: []netip.Addr{netip.MustParseAddr("192.10.10.2")}}, Server: "private", Service: paper.Name},
	} {
		if got := l.Observe(ev); got != "" {
			t.Errorf("a routine event printed %q", got)
		}
	}
	if got := l.Line(); !strings.Contains(got, "ACTIVE public | public DOWN icmp lost loss 25.0% | private UNKNOWN | dns 192.10.10.2 (private) | router connected") {
		t.Errorf("status: %q", got)
	}
	for _, tc := range []struct {
		ev   engine.Event
		want string
	}{
		{engine.Switch{Service: paper.Name, From: "public", To: "private", Fault: true, After: 3 * time.Second,
			Cause: engine.Cause{Kind: engine.CauseNetwatch, Line: "netwatch,info event down [ type: simple, host: 104.247.193.168 ]"}},
			"tomtotrading.com moved from public to private, 3s after public went down; by the router's netwatch: netwatch,info event down [ type: simple, host: 104.247.193.168 ]"},
		{engine.PolicyNote{Text: "failing over: public DOWN for 30s"}, "policy: failing over: public DOWN for 30s"},
		{engine.Reading{RouterState: routeros.RouterState{Err: errors.New("EOF")}}, "router unreachable: EOF"},
	} {
		if got := l.Observe(tc.ev); !strings.HasSuffix(got, tc.want) {
			t.Errorf("got %q, want ... %q", got, tc.want)
		}
	}
}

// The detail chart at 120x40, in colour and in ASCII without colour: round
// millisecond ticks from zero, round times, one line per check, avg and p95
// rows, lost probes marked under the time axis.
func TestGoldenDetail(t *testing.T) {
	for _, plainText := range []bool{false, true} {
		name := "colour"
		if plainText {
			name = "ascii-nocolor"
		}
		t.Run(name, func(t *testing.T) {
			m := update(fixture(Options{ASCII: plainText, NoColor: plainText}), tea.WindowSizeMsg{Width: 120, Height: 40})
			m = update(m, scene()...)
			m = update(m, press("enter"))
			golden.RequireEqual(t, m.render())
		})
	}
}

// The chart's axes: y from zero in round steps (zoom starts at the data),
// time labels on round seconds, and each lost probe marked in its column.
func TestDetailChart(t *testing.T) {
	m := update(fixture(Options{ASCII: true, NoColor: true}), tea.WindowSizeMsg{Width: 120, Height: 40})
	m = update(m, scene()...)
	m = update(m, press("enter"))
	out := plain(m)
	for _, want := range []string{"range 1m (1-4)  y from 0 (z)", "250+", "200+", "  0+", "18:34:00", "18:34:10", "-- icmp", "-- http"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q:\n%s", want, out)
		}
	}
	lostRow := ""
	for l := range strings.Lines(out) {
		if strings.HasPrefix(l, "lost ") {
			lostRow = l
		}
	}
	// public's 22 lost probes of the last minute fall in 19 distinct columns
	// (a lost icmp and http probe of the same second share one).
	if n := strings.Count(lostRow, "X"); n < 15 {
		t.Errorf("lost row marks %d probes: %q", n, lostRow)
	}
	zoomed := plain(update(m, press("z")))
	if strings.Contains(zoomed, "  0+") || !strings.Contains(zoomed, "y zoomed to the data") || !strings.Contains(zoomed, "190+") {
		t.Errorf("zoomed:\n%s", zoomed)
	}
	if hour := plain(update(m, press("3"))); !strings.Contains(hour, "range 1h (1-4)") || !strings.Contains(hour, "18:30") {
		t.Errorf("1h range:\n%s", hour)
	}
}

func TestNiceSteps(t *testing.T) {
	for _, tc := range []struct{ raw, want float64 }{{0.3, 0.5}, {7, 10}, {42, 50}, {150, 200}, {0, 1}, {1, 1}} {
		if got := niceStep(tc.raw); got != tc.want {
			t.Errorf("niceStep(%v) = %v, want %v", tc.raw, got, tc.want)
		}
	}
	for _, tc := range []struct {
		span  time.Duration
		width int
		want  time.Duration
	}{{time.Minute, 116, 10 * time.Second}, {time.Hour, 116, 10 * time.Minute}, {10 * time.Minute, 60, 2 * time.Minute}} {
		if got := timeStep(tc.span, tc.width); got != tc.want {
			t.Errorf("timeStep(%v, %d) = %v, want %v", tc.span, tc.width, got, tc.want)
		}
	}
}

// The wall fills 120x40 to 250x70: block letters, the last switch, the DNS
// answer and a chart per server, no selection and no footer.
func TestWallSizes(t *testing.T) {
	for _, size := range [][2]int{{120, 40}, {250, 70}} {
		m := update(fixture(Options{Wall: true, ReadOnly: true, ASCII: true, NoColor: true}), tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		m = update(m, scene()...)
		out := plain(m)
		if n := strings.Count(out, "\n") + 1; n != size[1] {
			t.Errorf("%dx%d: %d lines", size[0], size[1], n)
		}
		for _, want := range []string{"#####", "last switch Oct 23 18:34:23: public -> private, 2.9s after public went down",
			"DNS tomtotrading.com -> 192.10.10.2 (private)", "lost ", "18:34:00"} {
			if !strings.Contains(out, want) {
				t.Errorf("%dx%d: no %q:\n%s", size[0], size[1], want, out)
			}
		}
		if strings.Contains(out, "q quit") || strings.Contains(out, "#===") {
			t.Errorf("%dx%d: a footer or a selected card on the wall:\n%s", size[0], size[1], out)
		}
	}
}

// The router panel, kept between frames, goes when the router does.
func TestRouterPanelFollowsTheRouter(t *testing.T) {
	m := update(fixture(Options{}), tea.WindowSizeMsg{Width: 200, Height: 60})
	m = update(m, scene()...)
	if !strings.Contains(plain(m), "Netwatch") {
		t.Fatal("no router panel")
	}
	m = update(m, engine.Reading{RouterState: routeros.RouterState{At: t0.Add(80 * time.Second), Err: errors.New("EOF")}})
	if strings.Contains(plain(m), "Netwatch") {
		t.Errorf("the panel outlived the router:\n%s", plain(m))
	}
}

// w wraps long events under their text instead of cutting them, and the
// pane still ends with the newest line.
func TestEventWrap(t *testing.T) {
	m := update(fixture(Options{}), tea.WindowSizeMsg{Width: 80, Height: 40})
	m = update(m, scene()...)
	long := "failover done in 12ms: tomtotrading.com is already on private; netwatch held: *1, *2"
	if out := plain(m); strings.Contains(out, "netwatch held: *1, *2") || !strings.Contains(out, "on private; …") {
		t.Fatalf("cut:\n%s", out)
	}
	out := plain(update(m, press("w")))
	lines := strings.Split(out, "\n")
	i := slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, "failover done in 12ms") })
	if i < 0 || i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], strings.Repeat(" ", 16)) ||
		!strings.Contains(strings.Join(strings.Fields(lines[i]+" "+lines[i+1]), " "), long) {
		t.Errorf("wrapped:\n%s", out)
	}
}

// Golden screens of the questions: a failover asked with help open, and
// with the detail view open (the question is drawn over them), and a
// restore towards a primary that is DOWN (the warning and the typed name),
// in colour and in ASCII without colour.
func TestGoldenQuestions(t *testing.T) {
	for _, tc := range []struct {
		name string
		keys []string
	}{{"over-help", []string{"?", "r"}}, {"over-detail", []string{"enter", "r"}}, {"down-target", []string{"r"}}} {
		for _, plainText := range []bool{false, true} {
			name := tc.name
			if plainText {
				name += "-ascii-nocolor"
			}
			t.Run(name, func(t *testing.T) {
				m := update(fixture(Options{ASCII: plainText, NoColor: plainText}), tea.WindowSizeMsg{Width: 120, Height: 40})
				m = update(m, scene()...)
				for _, k := range tc.keys {
					m = update(m, press(k))
				}
				if m.confirm == nil {
					t.Fatalf("%v asked nothing", tc.keys)
				}
				golden.RequireEqual(t, m.render())
			})
		}
	}
	// The question after the name already moved: redrawn with the move y
	// now makes.
	t.Run("after-move", func(t *testing.T) {
		m := update(fixture(Options{ASCII: true, NoColor: true}), tea.WindowSizeMsg{Width: 120, Height: 40})
		m = update(m, beforeSwitch()...)
		m = update(m, press("f"))
		moved := afterSwitch()
		moved.Held, moved.Services[0].Held = false, false
		m = update(m, moved)
		golden.RequireEqual(t, m.render())
	})
}

// Golden screens of facts the dashboard does not have: the router
// unreachable from the start (the header says unknown and why, never "no
// single server"), facts gone stale (the last value, since when), and an
// unreadable row.
func TestGoldenFacts(t *testing.T) {
	unreachable := routeros.RouterState{At: t0, Err: errors.New("dial tcp 192.0.2.254:8728: connect: connection refused"),
		Link: routeros.Link{State: routeros.LinkUnreachable, Since: t0}}
	stale := scene()
	stale = append(stale, engine.FactsChanged{{Service: paper.Name, State: engine.FactStale, ReadAt: t0.Add(52 * time.Second),
		Why: "no reading since 18:34:23", Active: "private", Enabled: 1}})
	for name, msgs := range map[string][]tea.Msg{
		"unreachable": {engine.Reading{RouterState: unreachable, Services: []engine.Facts{{Service: paper.Name, State: engine.FactUnknown,
			Why: "router unreachable since 18:33:31: dial tcp 192.0.2.254:8728: connect: connection refused"}}}},
		"stale": stale,
		"unreadable": {engine.Reading{RouterState: routeros.RouterState{At: t0, Connected: true}, Services: []engine.Facts{{Service: paper.Name,
			State: engine.FactUnreadable, ReadAt: t0, Why: `unreadable: record *1: disabled "maybe" is not true or false`}}}},
	} {
		t.Run(name, func(t *testing.T) {
			tm := teatest.NewTestModel(t, fixture(Options{ASCII: true, NoColor: true}), teatest.WithInitialTermSize(120, 40))
			for _, msg := range msgs {
				tm.Send(msg)
			}
			tm.Send(tea.QuitMsg{})
			out := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).View().Content
			if strings.Contains(out, "no single server") {
				t.Errorf("\"no single server\" without a reading that says so:\n%s", out)
			}
			golden.RequireEqual(t, out)
		})
	}
}

// After an operation the screen says what the router may do next (the
// result's notes), and after a failure how to put back by hand each change
// left applied; a log line whose time the router's clock could not place
// shows the router's own time.
func TestOperationNotesAndUndo(t *testing.T) {
	m := update(fixture(Options{}), tea.WindowSizeMsg{Width: 200, Height: 60})
	m = update(m, engine.Done{Result: failover.Result{Operation: "failover", Outcome: failover.OutcomeChanged, Started: t0, To: "private",
		Notes: []string{"netwatch is not held: the router's netwatch may move the name back"}}})
	m = update(m, engine.Done{Result: failover.Result{Operation: "restore", Outcome: failover.OutcomeUnknown, Started: t0,
		Changes: []failover.Change{{Kind: "record", ID: "*2", What: "enable", Status: "unknown", Undo: "/ip dns static set *2 disabled=yes"},
			{Kind: "record", ID: "*1", What: "disable", Status: "undone", Undo: "/ip dns static set *1 disabled=no"}}},
		Err: errors.New("verify: the router did not answer")})
	m = update(m, engine.LogLine{Kind: routeros.LogLine, At: t0, Entry: routeros.LogEntry{Topics: []string{"system", "info"},
		Message: "static dns entry changed", ZoneUnknown: true, RawTime: "18:34:22"}})
	texts := eventTexts(m)
	for _, want := range []string{
		"warning: netwatch is not held: the router's netwatch may move the name back",
		"record *2 enable is unknown; to put it back: /ip dns static set *2 disabled=yes",
		"[router time 18:34:22] system,info: static dns entry changed",
	} {
		if !strings.Contains(texts, want) {
			t.Errorf("no %q in the events:\n%s", want, texts)
		}
	}
	if strings.Contains(texts, "*1 disabled=no") {
		t.Errorf("an undone change is offered to put back:\n%s", texts)
	}
}

// A switch the router's netwatch made before the probes saw the fault is
// timed from netwatch's event, and says so.
func TestSwitchTimedFromNetwatch(t *testing.T) {
	m := update(fixture(Options{}), tea.WindowSizeMsg{Width: 160, Height: 40})
	m = update(m, engine.Switch{Service: paper.Name, From: "public", To: "private", At: t0, Fault: true, After: 120 * time.Millisecond,
		DownBy: "netwatch", Cause: engine.Cause{Kind: engine.CauseNetwatch, Line: "netwatch,info event down [ type: simple, host: 104.247.193.168 ]"}})
	if !strings.Contains(plain(m), "switch: public → private, 120ms after the router's netwatch saw public down") {
		t.Errorf("the header:\n%s", plain(m))
	}
}
