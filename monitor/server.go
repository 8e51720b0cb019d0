package monitor

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/failwatch/failwatch/config"
)

// EventType says what an Event reports.
type EventType int

// Event types, in the order a server usually produces them.
const (
	// EventResolved: the server's name resolved to Addr (first time or changed).
	EventResolved EventType = iota
	// EventUnresolved: the name did not resolve; Reason says why.
	EventUnresolved
	// EventSample: a check finished a probe; Sample and Check are set.
	EventSample
	// EventCheck: a check went up or down; Transition says why.
	EventCheck
	// EventServer: the server's combined state changed.
	EventServer
)

// Event is what a server monitor tells its consumers.
type Event struct {
	Time       time.Time
	Server     string
	Type       EventType
	Addr       netip.Addr
	Reason     string
	Sample     Sample
	Check      CheckStatus
	Transition Transition
	// State is the server's combined state after the event.
	State State
}

// CheckStatus is a snapshot of one check.
type CheckStatus struct {
	Label    string
	State    State
	Since    time.Time
	Window   Stats
	Lifetime Stats
	// LastErr is why the most recent probe failed, empty after a reply.
	LastErr string
}

// ServerStatus is a snapshot of one server.
type ServerStatus struct {
	Name    string
	Role    config.Role
	Address string
	Addr    netip.Addr
	State   State
	Since   time.Time
	// Reason explains an UNRESOLVED state.
	Reason string
	Checks []CheckStatus
}

// Resolver looks host names up; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Options configure a server monitor.
type Options struct {
	Probe config.Probe
	// Count stops after this many probes per check; 0 probes until the
	// context ends.
	Count int
	// Phase delays the first probe within the interval (see Spread), so the
	// probes of many servers leave one after another, not in one burst that
	// queues every reply behind the others.
	Phase time.Duration
	// ICMP is the shared ICMP prober; needed when a check is icmp.
	ICMP *ICMP
	// Resolver defaults to net.DefaultResolver.
	Resolver Resolver
	// Prober, when set, builds each check's prober instead of NewProber
	// (the demo's simulated servers).
	Prober func(config.Server, config.Check) (Prober, error)
	// Compact keeps each check's window as outcomes alone (NewCompactSeries):
	// the same statistics, no samples to draw. For report and exporter,
	// where no screen can ask for them; the engine then keeps no sample
	// history for late joiners either, as none can join.
	Compact bool
	// Plain judges the up/down state as before issue 28: on the configured
	// timeout, with no confirmation after a loss (scripts/bench-detect's
	// "before").
	Plain bool
}

// Server probes one server with all its checks. Its state belongs to the
// goroutine running it (Run's, or its Group's); Status may be read once
// it has returned.
type Server struct {
	cfg     config.Server
	opts    Options
	checks  []*check
	literal bool
	addr    netip.Addr
	state   State
	since   time.Time
	reason  string
	// resetAsked is a Reset not yet applied by the loop running the
	// server, if any (running).
	resetAsked atomic.Bool
	running    atomic.Pointer[probeLoop]
}

type check struct {
	label  string
	prober Prober
	series *Series
	hyst   *Hysteresis
	err    string
	// Probes overlap when the timeout is longer than the interval, and a
	// lost one finishes last; results are recorded in the order the probes
	// were sent, as ping does, or a loss would be counted out of place.
	sent, recorded uint64
	early          map[uint64]Sample
	// judge is the up/down state's side: its own timeout and confirmations
	// (detect.go).
	judge judge
}

// NewServer prepares the monitor of one server.
func NewServer(s config.Server, opts Options) (*Server, error) {
	if opts.Resolver == nil {
		opts.Resolver = net.DefaultResolver
	}
	m := &Server{cfg: s, opts: opts}
	if a, err := netip.ParseAddr(s.Address); err == nil {
		m.addr, m.literal = a, true
	}
	checks := s.ProbedBy()
	th := Thresholds{
		DownAfter: opts.Probe.DownAfter, UpAfter: opts.Probe.UpAfter,
		LossWindow: opts.Probe.LossWindow, DownLossPercent: opts.Probe.DownLossPercent,
	}
	for _, c := range checks {
		var p Prober
		var err error
		if opts.Prober != nil {
			p, err = opts.Prober(s, c)
		} else {
			p, err = NewProber(c, opts.ICMP)
		}
		if err != nil {
			return nil, fmt.Errorf("server %s: %w", s.Name, err)
		}
		series := NewSeries
		if opts.Compact {
			series = NewCompactSeries
		}
		m.checks = append(m.checks, &check{
			label: c.Label(), prober: p,
			series: series(opts.Probe.Window), hyst: NewHysteresis(th),
			judge: newJudge(c.Kind, opts.Probe, opts.Plain),
		})
	}
	return m, nil
}

