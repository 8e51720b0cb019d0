package tui

import (
	"fmt"
	"math"
	"strings"
	"time"

	"charm.land/lipgloss/v2"

	"github.com/failwatch/failwatch/monitor"
)

// chartRanges are the detail chart's time ranges, on keys 1 to 4; "all"
// is every sample kept (History per check).
var chartRanges = []struct {
	name string
	span time.Duration
}{{"1m", time.Minute}, {"10m", 10 * time.Minute}, {"1h", time.Hour}, {"all", 0}}

// chartSeries is one check's samples, drawn as one line.
type chartSeries struct {
	label   string
	samples []monitor.Sample
	style   lipgloss.Style
}

// chartKey is everything a server's chart depends on besides its samples
// (which version counts, and the newest shown): View runs after every
// message, and a wall draws a chart per server.
type chartKey struct {
	version, width, height, styleGen, chartRange int
	zoom                                         bool
	from, to, shown                              time.Time
}

// serverChart is the chart of every check of s over the chosen range with
// its samples up to asOf (a wall panel's column's instant, see slotTime),
// kept until its samples, the window or the layout change.
func (c *common) serverChart(s *serverView, width, height int, asOf time.Time) []string {
	st := c.styles
	var series []chartSeries
	var shown time.Time
	for i, check := range s.checks {
		samples := upTo(s.series[check.Label], asOf)
		if n := len(samples); n > 0 && samples[n-1].At.After(shown) {
			shown = samples[n-1].At
		}
		series = append(series, chartSeries{label: check.Label, samples: samples, style: st.Series[i%len(st.Series)]})
	}
	from, to := chartWindow(chartRanges[c.chart.span].span, c.now(), series)
	key := chartKey{version: s.version, width: width, height: height, styleGen: c.styleGen, chartRange: c.chart.span,
		zoom: c.chart.zoom, from: from, to: to, shown: shown}
	if s.chartCached == nil || s.chartKey != key {
		s.chartCached, s.chartKey = c.plot(series, from, to, width, height, c.chart.zoom), key
	}
	return s.chartCached
}

// chartWindow is the time the chart spans. A range moves in quarter steps,
// not every second: the axis and the lines already drawn stay where they
// are, so each second redraws only the newest cells (Bubble Tea sends only
// the cells that changed).
func chartWindow(span time.Duration, now time.Time, series []chartSeries) (from, to time.Time) {
	if span > 0 {
		step := span / 4
		to = now.Truncate(step).Add(step)
		return to.Add(-span), to
	}
	from = now
	for _, s := range series {
		if len(s.samples) > 0 && s.samples[0].At.Before(from) {
			from = s.samples[0].At
		}
	}
	if now.Sub(from) < time.Minute {
		from = now.Add(-time.Minute)
	}
	return from, now
}

// plot draws the series over [from, to] in width x height cells: a y axis
// of round milliseconds (from zero unless zoom), one braille line per
// series (in ASCII, a dot per cell), the first series' avg and p95 as
// dashed rows, a time axis with round labels, and under it a row marking
// the lost probes where they fell.
func (c *common) plot(series []chartSeries, from, to time.Time, width, height int, zoom bool) []string {
	st, g := c.styles, c.styles.Glyphs
	rows := height - 3 // the time axis, its labels and the lost row
	if rows < 2 || width < 20 || !to.After(from) {
		return nil
	}
	v := readChartValues(series, from, to)
	sc := newChartScale(v, from, to, width, rows, zoom)
	grid := sc.drawLines(series)
	// The avg and p95 rows run under the first check's replies only, over
	// the range shown, not the statistics' window.
	marks := chartMarks{rows: map[int]string{}, from: 0, to: -1}
	if len(v.first) > 0 {
		avg, p95 := msOf(v.sum/time.Duration(len(v.first))), msOf(monitor.Percentile(v.first, 95))
		marks.from, marks.to = sc.colOf(v.firstFrom), sc.colOf(v.firstTo)
		marks.rows[sc.rowOf(p95)] = g.Dash
		marks.rows[sc.rowOf(avg)] = g.Dots
	}
	out := c.chartRows(series, sc, grid, marks, height)
	axis, labels := c.timeAxis(sc)
	out = append(out,
		st.Muted.Render(strings.Repeat(" ", sc.labelWidth)+g.Corner+axis),
		st.Muted.Render(strings.Repeat(" ", sc.labelWidth+1)+labels))
	return append(out, c.lostRow(sc, grid.lost))
}

// chartValues is what the chart reads off the samples in range: the least
// and greatest reply of any series (in milliseconds), and the first series'
// replies, whose avg and p95 it marks.
type chartValues struct {
	lo, hi             float64
	first              []time.Duration
	sum                time.Duration
	firstFrom, firstTo time.Time
}

