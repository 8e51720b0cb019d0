package rosim

import (
	"context"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/failwatch/failwatch/config"
)

// Probe tests whether host answers within timeout. It must return by then.
type Probe func(ctx context.Context, host netip.Addr, timeout time.Duration) bool

// Simulated is a netwatch probe that sends no packet: each host is up unless
// set down. The demo and tests flip hosts with SetUp; the emulator's seeded
// addresses are real public and private addresses, never to be probed.
type Simulated struct {
	mu   sync.Mutex
	down map[netip.Addr]bool
}

// NewSimulated returns a probe with every host up.
func NewSimulated() *Simulated { return &Simulated{down: map[netip.Addr]bool{}} }

// SetUp takes a host up or down.
func (s *Simulated) SetUp(host netip.Addr, up bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down[host] = !up
}

// Up reports whether the host is up.
func (s *Simulated) Up(host netip.Addr) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.down[host]
}

// Probe answers at once from the simulated state.
func (s *Simulated) Probe(_ context.Context, host netip.Addr, _ time.Duration) bool {
	return s.Up(host)
}

// watcher probes one enabled netwatch entry on its interval.
type watcher struct {
	key    string // what the watcher was started with; a change restarts it
	cancel context.CancelFunc
	done   chan struct{}
}

func (w *watcher) stop() {
	w.cancel()
	<-w.done
}

// reconcile starts, restarts and stops watchers to match the netwatch menu.
// The caller holds r.mu; stopping waits for a watcher, which never holds
// r.mu while it probes, and gives up on the lock when cancelled.
func (r *Router) reconcile() {
	want := map[string]string{}
	for _, row := range r.netwatch.rows {
		if row["disabled"] == "true" {
			continue
		}
		want[row[".id"]] = row["host"] + "|" + row["type"] + "|" + row["interval"] + "|" + row["timeout"] +
			"|" + row["packet-count"] + "|" + row["thr-loss-percent"]
	}
	for id, w := range r.watchers {
		if want[id] != w.key {
			w.cancel()
			delete(r.watchers, id)
		}
	}
	for _, row := range r.netwatch.rows {
		id := row[".id"]
		key, ok := want[id]
		if !ok {
			if row["status"] != "unknown" {
				row["status"] = "unknown"
				delete(row, "since")
			}
			continue
		}
		if _, running := r.watchers[id]; running {
			continue
		}
		host, _ := netip.ParseAddr(row["host"])
		interval, _ := config.ParseDuration(row["interval"])
		timeout, _ := config.ParseDuration(row["timeout"])
		ctx, cancel := context.WithCancel(r.ctx)
		w := &watcher{key: key, cancel: cancel, done: make(chan struct{})}
		r.watchers[id] = w
		test := netwatchTest{probe: r.opts.Probe, host: host, timeout: max(timeout, 10*time.Millisecond), count: 1}
		if row["type"] == "icmp" {
			// RouterOS's icmp type sends packet-count echoes (10 by
			// default) and is down at thr-loss-percent lost (85%).
			test.count, test.lossLimit = 10, 85
			if n, err := strconv.Atoi(row["packet-count"]); err == nil && n > 0 {
				test.count = n
			}
			if p, err := config.ParsePercent(row["thr-loss-percent"]); err == nil {
				test.lossLimit = p
			}
		}
		go r.watch(ctx, w, id, test, max(interval, 100*time.Millisecond))
	}
}

// netwatchTest is one entry's test: count probes, down when lossLimit
// percent or more are lost (any loss for a single probe).
type netwatchTest struct {
	probe     Probe
	host      netip.Addr
	timeout   time.Duration
	count     int
	lossLimit float64
}

func (nt netwatchTest) run(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, nt.timeout)
	defer cancel()
	if nt.count == 1 {
		return nt.probe(ctx, nt.host, nt.timeout)
	}
	results := make(chan bool, nt.count)
	for range nt.count {
		go func() { results <- nt.probe(ctx, nt.host, nt.timeout) }()
	}
	lost := 0
	for range nt.count {
		if !<-results {
			lost++
		}
	}
	return float64(lost)*100 < nt.lossLimit*float64(nt.count)
}

func (r *Router) watch(ctx context.Context, w *watcher, id string, test netwatchTest, interval time.Duration) {
	defer close(w.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		up := test.run(ctx)
		if ctx.Err() != nil {
			return
		}
		r.mu.Lock()
		if ctx.Err() == nil {
			r.observe(id, up)
		}
		r.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// observe records one netwatch test; on a change of status it logs the
// event as RouterOS 7 does and runs the entry's script. Caller holds r.mu.
func (r *Router) observe(id string, up bool) {
	rows, tr := r.netwatch.find(id)
	if tr != nil {
		return
	}
	row := rows[0]
	row["done-tests"] = incr(row["done-tests"])
	status := "up"
	if !up {
		status = "down"
		row["failed-tests"] = incr(row["failed-tests"])
	}
	old := row["status"]
	if old == status {
		return
	}
	row["status"] = status
	row["since"] = formatTime(time.Now())
	r.log.add("netwatch,info", "event "+status+" [ type: "+row["type"]+", host: "+row["host"]+" ]")
	if old == "unknown" && row["ignore-initial-"+status] == "true" {
		return
	}
	r.runScript(row[status+"-script"], "netwatch")
}

func incr(s string) string {
	n, _ := strconv.Atoi(s)
	return strconv.Itoa(n + 1)
}
