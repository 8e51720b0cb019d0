package monitor

import (
	"container/heap"
	"context"
	"errors"
	"sync"
	"time"
)

// Group runs the probe loops of many servers on one goroutine: one timer
// for the earliest of their ticks and wake-ups, one queue for every
// probe's result (which never waits for the loop) and one channel for the
// name lookups. A goroutine per server cost 8 KB of stack each once grown
// (docs/BENCHMARKS.md, "Memory in proportion to what is watched"), and the
// servers' probes leave in Spread's batches anyway, so one goroutine takes
// them in turn. A loop in a Group does what Run does, probe for probe: Run
// is a Group of one server.
type Group struct {
	resolved chan resolution
	// wakeup tells the loop that arrived, joining, leaving or resets has
	// news.
	wakeup chan struct{}

	mu sync.Mutex
	// arrived are the results of the probes come back, for the loop to
	// take: a result never waits for the loop (nor does the ICMP reader
	// that hands it over, or replies would wait in the socket until they
	// were late). They are bounded by the probes in flight.
	arrived []result
	joining []*probeLoop
	leaving []*probeLoop
	resets  []*probeLoop
	ended   bool

	// What follows belongs to the loop's goroutine: the loops running or
	// draining, those running by when they are due, and arrived's last
	// backing array to reuse.
	loops map[*probeLoop]struct{}
	spare []result
	// touched are the loops a batch of results reached, reused.
	touched []*probeLoop
	queue   loopQueue
	timer   *time.Timer
}

// NewGroup makes an empty group; Run runs it, Start adds servers.
func NewGroup() *Group {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &Group{
		resolved: make(chan resolution, 16), wakeup: make(chan struct{}, 1),
		loops: map[*probeLoop]struct{}{}, timer: t,
	}
}

// Start runs m's probe loop in the group from now until ctx ends or, with
// a Count, until it is done, as Run would. emit gets the server's events on
// the group's goroutine, so it must not wait for the group; nil when nobody
// listens. The channel returned receives what Run would return once the
// loop's probes and lookup are back, then is closed. It never blocks.
func (g *Group) Start(ctx context.Context, m *Server, emit func(Event)) <-chan error {
	r := m.newProbeLoop(ctx, g, emit)
	// A context's watch costs a server about a kilobyte: RunAll's servers
	// share the group's.
	r.stopWatch = context.AfterFunc(ctx, func() { g.ask(&g.leaving, r) })
	return g.start(r)
}

func (g *Group) start(r *probeLoop) <-chan error {
	g.mu.Lock()
	if g.ended {
		g.mu.Unlock()
		if r.stopWatch != nil {
			r.stopWatch()
		}
		r.done <- errors.New("monitor: the probe group has stopped")
		close(r.done)
		return r.done
	}
	g.joining = append(g.joining, r)
	g.mu.Unlock()
	g.poke()
	return r.done
}

// Run runs the group's loops until ctx ends and each has returned.
func (g *Group) Run(ctx context.Context) { g.run(ctx, false) }

// RunAll runs the servers' probe loops on one goroutine (a Group) until each
// has returned as Run returns, and gives their errors in order.
func RunAll(ctx context.Context, servers []*Server, events chan<- Event) []error {
	g := NewGroup()
	emit := sendTo(ctx, events)
	done := make([]<-chan error, len(servers))
	for i, m := range servers {
		done[i] = g.start(m.newProbeLoop(ctx, g, emit))
	}
	g.run(ctx, true)
	errs := make([]error, len(servers))
	for i, d := range done {
		errs[i] = <-d
	}
	return errs
}

// sendTo is an emit that sends to events, or gives up when ctx ends; nil
// when events is.
func sendTo(ctx context.Context, events chan<- Event) func(Event) {
	if events == nil {
		return nil
	}
	return func(ev Event) {
		select {
		case events <- ev:
		case <-ctx.Done():
		}
	}
}

// run is the loop; untilEmpty returns once no loop is left (RunAll's
// counted runs), otherwise only once ctx has ended too.
func (g *Group) run(ctx context.Context, untilEmpty bool) {
	stop := context.AfterFunc(ctx, g.poke)
	defer stop()
	defer g.timer.Stop()
	for {
		g.take(ctx)
		g.deliverQueued()
		if (untilEmpty || ctx.Err() != nil) && g.idle() {
			return
		}
		g.arm()
		select {
		case <-g.timer.C:
			g.due(time.Now())
		case res := <-g.resolved:
			g.resolve(res)
		case <-g.wakeup:
		}
	}
}

// idle says no loop is running, draining or about to join, and, if so,
// refuses joiners from now on.
func (g *Group) idle() bool {
	if len(g.loops) > 0 {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.joining) > 0 {
		return false
	}
	g.ended = true
	return true
}

func (g *Group) poke() {
	select {
	case g.wakeup <- struct{}{}:
	default:
	}
}

// ask queues r on list for the loop and wakes it.
func (g *Group) ask(list *[]*probeLoop, r *probeLoop) {
	g.mu.Lock()
	*list = append(*list, r)
	g.mu.Unlock()
	g.poke()
}

// take applies what other goroutines asked: loops joining, loops whose
// context ended, statistics reset. Once ctx ends every loop stops.
func (g *Group) take(ctx context.Context) {
	g.mu.Lock()
	joining, leaving, resets := g.joining, g.leaving, g.resets
	g.joining, g.leaving, g.resets = nil, nil, nil
	g.mu.Unlock()
	for _, r := range joining {
		g.join(r)
	}
	for _, r := range leaving {
		// One not joined yet stops as it joins; one returned is gone.
		if _, ok := g.loops[r]; ok {
			g.stop(r, r.ctx.Err())
		}
	}
	for _, r := range resets {
		if _, ok := g.loops[r]; ok && r.m.resetAsked.Swap(false) {
			r.m.resetStats()
		}
	}
	if ctx.Err() != nil {
		for r := range g.loops {
			g.stop(r, ctx.Err())
		}
	}
}