func readChartValues(series []chartSeries, from, to time.Time) chartValues {
	v := chartValues{lo: math.Inf(1)}
	for i, s := range series {
		for _, x := range s.samples {
			if x.OK && !x.At.Before(from) && !x.At.After(to) {
				ms := msOf(x.RTT)
				v.lo, v.hi = math.Min(v.lo, ms), math.Max(v.hi, ms)
				if i == 0 {
					v.first, v.sum = append(v.first, x.RTT), v.sum+x.RTT
					if v.firstFrom.IsZero() {
						v.firstFrom = x.At
					}
					v.firstTo = x.At
				}
			}
		}
	}
	return v
}

// chartScale is where values and times fall: rows of milliseconds from lo
// to hi with a round tick every step, and plotWidth columns from from to
// to right of the tick labels.
type chartScale struct {
	from, to                    time.Time
	span                        float64 // seconds from from to to
	rows, plotWidth, labelWidth int
	lo, hi, step                float64
	ticks                       []float64
}

// newChartScale puts round ticks, about one every three rows, over the
// values (from zero unless zoom).
func newChartScale(v chartValues, from, to time.Time, width, rows int, zoom bool) chartScale {
	lo, hi := v.lo, v.hi
	if !zoom || math.IsInf(lo, 1) {
		lo = 0
	}
	if hi <= lo {
		hi = lo + 1
	}
	step := niceStep((hi - lo) / math.Max(float64(rows)/3, 1))
	lo, hi = math.Floor(lo/step)*step, math.Ceil(hi/step)*step
	if hi <= lo {
		hi = lo + step
	}
	var ticks []float64
	for v := lo; v <= hi+step/2; v += step {
		ticks = append(ticks, v)
	}
	labelWidth := 0
	for _, v := range ticks {
		labelWidth = max(labelWidth, len(tickLabel(v, step)))
	}
	return chartScale{from: from, to: to, span: to.Sub(from).Seconds(), rows: rows,
		plotWidth: width - labelWidth - 1, labelWidth: labelWidth, lo: lo, hi: hi, step: step, ticks: ticks}
}

func (sc chartScale) rowOf(v float64) int {
	return sc.rows - 1 - int(math.Round((v-sc.lo)/(sc.hi-sc.lo)*float64(sc.rows-1)))
}

func (sc chartScale) colOf(t time.Time) int {
	return int(math.Round(t.Sub(sc.from).Seconds() / sc.span * float64(sc.plotWidth-1)))
}

// chartGrid is the lines as a braille dot grid, two dots across and four
// down a cell, a cell owned by the last series through it (k+1 for series
// k); and the columns where a probe was lost.
type chartGrid struct {
	dots  []uint8
	owner []int
	lost  []bool
}

// drawLines draws each series as a line through a point per second (the
// slowest reply in it: several probes a second move the line once a
// second), and marks every lost probe's column. A second with a loss
// breaks the line rather than drawing a reply that never came.
func (sc chartScale) drawLines(series []chartSeries) chartGrid {
	rows, plotWidth := sc.rows, sc.plotWidth
	grid := chartGrid{dots: make([]uint8, plotWidth*rows), owner: make([]int, plotWidth*rows), lost: make([]bool, plotWidth)}
	set := func(x, y, who int) {
		if x < 0 || y < 0 || x >= plotWidth*2 || y >= rows*4 {
			return
		}
		cell := (y/4)*plotWidth + x/2
		grid.dots[cell] |= brailleBit[x%2][y%4]
		grid.owner[cell] = who
	}
	for i, s := range series {
		for _, x := range s.samples {
			if !x.OK && !x.At.Before(sc.from) && !x.At.After(sc.to) {
				grid.lost[min(max(sc.colOf(x.At), 0), plotWidth-1)] = true
			}
		}
		px, py := -1, -1
		for _, x := range perSecond(s.samples) {
			if x.At.Before(sc.from) || x.At.After(sc.to) {
				continue
			}
			if !x.OK {
				px = -1
				continue
			}
			cx := int(math.Round(x.At.Sub(sc.from).Seconds() / sc.span * float64(plotWidth*2-1)))
			cy := rows*4 - 1 - int(math.Round((msOf(x.RTT)-sc.lo)/(sc.hi-sc.lo)*float64(rows*4-1)))
			if px < 0 {
				set(cx, cy, i+1)
			} else {
				line(px, py, cx, cy, func(x, y int) { set(x, y, i+1) })
			}
			px, py = cx, cy
		}
	}
	return grid
}

// perSecond is a sample per whole second: the slowest reply, at its time,
// or a lost one when a probe in that second was lost.
func perSecond(samples []monitor.Sample) []monitor.Sample {
	var out []monitor.Sample
	for _, x := range samples {
		n := len(out)
		if n == 0 || out[n-1].At.Unix() != x.At.Unix() {
			out = append(out, x)
			continue
		}
		last := &out[n-1]
		switch {
		case !last.OK:
		case !x.OK:
			*last = x
		case x.RTT > last.RTT:
			*last = x
		}
	}
	return out
}

// chartMarks are the dashed rows (by row, their glyph), drawn from column
// from to column to.
type chartMarks struct {
	rows     map[int]string
	from, to int
}

