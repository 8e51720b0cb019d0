package tui

import (
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/exp/golden"
)

// A cut line ends with the ellipsis, and a quotation the cut opened is
// closed after it; a line that fits is left alone.
func TestCutEndsWithEllipsisAndClosesQuotes(t *testing.T) {
	for _, tc := range []struct {
		in    string
		width int
		want  string
	}{
		{`*2 off A public "Server Public"`, 22, `*2 off A public "S..."`},
		{"failover  ok read state  ok hold netwatch", 20, "failover  ok read..."},
		{`say "a\"b" and more`, 14, `say "a\"b" ...`},
		{`fits "as it is"`, 40, `fits "as it is"`},
	} {
		got := cut(tc.in, tc.width, "...")
		if got != tc.want {
			t.Errorf("cut(%q, %d) = %q, want %q", tc.in, tc.width, got, tc.want)
		}
		if w := lipgloss.Width(got); w > tc.width {
			t.Errorf("cut(%q, %d) is %d cells wide", tc.in, tc.width, w)
		}
	}
}

// At 80x24 the detail view's numbers keep each check's window and
// lifetime loss (mdev goes first) and fit the width.
func TestDetailKeepsLossAt80x24(t *testing.T) {
	m := update(fixture(Options{ASCII: true, NoColor: true}), tea.WindowSizeMsg{Width: 80, Height: 24})
	m = update(m, scene()...)
	m = update(m, press("enter"))
	out := plain(m)
	for _, want := range []string{"window 60: avg 196  p95 200  jitter 2.73 ms  loss 36.7%", "lifetime 60: min 192  avg 196  max 200 ms  loss 36.7%",
		"http http://tom... DOWN  window 60:", "loss 16.7%"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q:\n%s", want, out)
		}
	}
	for i, l := range strings.Split(out, "\n") {
		if w := lipgloss.Width(l); w > 80 {
			t.Errorf("line %d is %d cells wide: %q", i+1, w, l)
		}
	}
}

// screenAt80x24 is the scene at 80x24 after keys.
func screenAt80x24(opts Options, keys ...string) Model {
	m := update(fixture(opts), tea.WindowSizeMsg{Width: 80, Height: 24})
	m = update(m, scene()...)
	for _, k := range keys {
		m = update(m, press(k))
	}
	return m
}

// lastLine is the screen's last line, without escape sequences.
func lastLine(m Model) string {
	lines := strings.Split(plain(m), "\n")
	return lines[len(lines)-1]
}

// At 80x24 the help does not fit: its last line says which lines show and
// how to scroll; j and k move a line, pgdn and pgup a page, within the text.
func TestHelpScrolls(t *testing.T) {
	m := screenAt80x24(Options{ASCII: true, NoColor: true}, "?")
	if out := plain(m); !strings.Contains(out, "Keys  (? or esc to close)") || strings.Contains(out, "Legend") {
		t.Fatalf("help's first page:\n%s", out)
	}
	if l := lastLine(m); !strings.HasPrefix(l, "lines 1-20 of 39: j/k, pgup/pgdn or the wheel scroll") {
		t.Errorf("position line: %q", l)
	}
	m = update(m, press("j"))
	if l := lastLine(m); !strings.HasPrefix(l, "lines 2-21 of 39") {
		t.Errorf("after j: %q", l)
	}
	m = update(m, press("k"), press("k"))
	if l := lastLine(m); !strings.HasPrefix(l, "lines 1-20 of 39") {
		t.Errorf("k above the top: %q", l)
	}
	// A page is the lines shown less one, kept for context.
	m = update(m, tea.KeyPressMsg{Code: tea.KeyPgDown})
	if l := lastLine(m); !strings.HasPrefix(l, "lines 20-39 of 39") {
		t.Errorf("after pgdn: %q", l)
	}
	m = update(m, tea.KeyPressMsg{Code: tea.KeyPgDown})
	out := plain(m)
	if l := lastLine(m); !strings.HasPrefix(l, "lines 20-39 of 39") || !strings.Contains(out, "Legend") || !strings.Contains(out, "(docs/BENCHMARKS.md).") {
		t.Errorf("after pgdn past the end:\n%s", out)
	}
	m = update(m, tea.KeyPressMsg{Code: tea.KeyPgUp})
	if l := lastLine(m); !strings.HasPrefix(l, "lines 1-20 of 39") {
		t.Errorf("after pgup: %q", l)
	}
	if m.c.selected != 0 {
		t.Errorf("j and k in the help moved the selection to %d", m.c.selected)
	}
	// Closed and opened again, it starts at the top.
	m = update(m, press("?"), press("?"))
	if l := lastLine(m); !strings.HasPrefix(l, "lines 1-20 of 39") {
		t.Errorf("reopened: %q", l)
	}
	// Where it all fits, there is no position line.
	big := update(fixture(Options{ASCII: true, NoColor: true}), tea.WindowSizeMsg{Width: 120, Height: 50}, press("?"))
	if strings.Contains(plain(big), "lines 1-") {
		t.Errorf("a position line on a help that fits:\n%s", plain(big))
	}
}

