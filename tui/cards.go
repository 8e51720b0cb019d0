package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"

	"github.com/failwatch/failwatch/monitor"
)

// cardWidth is the narrowest a server card is laid out at.
const cardWidth = 40

// cards is a card per server, in as many columns as fit: its role, ACTIVE,
// address, state and for how long, the router's netwatch view beside
// ours, a sparkline and the numbers of its first check (ICMP when it has
// one), then every check's state. When the cards would take more than the
// height given, each server gets one line with the same facts instead.
type cards struct {
	c             *common
	width, height int
}

// cardHeight is the lines a card takes, its frame included.
const cardHeight = 10

func (g *cards) SetSize(width, height int) { g.width, g.height = width, height }

func (g *cards) ShortHelp() []key.Binding {
	return []key.Binding{g.c.keys.Detail, g.c.keys.Down, g.c.keys.Service}
}

func (g *cards) FullHelp() [][]key.Binding { return keyHelp(g.ShortHelp()) }

// View lays the cards out.
func (g *cards) View() string {
	servers := g.c.servers
	if len(servers) == 0 {
		return ""
	}
	cols := g.columns()
	if g.asLines(cols) {
		return g.lines()
	}
	w := g.width / cols
	var rows []string
	for i := 0; i < len(servers); i += cols {
		var row []string
		for j := i; j < min(i+cols, len(servers)); j++ {
			row = append(row, g.card(j, w, slotTime(g.c.now(), j-i, cols)))
		}
		rows = append(rows, lipgloss.JoinHorizontal(lipgloss.Top, row...))
	}
	// Lines, not a padded block: every row is as wide as the screen's
	// columns, and padding would measure every line of every card again.
	return strings.Join(rows, "\n")
}

// columns is how many cards a row takes.
func (g *cards) columns() int {
	return max(1, min(len(g.c.servers), g.width/cardWidth))
}

// asLines: the cards would take more than the height, and each server
// gets a line instead.
func (g *cards) asLines(cols int) bool {
	return g.height > 0 && (len(g.c.servers)+cols-1)/cols*cardHeight > g.height
}

// lineWindow is the servers listed a line each, from and to: all of them,
// or those around the selected one that the height takes.
func (g *cards) lineWindow() (from, to int) {
	from, to = 0, len(g.c.servers)
	if rows := max(g.height-1, 3); rows < len(g.c.servers) {
		from = min(max(g.c.selected-rows/2, 0), len(g.c.servers)-rows)
		to = from + rows
	}
	return from, to
}

// at is the server drawn at column x of line row.
func (g *cards) at(x, row int) (int, bool) {
	n := len(g.c.servers)
	if n == 0 || row < 0 {
		return 0, false
	}
	cols := g.columns()
	if g.asLines(cols) {
		from, to := g.lineWindow()
		i := from + row - 1
		return i, row >= 1 && i < to
	}
	w := g.width / cols
	i := row/cardHeight*cols + x/w
	return i, x < cols*w && i < n
}

// lines is a line per server: the selection, name, role, address, state and
// for how long, netwatch, the first check's last and average round trip
// and loss, a sparkline of the newest samples, and the names ACTIVE on it.
func (g *cards) lines() string {
	st, gl := g.c.styles, g.c.styles.Glyphs
	now := g.c.now()
	title := st.Bold.Render("Servers") + st.Muted.Render(fmt.Sprintf("  %d, a line each (enter for one in detail)", len(g.c.servers)))
	from, to := g.lineWindow()
	if to-from < len(g.c.servers) {
		title = st.Bold.Render("Servers") + st.Muted.Render(fmt.Sprintf("  %d-%d of %d, a line each (enter for one in detail)", from+1, to, len(g.c.servers)))
	}
	out := []string{title}
	for i := from; i < to; i++ {
		s := g.c.servers[i]
		mark := "  "
		if i == g.c.selected {
			mark = gl.Pointer + " "
		}
		state := st.State(s.state).Render(fmt.Sprintf("%-9s", s.state.String()))
		since := ""
		if !s.since.IsZero() {
			since = age(now.Sub(s.since))
		}
		nw := "none"
		if s.netwatch != "" {
			nw = netwatchStyle(st, s.netwatch).Render(s.netwatch)
		}
		numbers := st.Muted.Render("no reply yet")
		if len(s.checks) > 0 && s.checks[0].Window.Received > 0 {
			w := s.checks[0].Window
			numbers = fmt.Sprintf("%s %s/%s ms loss %s", checkName(s.checks[0].Label), ms(w.Last), ms(w.Avg), loss(st, w))
		}
		line := fmt.Sprintf("%s%-10s %-8s %-15s %s %-7s netwatch %-8s %s  %s", mark, s.cfg.Name, s.cfg.Role, s.cfg.Address, state, since, nw,
			sparkline(st, secondCells(s.history, 20), s.cells, 20), numbers)
		if on := g.c.activeOn(s.cfg.Name); len(on) > 0 {
			line += "  " + st.Good.Render("ACTIVE "+strings.Join(on, ", "))
		}
		out = append(out, cut(line, g.width, gl.Ellipse))
	}
	return strings.Join(out, "\n")
}

