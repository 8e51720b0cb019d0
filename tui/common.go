package tui

import (
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"

	"github.com/failwatch/failwatch/config"
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
	service  config.Service

	servers  []*serverView
	selected int
	router   routerView
	dns      dnsView
	// lastSwitch is the last switch, as the engine told it, and when.
	lastSwitch string
	switchAt   time.Time
	// chart is the chart's range (an index of chartRanges) and whether its
	// y axis is zoomed to the data: the detail view and the wall share it.
	chart struct {
		span int
		zoom bool
	}
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