// chartRows renders the plot's rows, each with its tick label, into a slice
// with room for height lines.
func (c *common) chartRows(series []chartSeries, sc chartScale, grid chartGrid, marks chartMarks, height int) []string {
	st, g := c.styles, c.styles.Glyphs
	tickRows := map[int]float64{}
	for _, v := range sc.ticks {
		tickRows[sc.rowOf(v)] = v
	}
	out := make([]string, 0, height)
	for r := range sc.rows {
		var b strings.Builder
		label, axis := "", g.VAxis
		if v, ok := tickRows[r]; ok {
			label, axis = tickLabel(v, sc.step), g.VTick
		}
		b.WriteString(st.Muted.Render(fmt.Sprintf("%*s%s", sc.labelWidth, label, axis)))
		// Cells of one style are rendered as one run: a style per cell
		// would cost a wall of charts most of its CPU.
		var run strings.Builder
		runStyle := -1 // -1 blank, 0 the avg/p95 row, k+1 series k
		flush := func() {
			switch {
			case runStyle == 0:
				b.WriteString(st.Muted.Render(run.String()))
			case runStyle > 0:
				b.WriteString(series[runStyle-1].style.Render(run.String()))
			default:
				b.WriteString(run.String())
			}
			run.Reset()
		}
		for col := range sc.plotWidth {
			i := r*sc.plotWidth + col
			style, text := -1, " "
			switch {
			case grid.dots[i] != 0 && g.Braille:
				style, text = grid.owner[i], string(rune(0x2800+int(grid.dots[i])))
			case grid.dots[i] != 0:
				style, text = grid.owner[i], "*"
			case marks.rows[r] != "" && col >= marks.from && col <= marks.to:
				style, text = 0, marks.rows[r]
			}
			if style != runStyle {
				flush()
				runStyle = style
			}
			run.WriteString(text)
		}
		flush()
		out = append(out, b.String())
	}
	return out
}

// timeAxis is the time axis and its labels: round times, as many labels
// as fit.
func (c *common) timeAxis(sc chartScale) (axis, labels string) {
	g := c.styles.Glyphs
	tstep := timeStep(sc.to.Sub(sc.from), sc.plotWidth)
	format := "15:04:05"
	switch {
	case sc.to.Sub(sc.from) > 24*time.Hour:
		format = "Jan 02 15:04"
	case tstep >= time.Minute:
		format = "15:04"
	}
	axisRunes := []rune(strings.Repeat(g.HAxis, sc.plotWidth))
	labelRunes := []rune(strings.Repeat(" ", sc.plotWidth))
	next := 0
	for t := sc.from.Truncate(tstep); !t.After(sc.to); t = t.Add(tstep) {
		if t.Before(sc.from) {
			continue
		}
		col := sc.colOf(t)
		axisRunes[col] = []rune(g.HTick)[0]
		text := t.In(c.zone).Format(format)
		if col >= next && col+len(text) <= sc.plotWidth {
			copy(labelRunes[col:], []rune(text))
			next = col + len(text) + 2
		}
	}
	return string(axisRunes), string(labelRunes)
}

// lostRow marks the columns where a probe was lost.
func (c *common) lostRow(sc chartScale, lost []bool) string {
	st := c.styles
	var row strings.Builder
	row.WriteString(st.Muted.Render(fmt.Sprintf("%*s ", sc.labelWidth, "lost")))
	for _, l := range lost {
		if l {
			row.WriteString(st.Lost.Render(st.Glyphs.Lost))
		} else {
			row.WriteByte(' ')
		}
	}
	return row.String()
}

// brailleBit is the bit of a braille pattern for a dot at column x (0 or
// 1) and row y (0 to 3, top down) of its cell.
var brailleBit = [2][4]uint8{{0x01, 0x02, 0x04, 0x40}, {0x08, 0x10, 0x20, 0x80}}

// line visits the dots from (x0, y0) to (x1, y1) (Bresenham).
func line(x0, y0, x1, y1 int, dot func(x, y int)) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := 1, 1
	if x0 > x1 {
		sx = -1
	}
	if y0 > y1 {
		sy = -1
	}
	e := dx + dy
	for {
		dot(x0, y0)
		if x0 == x1 && y0 == y1 {
			return
		}
		if e2 := 2 * e; e2 >= dy {
			e += dy
			x0 += sx
		} else {
			e += dx
			y0 += sy
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func msOf(d time.Duration) float64 { return float64(d) / 1e6 }

// niceStep rounds a raw tick step up to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// tickLabel prints a tick in milliseconds with the decimals its step needs.
func tickLabel(v, step float64) string {
	decimals := max(0, int(math.Ceil(-math.Log10(step))))
	return fmt.Sprintf("%.*f", decimals, v)
}

// timeSteps are the time axis's round steps.
var timeSteps = []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second,
	30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute,
	30 * time.Minute, time.Hour, 2 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour}

// timeStep is the smallest round step whose labels (about ten cells
// apart) fit in width.
func timeStep(span time.Duration, width int) time.Duration {
	most := max(width/12, 1)
	for _, s := range timeSteps {
		if int(span/s) <= most {
			return s
		}
	}
	return timeSteps[len(timeSteps)-1]
}
