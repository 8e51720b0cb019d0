package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"

	"github.com/failwatch/failwatch/monitor"
)

// helpScreen is the ? screen: the keys in sections (Actions, Navigation,
// View; those read-only turns off are not there), then what every glyph
// and colour on the screen means, then how round trips are timed.
type helpScreen struct {
	c             *common
	width, height int
}

func (h *helpScreen) SetSize(width, height int) { h.width, h.height = width, height }

func (h *helpScreen) ShortHelp() []key.Binding {
	return []key.Binding{h.c.keys.Help, h.c.keys.Back}
}

func (h *helpScreen) FullHelp() [][]key.Binding { return keyHelp(h.ShortHelp()) }

func (h *helpScreen) View() string {
	st, g := h.c.styles, h.c.styles.Glyphs
	title := st.Bold.Render("Keys") + st.Muted.Render("  (? or esc to close)")
	var columns []string
	for i, group := range h.c.keys.FullHelp() {
		lines := []string{st.Bold.Render(HelpSections[i])}
		for _, b := range group {
			if b.Enabled() {
				lines = append(lines, fmt.Sprintf("%-8s %s", b.Help().Key, st.Muted.Render(b.Help().Desc)))
			}
		}
		if len(lines) > 1 {
			columns = append(columns, lipgloss.NewStyle().PaddingRight(4).Render(strings.Join(lines, "\n")))
		}
	}
	// As many sections side by side as the width takes.
	var rows, row []string
	for _, c := range columns {
		if len(row) > 0 && lipgloss.Width(lipgloss.JoinHorizontal(lipgloss.Top, append(row, c)...)) > h.width {
			rows = append(rows, lipgloss.JoinHorizontal(lipgloss.Top, row...))
			row = nil
		}
		row = append(row, c)
	}
	keys := lipgloss.JoinVertical(lipgloss.Left, append(rows, lipgloss.JoinHorizontal(lipgloss.Top, row...))...)
	levels := strings.Join(g.Levels, "")
	legend := []string{
		st.Bold.Render("Legend"),
		st.Good.Render("UP") + " every check answers   " + st.Warn.Render("DEGRADED") + " some do   " +
			st.Bad.Render("DOWN") + " none   " + st.Muted.Render("UNKNOWN") + " not probed yet (after hysteresis: no flapping)",
		st.Spark.Render(levels) + " a round trip per cell, newest right, taller is slower   " + st.Lost.Render(g.Lost) + " a lost probe",
		"ACTIVE  the server the router's records point the name at   " + st.Flag.Render("[NETWATCH HELD]") + " failwatch holds the router's netwatch",
		"netwatch up/down/held/disabled/none  the router's own view of the server, beside failwatch's",
		st.Good.Render(g.Dot) + " router connected   " + st.Bad.Render(g.Dot) + " unreachable   " + st.Warn.Render(g.Dot) + " reconnecting   " +
			st.Gap.Render("--- log gap ---") + " router log lines may be missing",
		"a question: " + st.Warn.Render("y") + " confirms, any other key cancels; towards a server that is not UP, type its name",
	}
	timing := st.Muted.Width(max(h.width, 20)).Render("ICMP " + monitor.RTTTiming + ".")
	body := title + "\n\n" + keys + "\n\n" + lipgloss.NewStyle().Width(h.width).Render(strings.Join(legend, "\n")) + "\n\n" + timing
	return lipgloss.NewStyle().Height(h.height).Render(body)
}
