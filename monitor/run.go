package monitor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"
)

type result struct {
	loop   *probeLoop
	check  *check
	seq    uint64
	sample Sample
	// started: from a Starter; a stopping loop does not wait for it.
	started bool
	// id is the probe's in the state's order (judge); confirm marks a
	// confirmation probe, which the statistics never see.
	id      uint64
	confirm bool
}

type resolution struct {
	loop *probeLoop
	addr netip.Addr
	err  error
}

// Run probes until ctx ends or, with a Count, until every check has sent
// Count probes and heard back. Probes cut short by ctx are not recorded:
// stopping is not a loss. It is RunAll of one server.
func (m *Server) Run(ctx context.Context, events chan<- Event) error {
	return RunAll(ctx, []*Server{m}, events)[0]
}

// probeLoop is one server's loop in its Group: what it has sent and is
// waiting for, when it probes and looks the name up next. Only the group's
// goroutine touches it after Start.
type probeLoop struct {
	m   *Server
	g   *Group
	ctx context.Context
	// emit gets the server's events; nil when nobody listens.
	emit              func(Event)
	interval, timeout time.Duration
	// inflight probes run on goroutines of their own, which end with ctx:
	// a stopping loop waits for them. started ones are a Starter's, whose
	// timers it does not wait for: their results come to nothing.
	inflight, started, sent int
	resolving               bool
	nextResolve             time.Time
	retry                   time.Duration
	lastTick                time.Time
	// nextTick is when the next scheduled probe is due; wakeAt when a
	// probe becomes overdue for the state or a confirmation probe is due
	// (zero when neither is).
	nextTick, wakeAt time.Time
	// index is the loop's in the group's queue, -1 when not in it.
	index int
	// stopping once ctx ended or the loop is done: it returns err once
	// its probes and lookup are back, on done.
	stopping  bool
	err       error
	done      chan error
	stopWatch func() bool
	// touched: a batch of results being delivered reached this loop,
	// which is judged once the batch is in (Group.deliverQueued).
	touched bool
}

func (m *Server) newProbeLoop(ctx context.Context, g *Group, emit func(Event)) *probeLoop {
	interval := m.opts.Probe.Interval
	if interval <= 0 {
		interval = time.Second
	}
	timeout := m.opts.Probe.Timeout
	if timeout <= 0 {
		timeout = interval
	}
	return &probeLoop{m: m, g: g, ctx: ctx, emit: emit, interval: interval, timeout: timeout,
		retry: interval, index: -1, done: make(chan error, 1)}
}

// next is when the loop is next due: its tick or its wake-up.
func (r *probeLoop) next() time.Time {
	if !r.wakeAt.IsZero() && r.wakeAt.Before(r.nextTick) {
		return r.wakeAt
	}
	return r.nextTick
}

// tick notes probes the loop was too late for, looks the name up when it
// is due, and sends one probe per check.
func (r *probeLoop) tick(now time.Time) {
	m, interval := r.m, r.interval
	if late := now.Sub(r.lastTick); !r.lastTick.IsZero() && late >= interval*3/2 {
		m.skip(int((late+interval/2)/interval)-1, late-interval)
	}
	r.lastTick = now
	if !m.literal && !r.resolving && !now.Before(r.nextResolve) {
		r.resolve()
	}
	if m.addr.IsValid() && (m.opts.Count == 0 || r.sent < m.opts.Count) {
		r.probe()
	}
}

func (r *probeLoop) resolve() {
	r.resolving = true
	m, ctx, timeout, resolved := r.m, r.ctx, r.timeout, r.g.resolved
	go func() {
		rctx, cancel := context.WithTimeout(ctx, max(timeout, 5*time.Second))
		defer cancel()
		addrs, err := m.opts.Resolver.LookupNetIP(rctx, "ip", m.cfg.Address)
		res := resolution{loop: r}
		switch {
		case err != nil:
			res.err = err
		case len(addrs) == 0:
			res.err = errors.New("no addresses")
		default:
			res.addr = addrs[0].Unmap()
		}
		resolved <- res
	}()
}

