package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"

	"github.com/failwatch/failwatch/monitor"
)

// servicesView is a line per service: its name, the server its records
// point at, the state of both its servers by the probes, what the
// resolver answers, and its last switch. The selected one is marked; keys
// act on it.
type servicesView struct {
	c *common
	// height bounds the lines (0: as many as there are services): a list
	// longer than that shows the part around the selected one and says how
	// many are above and below.
	width, height int
	// wall: no selection, for reading across a room.
	wall bool
}

func (v *servicesView) SetSize(width, height int) { v.width, v.height = width, height }

func (v *servicesView) ShortHelp() []key.Binding {
	return []key.Binding{v.c.keys.Service, v.c.keys.Evacuate, v.c.keys.Primaries}
}

func (v *servicesView) FullHelp() [][]key.Binding { return keyHelp(v.ShortHelp()) }

func (v *servicesView) View() string {
	st, g := v.c.styles, v.c.styles.Glyphs
	nameWidth := 0
	for _, sv := range v.c.services {
		nameWidth = max(nameWidth, lipgloss.Width(sv.cfg.Name))
	}
	title := st.Bold.Render("Services")
	from, to := v.window()
	if to-from < len(v.c.services) {
		title += st.Muted.Render(fmt.Sprintf("  %d-%d of %d (s for the next)", from+1, to, len(v.c.services)))
	}
	lines := []string{title}
	for i := from; i < to; i++ {
		sv := v.c.services[i]
		mark := "  "
		if i == v.c.service && !v.wall {
			mark = g.Pointer + " "
		}
		_, style := v.c.where(sv)
		active := style.Render(fmt.Sprintf("%-10s", whereShort(sv.facts)))
		servers := v.server(sv.cfg.Primary) + " " + g.Sep + " " + v.server(sv.cfg.Standby)
		dns := st.Muted.Render("dns ") + describe(sv.dns.addr, sv.dns.server)
		switch {
		case sv.dns.err != "":
			dns = st.Bad.Render("dns " + sv.dns.err)
		case !sv.dns.seen:
			dns = st.Muted.Render("dns not asked yet")
		case !sv.dns.addr.IsValid():
			dns = st.Bad.Render("dns nothing")
		}
		last := ""
		if !sv.switchAt.IsZero() {
			last = st.Muted.Render("  switched " + sv.switchAt.In(v.c.zone).Format("Jan 02 15:04:05"))
		}
		name := fmt.Sprintf("%-*s", nameWidth, sv.cfg.Name)
		if i == v.c.service && !v.wall {
			name = st.Bold.Render(name)
		}
		line := mark + name + "  " + active + "  " + servers + "  " + dns + last
		lines = append(lines, cut(line, v.width, g.Ellipse))
	}
	return strings.Join(lines, "\n")
}

// window is the services listed, from and to: all of them, or those
// around the selected one that the height takes.
func (v *servicesView) window() (from, to int) {
	from, to = 0, len(v.c.services)
	if rows := v.height - 1; v.height > 0 && rows < len(v.c.services) {
		from = min(max(v.c.service-rows/2, 0), len(v.c.services)-rows)
		to = from + rows
	}
	return from, to
}

// at is the service listed on line row (0 is the title).
func (v *servicesView) at(row int) (int, bool) {
	from, to := v.window()
	i := from + row - 1
	return i, row >= 1 && i < to
}

// server is a server's name and its state by the probes, coloured.
func (v *servicesView) server(name string) string {
	st := monitor.Unknown
	for _, s := range v.c.servers {
		if s.cfg.Name == name {
			st = s.state
		}
	}
	return name + " " + v.c.styles.State(st).Render(st.String())
}