// Reset clears the statistics (not the up/down state); it never blocks.
func (m *Server) Reset() {
	m.resetAsked.Store(true)
	if r := m.running.Load(); r != nil {
		r.g.ask(&r.g.resets, r)
	}
}

// resetStats applies a Reset, on the goroutine running the server.
func (m *Server) resetStats() {
	for _, c := range m.checks {
		c.series.Reset()
	}
}

// Spread is the phase of the i-th of n servers probed every interval. The
// servers' probes leave in batches of ProbeBatch, ProbeSpacing apart (closer
// when they would not fit in the interval), as fping paces its targets with
// -i: never all at once, and yet close enough together that the host wakes
// into one short busy spell per interval instead of n times from idle, which
// costs several times a probe's CPU (docs/BENCHMARKS.md, "ICMP probing
// cost"). Replies are stamped by the kernel, so a batch's replies waiting
// for the reader do not lengthen each other's round trips.
func Spread(i, n int, interval time.Duration) time.Duration {
	if n <= ProbeBatch || i <= 0 {
		return 0
	}
	batches := (n + ProbeBatch - 1) / ProbeBatch
	step := min(interval/time.Duration(batches), ProbeSpacing)
	return time.Duration((i%n)/ProbeBatch) * step
}

// ProbeBatch servers' probes leave together; batches leave ProbeSpacing
// apart.
const (
	ProbeBatch   = 10
	ProbeSpacing = time.Millisecond
)

// inOrder records a result once every probe sent before it is recorded.
func (m *Server) inOrder(emit func(Event), r result) {
	c := r.check
	if r.seq != c.recorded {
		if c.early == nil {
			c.early = map[uint64]Sample{}
		}
		c.early[r.seq] = r.sample
		return
	}
	m.record(emit, c, r.sample)
	for {
		x, ok := c.early[c.recorded]
		if !ok {
			return
		}
		delete(c.early, c.recorded)
		m.record(emit, c, x)
	}
}

// record adds a scheduled probe's sample, by the configured timeout, to the
// statistics.
func (m *Server) record(emit func(Event), c *check, x Sample) {
	c.recorded++
	c.series.Add(x)
	c.err = x.Err
	if emit == nil {
		// Nobody listens (report off a terminal): no snapshot to build.
		return
	}
	// One snapshot per sample: the window statistics are the costly part.
	m.emit(emit, Event{Type: EventSample, Sample: x, Check: c.status()})
}

// decide feeds one verdict to the check's up/down state.
func (m *Server) decide(emit func(Event), c *check, v verdict) {
	observe := c.hyst.Observe
	if v.confirm {
		observe = c.hyst.Confirm
	}
	tr, changed := observe(v.sample)
	if !changed {
		return
	}
	m.emit(emit, Event{Type: EventCheck, Transition: tr, Check: c.status(), Reason: tr.Reason})
	if m.state != Unresolved {
		m.setState(emit, m.combined(), tr.At)
	}
}

func (m *Server) combined() State {
	states := make([]State, len(m.checks))
	for i, c := range m.checks {
		states[i], _ = c.hyst.State()
	}
	return ServerState(states)
}

func (m *Server) setState(emit func(Event), s State, at time.Time) {
	if s == m.state {
		return
	}
	tr := Transition{From: m.state, To: s, At: at}
	m.state, m.since = s, at
	m.emit(emit, Event{Type: EventServer, Transition: tr, Reason: m.reason})
}

func (m *Server) emit(emit func(Event), ev Event) {
	if emit == nil {
		return
	}
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	ev.Server, ev.State = m.cfg.Name, m.state
	if !ev.Addr.IsValid() {
		ev.Addr = m.addr
	}
	emit(ev)
}

func (c *check) status() CheckStatus {
	st, since := c.hyst.State()
	return CheckStatus{
		Label: c.label, State: st, Since: since,
		Window: c.series.Window(), Lifetime: c.series.Lifetime(), LastErr: c.err,
	}
}

// Status returns a snapshot; call it only once the server's run has
// returned (Run, RunAll, or the channel Group.Start gave).
func (m *Server) Status() ServerStatus {
	s := ServerStatus{
		Name: m.cfg.Name, Role: m.cfg.Role, Address: m.cfg.Address, Addr: m.addr,
		State: m.state, Since: m.since, Reason: m.reason,
	}
	for _, c := range m.checks {
		s.Checks = append(s.Checks, c.status())
	}
	return s
}
