package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/failwatch/failwatch/monitor"
)

// helpScreen is the ? screen: the keys in sections (Actions, Navigation,
// View; those turned off, by read-only or on the wall, are not there),
// then what every glyph and colour on the screen means, then how round
// trips are timed. Taller than the screen, it scrolls, and its last line
// says where it is and how to scroll.
type helpScreen struct {
	c             *common
	width, height int
	// offset is the first line shown; wheel: the mouse is on, and its
	// wheel scrolls too.
	offset int
	wheel  bool
}

// helpScroll are the help screen's own keys: they scroll it whatever the
// dashboard's keys are (the wall has no j/k of its own).
var helpScroll = struct{ up, down, pageUp, pageDown key.Binding }{
	up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("k", "scroll up")),
	down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("j", "scroll down")),
	pageUp:   key.NewBinding(key.WithKeys("pgup", "u"), key.WithHelp("pgup", "page up")),
	pageDown: key.NewBinding(key.WithKeys("pgdown", "d"), key.WithHelp("pgdn", "page down")),
}

func (h *helpScreen) SetSize(width, height int) { h.width, h.height = width, height }

func (h *helpScreen) ShortHelp() []key.Binding {
	return []key.Binding{h.c.keys.Help, h.c.keys.Back, helpScroll.down, helpScroll.up, helpScroll.pageDown, helpScroll.pageUp}
}

func (h *helpScreen) FullHelp() [][]key.Binding { return keyHelp(h.ShortHelp()) }

// key scrolls by a line or a page; false when msg is not a scrolling key.
func (h *helpScreen) key(msg tea.KeyPressMsg) bool {
	page := max(h.height-2, 1)
	switch {
	case key.Matches(msg, helpScroll.up):
		h.scroll(-1)
	case key.Matches(msg, helpScroll.down):
		h.scroll(1)
	case key.Matches(msg, helpScroll.pageUp):
		h.scroll(-page)
	case key.Matches(msg, helpScroll.pageDown):
		h.scroll(page)
	default:
		return false
	}
	return true
}

// scroll moves by n lines, within the text.
func (h *helpScreen) scroll(n int) {
	h.offset = max(min(h.offset+n, h.lastOffset(strings.Count(h.text(), "\n")+1)), 0)
}

// lastOffset is the offset that shows the end of a text of n lines above
// the position line; 0 when it all fits.
func (h *helpScreen) lastOffset(n int) int {
	if n <= h.height {
		return 0
	}
	return n - (h.height - 1)
}

// View is the text from the offset, with a line saying what is above and
// below when it does not fit.
func (h *helpScreen) View() string {
	text := h.text()
	lines := strings.Split(text, "\n")
	if len(lines) <= h.height || h.height < 2 {
		return lipgloss.NewStyle().Height(h.height).Render(text)
	}
	from := max(min(h.offset, h.lastOffset(len(lines))), 0)
	to := from + h.height - 1
	how := "j/k or pgup/pgdn scroll"
	if h.wheel {
		how = "j/k, pgup/pgdn or the wheel scroll"
	}
	where := fmt.Sprintf("lines %d-%d of %d: %s, ? or esc closes", from+1, to, len(lines), how)
	return strings.Join(lines[from:to], "\n") + "\n" + cut(h.c.styles.Muted.Render(where), h.width, h.c.styles.Glyphs.Ellipse)
}

// text is the whole help, however tall.
func (h *helpScreen) text() string {
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
		st.Spark.Render(levels) + " a second per cell, newest last, taller is slower   " + st.Lost.Render(g.Lost) + " a lost probe",
		"ACTIVE  the server the router's records point the name at   " + st.Flag.Render("[NETWATCH HELD]") + " failwatch holds the router's netwatch",
		"netwatch up/down/held/disabled/none  the router's own view of the server, beside failwatch's",
		st.Good.Render(g.Dot) + " router connected   " + st.Bad.Render(g.Dot) + " unreachable   " + st.Warn.Render(g.Dot) + " reconnecting   " +
			st.Gap.Render("--- log gap ---") + " router log lines may be missing",
	}
	if h.c.keys.Confirm.Enabled() {
		legend = append(legend, "a question: "+st.Warn.Render("y")+" confirms, any other key cancels; towards a server that is not UP, type its name")
	}
	timing := st.Muted.Width(max(h.width, 20)).Render("ICMP " + monitor.RTTTiming + ".")
	return title + "\n\n" + keys + "\n\n" + lipgloss.NewStyle().Width(h.width).Render(strings.Join(legend, "\n")) + "\n\n" + timing
}
