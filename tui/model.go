package tui

import (
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/engine"
	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/failover"
)

// Smallest usable terminal.
const (
	MinWidth  = 80
	MinHeight = 24
)

// Options configure the dashboard.
type Options struct {
	// Services are the names failwatch fails over.
	Services []config.Service
	Servers  []config.Server
	// RouterAddr is shown until the router's identity is known.
	RouterAddr string
	ReadOnly   bool
	// Wall is for a NOC wall: no footer, large status, few events; no key
	// changes anything there, and it leaves the mouse to the terminal.
	Wall    bool
	ASCII   bool
	NoColor bool
	// NoMouse leaves the mouse to the terminal, so text can be selected
	// and copied (in tmux, over SSH); the M key turns it on and off too.
	NoMouse bool
	// Demo marks the screen DEMO and enables the demo key.
	Demo bool
	// Replay names the recording being played: the screen says REPLAY.
	Replay string
	// Theme is "dark", "light", or "auto" (ask the terminal, the default).
	Theme   string
	Actions Actions
	// Now is the clock; tests fix it.
	Now func() time.Time
	// Zone is the viewer's time zone, in which every time is shown (the
	// router's log times converted); default time.Local.
	Zone *time.Location
	// History is how many samples per check the detail chart keeps (the
	// "all" range): an hour at one probe a second by default.
	History int
}

// Model is the root model: it keeps the facts in common, hands each
// component its size and draws them in place, and turns keys into
// requests.
type Model struct {
	opts   Options
	c      *common
	help   help.Model
	isDark bool

	width, height int
	header        header
	servicesView  servicesView
	cards         cards
	panel         routerPanel
	events        eventLog
	detailView    detailView
	helpScreen    helpScreen
	wall          wall
	confirm       *dialog
	detail        bool
	showHelp      bool
	paused        bool
	frozen        string
	// mouse: the dashboard takes clicks and the wheel; off, the terminal
	// selects text. lastClick is the click before, for double-clicks.
	mouse     bool
	lastClick click
}

type serverView struct {
	cfg     config.Server
	state   monitor.State
	since   time.Time
	reason  string
	addr    netip.Addr
	checks  []monitor.CheckStatus
	history []monitor.Sample
	// series is each check's samples, by label, for the detail chart.
	series map[string][]monitor.Sample
	// The chart as last drawn, and what it was drawn from; the same for the
	// server's panel on the wall.
	chartKey    chartKey
	chartCached []string
	wallKey     wallKey
	wallCached  string
	// cells counts the seconds of the first check's samples since its
	// statistics started (lastCell the newest), which fixes where each
	// stands in the sparkline; recent is its window after each sample
	// of the last second or so, for a card that shows them at its instant.
	cells    int
	lastCell int64
	recent   []shownStatus
	// netwatch is the router's view of this host, "" when it has none.
	netwatch string
	// version counts changes; the rendered card is kept until it or the
	// card's surroundings change, since View runs on every message.
	version  int
	cacheKey cardKey
	cached   string
}

type routerView struct {
	connected bool
	seen      bool
	err       string
	// state is "reconnecting" (the connection dropped; the next reading
	// redials) or "unreachable" (a redial failed), since when.
	state    string
	since    time.Time
	identity routeros.Identity
	held     bool
	// version counts readings; the router panel is kept until it or the
	// layout changes.
	version int
	// The last reading's netwatch entries, for the panel.
	netwatch    []routeros.Netwatch
	heldEntries map[string]bool
}

type dnsView struct {
	addr   netip.Addr
	server string
	ttl    time.Duration
	err    string
	seen   bool
}

type opView struct {
	name  string
	steps []failover.Step
	done  bool
	err   error
	took  time.Duration
	// ended is when it ended; the header shows it until a minute later or
	// until the name switches again, whichever comes first.
	ended time.Time
}

