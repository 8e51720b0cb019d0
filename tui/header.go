package tui

import (
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/routeros/failover"
)

// header is the top three lines: the router and its link (and the DEMO or
// REPLAY badge), the DNS answer with ACTIVE and the flags, and the running
// operation or the last switch.
type header struct {
	c     *common
	width int
	// routerAddr is shown until the router's identity is known.
	routerAddr string
	// badge is DEMO or REPLAY, in full and short for a narrow screen.
	badge, badgeShort string
	readOnly, paused  bool
	op                *opView
}

func (h *header) SetSize(width, _ int)      { h.width = width }
func (h *header) ShortHelp() []key.Binding  { return nil }
func (h *header) FullHelp() [][]key.Binding { return nil }

// busy is true while an operation runs: another must wait for it.
func (h *header) busy() bool { return h.op != nil && !h.op.done }

// View is the three lines, each cut to the width.
func (h *header) View() string {
	st, g, r := h.c.styles, h.c.styles.Glyphs, h.c.router
	line1 := []string{st.Title.Render("failwatch")}
	switch {
	case !r.seen:
		line1 = append(line1, st.Muted.Render("router "+h.routerAddr+" "+g.Ellipse+" connecting"))
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
			since = " since " + r.since.In(h.c.zone).Format("15:04:05")
		}
		line1 = append(line1, st.Bad.Render(g.Dot+" router unreachable"+since+": "+r.err))
	}
	line1 = append(line1, h.c.ha.tag(st)...)
	left := strings.Join(line1, "  ")
	if h.badge != "" {
		badge := st.Demo.Render(h.badge)
		if lipgloss.Width(left)+lipgloss.Width(badge)+1 > h.width {
			badge = st.Demo.Render(h.badgeShort)
		}
		gap := max(h.width-lipgloss.Width(left)-lipgloss.Width(badge), 1)
		left += strings.Repeat(" ", gap) + badge
	}

	sv := h.c.svc()
	name, dns := sv.cfg.Name, sv.dns
	answer := st.Muted.Render("resolver: no answer yet")
	switch {
	case dns.err != "":
		answer = st.Bad.Render("resolver: " + dns.err)
	case dns.seen && !dns.addr.IsValid():
		answer = st.Bad.Render(name + " " + g.Arrow + " no address")
	case dns.seen:
		answer = st.Bold.Render(name+" "+g.Arrow+" "+describe(dns.addr, dns.server)) +
			st.Muted.Render(" ttl "+config.FormatDuration(dns.ttl))
	}
	where, style := h.c.where(sv)
	if sv.facts.Defined() {
		style = st.Bold
	}
	line2 := []string{"ACTIVE " + style.Render(where)}
	if h.readOnly {
		line2 = append(line2, st.Flag.Render("[READ-ONLY]"))
	}
	if r.held {
		line2 = append(line2, st.Flag.Render("[NETWATCH HELD]"))
	}
	if h.paused {
		line2 = append(line2, st.Flag.Render("[PAUSED]"))
	}
	// ACTIVE and the flags always show: a long resolver error is cut first,
	// with an ellipsis.
	rest := lipgloss.Width(strings.Join(line2, "  ")) + 2
	if room := h.width - rest; lipgloss.Width(answer) > room {
		answer = ansi.Truncate(answer, max(room, 1), g.Ellipse)
	}
	line2 = append([]string{answer}, line2...)
	return strings.Join([]string{cut(left, h.width, g.Ellipse), cut(strings.Join(line2, "  "), h.width, g.Ellipse), cut(h.statusLine(), h.width, g.Ellipse)}, "\n")
}

// statusLine shows an operation in place, or the last switch.
func (h *header) statusLine() string {
	st, g, op, sv := h.c.styles, h.c.styles.Glyphs, h.op, h.c.svc()
	// A finished operation stays in the header for a minute, or until the
	// name switches again; then it is in the events only.
	stale := op != nil && op.done && (h.c.now().Sub(op.ended) > time.Minute || sv.switchAt.After(op.ended))
	if op == nil || stale {
		if sv.lastSwitch != "" {
			return st.Info.Render(sv.lastSwitch)
		}
		return st.Muted.Render("watching " + sv.cfg.Name)
	}
	var steps []string
	for _, s := range op.steps {
		mark, style := g.Ellipse, st.Muted
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
		steps = append(steps, style.Render(mark+" "+s.Name))
	}
	var end string
	switch {
	case op.done && op.err != nil:
		end = "  " + st.Bad.Render("FAILED")
	case op.done:
		end = "  " + st.Good.Render("done in "+op.took.Round(time.Millisecond).String())
	}
	// Too wide, the oldest steps go first: the step under way and the
	// outcome are what the line is for.
	line := st.Bold.Render(op.name)
	for i := range steps {
		text := line
		if i > 0 {
			text += "  " + g.Ellipse
		}
		text += "  " + strings.Join(steps[i:], "  ") + end
		if lipgloss.Width(text) <= h.width || i == len(steps)-1 {
			return text
		}
	}
	return line + end
}
