package tui

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"

	"github.com/failwatch/failwatch/internal/engine"
	"github.com/failwatch/failwatch/monitor"
)

// panelColumn is the width one of the router panel's tables needs.
const panelColumn = 60

// routerPanel is what the router's tables say, as last read: the name's
// records (ID, on/off, type, address or data, TTL, the server it belongs
// to, comment) and the servers' netwatch entries (ID, host, type, status,
// since, held or disabled). Side by side when wide enough, one under the
// other otherwise; compact, a line per table; nothing before the first
// reading.
type routerPanel struct {
	c       *common
	width   int
	compact bool
	// cache is the panel as last drawn, full and compact, shared by every
	// copy of the model.
	cache *[2]panelCache
}

// panelCache is a drawn router panel and what it was drawn from.
type panelCache struct {
	version, width, styleGen, service int
	valid                             bool
	text                              string
}

func (p *routerPanel) SetSize(width, _ int)      { p.width = width }
func (p *routerPanel) ShortHelp() []key.Binding  { return nil }
func (p *routerPanel) FullHelp() [][]key.Binding { return nil }

// View is the panel, kept until the next reading or a new layout.
func (p *routerPanel) View() string {
	slot := 0
	if p.compact {
		slot = 1
	}
	c := &p.cache[slot]
	if !c.valid || c.version != p.c.router.version || c.width != p.width || c.styleGen != p.c.styleGen || c.service != p.c.service {
		*c = panelCache{version: p.c.router.version, width: p.width, styleGen: p.c.styleGen, service: p.c.service, valid: true, text: p.render()}
	}
	return c.text
}

func (p *routerPanel) render() string {
	r, st, sv := p.c.router, p.c.styles, p.c.svc()
	if !r.connected || (len(sv.records) == 0 && len(r.netwatch) == 0) {
		return ""
	}
	if p.compact {
		return p.renderCompact()
	}
	title := st.Bold.Render("Records") + st.Muted.Render(" "+sv.cfg.Name)
	// The records shown are the last read: say so when that is not now.
	switch f := sv.facts; f.State {
	case engine.FactStale:
		title += st.Warn.Render(" stale: as read " + f.ReadAt.In(p.c.zone).Format("15:04:05"))
	case engine.FactUnreadable:
		title += st.Bad.Render(" " + f.Why)
	}
	records := []string{title}
	for _, rec := range sv.records {
		on := st.Good.Render("on ")
		if rec.Disabled {
			on = st.Muted.Render("off")
		}
		value := rec.Address
		if value == "" {
			value = rec.Data
		}
		owner := sv.owners[rec.ID]
		line := fmt.Sprintf("%-4s %s %-4s %-15s ttl %-6s %-8s", rec.ID, on, rec.Type, value, rec.TTL, owner)
		if rec.Comment != "" {
			line += st.Muted.Render(" " + strconv.Quote(rec.Comment))
		}
		if owner != "" && owner == sv.active && !rec.Disabled {
			line = st.Bold.Render(line)
		}
		records = append(records, line)
	}
	if b := bridgeLine(st, sv.facts.Bridge, p.c.zone); b != "" {
		records = append(records, b)
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
	if p.width >= 2*panelColumn {
		left := lipgloss.NewStyle().Width(p.width / 2).Render(cutLines(records, p.width/2-1, st.Glyphs.Ellipse))
		right := cutLines(nw, p.width-p.width/2, st.Glyphs.Ellipse)
		return lipgloss.JoinHorizontal(lipgloss.Top, left, right)
	}
	return cutLines(append(records, nw...), p.width, st.Glyphs.Ellipse)
}

// renderCompact is the panel in two lines: each record's ID, state, type
// and server, each netwatch entry's ID, host and status.
func (p *routerPanel) renderCompact() string {
	r, st, sv := p.c.router, p.c.styles, p.c.svc()
	sep := " " + st.Glyphs.Sep + " "
	var recs, nws []string
	for _, rec := range sv.records {
		on := st.Good.Render("on")
		if rec.Disabled {
			on = st.Muted.Render("off")
		}
		recs = append(recs, strings.TrimSpace(fmt.Sprintf("%s %s %s %s", rec.ID, on, rec.Type, sv.owners[rec.ID])))
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
	if b := bridgeLine(st, sv.facts.Bridge, p.c.zone); b != "" {
		recs = append(recs, b)
	}
	return cutLines([]string{
		st.Bold.Render("Records  ") + strings.Join(recs, sep),
		st.Bold.Render("Netwatch ") + strings.Join(nws, sep),
	}, p.width, st.Glyphs.Ellipse)
}

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

// bridgeLine is the service's TTL bridge in the engine's words, coloured
// by what it means: carrying clients is a state to notice, a bridge not
// known, unreadable or refused a fault; "" without a bridge.
func bridgeLine(st Styles, b *engine.BridgeFacts, zone *time.Location) string {
	if b == nil {
		return ""
	}
	text := b.Text(zone)
	switch {
	case b.Refused != "" || b.State == "unknown" || b.State == "unreadable" || b.State == "missing":
		return st.Bad.Render(text)
	case b.On():
		return st.Warn.Render(text)
	}
	return st.Muted.Render(text)
}
