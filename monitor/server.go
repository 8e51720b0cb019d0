package monitor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
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
}

// Server probes one server with all its checks. Its state belongs to the
// goroutine running Run; Status may be read once Run has returned.
type Server struct {
	cfg     config.Server
	opts    Options
	checks  []*check
	literal bool
	addr    netip.Addr
	state   State
	since   time.Time
	reason  string
	reset   chan struct{}
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
}

// NewServer prepares the monitor of one server.
func NewServer(s config.Server, opts Options) (*Server, error) {
	if opts.Resolver == nil {
		opts.Resolver = net.DefaultResolver
	}
	m := &Server{cfg: s, opts: opts, reset: make(chan struct{}, 1)}
	if a, err := netip.ParseAddr(s.Address); err == nil {
		m.addr, m.literal = a, true
	}
	checks := s.Checks
	if len(checks) == 0 {
		checks = []config.Check{{Kind: config.ICMP}}
	}
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
		m.checks = append(m.checks, &check{
			label: c.Label(), prober: p,
			series: NewSeries(opts.Probe.Window), hyst: NewHysteresis(th),
		})
	}
	return m, nil
}

// Reset clears the statistics (not the up/down state); it never blocks.
func (m *Server) Reset() {
	select {
	case m.reset <- struct{}{}:
	default:
	}
}

type result struct {
	check  *check
	seq    uint64
	sample Sample
	// started: from a Starter, which does not deliver once ctx has ended.
	started bool
}

type resolution struct {
	addr netip.Addr
	err  error
}

// Run probes until ctx ends or, with a Count, until every check has sent
// Count probes and heard back. Probes cut short by ctx are not recorded:
// stopping is not a loss.
func (m *Server) Run(ctx context.Context, events chan<- Event) error {
	interval := m.opts.Probe.Interval
	if interval <= 0 {
		interval = time.Second
	}
	timeout := m.opts.Probe.Timeout
	if timeout <= 0 {
		timeout = interval
	}
	results := make(chan result, 4*len(m.checks))
	resolved := make(chan resolution, 1)
	// inflight probes run on goroutines of their own and always deliver;
	// started ones (a Starter's) deliver only while ctx lasts.
	inflight, started, sent := 0, 0, 0
	resolving := false
	var nextResolve time.Time
	retry := interval

	// The first tick comes after the phase, then one every interval.
	first := time.NewTimer(min(max(m.opts.Phase, 0), interval))
	defer first.Stop()
	var ticker *time.Ticker
	var ticks <-chan time.Time
	defer func() {
		if ticker != nil {
			ticker.Stop()
		}
	}()
	var lastTick time.Time

	resolve := func() {
		resolving = true
		go func() {
			rctx, cancel := context.WithTimeout(ctx, max(timeout, 5*time.Second))
			defer cancel()
			addrs, err := m.opts.Resolver.LookupNetIP(rctx, "ip", m.cfg.Address)
			var r resolution
			switch {
			case err != nil:
				r.err = err
			case len(addrs) == 0:
				r.err = errors.New("no addresses")
			default:
				r.addr = addrs[0].Unmap()
			}
			resolved <- r
		}()
	}
	probe := func() {
		for _, c := range m.checks {
			seq := c.sent
			c.sent++
			if st, ok := c.prober.(Starter); ok {
				started++
				st.Start(m.addr, timeout, func(x Sample) {
					select {
					case results <- result{c, seq, lateIsLost(x, timeout), true}:
					case <-ctx.Done():
					}
				})
				continue
			}
			inflight++
			go func() {
				pctx, cancel := context.WithTimeout(ctx, timeout)
				defer cancel()
				results <- result{c, seq, lateIsLost(c.prober.Probe(pctx, m.addr), timeout), false}
			}()
		}
		sent++
	}
	tick := func(now time.Time) {
		if late := now.Sub(lastTick); !lastTick.IsZero() && late >= interval*3/2 {
			m.skip(int((late+interval/2)/interval)-1, late-interval)
		}
		lastTick = now
		if !m.literal && !resolving && !now.Before(nextResolve) {
			resolve()
		}
		if m.addr.IsValid() && (m.opts.Count == 0 || sent < m.opts.Count) {
			probe()
		}
	}
	drain := func() {
		for inflight > 0 {
			if r := <-results; !r.started {
				inflight--
			}
		}
		if resolving {
			<-resolved
		}
	}

	if m.literal {
		m.emit(ctx, events, Event{Type: EventResolved, Addr: m.addr})
	}
	for {
		if m.opts.Count > 0 && sent >= m.opts.Count && inflight == 0 && started == 0 {
			drain()
			return nil
		}
		select {
		case <-ctx.Done():
			drain()
			return ctx.Err()
		case now := <-first.C:
			ticker = time.NewTicker(interval)
			ticks = ticker.C
			tick(now)
		case now := <-ticks:
			tick(now)
		case <-m.reset:
			for _, c := range m.checks {
				c.series.Reset()
			}
		case r := <-results:
			if r.started {
				started--
			} else {
				inflight--
			}
			if ctx.Err() == nil {
				m.inOrder(ctx, events, r)
			}
		case r := <-resolved:
			resolving = false
			if done := m.resolved(ctx, events, r, &nextResolve, &retry); done {
				drain()
				return fmt.Errorf("server %s: %s", m.cfg.Name, m.reason)
			}
		}
	}
}

