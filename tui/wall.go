package tui

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"

	"github.com/failwatch/failwatch/monitor"
)

// wall is the layout read from across a room (--wall): the ACTIVE server
// and a clock in block letters, the last switch and the DNS answer, then
// per server its state in block letters over a large chart of its checks
// (the chart's range keys apply). Read-only walls draw no selection.
type wall struct {
	c             *common
	width, height int
}

func (w *wall) SetSize(width, height int) { w.width, w.height = width, height }

func (w *wall) ShortHelp() []key.Binding { return []key.Binding{w.c.keys.Range, w.c.keys.Zoom} }

func (w *wall) FullHelp() [][]key.Binding { return keyHelp(w.ShortHelp()) }

func (w *wall) View() string {
	c, st := w.c, w.c.styles
	now := c.now().In(c.zone)
	clock := big(st, now.Format("15:04"), st.Muted)
	var top string
	var lines []string
	if len(c.services) > 1 {
		// Every service, a line each, beside the clock.
		list := &servicesView{c: c, wall: true}
		list.SetSize(w.width-lipgloss.Width(clock)-2, 0)
		top = list.View()
		if b := w.bridging(); b != "" {
			lines = []string{cut(b, w.width, st.Glyphs.Ellipse)}
		}
	} else {
		sv := c.svc()
		where, activeStyle := c.where(sv)
		active := "ACTIVE " + whereShort(sv.facts)
		if sv.facts.Undefined() {
			active = "NO SINGLE SERVER"
		}
		top = bigOr(st, active, activeStyle, w.width-26)
		last := st.Muted.Render("no switch seen since failwatch started")
		if sv.lastSwitch != "" {
			last = fmt.Sprintf("last switch %s: %s", sv.switchAt.In(c.zone).Format("Jan 02 15:04:05"), strings.TrimPrefix(sv.lastSwitch, "switch: "))
		}
		lines = []string{cut(last, w.width, st.Glyphs.Ellipse), cut(w.dnsLine(), w.width, st.Glyphs.Ellipse), ""}
		if b := w.bridging(); b != "" {
			lines = append([]string{cut(b, w.width, st.Glyphs.Ellipse)}, lines...)
		}
		if !sv.facts.Defined() {
			// Why the big letters say what they say.
			lines = append([]string{cut(activeStyle.Render("ACTIVE "+where), w.width, st.Glyphs.Ellipse)}, lines...)
		}
	}
	if gap := w.width - lipgloss.Width(top) - lipgloss.Width(clock); gap > 0 {
		top = lipgloss.JoinHorizontal(lipgloss.Top, top, strings.Repeat(" ", gap), clock)
	}
	lines = append([]string{top, ""}, lines...)
	cols := wallColumns(len(c.servers), w.width)
	rowsOfPanels := max((len(c.servers)+cols-1)/cols, 1)
	// The rows below the lines above, for the panels; when that leaves a
	// panel one line of state over a chart or less, the blank lines go.
	rest := w.height - strings.Count(strings.Join(lines, "\n"), "\n") - 1
	if rest/rowsOfPanels <= 1+minWallChart {
		lines = slices.DeleteFunc(lines, func(l string) bool { return l == "" })
		rest = w.height - strings.Count(strings.Join(lines, "\n"), "\n") - 1
	}
	if len(c.servers) == 0 || rest < 8 {
		return strings.Join(lines, "\n")
	}
	// Every server gets its share, however small: one drawn off the
	// bottom of a wall is a server nobody watches.
	panelHeight := rest / rowsOfPanels
	width := w.width / cols
	var grid []string
	for i := 0; i < len(c.servers); i += cols {
		var row []string
		for j := i; j < min(i+cols, len(c.servers)); j++ {
			row = append(row, w.panel(c.servers[j], width, panelHeight, slotTime(c.now(), j-i, cols)))
		}
		grid = append(grid, lipgloss.JoinHorizontal(lipgloss.Top, row...))
	}
	return strings.Join(lines, "\n") + "\n" + strings.Join(grid, "\n")
}

// wallColumns is how many server panels stand side by side.
func wallColumns(servers, width int) int {
	if servers > 1 && width >= 2*70 {
		return 2
	}
	return 1
}

// wallKey is what a server's wall panel depends on besides its chart.
type wallKey struct {
	chart         chartKey
	state         monitor.State
	width, height int
}

// minWallChart is the least a wall chart is drawn in before its server's
// state gives up its block letters: three rows of plot and the axes.
const minWallChart = 6

// panel is a server's name and state in block letters over its chart,
// kept until one of them changes; in capitals on one line when the
// letters do not fit, or would leave the chart less than minWallChart.
func (w *wall) panel(s *serverView, width, height int, asOf time.Time) string {
	text := s.cfg.Name + " " + s.state.String()
	stateHeight, stateWidth := 1, 0
	if bigWidth(text) <= width-2 && height-5 >= minWallChart {
		stateHeight, stateWidth = 5, width-2
	}
	chart := w.c.serverChart(s, width-2, height-stateHeight, asOf)
	key := wallKey{chart: s.chartKey, state: s.state, width: width, height: height}
	if s.wallCached == "" || s.wallKey != key {
		state := bigOr(w.c.styles, text, w.c.styles.State(s.state), stateWidth)
		panel := lipgloss.JoinVertical(lipgloss.Left, state, strings.Join(chart, "\n"))
		s.wallCached, s.wallKey = lipgloss.NewStyle().Width(width).Render(panel), key
	}
	return s.wallCached
}

// dnsLine says what the resolver answers and which server that is.
func (w *wall) dnsLine() string {
	dns, name := w.c.svc().dns, w.c.svc().cfg.Name
	if !dns.addr.IsValid() {
		return "DNS " + name + ": " + w.c.styles.Muted.Render("no answer yet")
	}
	return fmt.Sprintf("DNS %s %s %s", name, w.c.styles.Glyphs.Arrow, describe(dns.addr, dns.server))
}

// bigOr is text in block letters when they fit in width, else in capitals
// (bold, unless colour is off: no escape sequence then).
func bigOr(st Styles, text string, style lipgloss.Style, width int) string {
	if bigWidth(text) <= width {
		return big(st, text, style)
	}
	if !st.NoColor {
		style = style.Bold(true)
	}
	return style.Render(strings.ToUpper(text))
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
func big(st Styles, text string, style lipgloss.Style) string {
	fill := "█"
	if !st.Glyphs.Braille {
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

// bridging is the wall's word for the TTL bridges that carry clients now,
// as the engine's facts say: "bridging cached clients" (with the services'
// names when there are several), "" when none does.
func (w *wall) bridging() string {
	var on []string
	for _, sv := range w.c.services {
		if sv.facts.Bridge.On() {
			on = append(on, sv.cfg.Name)
		}
	}
	switch {
	case len(on) == 0:
		return ""
	case len(w.c.services) == 1:
		return w.c.styles.Warn.Render("bridging cached clients")
	}
	return w.c.styles.Warn.Render("bridging cached clients: " + strings.Join(on, ", "))
}
