package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
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
	return []key.Binding{k.Range, k.Zoom, k.Back}
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
	statsLines := []string{}
	for _, c := range s.checks {
		statsLines = append(statsLines,
			fmt.Sprintf("%-10s %s  window %d: avg %s  p95 %s  mdev %s  jitter %s ms  loss %.1f%%",
				c.Label, st.State(c.State).Render(fmt.Sprintf("%-4s", c.State)), c.Window.Sent, ms(c.Window.Avg), ms(c.Window.P95),
				ms(c.Window.Mdev), ms(c.Window.Jitter), c.Window.LossPercent()),
			fmt.Sprintf("%-10s       lifetime %d: min %s  avg %s  max %s  mdev %s ms  loss %.1f%%",
				"", c.Lifetime.Sent, ms(c.Lifetime.Min), ms(c.Lifetime.Avg), ms(c.Lifetime.Max), ms(c.Lifetime.Mdev), c.Lifetime.LossPercent()))
	}
	if len(s.checks) > 0 {
		legend = append(legend, st.Muted.Render(st.Glyphs.Dots+st.Glyphs.Dots+" avg  "+st.Glyphs.Dash+st.Glyphs.Dash+" p95 of "+s.checks[0].Label+"  ms"))
	}
	chartHeight := max(d.height-len(lines)-len(statsLines)-2, 6)
	lines = append(lines, d.c.serverChart(s, d.width-1, chartHeight)...)
	lines = append(lines, fit(strings.Join(legend, "   "), d.width))
	for _, l := range statsLines {
		lines = append(lines, fit(l, d.width))
	}
	return strings.Join(lines, "\n")
}