// New returns the dashboard.
func New(opts Options) Model {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Zone == nil {
		opts.Zone = time.Local
	}
	if opts.History <= 0 {
		opts.History = 3600
	}
	c := &common{keys: DefaultKeyMap(opts.ReadOnly, opts.Demo), now: opts.Now, zone: opts.Zone}
	// A wall changes nothing, whoever runs it (DESIGN.md: no keys that
	// change anything).
	if opts.Wall {
		c.keys = c.keys.forWall()
	}
	for _, svc := range opts.Services {
		c.services = append(c.services, &serviceView{cfg: svc, facts: engine.Facts{Service: svc.Name, State: engine.FactUnknown, Why: "no reading yet"}})
	}
	// One service needs no choosing.
	c.keys.Service.SetEnabled(len(c.services) > 1)
	m := Model{
		opts:   opts,
		c:      c,
		help:   help.New(),
		isDark: opts.Theme != "light",
		header: header{c: c, routerAddr: opts.RouterAddr, readOnly: opts.ReadOnly},
		cards:  cards{c: c},

		servicesView: servicesView{c: c},
		panel:        routerPanel{c: c, cache: &[2]panelCache{}},
		events:       eventLog{c: c},

		detailView: detailView{c: c},
		helpScreen: helpScreen{c: c},
		wall:       wall{c: c},
		mouse:      !opts.NoMouse && !opts.Wall,
	}
	switch {
	case opts.Replay != "":
		m.header.badge, m.header.badgeShort = "REPLAY of "+opts.Replay, "REPLAY"
	case opts.Demo:
		m.header.badge, m.header.badgeShort = "DEMO: simulated servers, emulated router", "DEMO"
	}
	c.styles = NewStyles(m.isDark, opts.NoColor, opts.ASCII)
	m.applyHelpStyles()
	if opts.ASCII {
		c.keys.Up.SetHelp("up/k", c.keys.Up.Help().Desc)
		c.keys.Down.SetHelp("down/j", c.keys.Down.Help().Desc)
	}
	for _, s := range opts.Servers {
		c.servers = append(c.servers, &serverView{cfg: s})
	}
	return m
}

// setServers takes a reloaded server list: a card whose server is unchanged
// keeps its history, a changed one starts afresh, and the selection stays on
// the same server when it is still there.
func (m *Model) setServers(list []config.Server) {
	selected := ""
	if m.c.selected < len(m.c.servers) {
		selected = m.c.servers[m.c.selected].cfg.Name
	}
	var next []*serverView
	for _, c := range list {
		i := slices.IndexFunc(m.c.servers, func(s *serverView) bool { return s.cfg.Name == c.Name })
		if i >= 0 && reflect.DeepEqual(m.c.servers[i].cfg, c) {
			next = append(next, m.c.servers[i])
		} else {
			next = append(next, &serverView{cfg: c})
		}
	}
	m.c.servers, m.opts.Servers = next, list
	m.c.selected = max(0, slices.IndexFunc(next, func(s *serverView) bool { return s.cfg.Name == selected }))
}

func (m *Model) applyHelpStyles() {
	if m.opts.NoColor {
		m.help.Styles = help.Styles{}
	} else {
		m.help.Styles = help.DefaultStyles(m.isDark)
	}
	if m.opts.ASCII {
		m.help.ShortSeparator, m.help.FullSeparator, m.help.Ellipsis = " | ", "   ", "..."
	}
}

// Init asks the terminal for its background and starts the clock.
func (m Model) Init() tea.Cmd {
	return tea.Batch(tea.RequestBackgroundColor, m.tick())
}

// tick wakes the screen at the next instant a column of cards or wall
// panels takes its samples (see slotTime), and at least once a second for
// the clocks and ages.
func (m Model) tick() tea.Cmd {
	return tea.Tick(nextSlot(m.c.now(), m.columns()), func(t time.Time) tea.Msg { return tickMsg(t) })
}

