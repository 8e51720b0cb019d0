package rosim

import (
	"context"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/failwatch/failwatch/config"
)

// Probe sends one echo to host and says whether, and after how long, it
// was answered within timeout. It must return by then.
type Probe func(ctx context.Context, host netip.Addr, timeout time.Duration) (rtt time.Duration, ok bool)

// Simulated is a netwatch probe that sends no packet: each host answers
// after its round trip (1 ms unless set), loses the share of echoes set for
// it, and is down when set down. The demo and tests drive it; the
// emulator's seeded addresses are real public and private addresses, never
// to be probed.
type Simulated struct {
	mu    sync.Mutex
	hosts map[netip.Addr]*simHost
}

type simHost struct {
	down        bool
	rtt, jitter time.Duration
	lossPercent float64
	rng         *rand.Rand
}

// NewSimulated returns a probe with every host up at 1 ms.
func NewSimulated() *Simulated { return &Simulated{hosts: map[netip.Addr]*simHost{}} }

func (s *Simulated) host(h netip.Addr) *simHost {
	sh := s.hosts[h]
	if sh == nil {
		// Seeded by the address: the same host behaves the same in every run.
		seed := uint64(0)
		for _, b := range h.AsSlice() {
			seed = seed*131 + uint64(b)
		}
		sh = &simHost{rtt: time.Millisecond, rng: rand.New(rand.NewPCG(seed, 7))}
		s.hosts[h] = sh
	}
	return sh
}

// SetUp takes a host up or down.
func (s *Simulated) SetUp(host netip.Addr, up bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.host(host).down = !up
}

// SetPath gives a host a round trip, spread uniformly over rtt ± jitter,
// and a share of lost echoes: the paper's public server is 196 ms ± 6 ms
// with 5% loss.
func (s *Simulated) SetPath(host netip.Addr, rtt, jitter time.Duration, lossPercent float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.host(host)
	h.rtt, h.jitter, h.lossPercent = rtt, jitter, lossPercent
}

// Up reports whether the host is up.
func (s *Simulated) Up(host netip.Addr) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.host(host).down
}

// Probe answers at once from the simulated state.
func (s *Simulated) Probe(_ context.Context, host netip.Addr, timeout time.Duration) (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.host(host)
	if h.down || h.rng.Float64()*100 < h.lossPercent {
		return 0, false
	}
	rtt := h.rtt
	if h.jitter > 0 {
		rtt += time.Duration(h.rng.Int64N(int64(2*h.jitter)+1)) - h.jitter
	}
	return rtt, rtt <= timeout
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
		want[row[".id"]] = settingsKey(row)
	}
	for _, row := range r.netwatch.rows {
		if _, ok := want[row[".id"]]; !ok && row["status"] != "unknown" {
			row["status"] = "unknown"
			delete(row, "since")
		}
	}
	r.reconcileRuns(r.watchers, r.netwatch.rows, want, func(ctx context.Context, w *watcher, row row) {
		go r.watch(ctx, w, row[".id"], r.netwatchTest(row), r.firstTest(row))
	})
}

// reconcileRuns makes what runs match want (an entry's .id to the key it
// runs with): a run whose key changed, or whose entry is gone or disabled,
// is cancelled; start is called, in print order, for each entry wanted and
// not running, with its context and its watcher, already in running. The
// caller holds r.mu.
func (r *Router) reconcileRuns(running map[string]*watcher, rows []row, want map[string]string, start func(ctx context.Context, w *watcher, row row)) {
	for id, w := range running {
		if want[id] != w.key {
			w.cancel()
			delete(running, id)
		}
	}
	for _, row := range rows {
		id := row[".id"]
		key, ok := want[id]
		if _, on := running[id]; !ok || on {
			continue
		}
		ctx, cancel := context.WithCancel(r.ctx)
		w := &watcher{key: key, cancel: cancel, done: make(chan struct{})}
		running[id] = w
		start(ctx, w, row)
	}
}

// settingsKey is what a watcher runs with; a change restarts it, as a
// router restarts a probe whose settings change.
func settingsKey(row row) string {
	keys := make([]string, 0, len(row))
	for k, v := range row {
		switch k {
		case "status", "since", "done-tests", "failed-tests", "comment", "up-script", "down-script", "test-script":
			continue
		}
		if strings.HasPrefix(k, "rtt-") || strings.HasSuffix(k, "-count") && k != "packet-count" && k != "thr-loss-count" || k == "loss-percent" {
			continue
		}
		keys = append(keys, k+"="+v)
	}
	slices.Sort(keys)
	return strings.Join(keys, "|")
}

