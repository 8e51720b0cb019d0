package tui

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/failwatch/failwatch/monitor"
)

// wallView is the layout read from across a room (--wall): the ACTIVE
// server and a clock in block letters, the last switch and the DNS answer,
// then per server its state in block letters over a large chart of its
// checks (the chart's range keys apply). Read-only walls draw no selection.
func (m Model) wallView(height int) string {
	st := m.styles
	now := m.opts.Now().In(m.opts.Zone)
	activeStyle := st.Good
	active := "ACTIVE " + m.router.active
	if m.router.active == "" {
		active, activeStyle = "NO SINGLE SERVER", st.Bad
	}
	top := m.bigOr(active, activeStyle, m.width-26)
	clock := m.big(now.Format("15:04"), st.Muted)
	if gap := m.width - lipgloss.Width(top) - lipgloss.Width(clock); gap > 0 {
		top = lipgloss.JoinHorizontal(lipgloss.Top, top, strings.Repeat(" ", gap), clock)
	}
	lines := []string{top, ""}
	last := st.Muted.Render("no switch seen since failwatch started")
	if m.switchNote != "" {
		last = fmt.Sprintf("last switch %s: %s", m.switchAt.In(m.opts.Zone).Format("Jan 02 15:04:05"), strings.TrimPrefix(m.switchNote, "switch: "))
	}
	lines = append(lines, fit(last, m.width), fit(m.dnsLine(), m.width), "")
	rest := height - len(lines) - 4 // the block letters' height, and a line
	if len(m.servers) == 0 || rest < 8 {
		return strings.Join(lines, "\n")
	}
	cols := 1
	if len(m.servers) > 1 && m.width >= 2*70 {
		cols = 2
	}
	rowsOfPanels := (len(m.servers) + cols - 1) / cols
	panelHeight := max(rest/rowsOfPanels, 10)
	width := m.width / cols
	var grid []string
	for i := 0; i < len(m.servers); i += cols {
		var row []string
		for j := i; j < min(i+cols, len(m.servers)); j++ {
			row = append(row, m.wallPanel(m.servers[j], width, panelHeight))
		}
		grid = append(grid, lipgloss.JoinHorizontal(lipgloss.Top, row...))
	}
	return strings.Join(lines, "\n") + "\n" + strings.Join(grid, "\n")
}

// wallKey is what a server's wall panel depends on besides its chart.
type wallKey struct {
	chart         chartKey
	state         monitor.State
	width, height int
}

// wallPanel is a server's name and state in block letters over its chart,
// kept until one of them changes.
func (m Model) wallPanel(s *serverView, width, height int) string {
	text := s.cfg.Name + " " + s.state.String()
	stateHeight := 1
	if bigWidth(text) <= width-2 {
		stateHeight = 5
	}
	chart := m.serverChart(s, width-2, height-stateHeight-1)
	key := wallKey{chart: s.chartKey, state: s.state, width: width, height: height}
	if s.wallCached == "" || s.wallKey != key {
		state := m.bigOr(text, m.styles.State(s.state), width-2)
		panel := lipgloss.JoinVertical(lipgloss.Left, state, strings.Join(chart, "\n"))
		s.wallCached, s.wallKey = lipgloss.NewStyle().Width(width).Render(panel), key
	}
	return s.wallCached
}

// dnsLine says what the resolver answers and which server that is.
func (m Model) dnsLine() string {
	st := m.styles
	if !m.dns.addr.IsValid() {
		return "DNS " + m.opts.Service.Name + ": " + st.Muted.Render("no answer yet")
	}
	return fmt.Sprintf("DNS %s %s %s", m.opts.Service.Name, st.Glyphs.Arrow, describe(m.dns.addr, m.dns.server))
}

// bigOr is text in block letters when they fit in width, else in bold.
func (m Model) bigOr(text string, style lipgloss.Style, width int) string {
	if bigWidth(text) <= width {
		return m.big(text, style)
	}
	return style.Bold(true).Render(strings.ToUpper(text))
}