// columns is how many cards or wall panels stand side by side, sharing
// their lines; 1 when each server has lines of its own.
func (m Model) columns() int {
	switch {
	case m.showHelp || m.detail || m.width == 0:
		return 1
	case m.opts.Wall && m.confirm == nil:
		return wallColumns(len(m.c.servers), m.width)
	}
	height := m.bodyHeight()
	if n := len(m.c.services); n > 1 {
		// As dashboard lays it out: the services' title and lines above.
		height -= 2 + min(n, max(height/3, 4)-1)
	}
	g := cards{c: m.c, width: m.width, height: height / 2}
	if cols := g.columns(); !g.asLines(cols) {
		return cols
	}
	return 1
}

// Update applies one message.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.help.SetWidth(msg.Width)
		if m.paused {
			m.frozen = m.render()
		}
		return m, nil
	case tea.BackgroundColorMsg:
		if m.opts.Theme == "dark" || m.opts.Theme == "light" {
			return m, nil
		}
		m.isDark = msg.IsDark()
		m.c.styles = NewStyles(m.isDark, m.opts.NoColor, m.opts.ASCII)
		m.c.styleGen++
		m.applyHelpStyles()
		return m, nil
	case tickMsg:
		return m, m.tick()
	case tea.KeyPressMsg:
		return m.key(msg)
	case tea.MouseClickMsg:
		m.click(tea.Mouse(msg))
		if m.paused {
			m.frozen = m.render()
		}
	case tea.MouseWheelMsg:
		m.wheel(tea.Mouse(msg))
		if m.paused {
			m.frozen = m.render()
		}
	case engine.Event:
		m.event(msg)
	case LogBatchMsg:
		for _, ev := range msg {
			m.logEvent(routeros.LogEvent(ev))
		}
	case NoteMsg:
		m.events.add(msg.At, msg.Source, msg.Text, info)
	case DemoMsg:
		state := "UP again"
		if msg.Down {
			state = "DOWN"
		}
		m.events.add(msg.At, "demo", "simulated public server taken "+state, warn)
	}
	return m, nil
}

// event takes one of the engine's events. A snapshot, what a screen that
// joins starts from, is its events taken in order and the facts now: the
// whole picture in one message, drawn once.
func (m *Model) event(ev engine.Event) {
	switch ev := ev.(type) {
	case engine.Snapshot:
		for _, e := range ev.Events {
			m.event(e)
		}
		m.facts(m.c.now(), ev.Facts)
		m.requestion()
	case engine.ServerEvent:
		m.server(monitor.Event(ev))
	case engine.Reading:
		m.routerState(ev)
		m.requestion()
	case engine.ServersChanged:
		m.setServers(ev)
	case engine.DNSAnswer:
		m.dnsAnswer(ev)
	case engine.LogLine:
		m.logEvent(routeros.LogEvent(ev))
	case engine.Dropped:
		// The screen's clock: a replay's is the recording's.
		who := "this screen"
		if m.opts.Replay != "" {
			who = "the recorder"
		}
		m.logEvent(routeros.LogEvent{Kind: routeros.LogGap, At: m.c.now(), Reason: fmt.Sprintf("%s fell behind and missed %d events", who, ev)})
	case engine.Step:
		m.step(ev)
	case engine.Done:
		m.opDone(ev)
	case engine.Switch:
		m.switched(ev)
	case engine.FactsChanged:
		m.facts(m.c.now(), ev)
		m.requestion()
	case engine.StatsReset:
		for _, s := range m.c.servers {
			s.history = s.history[:0]
			s.cells, s.recent = 0, nil
			clear(s.series)
			s.version++
		}
		m.events.add(ev.At, "op", "statistics reset by "+ev.By, muted)
	case engine.HAState:
		m.c.ha.take(ev)
	case engine.PolicyNote:
		l := info
		if ev.Refused {
			l = warn
		}
		m.events.add(ev.At, "auto", ev.Text, l)
	}
}

