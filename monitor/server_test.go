package monitor

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/testkit"
)

func fastProbe() config.Probe {
	p := config.Defaults().Probe
	p.Interval = 20 * time.Millisecond
	p.Timeout = 500 * time.Millisecond
	p.ResolveEvery = 50 * time.Millisecond
	return p
}

// runServer runs a monitor to completion and returns its events and status.
func runServer(t *testing.T, ctx context.Context, s config.Server, opts Options) ([]Event, ServerStatus, error) {
	t.Helper()
	m, err := NewServer(s, opts)
	if err != nil {
		t.Fatal(err)
	}
	events := make(chan Event)
	var got []Event
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range events {
			got = append(got, ev)
		}
	}()
	err = m.Run(ctx, events)
	close(events)
	<-done
	return got, m.Status(), err
}

func listenTCP(t *testing.T) int {
	return testkit.AcceptTCP(t).Addr().(*net.TCPAddr).Port
}

func TestTCPCheckUpAndDown(t *testing.T) {
	open := listenTCP(t)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	for _, tc := range []struct {
		port    int
		want    State
		recv    int
		lastErr string
	}{{open, Up, 4, ""}, {closed, Down, 0, "connection refused"}} {
		s := config.Server{Name: "s", Address: "127.0.0.1", Checks: []config.Check{{Kind: config.TCP, Port: tc.port}}}
		events, st, err := runServer(t, context.Background(), s, Options{Probe: fastProbe(), Count: 4})
		if err != nil {
			t.Fatal(err)
		}
		c := st.Checks[0]
		if st.State != tc.want || c.Window.Sent != 4 || c.Window.Received != tc.recv || c.LastErr != tc.lastErr {
			t.Errorf("port %d: state %v, %d/%d received, last error %q", tc.port, st.State, c.Window.Received, c.Window.Sent, c.LastErr)
		}
		var samples, changes int
		for _, ev := range events {
			switch ev.Type {
			case EventSample:
				samples++
			case EventServer:
				changes++
				if ev.Transition.To != tc.want || ev.State != tc.want {
					t.Errorf("server event %+v", ev)
				}
			}
		}
		if samples != 4 || changes != 1 {
			t.Errorf("port %d: %d sample events, %d server changes", tc.port, samples, changes)
		}
	}
}

// The HTTP check goes to the server's address but asks for the URL's host,
// and a 503 is down while a TCP check of the same port stays up.
func TestHTTPCheckSees503(t *testing.T) {
	var status atomic.Int32
	status.Store(200)
	var hosts sync.Map
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hosts.Store(r.Host, true)
		w.WriteHeader(int(status.Load()))
	}))
	defer srv.Close()
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	s := config.Server{Name: "web", Address: "127.0.0.1", Checks: []config.Check{
		{Kind: config.HTTP, URL: "http://service.test:" + strconv.Itoa(port) + "/health", Expect: config.DefaultExpect},
		{Kind: config.TCP, Port: port},
	}}
	_, st, err := runServer(t, context.Background(), s, Options{Probe: fastProbe(), Count: 3})
	if err != nil {
		t.Fatal(err)
	}
	if st.State != Up {
		t.Fatalf("with 200: %v %+v", st.State, st.Checks)
	}
	if _, ok := hosts.Load("service.test:" + strconv.Itoa(port)); !ok {
		t.Error("the request did not carry the URL's host")
	}
	status.Store(503)
	_, st, err = runServer(t, context.Background(), s, Options{Probe: fastProbe(), Count: 3})
	if err != nil {
		t.Fatal(err)
	}
	if st.State != Degraded || st.Checks[0].State != Down || st.Checks[1].State != Up {
		t.Errorf("with 503: server %v, http %v, tcp %v", st.State, st.Checks[0].State, st.Checks[1].State)
	}
	if st.Checks[0].LastErr != "HTTP 503 Service Unavailable" {
		t.Errorf("last error %q", st.Checks[0].LastErr)
	}
}

type flakyResolver struct {
	mu    sync.Mutex
	calls int
	fail  int
	addr  netip.Addr
}

