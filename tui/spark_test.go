package tui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/engine"
	"github.com/failwatch/failwatch/monitor"
)

// Samples many a second make one cell a second: the slowest reply, or
// the lost glyph when any probe of that second was lost; the chart's
// points are the same seconds.
func TestSecondCells(t *testing.T) {
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var samples []monitor.Sample
	for i := range 30 { // 100 ms apart: three seconds
		samples = append(samples, monitor.Sample{At: base.Add(time.Duration(i) * 100 * time.Millisecond),
			RTT: time.Duration(10+i%10) * time.Millisecond, OK: i != 14})
	}
	cells := secondCells(samples, 10)
	if len(cells) != 3 {
		t.Fatalf("%d cells from three seconds: %+v", len(cells), cells)
	}
	for i, want := range []sparkCell{{sec: base.Unix(), rtt: 19 * time.Millisecond}, {sec: base.Unix() + 1, lost: true},
		{sec: base.Unix() + 2, rtt: 19 * time.Millisecond}} {
		if c := cells[i]; c.sec != want.sec || c.lost != want.lost || (!want.lost && c.rtt != want.rtt) {
			t.Errorf("cell %d = %+v, want %+v", i, c, want)
		}
	}
	if got := secondCells(samples, 2); len(got) != 2 || got[0].sec != base.Unix()+1 {
		t.Errorf("the newest two cells: %+v", got)
	}
	points := perSecond(samples)
	if len(points) != 3 || points[0].RTT != 19*time.Millisecond || points[1].OK || !points[2].OK {
		t.Errorf("chart points: %+v", points)
	}
}

// A new second adds one cell where the line ends and changes no other;
// a full line moves a quarter of its width at once.
func TestSparklineStandsStill(t *testing.T) {
	st := NewStyles(true, true, true)
	cell := func(i int) sparkCell {
		return sparkCell{sec: int64(i), rtt: time.Duration(1+i%3) * time.Millisecond, lost: i%7 == 6}
	}
	var cells []sparkCell
	var prev string
	moves := 0
	for i := range 40 {
		cells = append(cells, cell(i))
		line := sparkline(st, cells, len(cells), 20)
		if w := len(line); w != 20 {
			t.Fatalf("after %d seconds the line is %d wide: %q", i+1, w, line)
		}
		changed := 0
		for j := range prev {
			if prev[j] != line[j] {
				changed++
			}
		}
		// The scale is set by the cells shown: once the fastest and
		// slowest are in it (the third second), only the new cell
		// changes until the line moves.
		if i >= 3 && changed > 1 && !strings.HasPrefix(prev[5:], strings.TrimRight(line[:15], " ")) {
			t.Errorf("second %d changed %d cells without moving:\n%q\n%q", i+1, changed, prev, line)
		}
		if i >= 20 && line[:15] == prev[5:20] {
			moves++
		}
		prev = line
	}
	if moves != 4 {
		t.Errorf("the line moved %d times in 20 seconds past full, want 4 (a quarter of 20 cells each)", moves)
	}
	if !strings.Contains(prev, "X") {
		t.Errorf("no lost glyph in %q", prev)
	}
}

func TestSlots(t *testing.T) {
	at := func(ms int) time.Time {
		return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).Add(time.Duration(ms) * time.Millisecond)
	}
	for _, tc := range []struct {
		now, col, cols int
		slot           int
		next           time.Duration
	}{
		{now: 100, col: 0, cols: 4, slot: 0, next: 150 * time.Millisecond},
		{now: 100, col: 1, cols: 4, slot: 250 - 1000, next: 150 * time.Millisecond},
		{now: 250, col: 1, cols: 4, slot: 250, next: 250 * time.Millisecond},
		{now: 900, col: 3, cols: 4, slot: 750, next: 100 * time.Millisecond},
		{now: 900, col: 0, cols: 1, slot: 900, next: 100 * time.Millisecond},
	} {
		if got := slotTime(at(tc.now), tc.col, tc.cols); !got.Equal(at(tc.slot)) {
			t.Errorf("slotTime(%d ms, %d of %d) = %v, want %v", tc.now, tc.col, tc.cols, got, at(tc.slot))
		}
		if got := nextSlot(at(tc.now), tc.cols); got != tc.next {
			t.Errorf("nextSlot(%d ms, %d) = %v, want %v", tc.now, tc.cols, got, tc.next)
		}
	}
}