// duration reads a duration property, or def when it is unset.
func duration(row row, key string, def time.Duration) time.Duration {
	if d, err := config.ParseDuration(row[key]); err == nil {
		return d
	}
	return def
}

// firstTest is how long after now (router clock) the first test runs: the
// entry's start-delay (3s by default on 7.x), and no earlier than the
// startup-delay (5m by default) after the router booted.
func (r *Router) firstTest(row row) time.Duration {
	if r.prof.netwatchTypes == nil {
		return 0
	}
	wait := duration(row, "start-delay", 3*time.Second)
	if untilStartup := duration(row, "startup-delay", 5*time.Minute) - r.uptime(); untilStartup > wait {
		wait = untilStartup
	}
	return wait
}

// netwatchTest is one entry's test, with RouterOS's defaults for what the
// entry leaves unset: "Default Netwatch values are always used".
type netwatchTest struct {
	probe   Probe
	http    HTTPProbe
	wall    func(time.Duration) time.Duration
	host    netip.Addr
	typ     string
	timeout time.Duration
	// http-get and https-get: the port, the accepted codes and time.
	port    int
	codes   codeRanges
	thrHTTP time.Duration
	// icmp: packet-count echoes packet-interval apart, and the thresholds.
	count                            int
	spacing                          time.Duration
	thrAvg, thrMax, thrStdev, thrJit time.Duration
	thrLossPercent                   float64
	thrLossCount                     int
}

func (r *Router) netwatchTest(row row) netwatchTest {
	host, _ := netip.ParseAddr(row["host"])
	typ := row["type"]
	if typ == "" {
		typ = "simple"
	}
	defTimeout := 3 * time.Second
	if r.prof.netwatchTypes == nil {
		defTimeout = time.Second
	}
	nt := netwatchTest{probe: r.opts.Probe, http: r.opts.HTTP, wall: r.wall, host: host, typ: typ, timeout: duration(row, "timeout", defTimeout), count: 1}
	if nt.http == nil {
		nt.http = simulatedHTTP(r.opts.Probe)
	}
	if typ == "http-get" || typ == "https-get" {
		nt.port = 80
		if typ == "https-get" {
			nt.port = 443
		}
		if p, err := strconv.Atoi(row["port"]); err == nil && p > 0 {
			nt.port = p
		}
		nt.codes = parseCodes("100-299")
		if v, ok := row["http-codes"]; ok {
			nt.codes = parseCodes(v)
		}
		nt.thrHTTP = duration(row, "thr-http-time", 10*time.Second)
	}
	if typ == "icmp" {
		nt.count = 10
		if n, err := strconv.Atoi(row["packet-count"]); err == nil && n > 0 {
			nt.count = n
		}
		nt.spacing = duration(row, "packet-interval", 50*time.Millisecond)
		nt.thrAvg = duration(row, "thr-avg", 100*time.Millisecond)
		nt.thrMax = duration(row, "thr-max", time.Second)
		nt.thrStdev = duration(row, "thr-stdev", 250*time.Millisecond)
		nt.thrJit = duration(row, "thr-jitter", time.Second)
		nt.thrLossPercent = 85
		if p, err := config.ParsePercent(row["thr-loss-percent"]); err == nil {
			nt.thrLossPercent = p
		}
		nt.thrLossCount = math.MaxInt
		if n, err := strconv.Atoi(row["thr-loss-count"]); err == nil && n > 0 {
			nt.thrLossCount = n
		}
	}
	return nt
}

// testResult is one test's verdict and, for icmp, its statistics.
type testResult struct {
	up                           bool
	sent, received               int
	avg, min, max, stdev, jitter time.Duration
}

