package tui

import (
	"fmt"
	"github.com/charmbracelet/x/ansi"
	"slices"
	"strconv"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/failwatch/failwatch/config"

	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros/failover"
)

// cardWidth is the narrowest a server card is laid out at.
const cardWidth = 40

// View renders the screen.
func (m Model) View() tea.View {
	content := m.frozen
	if content == "" {
		content = m.render()
	}
	v := tea.NewView(content)
	v.AltScreen = true
	v.WindowTitle = "failwatch " + m.opts.Service.Name
	return v
}

// render draws the whole screen as a string.
func (m Model) render() string {
	if m.width == 0 {
		return ""
	}
	if m.width < MinWidth || m.height < MinHeight {
		msg := fmt.Sprintf("terminal too small: %dx%d, failwatch needs at least %dx%d", m.width, m.height, MinWidth, MinHeight)
		return lipgloss.Place(m.width, m.height, lipgloss.Center, lipgloss.Center, m.styles.Warn.Render(msg))
	}
	header := m.header()
	var footer string
	if !m.opts.Wall {
		footer = m.help.View(m.keys)
		if m.showHelp {
			footer = ""
		}
	}
	bodyHeight := m.height - lipgloss.Height(header)
	if footer != "" {
		bodyHeight -= lipgloss.Height(footer)
	}
	var body string
	switch {
	case m.showHelp:
		body = m.fullHelp(bodyHeight)
	case m.detail && len(m.servers) > 0:
		body = m.detailView(bodyHeight)
	case m.opts.Wall && m.confirm == nil:
		body = m.wallView(bodyHeight)
	default:
		cards := m.cards()
		rest := bodyHeight - lipgloss.Height(cards)
		// The router's own tables, when the events keep room to be read.
		if !m.opts.Wall && m.confirm == nil {
			for _, compact := range []bool{false, true} {
				panel := m.cachedRouterPanel(compact)
				if h := lipgloss.Height(panel); panel != "" && rest-h >= minEventRows {
					cards = lipgloss.JoinVertical(lipgloss.Left, cards, panel)
					rest -= h
					break
				}
			}
		}
		if m.confirm != nil {
			body = lipgloss.JoinVertical(lipgloss.Left, cards, m.dialog(rest))
		} else {
			body = lipgloss.JoinVertical(lipgloss.Left, cards, m.eventPane(rest))
		}
	}
	parts := []string{header, fitHeight(body, bodyHeight)}
	if footer != "" {
		parts = append(parts, footer)
	}
	return strings.Join(parts, "\n")
}

// minEventRows is the least the event pane keeps when the router panel
// is drawn above it.
const minEventRows = 5

// panelCache is a drawn router panel and what it was drawn from.
type panelCache struct {
	version, width, styleGen int
	valid                    bool
	text                     string
}

// cachedRouterPanel is routerPanel, kept until the next reading or a new
// layout.
func (m Model) cachedRouterPanel(compact bool) string {
	slot := 0
	if compact {
		slot = 1
	}
	c := &m.router.panels[slot]
	if !c.valid || c.version != m.router.version || c.width != m.width || c.styleGen != m.styleGen {
		*c = panelCache{version: m.router.version, width: m.width, styleGen: m.styleGen, valid: true, text: m.routerPanel(compact)}
	}
	return c.text
}