func TestAge(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "<1m", 59 * time.Second: "<1m", time.Minute: "1m", 59*time.Minute + 59*time.Second: "59m",
		2*time.Hour + 5*time.Minute + 30*time.Second: "2h05m", 75 * time.Hour: "3d03h",
	} {
		if got := age(d); got != want {
			t.Errorf("age(%v) = %q, want %q", d, got, want)
		}
	}
}

// Cards side by side take a new sample at their column's instant of the
// second, never in the same frame: the left card at .000, the right at
// .500.
func TestCardsTakeSamplesAtTheirInstant(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	servers := []config.Server{{Name: "left", Role: config.Primary, Address: "192.0.2.1"}, {Name: "right", Role: config.Standby, Address: "192.0.2.2"}}
	m := New(Options{Servers: servers, Now: func() time.Time { return now }, Zone: time.UTC, NoColor: true, ASCII: true, Actions: &recorder{}})
	m = update(m, tea.WindowSizeMsg{Width: 120, Height: 40})
	if got := m.columns(); got != 2 {
		t.Fatalf("%d columns of cards at 120x40 with two servers, want 2", got)
	}
	sample := func(server string, at time.Time, rtt time.Duration) tea.Msg {
		x := monitor.Sample{At: at, RTT: rtt, OK: true}
		return engine.ServerEvent{Time: at, Server: server, Type: monitor.EventSample, Sample: x,
			Check: monitor.CheckStatus{Label: "icmp", State: monitor.Up, Window: monitor.Stats{Sent: 1, Received: 1, Last: rtt, Avg: rtt}}}
	}
	m = update(m, sample("left", now.Add(-2*time.Second), 7*time.Millisecond), sample("right", now.Add(-2*time.Second), 8*time.Millisecond))
	now = now.Add(700 * time.Millisecond)
	m = update(m, sample("left", now.Add(-100*time.Millisecond), 17*time.Millisecond), sample("right", now.Add(-100*time.Millisecond), 18*time.Millisecond))
	out := ansi.Strip(m.render())
	if !strings.Contains(out, "last 7.00") || !strings.Contains(out, "last 8.00") || strings.Contains(out, "last 1") {
		t.Fatalf("at .700 both cards still show the samples of their last instant (.000 and .500; the new ones are from .600):\n%s", out)
	}
	now = now.Add(300 * time.Millisecond)
	if out := ansi.Strip(m.render()); !strings.Contains(out, "last 17.0") || !strings.Contains(out, "last 8.00") {
		t.Errorf("at 1.000 the left card shows the new sample, the right one not yet:\n%s", out)
	}
	now = now.Add(500 * time.Millisecond)
	if out := ansi.Strip(m.render()); !strings.Contains(out, "last 17.0") || !strings.Contains(out, "last 18.0") {
		t.Errorf("at 1.500 both cards show the new samples:\n%s", out)
	}
}

// The sparkline's range is widened to round steps: a reply a little past
// the slowest so far keeps every cell's level.
func TestSparkScale(t *testing.T) {
	ms := func(v float64) time.Duration { return time.Duration(v * 1e6) }
	for _, tc := range []struct{ lo, hi, wantLo, wantHi time.Duration }{
		{ms(191.3), ms(203.9), ms(190), ms(204)},
		{ms(191.3), ms(204.1), ms(190), ms(206)},
		{ms(2.27), ms(3.71), ms(2), ms(4)},
		{ms(5), ms(5), ms(5), ms(5)},
	} {
		lo, hi := sparkScale(tc.lo, tc.hi, 8)
		if lo.Round(time.Microsecond) != tc.wantLo || hi.Round(time.Microsecond) != tc.wantHi {
			t.Errorf("sparkScale(%v, %v) = %v, %v, want %v, %v", tc.lo, tc.hi, lo, hi, tc.wantLo, tc.wantHi)
		}
	}
}

// A resolver's error is shown without the local port, new every query.
func TestWithoutLocalPort(t *testing.T) {
	in := "dns 127.0.0.1:1: no answer: read udp 127.0.0.1:47043->127.0.0.1:1: read: connection refused"
	if got, want := withoutLocalPort(in), "dns 127.0.0.1:1: no answer: read udp 127.0.0.1:1: read: connection refused"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := withoutLocalPort("dns 192.0.2.53:53: no answer: i/o timeout"); got != "dns 192.0.2.53:53: no answer: i/o timeout" {
		t.Errorf("an error without addresses changed: %q", got)
	}
}