// run sends the echoes (packet-interval apart on the router's clock) and
// applies the thresholds: down when too many are lost, or when the average,
// the largest, the deviation or the spread (max-min) of the round trips is
// over its threshold.
func (nt netwatchTest) run(ctx context.Context) testResult {
	if nt.typ == "http-get" || nt.typ == "https-get" {
		return nt.httpTest(ctx)
	}
	type echo struct {
		rtt time.Duration
		ok  bool
	}
	results := make(chan echo, nt.count)
	for i := range nt.count {
		go func() {
			if i > 0 && !sleepCtx(ctx, nt.wall(time.Duration(i)*nt.spacing)) {
				results <- echo{}
				return
			}
			pctx, cancel := context.WithTimeout(ctx, nt.wall(nt.timeout))
			defer cancel()
			rtt, ok := nt.probe(pctx, nt.host, nt.timeout)
			results <- echo{rtt, ok && rtt <= nt.timeout}
		}()
	}
	res := testResult{sent: nt.count}
	var rtts []time.Duration
	for range nt.count {
		if e := <-results; e.ok {
			rtts = append(rtts, e.rtt)
		}
	}
	res.received = len(rtts)
	if len(rtts) == 0 {
		return res
	}
	res.min, res.max = slices.Min(rtts), slices.Max(rtts)
	var sum, sq float64
	for _, d := range rtts {
		sum += float64(d)
		sq += float64(d) * float64(d)
	}
	mean := sum / float64(len(rtts))
	res.avg = time.Duration(mean)
	res.stdev = time.Duration(math.Sqrt(max(sq/float64(len(rtts))-mean*mean, 0)))
	res.jitter = res.max - res.min
	if nt.typ != "icmp" {
		res.up = true
		return res
	}
	lost := res.sent - res.received
	res.up = float64(lost)*100 < nt.thrLossPercent*float64(res.sent) && lost < nt.thrLossCount &&
		res.avg <= nt.thrAvg && res.max <= nt.thrMax && res.stdev <= nt.thrStdev && res.jitter <= nt.thrJit
	return res
}

func (r *Router) watch(ctx context.Context, w *watcher, id string, test netwatchTest, first time.Duration) {
	defer close(w.done)
	if !sleepCtx(ctx, r.wall(first)) {
		return
	}
	r.mu.Lock()
	interval := 10 * time.Second
	if rows, tr := r.netwatch.find(id); tr == nil {
		interval = duration(rows[0], "interval", interval)
	}
	r.mu.Unlock()
	t := time.NewTicker(max(r.wall(interval), time.Millisecond))
	defer t.Stop()
	for {
		res := test.run(ctx)
		if ctx.Err() != nil {
			return
		}
		r.mu.Lock()
		script := ""
		if ctx.Err() == nil {
			script = r.observe(id, res)
		}
		r.mu.Unlock()
		if script != "" {
			r.runScript(ctx, script, "netwatch")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// observe records one netwatch test; on a change of status it logs the
// event as RouterOS 7 does and returns the entry's script to run (after
// the caller lets go of r.mu). Caller holds r.mu.
func (r *Router) observe(id string, res testResult) string {
	rows, tr := r.netwatch.find(id)
	if tr != nil {
		return ""
	}
	row := rows[0]
	status := "up"
	if !res.up {
		status = "down"
	}
	if r.prof.netwatchTypes != nil {
		row["done-tests"] = incr(row["done-tests"])
		if !res.up {
			row["failed-tests"] = incr(row["failed-tests"])
		}
		if row["type"] == "icmp" {
			row["sent-count"], row["response-count"] = strconv.Itoa(res.sent), strconv.Itoa(res.received)
			row["loss-count"] = strconv.Itoa(res.sent - res.received)
			row["loss-percent"] = strconv.FormatFloat(float64(res.sent-res.received)*100/float64(res.sent), 'f', 1, 64) + "%"
			for k, d := range map[string]time.Duration{"rtt-avg": res.avg, "rtt-min": res.min, "rtt-max": res.max, "rtt-stdev": res.stdev, "rtt-jitter": res.jitter} {
				row[k] = d.Round(time.Microsecond).String()
			}
		}
	}
	old := row["status"]
	if old == status {
		return ""
	}
	row["status"] = status
	row["since"] = r.stamp(r.now())
	typ := row["type"]
	if typ == "" {
		typ = "simple"
	}
	r.log.add("netwatch,info", "event "+status+" [ type: "+typ+", host: "+row["host"]+" ]")
	if old == "unknown" && row["ignore-initial-"+status] == "true" {
		return ""
	}
	return row[status+"-script"]
}

func incr(s string) string {
	n, _ := strconv.Atoi(s)
	return strconv.Itoa(n + 1)
}
