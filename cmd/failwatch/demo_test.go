package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/failwatch/failwatch/internal/engine"
	"github.com/failwatch/failwatch/tui"
)

// headline is the demo's headline moment in the header: timed from the
// fault as the probes saw it, or as the router's netwatch did when it saw
// it first (its interval and the probes' race).
var headline = regexp.MustCompile(`switch: public → private, [0-9.]+m?s after (public went down|the router's netwatch saw public down)`)

// The demo's headline plays the same way every time: after x, the header
// shows "switch: public → private, N s after public went down" in every
// one of 10 runs (the demo's own world, emulator, engine and dashboard,
// without a terminal), and the paper's transient undefined answer, when
// its two netwatch entries race, is an event line, never the switch. The
// switch is the router's netwatch's, with its line.
func TestDemoHeadlineEveryTime(t *testing.T) {
	if testing.Short() {
		t.Skip("ten demo runs of about 20 s each, side by side")
	}
	for i := range 10 {
		t.Run("run "+strconv.Itoa(i+1), func(t *testing.T) {
			t.Parallel()
			d, r, err := newDemo("10s", false)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			d.auditLog = filepath.Join(t.TempDir(), "audit.jsonl")
			d.ui = tui.Options{Services: d.cfg.Services, Servers: d.cfg.Servers, Demo: true, Zone: time.UTC}
			eng, err := d.newEngine(out{stderr: io.Discard})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { eng.Run(ctx); close(done) }()
			defer func() { cancel(); <-done }()
			sub := eng.Subscribe(4096)
			defer sub.Close()
			var m tea.Model = tui.New(d.ui)
			m, _ = m.Update(tea.WindowSizeMsg{Width: 160, Height: 50})
			screen := func() string { return ansi.Strip(m.View().Content) }
			deadline := time.After(60 * time.Second)
			toggled := false
			for {
				select {
				case ev := <-sub.C():
					m, _ = m.Update(ev)
					switch ev := ev.(type) {
					case engine.Reading:
						if f, ok := ev.Of(d.cfg.Services[0].Name); ok && f.Defined() && f.Active == "public" && !toggled {
							d.demo.toggle()
							toggled = true
						}
					case engine.Switch:
						if ev.From != "public" || ev.To != "private" || !ev.Fault || ev.Cause.Kind != engine.CauseNetwatch {
							t.Fatalf("the switch: %+v\n%s", ev, screen())
						}
						header := strings.Join(strings.Split(screen(), "\n")[:3], "\n")
						if !headline.MatchString(header) {
							t.Fatalf("no headline in the header:\n%s", screen())
						}
						return
					}
				case <-deadline:
					t.Fatalf("no switch within a minute of x:\n%s", screen())
				}
			}
		})
	}
}

// The committed screenshots are of the current dashboard: each screen's
// text, as scripts/screenshots captured it from `failwatch demo` in tmux
// next to its picture, is what the demo's still scene draws now. A change
// to what these screens show fails here until the pictures are made again
// (scripts/screenshots).
func TestScreenshotsAreCurrent(t *testing.T) {
	seed, clock := screenshotScene(t)
	enter, esc, help := tea.KeyPressMsg{Code: tea.KeyEnter}, tea.KeyPressMsg{Code: tea.KeyEscape}, tea.KeyPressMsg{Code: '?', Text: "?"}
	for _, shot := range []struct {
		name          string
		wall          bool
		width, height int
		keys          []tea.Msg
	}{
		{"dashboard", false, 120, 40, nil},
		{"detail", false, 120, 40, []tea.Msg{enter}},
		{"help", false, 120, 40, []tea.Msg{enter, esc, help}},
		{"wall", true, 160, 48, nil},
	} {
		t.Run(shot.name, func(t *testing.T) {
			m := sceneModel(seed, clock, shot.wall, &stillActions{})
			m, _ = m.Update(tea.WindowSizeMsg{Width: shot.width, Height: shot.height})
			for _, k := range shot.keys {
				m, _ = m.Update(k)
			}
			got := screenText(ansi.Strip(m.View().Content))
			raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "screenshots", shot.name+".txt"))
			if err != nil {
				t.Fatal(err)
			}
			if want := screenText(string(raw)); got != want {
				t.Errorf("docs/screenshots/%s.txt is stale (run scripts/screenshots); the scene draws now:\n%s\n\nthe picture's text:\n%s", shot.name, got, want)
			}
		})
	}
	for _, key := range []string{"m", "R"} {
		m := sceneModel(seed, clock, false, &stillActions{})
		m, _ = m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
		m, _ = m.Update(help)
		if !regexp.MustCompile(`(?m)^\s*` + key + `\s+\S`).MatchString(ansi.Strip(m.View().Content)) {
			t.Errorf("the help screen lists no %s key", key)
		}
	}
}

// screenshotScene is the seed and clock docs/screenshots/scene.env gives.
func screenshotScene(t *testing.T) (uint64, time.Time) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "screenshots", "scene.env"))
	if err != nil {
		t.Fatal(err)
	}
	var seed uint64
	var clock time.Time
	for _, l := range strings.Split(string(raw), "\n") {
		k, v, _ := strings.Cut(l, "=")
		switch k {
		case "SEED":
			seed, err = strconv.ParseUint(v, 10, 64)
		case "CLOCK":
			clock, err = time.Parse(time.RFC3339, v)
		}
		if err != nil {
			t.Fatalf("docs/screenshots/scene.env: %s: %v", l, err)
		}
	}
	if clock.IsZero() {
		t.Fatal("docs/screenshots/scene.env gives no CLOCK")
	}
	return seed, clock
}

// screenText is a screen's lines without the spaces that end them, and
// without the empty lines that end it, as tmux captures them.
func screenText(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.TrimRight(strings.Join(lines, "\n"), "\n")
}
