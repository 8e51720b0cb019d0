package tui

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"

	"github.com/failwatch/failwatch/monitor"
)

// How the dashboard keeps its bytes to the terminal in proportion to what
// changed. Bubble Tea sends, on each line, everything from the first cell
// that changed to the last: a value that changes every sample costs the
// line between it and the next change, and cards side by side share their
// lines. So a sparkline holds a cell per second, not per sample, and fills
// from the left with its cells standing still, moving a quarter of its
// width at a time; ages are shown to the minute; and cards side by side
// take their new samples at their own instant of each second (a card in
// column k of n at k/n s), so two cards never change in one frame.

// sparkCell is one second of a check: the slowest reply in it, or lost
// when a probe in it was lost (a loss is never hidden by the others).
type sparkCell struct {
	sec  int64
	rtt  time.Duration
	lost bool
}

// secondCells merges samples into a cell per whole second, oldest first:
// at most the newest n cells.
func secondCells(samples []monitor.Sample, n int) []sparkCell {
	var out []sparkCell
	for i := len(samples) - 1; i >= 0; i-- {
		x := samples[i]
		sec := x.At.Unix()
		if len(out) == 0 || out[len(out)-1].sec != sec {
			if len(out) == n {
				break
			}
			out = append(out, sparkCell{sec: sec})
		}
		c := &out[len(out)-1]
		if x.OK {
			c.rtt = max(c.rtt, x.RTT)
		} else {
			c.lost = true
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// upTo is the samples at or before t: samples are in time order.
func upTo(samples []monitor.Sample, t time.Time) []monitor.Sample {
	n := len(samples)
	for n > 0 && samples[n-1].At.After(t) {
		n--
	}
	return samples[:n]
}

// sparkline draws a check's seconds, one cell each, from the left; total is
// how many seconds the check has had since its statistics started, which
// fixes where each cell stands: when the line is full it moves a quarter of
// its width at once, so a new second changes one cell, not the whole line.
// A lost probe is its own glyph in the alarm colour, never a blank.
func sparkline(st Styles, cells []sparkCell, total, width int) string {
	if width <= 0 {
		return ""
	}
	step := max(width/4, 1)
	start := 0
	if total > width {
		start = (total - width + step - 1) / step * step
	}
	shown := min(max(total-start, 0), width)
	if len(cells) > shown {
		cells = cells[len(cells)-shown:]
	}
	lo, hi := time.Duration(-1), time.Duration(0)
	for _, c := range cells {
		if !c.lost {
			if lo < 0 || c.rtt < lo {
				lo = c.rtt
			}
			hi = max(hi, c.rtt)
		}
	}
	lo, hi = sparkScale(lo, hi, len(st.Glyphs.Levels))
	g := st.Glyphs
	var b, run strings.Builder
	flush := func() {
		if run.Len() > 0 {
			b.WriteString(st.Spark.Render(run.String()))
			run.Reset()
		}
	}
	for _, c := range cells {
		if c.lost {
			flush()
			b.WriteString(st.Lost.Render(g.Lost))
			continue
		}
		level := len(g.Levels) / 2
		if hi > lo {
			level = int(float64(c.rtt-lo) / float64(hi-lo) * float64(len(g.Levels)-1))
		}
		run.WriteString(g.Levels[level])
	}
	flush()
	b.WriteString(strings.Repeat(g.Empty, width-len(cells)))
	return b.String()
}

// sparkScale widens the range of the replies shown to round steps (a
// level's height, 1, 2 or 5 times a power of ten of milliseconds): a reply
// a little slower or faster than the others does not redraw every cell.
func sparkScale(lo, hi time.Duration, levels int) (time.Duration, time.Duration) {
	if hi <= lo || levels < 2 {
		return lo, hi
	}
	step := niceStep(msOf(hi-lo) / float64(levels-1))
	return time.Duration(math.Floor(msOf(lo)/step) * step * 1e6), time.Duration(math.Ceil(msOf(hi)/step) * step * 1e6)
}

// localPort is the local end of a failed exchange in a Go network error
// ("read udp 127.0.0.1:47043->127.0.0.1:53: ..."): a new port every query.
var localPort = regexp.MustCompile(`((?:udp|tcp)[46]?) \S+->`)

// withoutLocalPort is a resolver's error without its local address, which
// changes with every query and would redraw the header every second for
// the same fault.
func withoutLocalPort(err string) string {
	return localPort.ReplaceAllString(err, "$1 ")
}

// countCell counts a first-check sample's second in s.cells, the seconds
// its sparkline has had.
func (s *serverView) countCell(x monitor.Sample) {
	if sec := x.At.Unix(); s.cells == 0 || sec != s.lastCell {
		s.cells++
		s.lastCell = sec
	}
}

// cellsUpTo is how many seconds s's sparkline has had up to t.
func (s *serverView) cellsUpTo(t time.Time) int {
	n, later := s.cells, int64(-1)
	shown := upTo(s.history, t)
	last := int64(-1)
	if len(shown) > 0 {
		last = shown[len(shown)-1].At.Unix()
	}
	for _, x := range s.history[len(shown):] {
		if sec := x.At.Unix(); sec != later && sec != last {
			n--
			later = sec
		}
	}
	return max(n, 0)
}

// shownStatus is a first check's window statistics as of a sample.
type shownStatus struct {
	at     time.Time
	window monitor.Stats
}

// keepStatus records the first check's window after sample x and forgets
// what no card can show any more: a card shows a sample at most a second
// after the clock reached it.
func (s *serverView) keepStatus(x monitor.Sample, w monitor.Stats, now time.Time) {
	s.recent = append(s.recent, shownStatus{at: x.At, window: w})
	keep := 0
	for i, r := range s.recent {
		if !r.at.After(now.Add(-time.Second)) {
			keep = i
		}
	}
	s.recent = append(s.recent[:0], s.recent[keep:]...)
}

// statusAsOf is the newest kept window at or before t, or the oldest kept
// one when none is that old (a server's first reply shows at once).
func (s *serverView) statusAsOf(t time.Time) (shownStatus, bool) {
	if len(s.recent) == 0 {
		return shownStatus{}, false
	}
	best := s.recent[0]
	for _, r := range s.recent {
		if !r.at.After(t) {
			best = r
		}
	}
	return best, true
}

// slotTime is the instant of the current second at which column col of
// cols takes its new samples (the newest such instant not after now); one
// column takes them as they come.
func slotTime(now time.Time, col, cols int) time.Time {
	if cols <= 1 {
		return now
	}
	at := now.Truncate(time.Second).Add(time.Duration(col) * time.Second / time.Duration(cols))
	if at.After(now) {
		at = at.Add(-time.Second)
	}
	return at
}

// nextSlot is how long from now until the next column's instant.
func nextSlot(now time.Time, cols int) time.Duration {
	if cols <= 1 {
		return time.Second - now.Sub(now.Truncate(time.Second))
	}
	for col := range cols + 1 {
		at := now.Truncate(time.Second).Add(time.Duration(col) * time.Second / time.Duration(cols))
		if at.After(now) {
			return at.Sub(now)
		}
	}
	return time.Second
}

// age is how long a server has been in its state, to the minute: a
// counter of seconds would change a card's line every second.
func age(d time.Duration) string {
	if d < time.Minute {
		return "<1m"
	}
	if d < time.Hour {
		return fmt.Sprintf("%dm", int(d.Minutes()))
	}
	return shortDuration(d)
}