// The footer is one line of whole keys, by priority: help, quit, the
// focused part's first key, then the actions; what does not fit is left
// out, never cut.
func TestFooterByPriority(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		keys []string
		want string
	}{
		{"dashboard", Options{}, nil, "? all keys | q quit | enter detail | f fail over to standby | r restore primary"},
		{"detail", Options{}, []string{"enter"}, "? all keys | q quit | esc back | f fail over to standby | r restore primary"},
		// The mouse's key is too long for what is left.
		{"read-only", Options{ReadOnly: true}, nil, "? all keys | q quit | enter detail | down/j next server"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.ASCII, tc.opts.NoColor = true, true
			m := screenAt80x24(tc.opts, tc.keys...)
			if l := lastLine(m); l != tc.want {
				t.Errorf("footer:\n%q\nwant\n%q", l, tc.want)
			}
		})
	}
	// Wide, every key of the dashboard shows, the mouse's last.
	m := update(fixture(Options{ASCII: true, NoColor: true}), tea.WindowSizeMsg{Width: 200, Height: 60})
	if l := lastLine(m); !strings.HasSuffix(l, "| M mouse on/off (off: select text)") || strings.Contains(l, "...") {
		t.Errorf("wide footer: %q", l)
	}
}

// The wall changes nothing and has no selection or events: action,
// navigation and event keys do nothing there, its help lists only the
// keys it answers, and it leaves the mouse to the terminal. The demo's
// key that takes the simulated server down still works on the demo's
// wall, unless it is read-only.
func TestWallKeys(t *testing.T) {
	rec := &recorder{}
	m := update(fixture(Options{Wall: true, Demo: true, Actions: rec, ASCII: true, NoColor: true}), tea.WindowSizeMsg{Width: 120, Height: 40})
	m = update(m, scene()...)
	before := plain(m)
	for _, k := range []string{"f", "r", "h", "m", "R", "c", "y", "j", "enter", "e", "/", "w", "M"} {
		m = update(m, press(k))
	}
	if m.confirm != nil || len(rec.calls) > 0 || m.detail || m.c.selected != 0 || m.events.searching || m.mouse {
		t.Errorf("a key acted on the wall: question %v, requests %v, detail %v, selected %d, searching %v, mouse %v",
			m.confirm != nil, rec.calls, m.detail, m.c.selected, m.events.searching, m.mouse)
	}
	if after := plain(m); after != before {
		t.Errorf("the keys changed the wall:\n%s", after)
	}
	help := plain(update(m, press("?")))
	for _, want := range []string{"x        demo: public down/up", "1-4      chart: 1m/10m/1h/all", "z        chart: y from zero / zoom",
		"p        pause display", "?        all keys", "esc      back", "q        quit"} {
		if !strings.Contains(help, want) {
			t.Errorf("the wall's help lacks %q:\n%s", want, help)
		}
	}
	for _, not := range []string{"fail over", "restore", "hold/release", "reset", "next server", "detail", "older events", "search", "mouse", "a question"} {
		if strings.Contains(help, not) {
			t.Errorf("the wall's help lists %q:\n%s", not, help)
		}
	}
	if mode := m.View().MouseMode; mode != tea.MouseModeNone {
		t.Errorf("the wall takes the mouse (mode %v)", mode)
	}
	// Its own keys work.
	if m = update(m, press("3")); m.c.chart.span != 2 {
		t.Errorf("3 on the wall: range %d", m.c.chart.span)
	}
	if m = update(m, press("x")); !slices.Equal(rec.calls, []string{"demo"}) {
		t.Errorf("x on the demo's wall: requests %v", rec.calls)
	}
	// Read-only, the demo's key goes too.
	rec = &recorder{}
	m = update(fixture(Options{Wall: true, ReadOnly: true, Demo: true, Actions: rec, ASCII: true, NoColor: true}), tea.WindowSizeMsg{Width: 120, Height: 40})
	if m = update(m, press("x")); len(rec.calls) > 0 || strings.Contains(plain(update(m, press("?"))), "demo:") {
		t.Errorf("x on a read-only wall: requests %v", rec.calls)
	}
}

