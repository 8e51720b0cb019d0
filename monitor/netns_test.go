package monitor

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/netlab/netlabtest"
	"github.com/failwatch/failwatch/internal/testkit"
)

func labICMP(t *testing.T) *ICMP {
	t.Helper()
	icmp, err := NewICMP(config.ICMPAuto)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { icmp.Close() })
	return icmp
}

// A real drop of every 4th echo request inside a namespace shows the paper's
// scenario 2 figure: 20 sent, 15 received, 25% loss, and the host stays UP.
func TestNetnsEveryFourthDropped(t *testing.T) {
	h := netlabtest.TestHost(t)
	if err := h.DropEcho(4); err != nil {
		t.Fatal(err)
	}
	s := config.Server{Name: "public", Address: h.Addr.String(), Checks: []config.Check{{Kind: config.ICMP}}}
	_, st, err := runServer(t, context.Background(), s, Options{Probe: fastProbe(), Count: 20, ICMP: labICMP(t)})
	if err != nil {
		t.Fatal(err)
	}
	w := st.Checks[0].Window
	if w.Sent != 20 || w.Received != 15 || w.LossPercent() != 25 || st.State != Up {
		t.Errorf("got %d sent, %d received, %v%% loss, %v", w.Sent, w.Received, w.LossPercent(), st.State)
	}
}

// Dropping everything turns the check DOWN at exactly the down_after-th lost
// probe; lifting the drop brings it UP at exactly the up_after-th reply. Plain:
// the scheduled probes alone, which the samples show (a confirmation burst
// would reach down_after before they do; TestNetnsDeadServerDownSooner).
func TestNetnsDownAndUpWithHysteresis(t *testing.T) {
	h := netlabtest.TestHost(t)
	p := fastProbe()
	p.Interval, p.Timeout = 100*time.Millisecond, 80*time.Millisecond
	s := config.Server{Name: "public", Address: h.Addr.String(), Checks: []config.Check{{Kind: config.ICMP}}}
	m, err := NewServer(s, Options{Probe: p, ICMP: labICMP(t), Plain: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	events := make(chan Event, 16)
	go m.Run(ctx, events)

	// next returns the next check transition, counting the samples of each
	// outcome seen before it.
	next := func() (tr Transition, lostRun, okRun int) {
		for {
			select {
			case ev := <-events:
				switch ev.Type {
				case EventSample:
					if ev.Sample.OK {
						okRun, lostRun = okRun+1, 0
					} else {
						lostRun, okRun = lostRun+1, 0
					}
				case EventCheck:
					return ev.Transition, lostRun, okRun
				}
			case <-ctx.Done():
				t.Fatal("timed out waiting for a transition")
			}
		}
	}
	if tr, _, ok := next(); tr.To != Up || ok != p.UpAfter {
		t.Fatalf("first transition %v after %d replies", tr.To, ok)
	}
	if err := h.DropEcho(1); err != nil {
		t.Fatal(err)
	}
	tr, lostRun, _ := next()
	if tr.To != Down || lostRun != p.DownAfter {
		t.Errorf("after the drop: %v after %d lost in a row, want DOWN after %d", tr.To, lostRun, p.DownAfter)
	}
	if err := h.ClearFaults(); err != nil {
		t.Fatal(err)
	}
	tr, _, okRun := next()
	if tr.To != Up || okRun != p.UpAfter {
		t.Errorf("after lifting: %v after %d replies, want UP after %d", tr.To, okRun, p.UpAfter)
	}
}

// A dead server is DOWN sooner with the state's own timeout and a
// confirmation burst than judged plainly, at the same settings: two monitors
// of one namespace host, which then drops every echo request. Plain needs
// three scheduled probes lost, the last by the configured 2 s timeout
// (about 2.6 s at 300 ms probes); the other judges the first loss at the
// 100 ms floor and confirms it with a burst (about 0.4 s), or, if a busy
// host stretched a round trip past 320 ms, by the next two probes on a
// timeout that is still well under 2 s.
func TestNetnsDeadServerDownSooner(t *testing.T) {
	h := netlabtest.TestHost(t)
	p := config.Defaults().Probe
	p.Interval, p.Timeout = 300*time.Millisecond, 2*time.Second
	s := config.Server{Name: "public", Address: h.Addr.String(), Checks: []config.Check{{Kind: config.ICMP}}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	icmp := labICMP(t)
	type watcher struct {
		replies atomic.Int32
		cut     chan time.Time
		took    chan time.Duration
	}
	watch := func(w *watcher, plain bool) {
		m, err := NewServer(s, Options{Probe: p, ICMP: icmp, Plain: plain})
		if err != nil {
			t.Error(err)
			close(w.took)
			return
		}
		events := make(chan Event, 16)
		go m.Run(ctx, events)
		var cut time.Time
		for {
			select {
			case ev := <-events:
				if ev.Type == EventSample && ev.Sample.OK {
					w.replies.Add(1)
				}
				if ev.Type == EventServer && ev.Transition.To == Down && !cut.IsZero() {
					w.took <- ev.Time.Sub(cut)
					return
				}
			case cut = <-w.cut:
			case <-ctx.Done():
				close(w.took)
				return
			}
		}
	}
	plain := &watcher{cut: make(chan time.Time, 1), took: make(chan time.Duration, 1)}
	adaptive := &watcher{cut: make(chan time.Time, 1), took: make(chan time.Duration, 1)}
	go watch(plain, true)
	go watch(adaptive, false)
	// Past MinRTTs replies, so the state's timeout has adapted.
	testkit.Eventually(t, 15*time.Second, "both monitors past MinRTTs replies", func() bool {
		return plain.replies.Load() > MinRTTs && adaptive.replies.Load() > MinRTTs
	})
	if err := h.DropEcho(1); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	plain.cut <- now
	adaptive.cut <- now
	a, okA := <-plain.took
	b, okB := <-adaptive.took
	if !okA || !okB {
		t.Fatalf("no DOWN within the test's time: plain %v, adaptive %v", okA, okB)
	}
	t.Logf("drop to DOWN: plain %s, adaptive timeout and burst %s", a, b)
	if b >= a {
		t.Errorf("with the adaptive timeout and the burst DOWN came %s after the drop, plainly %s: not sooner", b, a)
	}
}

// A web server in the namespace switched to 503 turns the HTTP check DOWN
// while ICMP stays UP: the server is DEGRADED, which ICMP alone never shows.
func TestNetnsHTTP503WhileICMPUp(t *testing.T) {
	h := netlabtest.TestHost(t)
	ln, err := h.Listen("tcp", h.Addr.String()+":8080")
	if err != nil {
		t.Fatal(err)
	}
	var status atomic.Int32
	status.Store(http.StatusOK)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(int(status.Load()))
	})}
	go srv.Serve(ln)
	defer srv.Close()

	s := config.Server{Name: "public", Address: h.Addr.String(), Checks: []config.Check{
		{Kind: config.ICMP},
		{Kind: config.HTTP, URL: "http://tomtotrading.com:" + strconv.Itoa(8080) + "/", Expect: config.DefaultExpect},
	}}
	opts := Options{Probe: fastProbe(), Count: 4, ICMP: labICMP(t)}
	_, st, err := runServer(t, context.Background(), s, opts)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != Up {
		t.Fatalf("serving 200: %v", st.State)
	}
	status.Store(http.StatusServiceUnavailable)
	_, st, err = runServer(t, context.Background(), s, opts)
	if err != nil {
		t.Fatal(err)
	}
	icmp, web := st.Checks[0], st.Checks[1]
	if icmp.State != Up || web.State != Down || st.State != Degraded || web.LastErr != "HTTP 503 Service Unavailable" {
		t.Errorf("serving 503: icmp %v, http %v (%s), server %v", icmp.State, web.State, web.LastErr, st.State)
	}
}

