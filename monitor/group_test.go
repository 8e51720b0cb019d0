package monitor

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/testkit"
)

// stepStarter answers every probe as ICMP does, with no goroutine per
// probe (its replier is its reader): a millisecond later, with a round trip
// that grows by a microsecond each probe, so that a server's statistics are
// known in advance and differ per server.
type stepStarter struct {
	base    time.Duration
	replies chan<- reply
	mu      sync.Mutex
	n       int
}

type reply struct {
	at   time.Time
	x    Sample
	done func(Sample)
}

// replier answers the stepStarters' probes in turn on one goroutine until
// the test ends.
func replier(t *testing.T) chan<- reply {
	ch := make(chan reply, 1024)
	t.Cleanup(func() { close(ch) })
	go func() {
		for r := range ch {
			time.Sleep(time.Until(r.at))
			r.done(r.x)
		}
	}()
	return ch
}

func (p *stepStarter) Start(_ netip.Addr, _ time.Duration, done func(Sample)) {
	p.mu.Lock()
	rtt := p.base + time.Duration(p.n)*time.Microsecond
	p.n++
	p.mu.Unlock()
	at := time.Now()
	p.replies <- reply{at: at.Add(time.Millisecond), x: Sample{At: at, RTT: rtt, OK: true}, done: done}
}

func (p *stepStarter) Probe(context.Context, netip.Addr) Sample {
	panic("a Starter is started, never probed")
}

func (p *stepStarter) probes() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n
}

// stepServers are n servers, each probed by its own stepStarter.
func stepServers(t *testing.T, n int, opts Options) ([]*Server, []*stepStarter) {
	t.Helper()
	var servers []*Server
	var probers []*stepStarter
	replies := replier(t)
	for i := range n {
		p := &stepStarter{base: time.Duration(i+1) * 100 * time.Microsecond, replies: replies}
		opts.Prober = func(config.Server, config.Check) (Prober, error) { return p, nil }
		opts.Phase = Spread(i, n, opts.Probe.Interval)
		m, err := NewServer(config.Server{Name: fmt.Sprint("s", i), Address: "127.0.0.1"}, opts)
		if err != nil {
			t.Fatal(err)
		}
		servers = append(servers, m)
		probers = append(probers, p)
	}
	return servers, probers
}

// RunAll gives each server the statistics Run gives it alone, probe for
// probe: the group changes who runs the loops, not what they record.
func TestRunAllSameAsRunAlone(t *testing.T) {
	opts := Options{Probe: fastProbe(), Count: 12, Compact: true}
	together, _ := stepServers(t, 25, opts)
	for i, err := range RunAll(context.Background(), together, nil) {
		if err != nil {
			t.Fatalf("server %d: %v", i, err)
		}
	}
	alone, _ := stepServers(t, 25, opts)
	errs := make([]error, len(alone))
	var wg sync.WaitGroup
	for i, m := range alone {
		wg.Go(func() { errs[i] = m.Run(context.Background(), nil) })
	}
	wg.Wait()
	for i, m := range alone {
		if errs[i] != nil {
			t.Fatalf("server %d alone: %v", i, errs[i])
		}
		got, want := together[i].Status(), m.Status()
		// A tick a busy host made late is noted in the lifetime's NotSent
		// (skip): the host's doing, on either side, not the group's.
		got.Checks[0].Lifetime.NotSent, want.Checks[0].Lifetime.NotSent = 0, 0
		if got.State != want.State || got.Checks[0].Window != want.Checks[0].Window || got.Checks[0].Lifetime != want.Checks[0].Lifetime {
			t.Errorf("server %d: in a group %+v, alone %+v", i, got.Checks[0], want.Checks[0])
		}
		if w := want.Checks[0].Window; w.Sent != 12 || w.Received != 12 || w.Min != time.Duration(i+1)*100*time.Microsecond {
			t.Errorf("server %d alone: %+v", i, w)
		}
	}
}

// Many servers in one group cost the group's goroutine, not one each.
func TestGroupRunsManyServersOnOneGoroutine(t *testing.T) {
	probe := fastProbe()
	probe.Interval = 100 * time.Millisecond
	servers, probers := stepServers(t, 300, Options{Probe: probe, Compact: true})
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	g := NewGroup()
	var done []<-chan error
	for _, m := range servers {
		done = append(done, g.Start(ctx, m, nil))
	}
	ran := make(chan struct{})
	go func() { g.Run(ctx); close(ran) }()
	testkit.Eventually(t, 5*time.Second, "the last server probed 5 times", func() bool { return probers[299].probes() >= 5 })
	// The group's and a context's AfterFunc for a moment.
	if extra := runtime.NumGoroutine() - before; extra > 10 {
		t.Errorf("%d goroutines more for 300 servers", extra)
	}
	cancel()
	<-ran
	for i, d := range done {
		if err := <-d; !errors.Is(err, context.Canceled) {
			t.Errorf("server %d returned %v", i, err)
		}
	}
}