func leftClick(x, y int) tea.MouseClickMsg {
	return tea.MouseClickMsg{X: x, Y: y, Button: tea.MouseLeft}
}

// A click on a card selects its server and a second one opens its
// detail; a click elsewhere, with a question open, or with the mouse
// turned off (M, or NoMouse) does nothing; the wheel scrolls the events,
// and the help when it is open.
func TestMouse(t *testing.T) {
	m := screenAt80x24(Options{ASCII: true, NoColor: true})
	if mode := m.View().MouseMode; mode != tea.MouseModeCellMotion {
		t.Fatalf("mouse mode %v", mode)
	}
	// The second card is right of the first, under the three header lines.
	m = update(m, leftClick(50, 5))
	if m.c.selected != 1 || m.detail {
		t.Fatalf("click on private's card: selected %d, detail %v", m.c.selected, m.detail)
	}
	m = update(m, leftClick(10, 8))
	if m.c.selected != 0 || m.detail {
		t.Fatalf("click on public's card: selected %d, detail %v", m.c.selected, m.detail)
	}
	m = update(m, leftClick(12, 9))
	if !m.detail || !strings.Contains(plain(m), "public - primary - 104.247.193.168") {
		t.Fatalf("double-click did not open public's detail:\n%s", plain(m))
	}
	m = update(m, press("esc"))
	// Two clicks far apart in time are two clicks.
	m = update(m, leftClick(50, 5))
	m.lastClick.at = m.lastClick.at.Add(-time.Second)
	if m = update(m, leftClick(50, 5)); m.detail {
		t.Error("two slow clicks opened the detail")
	}
	// The events and the footer are not clickable.
	m = update(m, leftClick(5, 20), leftClick(5, 23))
	if m.c.selected != 1 || m.detail {
		t.Errorf("a click outside the cards: selected %d, detail %v", m.c.selected, m.detail)
	}

	m = update(m, tea.MouseWheelMsg{X: 5, Y: 20, Button: tea.MouseWheelUp})
	if m.events.scroll != wheelLines || !strings.Contains(plain(m), "newer below") {
		t.Errorf("wheel up: events scrolled %d", m.events.scroll)
	}
	m = update(m, tea.MouseWheelMsg{X: 5, Y: 20, Button: tea.MouseWheelDown})
	if m.events.scroll != 0 {
		t.Errorf("wheel down: events scrolled %d", m.events.scroll)
	}
	m = update(m, press("?"), tea.MouseWheelMsg{X: 5, Y: 10, Button: tea.MouseWheelDown})
	if l := lastLine(m); !strings.HasPrefix(l, "lines 4-23 of 39") {
		t.Errorf("wheel in the help: %q", l)
	}
	m = update(m, press("esc"))

	// A question open: the click is not an answer, nor a selection.
	m = update(m, press("r"), leftClick(10, 8), leftClick(10, 8))
	if m.confirm == nil || m.c.selected != 1 {
		t.Errorf("a click with a question open: question %v, selected %d", m.confirm != nil, m.c.selected)
	}
	if m = update(m, press("esc")); m.confirm != nil {
		t.Fatal("esc left the question open")
	}

	m = update(m, press("M"))
	if mode := m.View().MouseMode; mode != tea.MouseModeNone || !strings.Contains(eventTexts(m), "mouse off: the terminal selects text") {
		t.Errorf("M: mode %v, events:\n%s", mode, eventTexts(m))
	}
	if m = update(m, leftClick(10, 8)); m.c.selected != 1 {
		t.Error("a click acted with the mouse off")
	}
	if m = update(m, press("M")); m.View().MouseMode != tea.MouseModeCellMotion {
		t.Error("M did not turn the mouse back on")
	}
	if off := screenAt80x24(Options{NoMouse: true}); off.View().MouseMode != tea.MouseModeNone {
		t.Error("NoMouse takes the mouse")
	}
}

