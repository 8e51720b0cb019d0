package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
)

// detailView is the selected server: a chart of every check over the
// chosen range, then each check's window and lifetime numbers.
type detailView struct {
	c             *common
	width, height int
}

func (d *detailView) SetSize(width, height int) { d.width, d.height = width, height }

func (d *detailView) ShortHelp() []key.Binding {
	k := d.c.keys
	return []key.Binding{k.Back, k.Range, k.Zoom}
}

func (d *detailView) FullHelp() [][]key.Binding { return keyHelp(d.ShortHelp()) }

func (d *detailView) View() string {
	if len(d.c.servers) == 0 {
		return ""
	}
	s := d.c.servers[d.c.selected]
	st := d.c.styles
	sep := st.Glyphs.Sep
	scale := "y from 0"
	if d.c.chart.zoom {
		scale = "y zoomed to the data"
	}
	lines := []string{st.Bold.Render(s.cfg.Name) + st.Muted.Render(fmt.Sprintf(" %s %s %s %s  %s range %s (1-4)  %s (z)  esc back",
		sep, s.cfg.Role, sep, s.cfg.Address, sep, chartRanges[d.c.chart.span].name, scale))}
	legend := []string{}
	for i, c := range s.checks {
		legend = append(legend, st.Series[i%len(st.Series)].Render(st.Glyphs.HAxis+st.Glyphs.HAxis)+" "+c.Label)
	}
	statsLines := d.stats(s)
	if len(s.checks) > 0 {
		legend = append(legend, st.Muted.Render(st.Glyphs.Dots+st.Glyphs.Dots+" avg  "+st.Glyphs.Dash+st.Glyphs.Dash+" p95 of "+s.checks[0].Label+"  ms"))
	}
	// The rows the title, legend and numbers leave are the chart's.
	chartHeight := max(d.height-len(lines)-1-len(statsLines), 6)
	lines = append(lines, d.c.serverChart(s, d.width-1, chartHeight, d.c.now())...)
	lines = append(lines, cut(strings.Join(legend, "   "), d.width, st.Glyphs.Ellipse))
	lines = append(lines, statsLines...)
	return strings.Join(lines, "\n")
}

// statParts are the fields of a check's numbers after its label and state,
// each in the order they are given up when the line is too narrow (least
// wanted first): loss is never given up.
type statParts struct {
	head     string
	optional []string // in the order shown
	drop     []int    // indexes into optional, least wanted first
	tail     string
}

// line is the fields with the first n of drop left out, the unit after
// the last number kept, then the tail.
func (p statParts) line(n int) string {
	gone := map[int]bool{}
	for _, i := range p.drop[:n] {
		gone[i] = true
	}
	var kept []string
	for i, f := range p.optional {
		if !gone[i] {
			kept = append(kept, f)
		}
	}
	return p.head + strings.Join(kept, "  ") + " ms  " + p.tail
}

// stats is two lines per check: its label, state and window numbers, then
// its lifetime numbers. A line too wide for the view first shortens the
// long labels (to ten cells at least, with an ellipsis), then leaves out
// mdev, jitter and p95 (lifetime: mdev, min, max) in that order, a label
// shortened again at each step: the loss always shows.
func (d *detailView) stats(s *serverView) []string {
	st, ell := d.c.styles, d.c.styles.Glyphs.Ellipse
	var parts []statParts
	longest := 0
	for _, c := range s.checks {
		w, l := c.Window, c.Lifetime
		parts = append(parts,
			statParts{head: fmt.Sprintf("window %d: ", w.Sent),
				optional: []string{"avg " + ms(w.Avg), "p95 " + ms(w.P95), "mdev " + ms(w.Mdev), "jitter " + ms(w.Jitter)},
				drop:     []int{2, 3, 1}, tail: fmt.Sprintf("loss %.1f%%", w.LossPercent())},
			statParts{head: fmt.Sprintf("lifetime %d: ", l.Sent),
				optional: []string{"min " + ms(l.Min), "avg " + ms(l.Avg), "max " + ms(l.Max), "mdev " + ms(l.Mdev)},
				drop:     []int{3, 0, 2}, tail: fmt.Sprintf("loss %.1f%%", l.LossPercent())})
		longest = max(longest, lipgloss.Width(c.Label))
	}
	// A label takes ten cells at least, then a space, the state in four
	// cells and two spaces.
	const minLabel, stateWidth = 10, 7
	fits := func(dropped, labelMax int) bool {
		for i, c := range s.checks {
			label := max(minLabel, min(lipgloss.Width(c.Label), labelMax))
			if label+stateWidth+lipgloss.Width(parts[2*i].line(dropped)) > d.width ||
				minLabel+stateWidth+lipgloss.Width(parts[2*i+1].line(dropped)) > d.width {
				return false
			}
		}
		return true
	}
	dropped, labelMax := 0, longest
	for dropped < 3 && !fits(dropped, minLabel) {
		dropped++
	}
	for labelMax > minLabel && !fits(dropped, labelMax) {
		labelMax--
	}
	var out []string
	for i, c := range s.checks {
		label := fmt.Sprintf("%-*s", minLabel, cut(c.Label, max(labelMax, minLabel), ell))
		out = append(out,
			cut(label+" "+st.State(c.State).Render(fmt.Sprintf("%-4s", c.State))+"  "+parts[2*i].line(dropped), d.width, ell),
			cut(strings.Repeat(" ", minLabel+stateWidth)+parts[2*i+1].line(dropped), d.width, ell))
	}
	return out
}
