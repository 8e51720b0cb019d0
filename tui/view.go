package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// View renders the screen.
func (m Model) View() tea.View {
	content := m.frozen
	if content == "" {
		content = m.render()
	}
	v := tea.NewView(content)
	v.AltScreen = true
	if m.mouse {
		v.MouseMode = tea.MouseModeCellMotion
	}
	v.WindowTitle = "failwatch " + m.c.svc().cfg.Name
	return v
}

// render draws the whole screen as a string: the header, the body (help,
// the detail view, the wall, or the cards, the router panel and the events,
// with a question over them), and the footer.
func (m Model) render() string {
	if m.width == 0 {
		return ""
	}
	if m.width < MinWidth || m.height < MinHeight {
		msg := fmt.Sprintf("terminal too small: %dx%d, failwatch needs at least %dx%d", m.width, m.height, MinWidth, MinHeight)
		return lipgloss.Place(m.width, m.height, lipgloss.Center, lipgloss.Center, m.c.styles.Warn.Render(msg))
	}
	m.header.SetSize(m.width, headerHeight)
	header := m.header.View()
	footer := m.footer()
	bodyHeight := m.bodyHeight()
	var body component
	switch {
	case m.showHelp:
		m.helpScreen.wheel = m.mouse
		body = &m.helpScreen
	case m.detail && len(m.c.servers) > 0:
		body = &m.detailView
	case m.opts.Wall && m.confirm == nil:
		body = &m.wall
	}
	var text string
	if body != nil {
		body.SetSize(m.width, bodyHeight)
		text = body.View()
	} else {
		text, _ = m.dashboard(bodyHeight)
	}
	parts := []string{header, fitHeight(text, bodyHeight)}
	if footer != "" {
		parts = append(parts, footer)
	}
	return strings.Join(parts, "\n")
}

// dashboard is the cards, then the router's tables when the events keep
// room to be read, then the events or the question; cardsTop is the line
// the cards start on, below the services' list when there is one. It
// sizes the components it draws, so the mouse finds what was clicked
// where it was drawn.
func (m *Model) dashboard(height int) (text string, cardsTop int) {
	var top string
	cardsHeight := height
	if len(m.c.services) > 1 {
		// A third of the screen at most: the cards and events stay.
		m.servicesView.SetSize(m.width, max(height/3, 4))
		top = m.servicesView.View() + "\n"
		cardsHeight -= lipgloss.Height(top)
		cardsTop = lipgloss.Height(top) - 1
	}
	// Half of what is left at most, so the events keep room: many
	// servers get a line each instead of a card.
	m.cards.SetSize(m.width, cardsHeight/2)
	top += m.cards.View() + m.c.ha.block(m.c.styles, m.width)
	rest := height - lipgloss.Height(top)
	if !m.opts.Wall && m.confirm == nil {
		m.panel.SetSize(m.width, 0)
		for _, compact := range []bool{false, true} {
			m.panel.compact = compact
			panel := m.panel.View()
			if h := lipgloss.Height(panel); panel != "" && rest-h >= minEventRows {
				top += "\n" + panel
				rest -= h
				break
			}
		}
	}
	var bottom component = &m.events
	if m.confirm != nil {
		d := *m.confirm
		bottom = &d
	}
	bottom.SetSize(m.width, rest)
	// Joined as lines: each part is fitted to the width already, and
	// padding them to one width would measure every line on every frame.
	return top + "\n" + bottom.View(), cardsTop
}

// minEventRows is the least the event log keeps when the router panel is
// drawn above it.
const minEventRows = 5

// headerHeight is the header's lines.
const headerHeight = 3

// hasFooter: the wall and the help screen draw none.
func (m Model) hasFooter() bool { return !m.opts.Wall && !m.showHelp }

// bodyHeight is the lines between the header and the footer.
func (m Model) bodyHeight() int {
	if m.hasFooter() {
		return m.height - headerHeight - 1
	}
	return m.height - headerHeight
}

// footer is one line of keys, as many as fit, by priority: help and quit,
// the focused component's first key (detail on the dashboard, back in the
// detail view), the actions, the component's other keys, the demo's key
// and the mouse's. A key too long for what is left is left out and a later,
// shorter one may still fit: nothing is cut.
func (m Model) footer() string {
	if !m.hasFooter() {
		return ""
	}
	var focus component = &m.cards
	if m.detail {
		focus = &m.detailView
	}
	k, own := m.c.keys, focus.ShortHelp()
	order := []key.Binding{k.Help, k.Quit}
	if len(own) > 0 {
		order, own = append(order, own[0]), own[1:]
	}
	order = append(order, k.Failover, k.Restore, k.Hold)
	order = append(append(order, own...), k.Demo, k.Mouse)
	sep := lipgloss.Width(m.help.ShortSeparator)
	var shown []key.Binding
	used := 0
	for _, b := range order {
		if !b.Enabled() {
			continue
		}
		w := lipgloss.Width(b.Help().Key) + 1 + lipgloss.Width(b.Help().Desc)
		if len(shown) > 0 {
			w += sep
		}
		if used+w <= m.width {
			shown, used = append(shown, b), used+w
		}
	}
	return m.help.ShortHelpView(shown)
}

// cutLines joins lines, each cut to width with the ellipsis.
func cutLines(lines []string, width int, ellipsis string) string {
	for i, l := range lines {
		lines[i] = cut(l, width, ellipsis)
	}
	return strings.Join(lines, "\n")
}

// fitHeight pads or cuts a block to exactly height lines. Every line is
// already fitted to the width, so no measuring is needed: this runs on
// every frame.
func fitHeight(block string, height int) string {
	if height <= 0 {
		return ""
	}
	n := strings.Count(block, "\n") + 1
	switch {
	case n < height:
		return block + strings.Repeat("\n", height-n)
	case n > height:
		i := 0
		for range height {
			j := strings.IndexByte(block[i:], '\n')
			i += j + 1
		}
		return block[:i-1]
	}
	return block
}

// cut fits a line to width, saying with an ellipsis that it was cut. A
// quotation the cut leaves open (a record's comment) is closed after the
// ellipsis, so what follows is not read as quoted.
func cut(s string, width int, ellipsis string) string {
	if lipgloss.Width(s) <= width {
		return s
	}
	out := ansi.Truncate(s, width, ellipsis)
	if !openQuote(ansi.Strip(out)) {
		return out
	}
	out = ansi.Truncate(s, width-1, ellipsis)
	if openQuote(ansi.Strip(out)) {
		out += `"`
	}
	return out
}

// openQuote is true when s opens a double quote it does not close; a
// backslash escapes the character after it, as strconv.Quote writes them.
func openQuote(s string) bool {
	open := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			open = !open
		}
	}
	return open
}

// ms formats a duration in milliseconds with precision that suits its size.
func ms(d time.Duration) string {
	v := float64(d) / 1e6
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// shortDuration is 42s, 3m12s, 2h05m or 3d04h.
func shortDuration(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%02dh", int(d.Hours())/24, int(d.Hours())%24)
}