// probe sends one scheduled probe per check, on the configured timeout: the
// statistics count them as ping would.
func (r *probeLoop) probe() {
	for _, c := range r.m.checks {
		seq := c.sent
		c.sent++
		r.send(c, result{check: c, seq: seq, id: c.judge.sent(time.Now(), false)}, r.timeout)
	}
	r.sent++
}

// confirm sends one confirmation probe, on the state's timeout: only the
// state waits for it.
func (r *probeLoop) confirm(c *check) {
	r.send(c, result{check: c, id: c.judge.sent(time.Now(), true), confirm: true}, c.judge.timeout(r.timeout))
}

// send starts one probe of c to the address as it is now (a lookup the
// loop takes meanwhile changes m.addr under its feet otherwise); res
// comes back with its sample.
func (r *probeLoop) send(c *check, res result, timeout time.Duration) {
	ctx, g, addr := r.ctx, r.g, r.m.addr
	res.loop = r
	if st, ok := c.prober.(Starter); ok {
		r.started++
		res.started = true
		st.Start(addr, timeout, func(x Sample) {
			res.sample = lateIsLost(x, timeout)
			g.arrive(res)
		})
		return
	}
	r.inflight++
	go func() {
		pctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		res.sample = lateIsLost(c.prober.Probe(pctx, addr), timeout)
		g.arrive(res)
	}()
}

// deliver takes one probe's result: its round trip to the state's
// timeout, its sample to the statistics (a scheduled probe's) and its
// outcome to the state.
func (r *probeLoop) deliver(res result) {
	if res.started {
		r.started--
	} else {
		r.inflight--
	}
	if r.stopping || r.ctx.Err() != nil {
		return
	}
	c := res.check
	timeout := c.judge.timeout(r.timeout)
	if res.sample.OK {
		c.judge.rtts.add(res.sample.RTT)
	}
	if !res.confirm {
		r.m.inOrder(r.emit, res)
	}
	c.judge.outcome(res.id, res.sample, timeout)
}

// settle judges what is overdue, feeds the state the verdicts known in
// order, sends the confirmation probes due, and sets the wake-up for the
// next of either.
func (r *probeLoop) settle(now time.Time) {
	if r.stopping || r.ctx.Err() != nil {
		return
	}
	var next time.Time
	earliest := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for _, c := range r.m.checks {
		j := &c.judge
		// At the configured timeout the result itself says so.
		adapted := j.timeout(r.timeout) < r.timeout
		if adapted {
			j.overdue(now, j.timeout(r.timeout))
		}
		for _, v := range j.ready() {
			r.m.decide(r.emit, c, v)
			state, _ := c.hyst.State()
			j.afterVerdict(v, state, now, j.timeout(r.timeout))
		}
		n, at := j.due(now)
		for range n {
			if r.m.addr.IsValid() {
				r.confirm(c)
			}
		}
		earliest(at)
		if adapted {
			earliest(j.overdue(now, j.timeout(r.timeout)))
		}
	}
	r.wakeAt = next
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

// resolved applies a lookup's outcome. A failed lookup is retried at the
// probe interval, backing off to resolve_every. It returns why when a
// counted run cannot go on.
func (m *Server) resolved(emit func(Event), r resolution, next *time.Time, retry *time.Duration) error {
	now := time.Now()
	if r.err != nil {
		*next = now.Add(*retry)
		*retry = min(*retry*2, m.opts.Probe.ResolveEvery)
		reason := "cannot resolve " + m.cfg.Address + ": " + lookupReason(r.err)
		m.addr = netip.Addr{}
		if m.state != Unresolved || m.reason != reason {
			m.reason = reason
			m.setState(emit, Unresolved, now)
			m.emit(emit, Event{Type: EventUnresolved, Reason: reason})
		}
		if m.opts.Count > 0 {
			return fmt.Errorf("server %s: %s", m.cfg.Name, m.reason)
		}
		return nil
	}
	*next = now.Add(m.opts.Probe.ResolveEvery)
	*retry = m.opts.Probe.Interval
	changed := r.addr != m.addr
	m.addr, m.reason = r.addr, ""
	if changed {
		m.emit(emit, Event{Type: EventResolved, Addr: r.addr})
	}
	if m.state == Unresolved {
		m.setState(emit, m.combined(), now)
	}
	return nil
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