// bigWidth is how many cells text takes in block letters.
func bigWidth(text string) int {
	w := 0
	for _, r := range strings.ToUpper(text) {
		g, ok := blockFont[r]
		if !ok {
			g = blockFont[' ']
		}
		w += len(g[0]) + 1
	}
	return max(w-1, 0)
}

// big renders text in the block font, five rows tall.
func (m Model) big(text string, style lipgloss.Style) string {
	fill := "█"
	if !m.styles.Glyphs.Braille {
		fill = "#"
	}
	rows := make([]strings.Builder, 5)
	for _, r := range strings.ToUpper(text) {
		g, ok := blockFont[r]
		if !ok {
			g = blockFont[' ']
		}
		for i := range rows {
			rows[i].WriteString(strings.ReplaceAll(g[i], "#", fill) + " ")
		}
	}
	out := make([]string, len(rows))
	for i := range rows {
		out[i] = style.Render(strings.TrimRight(rows[i].String(), " "))
	}
	return strings.Join(out, "\n")
}

// blockFont is five rows per character; what it lacks prints as a space.
var blockFont = map[rune][5]string{
	'A': {" ### ", "#   #", "#####", "#   #", "#   #"},
	'B': {"#### ", "#   #", "#### ", "#   #", "#### "},
	'C': {" ####", "#    ", "#    ", "#    ", " ####"},
	'D': {"#### ", "#   #", "#   #", "#   #", "#### "},
	'E': {"#####", "#    ", "#### ", "#    ", "#####"},
	'F': {"#####", "#    ", "#### ", "#    ", "#    "},
	'G': {" ####", "#    ", "#  ##", "#   #", " ####"},
	'H': {"#   #", "#   #", "#####", "#   #", "#   #"},
	'I': {"###", " # ", " # ", " # ", "###"},
	'J': {"#####", "   # ", "   # ", "#  # ", " ##  "},
	'K': {"#   #", "#  # ", "###  ", "#  # ", "#   #"},
	'L': {"#    ", "#    ", "#    ", "#    ", "#####"},
	'M': {"#   #", "## ##", "# # #", "#   #", "#   #"},
	'N': {"#   #", "##  #", "# # #", "#  ##", "#   #"},
	'O': {" ### ", "#   #", "#   #", "#   #", " ### "},
	'P': {"#### ", "#   #", "#### ", "#    ", "#    "},
	'Q': {" ### ", "#   #", "# # #", "#  # ", " ## #"},
	'R': {"#### ", "#   #", "#### ", "#  # ", "#   #"},
	'S': {" ####", "#    ", " ### ", "    #", "#### "},
	'T': {"#####", "  #  ", "  #  ", "  #  ", "  #  "},
	'U': {"#   #", "#   #", "#   #", "#   #", " ### "},
	'V': {"#   #", "#   #", "#   #", " # # ", "  #  "},
	'W': {"#   #", "#   #", "# # #", "## ##", "#   #"},
	'X': {"#   #", " # # ", "  #  ", " # # ", "#   #"},
	'Y': {"#   #", " # # ", "  #  ", "  #  ", "  #  "},
	'Z': {"#####", "   # ", "  #  ", " #   ", "#####"},
	'0': {" ### ", "#  ##", "# # #", "##  #", " ### "},
	'1': {"  #  ", " ##  ", "  #  ", "  #  ", " ### "},
	'2': {" ### ", "#   #", "  ## ", " #   ", "#####"},
	'3': {"#### ", "    #", " ### ", "    #", "#### "},
	'4': {"#   #", "#   #", "#####", "    #", "    #"},
	'5': {"#####", "#    ", "#### ", "    #", "#### "},
	'6': {" ### ", "#    ", "#### ", "#   #", " ### "},
	'7': {"#####", "    #", "   # ", "  #  ", "  #  "},
	'8': {" ### ", "#   #", " ### ", "#   #", " ### "},
	'9': {" ### ", "#   #", " ####", "    #", " ### "},
	':': {" ", "#", " ", "#", " "},
	'-': {"    ", "    ", "####", "    ", "    "},
	'.': {" ", " ", " ", " ", "#"},
	' ': {"  ", "  ", "  ", "  ", "  "},
}