func (m Model) key(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	if m.confirm != nil {
		cmd := m.answer(msg)
		return m, cmd
	}
	if m.events.searching {
		if msg.String() == "ctrl+c" {
			return m, tea.Quit
		}
		m.events.typing(msg)
		return m, nil
	}
	k := m.c.keys
	var cmd tea.Cmd
	if m.showHelp {
		m.helpScreen.SetSize(m.width, m.bodyHeight())
		if m.helpScreen.key(msg) {
			return m, nil
		}
	}
	switch {
	case key.Matches(msg, k.Quit):
		return m, tea.Quit
	case key.Matches(msg, k.Help):
		m.showHelp = !m.showHelp
		m.helpScreen.offset = 0
	case key.Matches(msg, k.Mouse):
		m.mouse = !m.mouse
		text := "mouse off: the terminal selects text (M turns it on)"
		if m.mouse {
			text = "mouse on: a click selects, a double-click opens the detail, the wheel scrolls (M turns it off)"
		}
		m.events.add(m.c.now(), "you", text, muted)
	case key.Matches(msg, k.Pause):
		m.paused = !m.paused
		m.header.paused = m.paused
		m.frozen = ""
	case key.Matches(msg, k.Up):
		m.c.selected = (m.c.selected + len(m.c.servers) - 1) % max(len(m.c.servers), 1)
	case key.Matches(msg, k.Down), key.Matches(msg, k.Next):
		m.c.selected = (m.c.selected + 1) % max(len(m.c.servers), 1)
	case key.Matches(msg, k.Detail):
		m.detail = !m.detail
	case key.Matches(msg, k.Back):
		if m.events.query != "" && !m.detail && !m.showHelp {
			m.events.query = ""
		}
		m.detail, m.showHelp = false, false
	case key.Matches(msg, k.Range):
		m.c.chart.span = int(msg.Text[0] - '1')
	case key.Matches(msg, k.Zoom):
		m.c.chart.zoom = !m.c.chart.zoom
	case key.Matches(msg, k.Reset):
		// Mid-incident the history is the evidence: ask first.
		m.showHelp, m.detail = false, false
		m.confirm = &dialog{c: m.c, text: "Reset every server's statistics and sparklines on every screen (the history so far is lost; up/down and the policy keep theirs)",
			run: func(m *Model) tea.Cmd { return act(m.opts.Actions.ResetStats) }}
	case key.Matches(msg, k.Demo):
		cmd = act(m.opts.Actions.DemoToggle)
	case key.Matches(msg, k.Service):
		m.c.service = (m.c.service + 1) % max(len(m.c.services), 1)
	case key.Matches(msg, k.Failover), key.Matches(msg, k.Restore), key.Matches(msg, k.Hold),
		key.Matches(msg, k.Evacuate), key.Matches(msg, k.Primaries):
		m.ask(msg)
	case m.events.key(msg):
		if key.Matches(msg, k.Search) {
			m.detail, m.showHelp = false, false
		}
	}
	if m.paused {
		m.frozen = m.render()
	}
	return m, cmd
}

// answer takes a key while a question is open: y (or the name typed and
// enter) runs it, anything else cancels; a key pressed for a question
// just redrawn is not an answer to the new one.
func (m *Model) answer(msg tea.KeyPressMsg) tea.Cmd {
	d := m.confirm
	if !d.redrawn.IsZero() && m.c.now().Sub(d.redrawn) < redrawnGrace &&
		(key.Matches(msg, m.c.keys.Confirm) || msg.Code == tea.KeyEnter) {
		return nil
	}
	done, yes := d.answer(msg)
	if !done {
		return nil
	}
	m.confirm = nil
	switch {
	case yes:
		return d.run(m)
	case d.need != "" && msg.Code == tea.KeyEnter:
		m.events.add(m.c.now(), "you", "cancelled (the name did not match): "+d.text, muted)
	default:
		m.events.add(m.c.now(), "you", "cancelled: "+d.text, muted)
	}
	return nil
}

// act is a request as a command: it runs off the Update loop, so however
// the request is carried, the screen never waits for it.
func act(request func()) tea.Cmd {
	return func() tea.Msg {
		request()
		return nil
	}
}