// skip notes n probes the loop was too late to send: a busy host is no
// evidence about the server, so they are neither samples nor losses.
func (m *Server) skip(n int, late time.Duration) {
	if n <= 0 || !m.addr.IsValid() {
		return
	}
	for _, c := range m.checks {
		c.series.Skip(n)
		c.err = fmt.Sprintf("%d probe(s) not sent: failwatch ran %s late (host busy)", n, late.Round(time.Millisecond))
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

// resolved applies a lookup's outcome. A failed lookup is retried at the
// probe interval, backing off to resolve_every. It returns true when a
// counted run cannot go on.
func (m *Server) resolved(ctx context.Context, events chan<- Event, r resolution, next *time.Time, retry *time.Duration) bool {
	now := time.Now()
	if r.err != nil {
		*next = now.Add(*retry)
		*retry = min(*retry*2, m.opts.Probe.ResolveEvery)
		reason := "cannot resolve " + m.cfg.Address + ": " + lookupReason(r.err)
		m.addr = netip.Addr{}
		if m.state != Unresolved || m.reason != reason {
			m.reason = reason
			m.setState(ctx, events, Unresolved, now)
			m.emit(ctx, events, Event{Type: EventUnresolved, Reason: reason})
		}
		return m.opts.Count > 0
	}
	*next = now.Add(m.opts.Probe.ResolveEvery)
	*retry = m.opts.Probe.Interval
	changed := r.addr != m.addr
	m.addr, m.reason = r.addr, ""
	if changed {
		m.emit(ctx, events, Event{Type: EventResolved, Addr: r.addr})
	}
	if m.state == Unresolved {
		m.setState(ctx, events, m.combined(), now)
	}
	return false
}

func lookupReason(err error) string {
	var de *net.DNSError
	if errors.As(err, &de) {
		switch {
		case de.IsNotFound:
			return "no such host"
		case de.IsTimeout:
			return "lookup timed out"
		}
		return strings.TrimPrefix(de.Err, "lookup ")
	}
	return err.Error()
}

// inOrder records a result once every probe sent before it is recorded.
func (m *Server) inOrder(ctx context.Context, events chan<- Event, r result) {
	c := r.check
	if r.seq != c.recorded {
		if c.early == nil {
			c.early = map[uint64]Sample{}
		}
		c.early[r.seq] = r.sample
		return
	}
	m.record(ctx, events, c, r.sample)
	for {
		x, ok := c.early[c.recorded]
		if !ok {
			return
		}
		delete(c.early, c.recorded)
		m.record(ctx, events, c, x)
	}
}

func (m *Server) record(ctx context.Context, events chan<- Event, c *check, x Sample) {
	c.recorded++
	c.series.Add(x)
	c.err = x.Err
	tr, changed := c.hyst.Observe(x)
	// One snapshot per sample: the window statistics are the costly part.
	st := c.status()
	m.emit(ctx, events, Event{Type: EventSample, Sample: x, Check: st})
	if changed {
		m.emit(ctx, events, Event{Type: EventCheck, Transition: tr, Check: st, Reason: tr.Reason})
		if m.state != Unresolved {
			m.setState(ctx, events, m.combined(), tr.At)
		}
	}
}

func (m *Server) combined() State {
	states := make([]State, len(m.checks))
	for i, c := range m.checks {
		states[i], _ = c.hyst.State()
	}
	return ServerState(states)
}

func (m *Server) setState(ctx context.Context, events chan<- Event, s State, at time.Time) {
	if s == m.state {
		return
	}
	tr := Transition{From: m.state, To: s, At: at}
	m.state, m.since = s, at
	m.emit(ctx, events, Event{Type: EventServer, Transition: tr, Reason: m.reason})
}

func (m *Server) emit(ctx context.Context, events chan<- Event, ev Event) {
	if events == nil {
		return
	}
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	ev.Server, ev.State = m.cfg.Name, m.state
	if !ev.Addr.IsValid() {
		ev.Addr = m.addr
	}
	select {
	case events <- ev:
	case <-ctx.Done():
	}
}

func (c *check) status() CheckStatus {
	st, since := c.hyst.State()
	return CheckStatus{
		Label: c.label, State: st, Since: since,
		Window: c.series.Window(), Lifetime: c.series.Lifetime(), LastErr: c.err,
	}
}

// Status returns a snapshot; call it only after Run has returned.
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

// lateIsLost counts a reply that came after the timeout as a loss, as ping
// does: a prober that measured past its deadline must not report an RTT
// longer than the admin allowed.
func lateIsLost(s Sample, timeout time.Duration) Sample {
	if s.OK && s.RTT > timeout {
		s.OK = false
		s.Err = fmt.Sprintf("reply after the timeout (%s > %s)", s.RTT.Round(time.Microsecond), timeout)
		s.RTT = 0
	}
	return s
}
