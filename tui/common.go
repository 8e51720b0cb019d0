package tui

import (
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/engine"
	"github.com/failwatch/failwatch/routeros"
)

// common is what every component shares, by pointer: one Styles (a theme
// change reaches every part at once), the keys, the clock and the viewer's
// zone, and the facts as the engine last told them. Only the Model's Update
// writes it; components read it, so a View never changes state.
type common struct {
	styles Styles
	// styleGen changes with the styles, so cached drawings are redrawn.
	styleGen int
	keys     KeyMap
	now      func() time.Time
	zone     *time.Location

	// services are the names failwatch fails over, each with what the
	// engine last said of it; service is the selected one.
	services []*serviceView
	service  int
	servers  []*serverView
	selected int
	router   routerView
	ha       haView
	// chart is the chart's range (an index of chartRanges) and whether its
	// y axis is zoomed to the data: the detail view and the wall share it.
	chart struct {
		span int
		zoom bool
	}
}

// serviceView is one service as the engine last told it.
type serviceView struct {
	cfg config.Service
	// facts are the engine's, with what they rest on; active is their
	// server, "" when they name none.
	facts  engine.Facts
	active string
	// undefined: the name has no enabled record, or several.
	undefined bool
	// held: failwatch holds a netwatch entry of its servers.
	held bool
	// records and owners are the name's records as last read, and the
	// server each belongs to, by ID.
	records []routeros.Record
	owners  map[string]string
	dns     dnsView
	// lastSwitch is its last switch, as the engine told it, and when.
	lastSwitch string
	switchAt   time.Time
}

// svc is the selected service; a dashboard of servers alone has an empty
// one.
func (c *common) svc() *serviceView {
	if len(c.services) == 0 {
		return &serviceView{}
	}
	return c.services[c.service]
}

// findService is the service of that name; a reading from before
// services names none, and is the only one's.
func (c *common) findService(name string) *serviceView {
	for _, s := range c.services {
		if s.cfg.Name == name || (name == "" && len(c.services) == 1) {
			return s
		}
	}
	return nil
}

// where is where the service's name points as its facts say, and the
// style to show it in: a fault of the name red, a reading missing yellow.
func (c *common) where(sv *serviceView) (string, lipgloss.Style) {
	f, st := sv.facts, c.styles
	switch {
	case f.Defined():
		return f.Active, st.Good
	case f.Alarm():
		return f.Where(c.zone), st.Bad
	}
	return f.Where(c.zone), st.Warn
}

// whereShort is where in a word, for a list or block letters: the server,
// "none", "unknown", "unreadable", or the server and "?" when stale.
func whereShort(f engine.Facts) string {
	switch {
	case f.State == engine.FactUnknown:
		return "unknown"
	case f.State == engine.FactUnreadable:
		return "unreadable"
	case f.Active == "":
		return "none"
	case f.State == engine.FactStale:
		return f.Active + "?"
	}
	return f.Active
}

// activeOn lists the services whose records point at the server.
func (c *common) activeOn(server string) []string {
	var out []string
	for _, s := range c.services {
		if s.active == server {
			out = append(out, s.cfg.Name)
		}
	}
	return out
}

// component is one part of the screen: it is given its size, draws itself
// from the common facts and its own state, and names the keys it answers
// (the footer shows the focused one's).
type component interface {
	help.KeyMap
	SetSize(width, height int)
	View() string
}

// keyHelp is a component's keys as help.KeyMap's full help: one column.
func keyHelp(short []key.Binding) [][]key.Binding { return [][]key.Binding{short} }
