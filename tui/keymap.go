package tui

import "charm.land/bubbles/v2/key"

// KeyMap is every key of the dashboard, in one place.
type KeyMap struct {
	Failover, Restore, Hold, Demo      key.Binding
	Evacuate, Primaries                key.Binding
	Up, Down, Next, Detail, Back       key.Binding
	Service                            key.Binding
	Pause, Reset, ScrollUp, ScrollDown key.Binding
	Filter, Search, Newest             key.Binding
	Range, Zoom, Wrap                  key.Binding
	Mouse                              key.Binding
	Help, Quit, Confirm                key.Binding
}

// DefaultKeyMap returns the keys; read-only drops every key that changes the
// router (they neither work nor show in help), and only the demo has its
// key that takes the public server down.
func DefaultKeyMap(readOnly, demo bool) KeyMap {
	k := KeyMap{
		Failover:   key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "fail over to standby")),
		Restore:    key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "restore primary")),
		Hold:       key.NewBinding(key.WithKeys("h"), key.WithHelp("h", "hold/release netwatch")),
		Demo:       key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "demo: public down/up")),
		Evacuate:   key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "move all names off the server")),
		Primaries:  key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "restore every service")),
		Service:    key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "next service")),
		Up:         key.NewBinding(key.WithKeys("up", "k", "left"), key.WithHelp("↑/k", "previous server")),
		Down:       key.NewBinding(key.WithKeys("down", "j", "right"), key.WithHelp("↓/j", "next server")),
		Next:       key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next server")),
		Detail:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "detail")),
		Back:       key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Pause:      key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "pause display")),
		Reset:      key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "reset statistics")),
		ScrollUp:   key.NewBinding(key.WithKeys("pgup", "u"), key.WithHelp("pgup/u", "older events")),
		ScrollDown: key.NewBinding(key.WithKeys("pgdown", "d"), key.WithHelp("pgdn/d", "newer events")),
		Filter:     key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "filter: all/router/probes/ops")),
		Search:     key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "search events")),
		Newest:     key.NewBinding(key.WithKeys("G", "end"), key.WithHelp("G/end", "newest events")),
		Range:      key.NewBinding(key.WithKeys("1", "2", "3", "4"), key.WithHelp("1-4", "chart: 1m/10m/1h/all")),
		Zoom:       key.NewBinding(key.WithKeys("z"), key.WithHelp("z", "chart: y from zero / zoom")),
		Wrap:       key.NewBinding(key.WithKeys("w"), key.WithHelp("w", "events: wrap / cut long lines")),
		Mouse:      key.NewBinding(key.WithKeys("M"), key.WithHelp("M", "mouse on/off (off: select text)")),
		Help:       key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "all keys")),
		Quit:       key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		Confirm:    key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "confirm a question")),
	}
	if readOnly {
		k.Failover.SetEnabled(false)
		k.Restore.SetEnabled(false)
		k.Hold.SetEnabled(false)
		k.Evacuate.SetEnabled(false)
		k.Primaries.SetEnabled(false)
		k.Reset.SetEnabled(false)
		// Nothing read-only does asks a question.
		k.Confirm.SetEnabled(false)
	}
	if !demo || readOnly {
		k.Demo.SetEnabled(false)
	}
	return k
}

// forWall keeps the keys a wall answers: the chart's range and zoom,
// pause, help and quit, and in the demo its key that takes the simulated
// public server down (the demo's wall shows an outage with it). A wall
// changes nothing on the router or in the history, and draws no
// selection, no events and nothing to click: those keys go, from its
// help as well.
func (k KeyMap) forWall() KeyMap {
	for _, b := range []*key.Binding{&k.Failover, &k.Restore, &k.Hold, &k.Evacuate, &k.Primaries, &k.Reset, &k.Confirm,
		&k.Up, &k.Down, &k.Next, &k.Detail, &k.Service, &k.ScrollUp, &k.ScrollDown, &k.Filter, &k.Search, &k.Newest, &k.Wrap, &k.Mouse} {
		b.SetEnabled(false)
	}
	return k
}

// FullHelp is the ? screen's keys, a column per section (HelpSections).
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Failover, k.Restore, k.Hold, k.Evacuate, k.Primaries, k.Confirm, k.Reset, k.Demo},
		{k.Up, k.Down, k.Next, k.Service, k.Detail, k.Back, k.Help, k.Quit},
		{k.ScrollUp, k.ScrollDown, k.Newest, k.Filter, k.Search, k.Wrap, k.Range, k.Zoom, k.Pause, k.Mouse},
	}
}

// HelpSections name FullHelp's columns.
var HelpSections = []string{"Actions", "Navigation", "View"}
