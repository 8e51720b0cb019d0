package tui

import (
	"slices"
	"time"

	tea "charm.land/bubbletea/v2"
)

// target is what a click landed on: a server's card (or line), a
// service's line, or nothing.
type target struct {
	kind  targetKind
	index int
}

type targetKind int

const (
	nothing targetKind = iota
	serverTarget
	serviceTarget
)

// click is a click's target and when it came, to tell a double-click.
type click struct {
	at     time.Time
	target target
}

// doubleClick is the most time between the two clicks of a double-click,
// by the machine's clock: the screen's clock is a replay's recording's.
const doubleClick = 400 * time.Millisecond

// wheelLines is how far one step of the wheel scrolls.
const wheelLines = 3

// click selects the server or the service clicked on the dashboard; a
// second click on it soon after opens the detail view of the server (for
// a service, of the server its name points at). A click never answers a
// question, and the help and detail views take none.
func (m *Model) click(ms tea.Mouse) {
	if !m.mouse || ms.Button != tea.MouseLeft || m.confirm != nil || m.showHelp || m.detail {
		return
	}
	t := m.hit(ms.X, ms.Y)
	now := time.Now()
	double := t.kind != nothing && t == m.lastClick.target && now.Sub(m.lastClick.at) <= doubleClick
	m.lastClick = click{at: now, target: t}
	switch t.kind {
	case serverTarget:
		m.c.selected = t.index
	case serviceTarget:
		m.c.service = t.index
		if double {
			// The detail is a server's: the one the name points at, if any.
			active := m.c.services[t.index].active
			i := slices.IndexFunc(m.c.servers, func(s *serverView) bool { return s.cfg.Name == active })
			if i < 0 {
				return
			}
			m.c.selected = i
		}
	}
	if double {
		m.detail = true
		// A third click starts again.
		m.lastClick = click{}
	}
}

// hit is what the dashboard drew at column x, line y of the screen.
func (m *Model) hit(x, y int) target {
	row := y - headerHeight
	if row < 0 || row >= m.bodyHeight() {
		return target{}
	}
	_, cardsTop := m.dashboard(m.bodyHeight())
	if row < cardsTop {
		if i, ok := m.servicesView.at(row); ok {
			return target{kind: serviceTarget, index: i}
		}
		return target{}
	}
	if i, ok := m.cards.at(x, row-cardsTop); ok {
		return target{kind: serverTarget, index: i}
	}
	return target{}
}

// wheel scrolls the help when it is open, else the events (up is older),
// wherever the pointer is on the dashboard: nothing else there scrolls.
func (m *Model) wheel(ms tea.Mouse) {
	if !m.mouse || m.confirm != nil || (m.detail && !m.showHelp) {
		return
	}
	var n int
	switch ms.Button {
	case tea.MouseWheelUp:
		n = -wheelLines
	case tea.MouseWheelDown:
		n = wheelLines
	default:
		return
	}
	if m.showHelp {
		m.helpScreen.SetSize(m.width, m.bodyHeight())
		m.helpScreen.scroll(n)
		return
	}
	m.events.scrollBy(-n)
}