// routerPanel is what the router's tables say, as last read: the name's
// records (ID, on/off, type, address or data, TTL, the server it belongs
// to, comment) and the servers' netwatch entries (ID, host, type, status,
// since, held or disabled). Side by side when wide enough, one under the
// other otherwise; compact, a line per table; nothing before the first
// reading.
func (m Model) routerPanel(compact bool) string {
	r := m.router
	if !r.connected || (len(r.records) == 0 && len(r.netwatch) == 0) {
		return ""
	}
	st := m.styles
	if compact {
		return m.compactRouterPanel()
	}
	records := []string{st.Bold.Render("Records") + st.Muted.Render(" "+m.opts.Service.Name)}
	for _, rec := range r.records {
		on := st.Good.Render("on ")
		if rec.Disabled {
			on = st.Muted.Render("off")
		}
		value := rec.Address
		if value == "" {
			value = rec.Data
		}
		owner := r.owners[rec.ID]
		line := fmt.Sprintf("%-4s %s %-4s %-15s ttl %-6s %-8s", rec.ID, on, rec.Type, value, rec.TTL, owner)
		if rec.Comment != "" {
			line += st.Muted.Render(" " + strconv.Quote(rec.Comment))
		}
		if owner != "" && owner == r.active && !rec.Disabled {
			line = st.Bold.Render(line)
		}
		records = append(records, line)
	}
	nw := []string{st.Bold.Render("Netwatch")}
	for _, n := range r.netwatch {
		status := st.State(netwatchState(n.Status)).Render(fmt.Sprintf("%-7s", n.Status))
		switch {
		case r.heldEntries[n.ID]:
			status = st.Warn.Render(fmt.Sprintf("%-7s", "held"))
		case n.Disabled:
			status = st.Muted.Render(fmt.Sprintf("%-7s", "disabled"))
		}
		line := fmt.Sprintf("%-4s %-15s %-8s %s", n.ID, n.Host, n.Type, status)
		if n.Since != "" {
			line += st.Muted.Render(" since " + n.Since)
		}
		nw = append(nw, line)
	}
	if len(r.netwatch) == 0 {
		nw = append(nw, st.Muted.Render("no entry for these servers"))
	}
	if m.width >= 2*panelColumn {
		left := lipgloss.NewStyle().Width(m.width / 2).Render(fitLines(records, m.width/2-1))
		right := fitLines(nw, m.width-m.width/2)
		return lipgloss.JoinHorizontal(lipgloss.Top, left, right)
	}
	return fitLines(append(records, nw...), m.width)
}

// compactRouterPanel is the router panel in two lines: each record's ID,
// state, type and server, each netwatch entry's ID, host and status.
func (m Model) compactRouterPanel() string {
	r, st, sep := m.router, m.styles, " "+m.styles.Glyphs.Sep+" "
	var recs, nws []string
	for _, rec := range r.records {
		on := st.Good.Render("on")
		if rec.Disabled {
			on = st.Muted.Render("off")
		}
		recs = append(recs, strings.TrimSpace(fmt.Sprintf("%s %s %s %s", rec.ID, on, rec.Type, r.owners[rec.ID])))
	}
	for _, n := range r.netwatch {
		status := st.State(netwatchState(n.Status)).Render(n.Status)
		switch {
		case r.heldEntries[n.ID]:
			status = st.Warn.Render("held")
		case n.Disabled:
			status = st.Muted.Render("disabled")
		}
		nws = append(nws, fmt.Sprintf("%s %s %s", n.ID, n.Host, status))
	}
	if len(nws) == 0 {
		nws = []string{st.Muted.Render("none for these servers")}
	}
	return fitLines([]string{
		st.Bold.Render("Records  ") + strings.Join(recs, sep),
		st.Bold.Render("Netwatch ") + strings.Join(nws, sep),
	}, m.width)
}

// panelColumn is the width one of the router panel's tables needs.
const panelColumn = 60

// netwatchState maps a netwatch status onto the probes' states, for colour.
func netwatchState(status string) monitor.State {
	switch status {
	case "up":
		return monitor.Up
	case "down":
		return monitor.Down
	}
	return monitor.Unknown
}

