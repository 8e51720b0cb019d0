package sshserve

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/engine"
	"github.com/failwatch/failwatch/internal/engine/enginetest"
	"github.com/failwatch/failwatch/internal/testkit"
	"github.com/failwatch/failwatch/routeros/rosim"
	"github.com/failwatch/failwatch/tui"
)

// Joining at any time gives the same picture: after 5,000 engine events
// (many fast simulated servers, a failover), a dashboard that joins late
// draws the same facts as one that was there from the start (the header,
// each server's state), from one message; and a late SSH session's first
// second of output is at most two full frames more than an early one's.
func TestLateJoinSeesTheSamePicture(t *testing.T) {
	_, api := testkit.Emulator(t, rosim.Options{})
	cfg := enginetest.PaperConfig(api)
	cfg.Probe.Interval = 20 * time.Millisecond
	cfg.Services[0].Auto.Enabled = false
	withMonitors := *cfg
	withMonitors.Servers = append([]config.Server(nil), cfg.Servers...)
	for i := range 40 {
		withMonitors.Servers = append(withMonitors.Servers, config.Server{Name: fmt.Sprint("m", i), Role: config.Monitor,
			Address: fmt.Sprintf("192.0.2.%d", 10+i), Checks: []config.Check{{Kind: config.ICMP}}})
	}
	e := runEngine(t, &withMonitors)

	ui := tui.Options{Services: cfg.Services, Servers: cfg.Servers, RouterAddr: cfg.Router.RouterAddr(), ReadOnly: true,
		Now: func() time.Time { return time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC) }, Zone: time.UTC}
	signer, line := key(t)
	ts := start(t, config.Serve{Users: []config.ServeUser{{Name: "noc", Role: "viewer", Keys: []string{line}}}}, e)
	early := e.Subscribe(1 << 16)
	defer early.Close()
	var earlyModel tea.Model = tui.New(ui)
	earlyModel, _ = earlyModel.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	c := login(t, ts.addr, "noc", signer)
	earlySSH := open(t, c, "xterm-256color", 120, 40, "")
	earlySSH.waitFor("READ-ONLY")

	// 5,000 events, with a failover among them.
	events, failedOver := 0, false
	deadline := time.After(60 * time.Second)
	for events < 5000 || !failedOver {
		select {
		case ev := <-early.C():
			events++
			earlyModel, _ = earlyModel.Update(ev)
			if r, ok := ev.(engine.Reading); ok && !failedOver && len(r.Services) == 1 && r.Services[0].Defined() {
				if err := e.Request(engine.Request{Op: engine.OpFailoverHold, By: engine.Requester{User: "alice", Role: engine.Operator}}); err != nil {
					t.Fatal(err)
				}
				failedOver = true
			}
		case <-deadline:
			t.Fatalf("%d events in a minute", events)
		}
	}
	// The monitors go (a reload), so that what is drawn next is the two
	// servers' steady trickle, the same for both sessions.
	if _, err := e.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	settle := time.After(3 * time.Second)
	for waiting := true; waiting; {
		select {
		case ev := <-early.C():
			earlyModel, _ = earlyModel.Update(ev)
		case <-settle:
			waiting = false
		}
	}

	late := e.Subscribe(16)
	defer late.Close()
	snap, ok := (<-late.C()).(engine.Snapshot)
	if !ok {
		t.Fatal("the late subscription does not start with a snapshot")
	}
	var lateModel tea.Model = tui.New(ui)
	lateModel, _ = lateModel.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	lateModel, _ = lateModel.Update(snap)
	// What came meanwhile to the early one, as the late one's next events.
	for len(early.C()) > 0 {
		earlyModel, _ = earlyModel.Update(<-early.C())
	}
	for len(late.C()) > 0 {
		lateModel, _ = lateModel.Update(<-late.C())
	}
	facts := func(m tea.Model) string {
		lines := strings.Split(ansi.Strip(m.View().Content), "\n")
		out := lines[:3]
		for _, l := range lines {
			if strings.Contains(l, " for ") && (strings.Contains(l, "UP") || strings.Contains(l, "DOWN")) {
				out = append(out, l)
			}
		}
		return strings.Join(out, "\n")
	}
	if a, b := facts(earlyModel), facts(lateModel); a != b || !strings.Contains(b, "ACTIVE private") || strings.Contains(b, "UNKNOWN") {
		t.Errorf("the late dashboard's facts differ from the early one's:\nearly:\n%s\nlate:\n%s", a, b)
	}

	// Over SSH: the late session's first second against the early one's
	// same second, and a full frame's size.
	c2 := login(t, ts.addr, "noc", signer)
	before := len(earlySSH.out.String())
	lateSSH := open(t, c2, "xterm-256color", 120, 40, "")
	time.Sleep(time.Second) // the measured second, a wait and not a poll
	earlyBytes, lateBytes := len(earlySSH.out.String())-before, len(lateSSH.out.String())
	frame := len(lateModel.View().Content)
	screen := ansi.Strip(lateSSH.out.String())
	if !strings.Contains(screen, "ACTIVE private") || strings.Contains(screen, "no switch seen") || strings.Contains(screen, "UNKNOWN") {
		t.Errorf("the late session's screen:\n%s", screen)
	}
	t.Logf("%d events before the join; late session %d bytes in its first second, early %d, a full frame %d", events, lateBytes, earlyBytes, frame)
	if lateBytes > earlyBytes+2*frame {
		t.Errorf("the join cost %d bytes, more than two frames (%d each) over the early session's %d", lateBytes, frame, earlyBytes)
	}
}