func (r *flakyResolver) LookupNetIP(ctx context.Context, _, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.calls <= r.fail {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return []netip.Addr{r.addr}, nil
}

func TestUnresolvedThenResolved(t *testing.T) {
	port := listenTCP(t)
	res := &flakyResolver{fail: 2, addr: netip.MustParseAddr("127.0.0.1")}
	s := config.Server{Name: "named", Address: "web.example", Checks: []config.Check{{Kind: config.TCP, Port: port}}}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()

	m, err := NewServer(s, Options{Probe: fastProbe(), Resolver: res})
	if err != nil {
		t.Fatal(err)
	}
	events := make(chan Event)
	go m.Run(ctx, events)
	var seen []string
	for ev := range events {
		switch ev.Type {
		case EventUnresolved:
			seen = append(seen, "unresolved: "+ev.Reason)
		case EventResolved:
			seen = append(seen, "resolved "+ev.Addr.String())
		case EventServer:
			seen = append(seen, ev.Transition.From.String()+"->"+ev.Transition.To.String())
		}
		if ev.Type == EventServer && ev.State == Up {
			cancel()
			break
		}
	}
	want := []string{
		"UNKNOWN->UNRESOLVED", "unresolved: cannot resolve web.example: no such host",
		"resolved 127.0.0.1", "UNRESOLVED->UNKNOWN", "UNKNOWN->UP",
	}
	if len(seen) != len(want) {
		t.Fatalf("events\n got  %q\n want %q", seen, want)
	}
	for i := range want {
		if seen[i] != want[i] {
			t.Errorf("event %d: %q, want %q", i, seen[i], want[i])
		}
	}
}

// A counted run cannot wait forever for a name: it ends and says why.
func TestCountedRunStopsWhenUnresolved(t *testing.T) {
	res := &flakyResolver{fail: 1000}
	s := config.Server{Name: "named", Address: "nowhere.example", Checks: []config.Check{{Kind: config.TCP, Port: 80}}}
	_, st, err := runServer(t, context.Background(), s, Options{Probe: fastProbe(), Count: 3, Resolver: res})
	if err == nil || st.State != Unresolved || st.Reason != "cannot resolve nowhere.example: no such host" {
		t.Errorf("err %v, state %v, reason %q", err, st.State, st.Reason)
	}
}

// Stopping is not a loss: a probe cut short by the context is not recorded.
func TestCancelDoesNotRecordLoss(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	u, _ := url.Parse(srv.URL)
	p := fastProbe()
	p.Interval, p.Timeout = time.Hour, time.Hour
	s := config.Server{Name: "slow", Address: u.Hostname(), Checks: []config.Check{{Kind: config.HTTP, URL: srv.URL}}}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, st, err := runServer(t, ctx, s, Options{Probe: p})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err %v", err)
	}
	if st.Checks[0].Lifetime.Sent != 0 {
		t.Errorf("a cancelled probe was recorded: %+v", st.Checks[0].Lifetime)
	}
}

func TestICMPLoopback(t *testing.T) {
	icmp, err := NewICMP(config.ICMPAuto)
	if err != nil {
		t.Skipf("no ICMP socket here: %v", err)
	}
	defer icmp.Close()
	for _, addr := range []string{"127.0.0.1", "::1"} {
		s := config.Server{Name: addr, Address: addr, Checks: []config.Check{{Kind: config.ICMP}}}
		_, st, err := runServer(t, context.Background(), s, Options{Probe: fastProbe(), Count: 5, ICMP: icmp})
		if err != nil {
			t.Fatal(err)
		}
		w := st.Checks[0].Window
		if st.State != Up || w.Received != 5 || w.Min <= 0 || w.Max > 100*time.Millisecond {
			t.Errorf("%s: state %v, stats %+v", addr, st.State, w)
		}
	}
}

// Servers' probes leave in batches a millisecond apart, or closer when the
// batches would not fit in the interval; every phase stays inside it.
func TestSpread(t *testing.T) {
	tests := []struct {
		i, n     int
		interval time.Duration
		want     time.Duration
	}{
		{0, 2, time.Second, 0},
		{1, 2, time.Second, 0},
		{9, 100, time.Second, 0},
		{10, 100, time.Second, time.Millisecond},
		{99, 100, time.Second, 9 * time.Millisecond},
		{999, 1000, time.Second, 99 * time.Millisecond},
		{99999, 100000, time.Second, 9999 * 100 * time.Microsecond},
		{25, 30, 2 * time.Millisecond, 1333332},
	}
	for _, tt := range tests {
		got := Spread(tt.i, tt.n, tt.interval)
		if got != tt.want || got >= tt.interval {
			t.Errorf("Spread(%d, %d, %v) = %v, want %v", tt.i, tt.n, tt.interval, got, tt.want)
		}
	}
}