// fitLines joins lines, each cut to width.
func fitLines(lines []string, width int) string {
	for i, l := range lines {
		lines[i] = fit(l, width)
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

func (m Model) header() string {
	st, g := m.styles, m.styles.Glyphs
	now := m.opts.Now()
	var line1 []string
	line1 = append(line1, st.Title.Render("failwatch"))
	r := m.router
	switch {
	case !r.seen:
		line1 = append(line1, st.Muted.Render("router "+m.opts.RouterAddr+" "+g.Ellipse+" connecting"))
	case r.connected:
		id := r.identity.Name
		if r.identity.Version != "" {
			id += " " + g.Sep + " RouterOS " + r.identity.Version
		}
		line1 = append(line1, st.Bold.Render(id), st.Good.Render(g.Dot+" connected"))
	case r.state == "reconnecting":
		line1 = append(line1, st.Warn.Render(g.Dot+" router reconnecting: "+r.err))
	default:
		since := ""
		if !r.since.IsZero() {
			since = " since " + r.since.In(m.opts.Zone).Format("15:04:05")
		}
		line1 = append(line1, st.Bad.Render(g.Dot+" router unreachable"+since+": "+r.err))
	}
	left := strings.Join(line1, "  ")
	if m.opts.Demo || m.opts.Replay != "" {
		long, short := "DEMO: simulated servers, emulated router", "DEMO"
		if m.opts.Replay != "" {
			long, short = "REPLAY of "+m.opts.Replay, "REPLAY"
		}
		badge := st.Demo.Render(long)
		if lipgloss.Width(left)+lipgloss.Width(badge)+1 > m.width {
			badge = st.Demo.Render(short)
		}
		gap := max(m.width-lipgloss.Width(left)-lipgloss.Width(badge), 1)
		left += strings.Repeat(" ", gap) + badge
	}

	var line2 []string
	answer := st.Muted.Render("resolver: no answer yet")
	switch {
	case m.dns.err != "":
		answer = st.Bad.Render("resolver: " + m.dns.err)
	case m.dns.seen && !m.dns.addr.IsValid():
		answer = st.Bad.Render(m.opts.Service.Name + " " + g.Arrow + " no address")
	case m.dns.seen:
		answer = st.Bold.Render(m.opts.Service.Name+" "+g.Arrow+" "+describe(m.dns.addr, m.dns.server)) +
			st.Muted.Render(" ttl "+config.FormatDuration(m.dns.ttl))
	}
	line2 = append(line2, "ACTIVE "+st.Bold.Render(orNone(r.active)))
	if m.opts.ReadOnly {
		line2 = append(line2, st.Flag.Render("[READ-ONLY]"))
	}
	if r.held {
		line2 = append(line2, st.Flag.Render("[NETWATCH HELD]"))
	}
	if m.paused {
		line2 = append(line2, st.Flag.Render("[PAUSED]"))
	}
	// ACTIVE and the flags always show: a long resolver error is cut first,
	// with an ellipsis.
	rest := lipgloss.Width(strings.Join(line2, "  ")) + 2
	if room := m.width - rest; lipgloss.Width(answer) > room {
		answer = ansi.Truncate(answer, max(room, 1), g.Ellipse)
	}
	line2 = append([]string{answer}, line2...)
	line3 := m.statusLine(now)
	return strings.Join([]string{fit(left, m.width), fit(strings.Join(line2, "  "), m.width), fit(line3, m.width)}, "\n")
}

// statusLine shows an operation in place, or the last switch.
func (m Model) statusLine(now time.Time) string {
	st, g := m.styles, m.styles.Glyphs
	// A finished operation stays in the header for a minute, or until the
	// name switches again; then it is in the events only.
	stale := m.op != nil && m.op.done && (now.Sub(m.op.ended) > time.Minute || m.switchAt.After(m.op.ended))
	if m.op == nil || stale {
		if m.switchNote != "" {
			return st.Info.Render(m.switchNote)
		}
		return st.Muted.Render("watching " + m.opts.Service.Name)
	}
	parts := []string{st.Bold.Render(m.op.name)}
	for _, s := range m.op.steps {
		mark := g.Ellipse
		style := st.Muted
		switch s.Status {
		case failover.StepOK:
			mark, style = g.Check, st.Good
		case failover.StepSkipped:
			mark = "-"
		case failover.StepFailed:
			mark, style = g.Cross, st.Bad
		case failover.StepRolledBack:
			mark, style = "<", st.Warn
		}
		parts = append(parts, style.Render(mark+" "+s.Name))
	}
	switch {
	case m.op.done && m.op.err != nil:
		parts = append(parts, st.Bad.Render("FAILED"))
	case m.op.done:
		parts = append(parts, st.Good.Render("done in "+m.op.took.Round(time.Millisecond).String()))
	}
	return strings.Join(parts, "  ")
}

// cards lays the server cards out in as many columns as fit.
func (m Model) cards() string {
	if len(m.servers) == 0 {
		return ""
	}
	cols := max(1, min(len(m.servers), m.width/cardWidth))
	w := m.width / cols
	var rows []string
	for i := 0; i < len(m.servers); i += cols {
		var row []string
		for j := i; j < min(i+cols, len(m.servers)); j++ {
			row = append(row, m.card(j, w))
		}
		rows = append(rows, lipgloss.JoinHorizontal(lipgloss.Top, row...))
	}
	return lipgloss.JoinVertical(lipgloss.Left, rows...)
}

func (m Model) card(i, width int) string {
	s := m.servers[i]
	key := cardKey{version: s.version, width: width, styleGen: m.styleGen, selected: i == m.selected,
		active: m.router.active, second: m.opts.Now().Unix()}
	if s.cached == "" || s.cacheKey != key {
		s.cached, s.cacheKey = m.renderCard(s, i, width), key
	}
	return s.cached
}

func (m Model) renderCard(s *serverView, i, width int) string {
	st := m.styles
	box := st.Card
	if i == m.selected {
		box = st.CardSelected
	}
	inner := width - box.GetHorizontalFrameSize()
	now := m.opts.Now()

	title := st.Bold.Render(s.cfg.Name) + st.Muted.Render(" "+st.Glyphs.Sep+" "+string(s.cfg.Role))
	if m.router.active == s.cfg.Name {
		title += "  " + st.Good.Render("ACTIVE")
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
		status += st.Muted.Render(" for " + shortDuration(now.Sub(s.since)))
	}
	nw := "netwatch " + st.Muted.Render("none")
	if s.netwatch != "" {
		nw = "netwatch " + m.netwatchStyle(s).Render(s.netwatch)
		if disagree(s) {
			nw += st.Warn.Render("  (we say " + s.state.String() + ")")
		}
	}
	lines := []string{
		fit(title, inner),
		fit(addr+"  "+status, inner),
		fit(nw, inner),
		m.sparkline(s.history, inner),
	}
	var w monitor.Stats
	label := ""
	if len(s.checks) > 0 {
		w, label = s.checks[0].Window, s.checks[0].Label
	}
	if w.Received > 0 {
		lines = append(lines,
			fit(fmt.Sprintf("%s ms  last %s  avg %s", checkName(label), ms(w.Last), ms(w.Avg)), inner),
			fit(fmt.Sprintf("min %s  max %s  mdev %s", ms(w.Min), ms(w.Max), ms(w.Mdev)), inner),
			fit(fmt.Sprintf("jitter %s  loss %s", ms(w.Jitter), m.loss(w)), inner))
	} else {
		lines = append(lines, fit(st.Muted.Render("no reply yet"), inner), "", fit("loss "+m.loss(w), inner))
	}
	var checks []string
	for _, c := range s.checks {
		text := c.Label + " " + st.State(c.State).Render(c.State.String())
		if c.State == monitor.Down && c.LastErr != "" {
			text += " " + st.Muted.Render(c.LastErr)
		}
		checks = append(checks, text)
	}
	lines = append(lines, fit(strings.Join(checks, "  "), inner))
	return box.Width(width).Render(strings.Join(lines, "\n"))
}

func (m Model) netwatchStyle(s *serverView) lipgloss.Style {
	switch s.netwatch {
	case "up":
		return m.styles.Good
	case "down":
		return m.styles.Bad
	}
	return m.styles.Warn
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

func (m Model) loss(w monitor.Stats) string {
	text := fmt.Sprintf("%.1f%% (%d/%d)", w.LossPercent(), w.Sent-w.Received, w.Sent)
	switch {
	case w.Sent == 0:
		return m.styles.Muted.Render(text)
	case w.LossPercent() >= 20:
		return m.styles.Bad.Render(text)
	case w.LossPercent() > 0:
		return m.styles.Warn.Render(text)
	}
	return m.styles.Good.Render(text)
}

// sparkline draws the newest samples, one cell each; a lost probe is its own
// glyph in the alarm colour, never a blank.
func (m Model) sparkline(samples []monitor.Sample, width int) string {
	g := m.styles.Glyphs
	if len(samples) > width {
		samples = samples[len(samples)-width:]
	}
	lo, hi := time.Duration(-1), time.Duration(0)
	for _, x := range samples {
		if x.OK {
			if lo < 0 || x.RTT < lo {
				lo = x.RTT
			}
			hi = max(hi, x.RTT)
		}
	}
	var b strings.Builder
	b.WriteString(strings.Repeat(g.Empty, width-len(samples)))
	var run strings.Builder
	flush := func() {
		if run.Len() > 0 {
			b.WriteString(m.styles.Spark.Render(run.String()))
			run.Reset()
		}
	}
	for _, x := range samples {
		if !x.OK {
			flush()
			b.WriteString(m.styles.Lost.Render(g.Lost))
			continue
		}
		level := len(g.Levels) / 2
		if hi > lo {
			level = int(float64(x.RTT-lo) / float64(hi-lo) * float64(len(g.Levels)-1))
		}
		run.WriteString(g.Levels[level])
	}
	flush()
	return b.String()
}

func (m Model) eventPane(height int) string {
	st := m.styles
	if height <= 1 {
		return ""
	}
	events := m.events
	title := st.Bold.Render("Events")
	if f := eventFilters[m.filter]; f.sources != nil {
		events = nil
		for _, e := range m.events {
			if slices.Contains(f.sources, e.source) || e.gap {
				events = append(events, e)
			}
		}
		title += st.Muted.Render("  (" + f.name + "; e for more)")
	}
	if m.query != "" || m.searching {
		q := strings.ToLower(m.query)
		matched := events[:0:0]
		for _, e := range events {
			if strings.Contains(strings.ToLower(e.text), q) || strings.Contains(e.source, q) {
				matched = append(matched, e)
			}
		}
		events = matched
		if m.searching {
			title += "  /" + st.Bold.Render(m.query) + st.Muted.Render("_  (enter keeps it, esc clears)")
		} else {
			title += st.Muted.Render(fmt.Sprintf("  (search %q: %d; / to change, esc clears)", m.query, len(events)))
		}
	}
	if m.scroll > 0 {
		title += st.Muted.Render(fmt.Sprintf("  (%d newer below, d or G for the newest)", m.scroll))
	}
	rows := height - 1
	end := max(len(events)-m.scroll, 0)
	// From the newest back, as many lines as fit; a wrapped event takes
	// several, and the oldest shown may lose its first ones.
	var body []string
	for i := end - 1; i >= 0 && len(body) < rows; i-- {
		body = append(strings.Split(m.eventLine(events[i]), "\n"), body...)
	}
	if len(body) > rows {
		body = body[len(body)-rows:]
	}
	return strings.Join(append([]string{title}, body...), "\n")
}

func (m Model) eventLine(e event) string {
	st := m.styles
	// The viewer's zone, whatever zone the router wrote the time in; the
	// date too when it is not today.
	at, now := e.at.In(m.opts.Zone), m.opts.Now().In(m.opts.Zone)
	stamp := at.Format("15:04:05")
	if y, d := at.Year(), at.YearDay(); y != now.Year() || d != now.YearDay() {
		stamp = at.Format("Jan 02 15:04:05")
	}
	if e.gap {
		text := fmt.Sprintf("%s %s %s %s", strings.Repeat("-", 3), stamp, e.text, strings.Repeat("-", 3))
		return cut(st.Gap.Render(text), m.width, st.Glyphs.Ellipse)
	}
	text := e.text
	if e.late {
		text += " (came late)"
	}
	prefix := stamp + " " + fmt.Sprintf("%-6s", e.source) + " "
	if m.wrap && lipgloss.Width(prefix)+lipgloss.Width(text) > m.width && m.width > lipgloss.Width(prefix)+10 {
		// Long lines wrapped under their text, the time and source once.
		indent := strings.Repeat(" ", lipgloss.Width(prefix))
		wrapped := strings.Split(ansi.Wrap(text, m.width-len(indent), " ,"), "\n")
		for i, l := range wrapped {
			wrapped[i] = st.Level(e.level).Render(l)
		}
		return st.Muted.Render(prefix) + strings.Join(wrapped, "\n"+indent)
	}
	styled := st.Level(e.level).Render(e.text)
	if e.late {
		styled += st.Muted.Render(" (came late)")
	}
	return cut(st.Muted.Render(prefix)+styled, m.width, st.Glyphs.Ellipse)
}

// cut fits a line to width, saying with an ellipsis that it was cut.
func cut(s string, width int, ellipsis string) string {
	if lipgloss.Width(s) <= width {
		return s
	}
	return ansi.Truncate(s, width, ellipsis)
}

func (m Model) dialog(height int) string {
	c, st := m.confirm, m.styles
	text := st.Bold.Render(c.text+"?") + "\n\n" +
		st.Warn.Render("y") + " confirm   " + st.Muted.Render("any other key cancels")
	box := st.Dialog
	if c.need != "" {
		text = st.Bold.Render(c.text+"?") + "\n\n" + st.Bad.Render("WARNING: "+c.alarm) + "\n\n" +
			"type " + st.Bad.Render(c.need) + " and enter to confirm: " + st.Bold.Render(c.typed) + st.Muted.Render("_") + "\n" +
			st.Muted.Render("esc cancels")
		box = box.BorderForeground(st.Bad.GetForeground())
	}
	// In its frame, wrapped to it: a long warning must not run off the
	// screen.
	dialog := box.Width(min(m.width-4, 72)).Render(text)
	return lipgloss.Place(m.width, max(height, lipgloss.Height(dialog)), lipgloss.Center, lipgloss.Center, dialog)
}

// fullHelp is the ? screen: the keys in sections (Actions, Navigation,
// View; those read-only turns off are not there), then what every glyph
// and colour on the screen means.
func (m Model) fullHelp(height int) string {
	st, g := m.styles, m.styles.Glyphs
	title := st.Bold.Render("Keys") + st.Muted.Render("  (? or esc to close)")
	var columns []string
	for i, group := range m.keys.FullHelp() {
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
		if len(row) > 0 && lipgloss.Width(lipgloss.JoinHorizontal(lipgloss.Top, append(row, c)...)) > m.width {
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
	timing := st.Muted.Width(max(m.width, 20)).Render("ICMP " + monitor.RTTTiming + ".")
	body := title + "\n\n" + keys + "\n\n" + lipgloss.NewStyle().Width(m.width).Render(strings.Join(legend, "\n")) + "\n\n" + timing
	return lipgloss.NewStyle().Height(height).Render(body)
}

// detailView is the selected server: a chart of every check over the
// chosen range, then each check's window and lifetime numbers.
func (m Model) detailView(height int) string {
	s := m.servers[m.selected]
	st := m.styles
	sep := st.Glyphs.Sep
	r := chartRanges[m.chartRange]
	scale := "y from 0"
	if m.zoom {
		scale = "y zoomed to the data"
	}
	lines := []string{st.Bold.Render(s.cfg.Name) + st.Muted.Render(fmt.Sprintf(" %s %s %s %s  %s range %s (1-4)  %s (z)  esc back",
		sep, s.cfg.Role, sep, s.cfg.Address, sep, r.name, scale))}
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
	chartHeight := max(height-len(lines)-len(statsLines)-2, 6)
	lines = append(lines, m.serverChart(s, m.width-1, chartHeight)...)
	lines = append(lines, fit(strings.Join(legend, "   "), m.width))
	for _, l := range statsLines {
		lines = append(lines, fit(l, m.width))
	}
	return strings.Join(lines, "\n")
}

// fit cuts a styled line to width cells.
// checkName is how a card names the check its numbers are from: "rtt" for
// ICMP (ping's word), else the check's kind ("http", "tcp/443").
func checkName(label string) string {
	if label == "icmp" || label == "" {
		return "rtt"
	}
	kind, _, _ := strings.Cut(label, " ")
	return kind
}

func fit(s string, width int) string {
	if lipgloss.Width(s) <= width {
		return s
	}
	return lipgloss.NewStyle().MaxWidth(width).Render(s)
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