// With several services, a click on a service's line selects it and a
// double-click opens the detail of the server its name points at.
func TestMouseSelectsAService(t *testing.T) {
	m, msgs := threeServices(Options{ASCII: true, NoColor: true})
	m = update(m, tea.WindowSizeMsg{Width: 120, Height: 40})
	m = update(m, msgs...)
	// The header's three lines, the list's title, then a line per service.
	m = update(m, leftClick(10, 5))
	if m.c.service != 1 || m.detail {
		t.Fatalf("click on api's line: service %d, detail %v", m.c.service, m.detail)
	}
	m = update(m, leftClick(10, 6), leftClick(10, 6))
	if m.c.service != 2 || !m.detail || m.c.servers[m.c.selected].cfg.Name != "edge" {
		t.Errorf("double-click on mail's line: service %d, detail %v, server %s", m.c.service, m.detail, m.c.servers[m.c.selected].cfg.Name)
	}
}

// Golden screens at 80x24, the smallest failwatch draws, in colour and in
// ASCII without colour: the help scrolled to its end (the legend and the
// position line), the detail view (each check's loss kept), and the wall
// (a chart under each server's state, no footer).
func TestGolden80x24(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		keys []string
	}{
		{"help-scrolled", Options{}, []string{"?", "pgdown"}},
		{"detail", Options{}, []string{"enter"}},
		{"wall", Options{Wall: true, ReadOnly: true}, nil},
	} {
		for _, plainText := range []bool{false, true} {
			name := tc.name
			if plainText {
				name += "-ascii-nocolor"
			}
			t.Run(name, func(t *testing.T) {
				opts := tc.opts
				opts.ASCII, opts.NoColor = plainText, plainText
				m := screenAt80x24(opts)
				for _, k := range tc.keys {
					if k == "pgdown" {
						m = update(m, tea.KeyPressMsg{Code: tea.KeyPgDown})
						continue
					}
					m = update(m, press(k))
				}
				out := m.render()
				if n := strings.Count(out, "\n") + 1; n != 24 {
					t.Errorf("%d lines", n)
				}
				for i, l := range strings.Split(out, "\n") {
					if w := lipgloss.Width(l); w > 80 {
						t.Errorf("line %d is %d cells wide", i+1, w)
					}
				}
				golden.RequireEqual(t, out)
			})
		}
	}
}

// Lines the cards, the services and the router panel leave go to the
// events: with more events than fit, no line of the dashboard is blank,
// at any size from 80x24, with one service or several.
func TestEventsTakeTheRest(t *testing.T) {
	for _, several := range []bool{false, true} {
		for _, size := range [][2]int{{80, 24}, {80, 30}, {100, 35}, {120, 40}, {160, 50}, {200, 60}} {
			m, msgs := fixture(Options{ASCII: true, NoColor: true}), scene()
			if several {
				m, msgs = threeServices(Options{ASCII: true, NoColor: true})
			}
			m = update(m, tea.WindowSizeMsg{Width: size[0], Height: size[1]})
			m = update(m, msgs...)
			for i := range 80 {
				m.events.add(t0.Add(time.Duration(i)*time.Second), "local", "probe note", info)
			}
			for i, l := range strings.Split(plain(m), "\n") {
				if strings.TrimSpace(l) == "" {
					t.Errorf("several services %v, %dx%d: line %d is blank:\n%s", several, size[0], size[1], i+1, plain(m))
					break
				}
			}
		}
	}
}

// An operation too long for the header's line gives up its oldest steps,
// said with an ellipsis: the last steps and the outcome stay.
func TestHeaderKeepsTheOutcome(t *testing.T) {
	m := screenAt80x24(Options{ASCII: true, NoColor: true})
	if l := strings.Split(plain(m), "\n")[2]; l != "failover  ...  - flush DNS cache  ok verify  done in 12ms" {
		t.Errorf("operation line at 80 columns: %q", l)
	}
}

// Servers drawn a line each (three services at 80x24) are clicked by
// their line.
func TestMouseSelectsAServerLine(t *testing.T) {
	m, msgs := threeServices(Options{ASCII: true, NoColor: true})
	m = update(m, tea.WindowSizeMsg{Width: 80, Height: 24})
	m = update(m, msgs...)
	// The header, the services' title and three lines, the servers' title:
	// edge is on the tenth line.
	if l := strings.Split(plain(m), "\n")[9]; !strings.HasPrefix(l, "  edge ") {
		t.Fatalf("the tenth line is %q", l)
	}
	if m = update(m, leftClick(30, 9)); m.c.selected != 1 || m.c.service != 0 {
		t.Errorf("click on edge's line: server %d, service %d", m.c.selected, m.c.service)
	}
	if m = update(m, leftClick(30, 7)); m.c.selected != 1 {
		t.Errorf("click on the servers' title: server %d", m.c.selected)
	}
}