func (g *Group) join(r *probeLoop) {
	g.loops[r] = struct{}{}
	r.m.running.Store(r)
	if r.m.resetAsked.Swap(false) {
		r.m.resetStats()
	}
	if r.ctx.Err() != nil {
		g.stop(r, r.ctx.Err())
		return
	}
	// The first tick comes after the phase, then one every interval.
	r.nextTick = time.Now().Add(min(max(r.m.opts.Phase, 0), r.interval))
	heap.Push(&g.queue, r)
	if r.m.literal {
		r.m.emit(r.emit, Event{Type: EventResolved, Addr: r.m.addr})
	}
	g.check(r)
}

// stop ends r's probing: it returns err once its probes and lookup are
// back (drain).
func (g *Group) stop(r *probeLoop, err error) {
	if r.stopping {
		return
	}
	r.stopping, r.err = true, err
	if r.index >= 0 {
		heap.Remove(&g.queue, r.index)
	}
	g.finish(r)
}

// finish returns a stopping loop whose probes that always deliver (a
// prober's own goroutine) and lookup are back; a Starter's that come later
// are dropped.
func (g *Group) finish(r *probeLoop) {
	if !r.stopping || r.inflight > 0 || r.resolving {
		return
	}
	delete(g.loops, r)
	r.m.running.Store(nil)
	if r.stopWatch != nil {
		r.stopWatch()
	}
	r.done <- r.err
	close(r.done)
}

// check stops a counted loop that has sent its Count and heard back.
func (g *Group) check(r *probeLoop) {
	if !r.stopping && r.m.opts.Count > 0 && r.sent >= r.m.opts.Count && r.inflight == 0 && r.started == 0 {
		g.stop(r, nil)
	}
}

// arm sets the timer to the earliest loop due.
func (g *Group) arm() {
	g.timer.Stop()
	if len(g.queue) > 0 {
		g.timer.Reset(max(time.Until(g.queue[0].next()), 0))
	}
}

// due runs every loop whose tick or wake-up has come, once the results
// already waiting are taken: a reply already delivered is no overdue probe,
// however many servers' results the group took before it.
func (g *Group) due(now time.Time) {
	g.deliverQueued()
	for len(g.queue) > 0 && !g.queue[0].next().After(now) {
		r := g.queue[0]
		if !r.nextTick.After(now) {
			r.tick(now)
			// A tick the loop was too late for is not made up, as a
			// ticker drops it; tick counts it as not sent.
			r.nextTick = r.nextTick.Add(r.interval * (now.Sub(r.nextTick)/r.interval + 1))
		} else {
			r.wakeAt = time.Time{}
		}
		r.settle(now)
		g.after(r)
	}
}

// after puts r back in its place in the queue and stops it if it is done.
func (g *Group) after(r *probeLoop) {
	if r.index >= 0 {
		heap.Fix(&g.queue, r.index)
	}
	g.check(r)
}

// deliver hands a result to its loop and says whether the loop is still
// running, to be judged once the batch is in.
func (g *Group) deliver(res result) bool {
	r := res.loop
	if _, ok := g.loops[r]; !ok {
		return false // a Starter's result after its loop returned
	}
	r.deliver(res)
	if r.stopping {
		g.finish(r)
		return false
	}
	return true
}

// arrive hands a probe's result to the loop; it never waits.
func (g *Group) arrive(res result) {
	g.mu.Lock()
	g.arrived = append(g.arrived, res)
	g.mu.Unlock()
	g.poke()
}

// deliverQueued takes the results arrived, then judges each loop they
// touched as of the moment the batch was taken. Not as of after each
// result: this goroutine may have paused (an emit waiting for its
// subscriber's lock, the scheduler), and a reply that came in the pause
// waits later in the batch; judged before it, its probe would pass for
// overdue, and a healthy server of any loop for DOWN. As of the taking,
// every reply that came by then is in the batch.
func (g *Group) deliverQueued() {
	now := time.Now()
	g.mu.Lock()
	batch := g.arrived
	g.arrived = g.spare[:0]
	g.mu.Unlock()
	touched := g.touched[:0]
	for _, res := range batch {
		if g.deliver(res) && !res.loop.touched {
			res.loop.touched = true
			touched = append(touched, res.loop)
		}
	}
	clear(batch)
	g.spare = batch[:0]
	for _, r := range touched {
		r.touched = false
		if _, ok := g.loops[r]; ok && !r.stopping {
			r.settle(now)
			g.after(r)
		}
	}
	clear(touched)
	g.touched = touched[:0]
}

func (g *Group) resolve(res resolution) {
	r := res.loop
	r.resolving = false
	if r.stopping {
		g.finish(r)
		return
	}
	if err := r.m.resolved(r.emit, res, &r.nextResolve, &r.retry); err != nil {
		g.stop(r, err)
		return
	}
	g.check(r)
}

// loopQueue is a heap of running loops by when each is next due.
type loopQueue []*probeLoop

func (q loopQueue) Len() int           { return len(q) }
func (q loopQueue) Less(i, j int) bool { return q[i].next().Before(q[j].next()) }
func (q loopQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index, q[j].index = i, j
}

func (q *loopQueue) Push(x any) {
	r := x.(*probeLoop)
	r.index = len(*q)
	*q = append(*q, r)
}

func (q *loopQueue) Pop() any {
	old := *q
	r := old[len(old)-1]
	old[len(old)-1] = nil
	r.index = -1
	*q = old[:len(old)-1]
	return r
}