// One server stopped or reset leaves the others alone; a server started in
// a group that has ended is told so at once.
func TestGroupStopsAndResetsOneServer(t *testing.T) {
	servers, probers := stepServers(t, 3, Options{Probe: fastProbe(), Compact: true})
	ctx, cancel := context.WithCancel(context.Background())
	g := NewGroup()
	var mu sync.Mutex
	sent := map[string]int{}
	emit := func(ev Event) {
		if ev.Type == EventSample {
			mu.Lock()
			sent[ev.Server] = ev.Check.Window.Sent
			mu.Unlock()
		}
	}
	sentBy := func(name string) int {
		mu.Lock()
		defer mu.Unlock()
		return sent[name]
	}
	one, stopOne := context.WithCancel(ctx)
	first := g.Start(one, servers[0], emit)
	g.Start(ctx, servers[1], emit)
	g.Start(ctx, servers[2], emit)
	ran := make(chan struct{})
	go func() { g.Run(ctx); close(ran) }()
	testkit.Eventually(t, 5*time.Second, "s2's 10th probe", func() bool { return sentBy("s2") >= 10 })
	stopOne()
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Errorf("s0 returned %v", err)
	}
	stopped := probers[0].probes()
	servers[2].Reset()
	testkit.Eventually(t, 5*time.Second, "s2's window counting again from its reset", func() bool { return sentBy("s2") > 0 && sentBy("s2") < 5 })
	n := probers[1].probes()
	testkit.Eventually(t, 5*time.Second, "s1 probing on", func() bool { return probers[1].probes() >= n+5 })
	if probers[0].probes() != stopped {
		t.Errorf("s0 probed %d times after it was stopped", probers[0].probes()-stopped)
	}
	if sentBy("s1") < 15 {
		t.Errorf("s1's window holds %d probes: reset with s2's?", sentBy("s1"))
	}
	cancel()
	<-ran
	if err := <-g.Start(context.Background(), servers[0], nil); err == nil {
		t.Error("a server started in an ended group was not told")
	}
}

// slowStarter answers every probe after rtt, as a distant server does, and
// counts the replies it has handed over.
type slowStarter struct {
	rtt     time.Duration
	replies chan<- reply
	n       atomic.Int64
}

func (p *slowStarter) Start(_ netip.Addr, _ time.Duration, done func(Sample)) {
	at := time.Now()
	p.replies <- reply{at: at.Add(p.rtt), x: Sample{At: at, RTT: p.rtt, OK: true}, done: func(x Sample) {
		done(x)
		p.n.Add(1)
	}}
}

func (p *slowStarter) Probe(context.Context, netip.Addr) Sample {
	panic("a Starter is started, never probed")
}

// When the group's goroutine pauses (one server's subscriber waiting for a
// lock), the replies that came meanwhile wait in its queue: they are
// replies, and no other server is judged before them. Judged after each
// result in turn, a distant server's probes passed for overdue behind
// their own replies, and it went DOWN with every probe answered.
func TestGroupPauseLosesNoReply(t *testing.T) {
	probe := config.Defaults().Probe
	probe.Interval, probe.Timeout, probe.DownAfter, probe.ResolveEvery = 100*time.Millisecond, time.Second, 2, time.Hour
	far := &slowStarter{rtt: 250 * time.Millisecond, replies: replier(t)}
	near, _ := stepServers(t, 1, Options{Probe: probe, Compact: true})
	m, err := NewServer(config.Server{Name: "far", Address: "127.0.0.1"},
		Options{Probe: probe, Compact: true, Prober: func(config.Server, config.Check) (Prober, error) { return far, nil }})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var farStates []string
	farUp := make(chan struct{})
	emitFar := func(ev Event) {
		if ev.Type == EventServer {
			mu.Lock()
			farStates = append(farStates, ev.Transition.To.String())
			mu.Unlock()
			if ev.Transition.To == Up {
				select {
				case <-farUp:
				default:
					close(farUp)
				}
			}
		}
	}
	// near's subscriber is held up once, on its first sample after far has
	// been UP for 20 probes (its state's timer then follows its round trip,
	// about 260 ms), until far's replies have come in the pause and the
	// pause is long enough for a judgement before them to find far's
	// probes overdue.
	pause, blocked, release := make(chan struct{}), make(chan int64, 1), make(chan struct{})
	emitNear := func(ev Event) {
		select {
		case <-pause:
		default:
			return
		}
		if ev.Type == EventSample {
			select {
			case blocked <- far.n.Load():
				<-release
			default:
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g := NewGroup()
	g.Start(ctx, near[0], emitNear)
	farDone := g.Start(ctx, m, emitFar)
	ran := make(chan struct{})
	go func() { g.Run(ctx); close(ran) }()
	testkit.Receive(t, farUp, 5*time.Second, "far UP", func(struct{}) bool { return true })
	n0 := far.n.Load()
	testkit.Eventually(t, 10*time.Second, "far's 20 replies since UP", func() bool { return far.n.Load() >= n0+20 })
	close(pause)
	at := testkit.Receive(t, blocked, 5*time.Second, "near's subscriber held up", func(int64) bool { return true })
	held := time.Now()
	testkit.Eventually(t, 5*time.Second, "far's replies to every probe out, in the pause of 400 ms", func() bool {
		return far.n.Load() >= at+2 && time.Since(held) >= 400*time.Millisecond
	})
	close(release)
	n1 := far.n.Load()
	testkit.Eventually(t, 10*time.Second, "far's 10 replies after the pause", func() bool { return far.n.Load() >= n1+10 })
	cancel()
	<-ran
	<-farDone
	mu.Lock()
	defer mu.Unlock()
	if len(farStates) != 1 {
		t.Errorf("far, every probe answered, went %v", farStates)
	}
}
