package tui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
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
