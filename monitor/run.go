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
	check  *check
	seq    uint64
	sample Sample
	// started: from a Starter, which does not deliver once ctx has ended.
	started bool
	// id is the probe's in the state's order (judge); confirm marks a
	// confirmation probe, which the statistics never see.
	id      uint64
	confirm bool
}

type resolution struct {
	addr netip.Addr
	err  error
}

// Run probes until ctx ends or, with a Count, until every check has sent
// Count probes and heard back. Probes cut short by ctx are not recorded:
// stopping is not a loss.
func (m *Server) Run(ctx context.Context, events chan<- Event) error {
	r := m.newProbeLoop(ctx)
	// The first tick comes after the phase, then one every interval.
	first := time.NewTimer(min(max(m.opts.Phase, 0), r.interval))
	defer first.Stop()
	defer r.wake.Stop()
	var ticker *time.Ticker
	var ticks <-chan time.Time
	defer func() {
		if ticker != nil {
			ticker.Stop()
		}
	}()

	if m.literal {
		m.emit(ctx, events, Event{Type: EventResolved, Addr: m.addr})
	}
	for {
		if m.opts.Count > 0 && r.sent >= m.opts.Count && r.inflight == 0 && r.started == 0 {
			r.drain()
			return nil
		}
		select {
		case <-ctx.Done():
			r.drain()
			return ctx.Err()
		case now := <-first.C:
			ticker = time.NewTicker(r.interval)
			ticks = ticker.C
			r.tick(now)
			r.settle(events, now)
		case now := <-ticks:
			r.tick(now)
			r.settle(events, now)
		case <-m.reset:
			for _, c := range m.checks {
				c.series.Reset()
			}
		case res := <-r.results:
			r.deliver(events, res)
			r.settle(events, time.Now())
		case now := <-r.wake.C:
			// A reply already delivered is no overdue probe.
			r.deliverQueued(events)
			r.settle(events, now)
		case res := <-r.resolved:
			r.resolving = false
			if done := m.resolved(ctx, events, res, &r.nextResolve, &r.retry); done {
				r.drain()
				return fmt.Errorf("server %s: %s", m.cfg.Name, m.reason)
			}
		}
	}
}

// probeLoop is one Run's loop: what it has sent and is waiting for, and
// when it looks the name up next. Only the loop's goroutine touches it.
type probeLoop struct {
	m                 *Server
	ctx               context.Context
	interval, timeout time.Duration
	results           chan result
	resolved          chan resolution
	// inflight probes run on goroutines of their own and always deliver;
	// started ones (a Starter's) deliver only while ctx lasts.
	inflight, started, sent int
	resolving               bool
	nextResolve             time.Time
	retry                   time.Duration
	lastTick                time.Time
	// wake is when a probe becomes overdue for the state or a
	// confirmation probe is due.
	wake *time.Timer
}

func (m *Server) newProbeLoop(ctx context.Context) *probeLoop {
	interval := m.opts.Probe.Interval
	if interval <= 0 {
		interval = time.Second
	}
	timeout := m.opts.Probe.Timeout
	if timeout <= 0 {
		timeout = interval
	}
	wake := time.NewTimer(time.Hour)
	wake.Stop()
	return &probeLoop{m: m, ctx: ctx, interval: interval, timeout: timeout,
		results: make(chan result, 4*len(m.checks)), resolved: make(chan resolution, 1), retry: interval, wake: wake}
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
	m, ctx, timeout, resolved := r.m, r.ctx, r.timeout, r.resolved
	go func() {
		rctx, cancel := context.WithTimeout(ctx, max(timeout, 5*time.Second))
		defer cancel()
		addrs, err := m.opts.Resolver.LookupNetIP(rctx, "ip", m.cfg.Address)
		var res resolution
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
	ctx, results, addr := r.ctx, r.results, r.m.addr
	if st, ok := c.prober.(Starter); ok {
		r.started++
		res.started = true
		st.Start(addr, timeout, func(x Sample) {
			res.sample = lateIsLost(x, timeout)
			select {
			case results <- res:
			case <-ctx.Done():
			}
		})
		return
	}
	r.inflight++
	go func() {
		pctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		res.sample = lateIsLost(c.prober.Probe(pctx, addr), timeout)
		results <- res
	}()
}

// deliver takes one probe's result: its round trip to the state's
// timeout, its sample to the statistics (a scheduled probe's) and its
// outcome to the state.
func (r *probeLoop) deliver(events chan<- Event, res result) {
	if res.started {
		r.started--
	} else {
		r.inflight--
	}
	if r.ctx.Err() != nil {
		return
	}
	c := res.check
	timeout := c.judge.timeout(r.timeout)
	if res.sample.OK {
		c.judge.rtts.add(res.sample.RTT)
	}
	if !res.confirm {
		r.m.inOrder(r.ctx, events, res)
	}
	c.judge.outcome(res.id, res.sample, timeout)
}

// deliverQueued takes the results already waiting.
func (r *probeLoop) deliverQueued(events chan<- Event) {
	for {
		select {
		case res := <-r.results:
			r.deliver(events, res)
		default:
			return
		}
	}
}

// settle judges what is overdue, feeds the state the verdicts known in
// order, sends the confirmation probes due, and sets the wake-up for the
// next of either.
func (r *probeLoop) settle(events chan<- Event, now time.Time) {
	if r.ctx.Err() != nil {
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
			r.m.decide(r.ctx, events, c, v)
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
	if next.IsZero() {
		r.wake.Stop()
		return
	}
	r.wake.Reset(max(time.Until(next), 0))
}

// drain waits for the probes and the lookup still out, which always
// deliver, so that none outlives Run.
func (r *probeLoop) drain() {
	for r.inflight > 0 {
		if res := <-r.results; !res.started {
			r.inflight--
		}
	}
	if r.resolving {
		<-r.resolved
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