// cardKey is everything a rendered card depends on besides its server.
type cardKey struct {
	version, width, styleGen int
	selected                 bool
	active, age              string
	// shown is the newest sample the card shows.
	shown time.Time
}

// card is server i's card with its samples up to asOf (its column's
// instant), kept until it or its surroundings change: View runs on every
// message.
func (g *cards) card(i, width int, asOf time.Time) string {
	s := g.c.servers[i]
	shown, _ := s.statusAsOf(asOf)
	key := cardKey{version: s.version, width: width, styleGen: g.c.styleGen, selected: i == g.c.selected,
		active: strings.Join(g.c.activeOn(s.cfg.Name), ","), shown: shown.at}
	if !s.since.IsZero() {
		key.age = age(g.c.now().Sub(s.since))
	}
	if s.cached == "" || s.cacheKey != key {
		s.cached, s.cacheKey = g.render(s, shown, i == g.c.selected, width), key
	}
	return s.cached
}

func (g *cards) render(s *serverView, shown shownStatus, selected bool, width int) string {
	st := g.c.styles
	box := st.Card
	if selected {
		box = st.CardSelected
	}
	inner := width - box.GetHorizontalFrameSize()
	now, ell := g.c.now(), st.Glyphs.Ellipse

	title := st.Bold.Render(s.cfg.Name) + st.Muted.Render(" "+st.Glyphs.Sep+" "+string(s.cfg.Role))
	// ACTIVE, and for which names when there are several.
	if on := g.c.activeOn(s.cfg.Name); len(on) > 0 {
		text := "ACTIVE"
		if len(g.c.services) > 1 {
			text += " " + strings.Join(on, ", ")
		}
		title += "  " + st.Good.Render(text)
	}
	addr := s.cfg.Address
	if s.addr.IsValid() && s.addr.String() != s.cfg.Address {
		addr += " (" + s.addr.String() + ")"
	}
	state := s.state
	if s.reason != "" && state == monitor.Unresolved {
		addr = s.reason
	}
	status := st.State(state).Render(state.String())
	if !s.since.IsZero() {
		status += st.Muted.Render(" for " + age(now.Sub(s.since)))
	}
	nw := "netwatch " + st.Muted.Render("none")
	if s.netwatch != "" {
		nw = "netwatch " + netwatchStyle(st, s.netwatch).Render(s.netwatch)
		if disagree(s) {
			nw += st.Warn.Render("  (we say " + s.state.String() + ")")
		}
	}
	lines := []string{
		cut(title, inner, ell),
		cut(addr+"  "+status, inner, ell),
		cut(nw, inner, ell),
		sparkline(st, secondCells(upTo(s.history, shown.at), inner), s.cellsUpTo(shown.at), inner),
	}
	w, label := shown.window, ""
	if len(s.checks) > 0 {
		label = s.checks[0].Label
	}
	if w.Received > 0 {
		lines = append(lines,
			cut(fmt.Sprintf("%s ms  last %s  avg %s", checkName(label), ms(w.Last), ms(w.Avg)), inner, ell),
			cut(fmt.Sprintf("min %s  max %s  mdev %s", ms(w.Min), ms(w.Max), ms(w.Mdev)), inner, ell),
			cut(fmt.Sprintf("jitter %s  loss %s", ms(w.Jitter), loss(st, w)), inner, ell))
	} else {
		lines = append(lines, cut(st.Muted.Render("no reply yet"), inner, ell), "", cut("loss "+loss(st, w), inner, ell))
	}
	var checks []string
	for _, c := range s.checks {
		text := c.Label + " " + st.State(c.State).Render(c.State.String())
		if c.State == monitor.Down && c.LastErr != "" {
			text += " " + st.Muted.Render(c.LastErr)
		}
		checks = append(checks, text)
	}
	lines = append(lines, cut(strings.Join(checks, "  "), inner, ell))
	return box.Width(width).Render(strings.Join(lines, "\n"))
}

// netwatchStyle colours the router's netwatch status of a server.
func netwatchStyle(st Styles, status string) lipgloss.Style {
	switch status {
	case "up":
		return st.Good
	case "down":
		return st.Bad
	}
	return st.Warn
}

// disagree is true when the router's netwatch and our probes differ.
func disagree(s *serverView) bool {
	switch s.netwatch {
	case "up":
		return s.state == monitor.Down
	case "down":
		return s.state == monitor.Up
	}
	return false
}

// loss is the window's loss, coloured by how bad it is.
func loss(st Styles, w monitor.Stats) string {
	text := fmt.Sprintf("%.1f%% (%d/%d)", w.LossPercent(), w.Sent-w.Received, w.Sent)
	switch {
	case w.Sent == 0:
		return st.Muted.Render(text)
	case w.LossPercent() >= 20:
		return st.Bad.Render(text)
	case w.LossPercent() > 0:
		return st.Warn.Render(text)
	}
	return st.Good.Render(text)
}

// checkName is how a card names the check its numbers are from: "rtt" for
// ICMP (ping's word), else the check's kind ("http", "tcp/443").
func checkName(label string) string {
	if label == "icmp" || label == "" {
		return "rtt"
	}
	kind, _, _ := strings.Cut(label, " ")
	return kind
}