// A server that drops SYNs: the HTTP probe's dial ends with the probe, so
// no socket or goroutine outlives its timeout, however many probes.
func TestHTTPProbeDialEndsWithProbe(t *testing.T) {
	h := netlabtest.TestHost(t)
	if err := h.NFT("table inet failwatch_fault {\n chain input {\n  type filter hook input priority 0; policy accept;\n  tcp dport 8080 drop\n }\n}\n"); err != nil {
		t.Fatal(err)
	}
	p, err := NewHTTPProber("http://tomtotrading.com:8080/", config.DefaultExpect, false)
	if err != nil {
		t.Fatal(err)
	}
	fds := func() int {
		ents, _ := os.ReadDir("/proc/self/fd")
		return len(ents)
	}
	runtime.GC()
	goroutines, files := runtime.NumGoroutine(), fds()
	for range 20 {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		s := p.Probe(ctx, h.Addr)
		cancel()
		if s.OK || s.Err != "timeout" {
			t.Fatalf("probe of a dropping server: %+v", s)
		}
	}
	// The runtime takes a moment to reap what the probes ended.
	testkit.EventuallyLast(t, 2*time.Second, fmt.Sprintf("after 20 probes, goroutines and files back to the %d and %d before", goroutines, files), func() (string, bool) {
		g, f := runtime.NumGoroutine(), fds()
		return fmt.Sprintf("%d goroutines, %d files", g, f), g <= goroutines+2 && f <= files
	})
}
