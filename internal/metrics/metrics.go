package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/monitor"
)

// Collector holds failwatch's metrics: what the engine's events said, kept
// as a few numbers a check, server and service, and made into series at
// each scrape (series.go). The engine's feed observes from one goroutine,
// scrapes come from others: mu guards what is kept.
type Collector struct {
	reg *prometheus.Registry
	ha  haSeries

	mu sync.Mutex
	// now stamps when a counter's series began.
	now     func() time.Time
	servers []string
	// services are the configured services' names: their series exist
	// from the start.
	services []string
	checks   map[checkKey]*checkSeries
	// serverUp has a series per server from the start and for any server
	// an event names; a reload's removed servers go.
	serverUp   map[string]float64
	connected  float64
	netwatch   map[string]bool
	operations map[[2]string]*counter
	svcs       map[string]*serviceSeries

	// health is what /healthz answers from: when the engine last fed an
	// observation and what the router's last reading said.
	health struct {
		sync.Mutex
		now        func() time.Time
		staleAfter time.Duration
		lastFed    time.Time
		routerSeen bool
		connected  bool
	}
}

// DefaultStaleAfter is how long without a single observation from the
// engine /healthz waits before it calls the engine stalled.
const DefaultStaleAfter = 30 * time.Second

// New registers the metrics for the named servers and services.
func New(servers, services []string) *Collector {
	c := &Collector{reg: prometheus.NewRegistry(), now: time.Now, servers: servers, services: services,
		checks: map[checkKey]*checkSeries{}, serverUp: map[string]float64{}, netwatch: map[string]bool{},
		operations: map[[2]string]*counter{}, svcs: map[string]*serviceSeries{}}
	c.reg.MustRegister(c, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	c.health.now = time.Now
	c.health.staleAfter = DefaultStaleAfter
	c.startSeries()
	return c
}

// startSeries gives the series that have a value before any observation
// their first one.
func (c *Collector) startSeries() {
	now := c.now()
	// Counted from zero, so a rate or an increase over them is 0, not absent,
	// before the first operation.
	for _, op := range []string{"failover", "restore", "hold", "release"} {
		for _, result := range []string{"ok", "failed"} {
			c.operations[[2]string{op, result}] = &counter{created: now}
		}
	}
	for _, svc := range c.services {
		s := c.service(svc)
		// The last switch's duration has no value before a switch: absent,
		// not 0, so that no alert or panel reads a switch that never was.
		s.hasSwitches, s.switches.created = true, now
		// Nothing is known of the records before a reading: no active
		// server series, the state unknown.
		s.facts, s.state = true, "unknown"
		s.answers = true
	}
	for _, s := range c.servers {
		c.serverUp[s] = 0
	}
}

// service is what is kept of the named service, made on first use.
func (c *Collector) service(name string) *serviceSeries {
	s := c.svcs[name]
	if s == nil {
		s = &serviceSeries{}
		c.svcs[name] = s
	}
	return s
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// SetBuildInfo says which failwatch serves the metrics, as
// failwatch_build_info (always 1, the facts in its labels).
func (c *Collector) SetBuildInfo(version, commit, goVersion string) {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "failwatch_build_info", Help: "Which failwatch this is: 1, with its version, commit and Go version as labels.",
	}, []string{"version", "commit", "goversion"})
	g.WithLabelValues(version, commit, goVersion).Set(1)
	c.reg.MustRegister(g)
}

// ObserveDNS records what the resolver answers: the server it points at
// ("" for none of them) and the answer's TTL.
func (c *Collector) ObserveDNS(service string, answered bool, server string, ttl time.Duration) {
	c.fed(nil)
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.service(service)
	s.answered, s.hasAnswered = b2f(answered), true
	// An answer that did not come has no TTL: absent, not 0.
	s.ttl, s.hasTTL = ttl.Seconds(), answered
	s.answer, s.answers = server, true
}

// ObserveServer records a monitor event.
func (c *Collector) ObserveServer(ev monitor.Event) {
	c.fed(nil)
	c.mu.Lock()
	defer c.mu.Unlock()
	switch ev.Type {
	case monitor.EventSample:
		now := c.now()
		k := checkKey{ev.Server, ev.Check.Label}
		s := c.checks[k]
		if s == nil {
			// Both results exist from the first probe on, so a loss ratio
			// computed from them is 0, not absent, for a server that never
			// lost.
			s = &checkSeries{ok: counter{created: now}, lost: counter{created: now}}
			c.checks[k] = s
		}
		switch {
		case ev.Sample.OK:
			s.ok.inc(now)
			s.observeRTT(ev.Sample.RTT.Seconds(), now)
		case ev.Sample.NotSent:
			s.notSent.inc(now)
		default:
			s.lost.inc(now)
		}
		s.loss = ev.Check.Window.LossPercent() / 100
		s.jitter = ev.Check.Window.Jitter.Seconds()
		s.up = b2f(ev.Check.State == monitor.Up)
	case monitor.EventServer:
		c.serverUp[ev.Server] = b2f(ev.Transition.To == monitor.Up)
	}
}

// SetServers takes the server list after a config reload: a removed
// server's series go, and so do the series of a check its server no longer
// has (a stale "up" must not outlive the server or check); a new one's
// start at zero, unless its monitor, started before the engine announced
// the list, has already said otherwise. Call it from the goroutine that
// observes.
func (c *Collector) SetServers(configured []config.Server) {
	c.mu.Lock()
	defer c.mu.Unlock()
	servers := make([]string, len(configured))
	checks := map[checkKey]bool{}
	for i, s := range configured {
		servers[i] = s.Name
		for _, ch := range s.ProbedBy() {
			checks[checkKey{s.Name, ch.Label()}] = true
		}
	}
	for k := range c.checks {
		if !checks[k] {
			delete(c.checks, k)
		}
	}
	for _, old := range c.servers {
		if !slices.Contains(servers, old) {
			delete(c.serverUp, old)
		}
	}
	for _, s := range servers {
		if slices.Contains(c.servers, s) {
			continue
		}
		if _, seen := c.serverUp[s]; !seen {
			c.serverUp[s] = 0
		}
		// A new server's active and answer series start at 0 until the
		// next facts and answer say otherwise.
		for _, svc := range c.svcs {
			if svc.active == s {
				svc.active = ""
			}
			if svc.answer == s {
				svc.answer = ""
			}
		}
	}
	c.servers = servers
}

// ObserveRouter records a reading of the router: whether it answered and
// the netwatch status of each host.
func (c *Collector) ObserveRouter(at time.Time, connected bool, netwatch map[string]string) {
	c.fed(&connected)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.connected = b2f(connected)
	if !connected {
		return
	}
	// Only the hosts of this reading have a status: a host whose entry
	// went (or whose server a reload removed) has none any more, nor one
	// whose status is neither up nor down.
	clear(c.netwatch)
	for host, status := range netwatch {
		if status == "up" || status == "down" {
			c.netwatch[host] = status == "up"
		}
	}
}

// factStates are the states failwatch_facts_state takes.
var factStates = []string{"known", "stale", "unknown", "unreadable"}

// ObserveFacts records what failwatch knows of a service's records: their
// state (known, stale, unknown, unreadable) and, while known or stale, the
// active server ("" for none or several). While unknown or unreadable the
// active server has no series: no panel or alert reads a value nobody
// read.
func (c *Collector) ObserveFacts(service, state, active string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.service(service)
	s.facts, s.state = true, state
	s.known = state == "known" || state == "stale"
	s.active = active
}

// ObserveSwitch records a service's active server changing; after is from
// the fault to the switch when there was one (the engine's one definition).
func (c *Collector) ObserveSwitch(service string, fault bool, after time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.service(service)
	s.hasSwitches = true
	s.switches.inc(c.now())
	if fault {
		s.lastSwitch, s.hasLastSwitch = after.Seconds(), true
	}
}

// ObserveOperation counts a finished operation.
func (c *Collector) ObserveOperation(op string, err error) {
	result := "ok"
	if err != nil {
		result = "failed"
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	k := [2]string{op, result}
	n := c.operations[k]
	if n == nil {
		n = &counter{}
		c.operations[k] = n
	}
	n.inc(c.now())
}

// Serve answers /metrics on addr until ctx ends; it returns the bound
// address once listening.
func (c *Collector) Serve(ctx context.Context, addr string) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", c.Handler())
	mux.HandleFunc("/healthz", c.serveHealth)
	mux.HandleFunc("/{$}", serveLanding)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			ln.Close()
		}
	}()
	return ln.Addr(), nil
}

// Registerer takes other parts' series into these metrics (serve's SSH
// ones).
func (c *Collector) Registerer() prometheus.Registerer { return c.reg }

// Handler is the /metrics handler, for tests and embedding.
func (c *Collector) Handler() http.Handler { return promhttp.HandlerFor(c.reg, promhttp.HandlerOpts{}) }

// SetStaleAfter sets how long /healthz waits without an observation before
// it reports the engine stalled; slow probe intervals need a longer wait.
func (c *Collector) SetStaleAfter(d time.Duration) {
	c.health.Lock()
	defer c.health.Unlock()
	c.health.staleAfter = d
}

// fed notes that the engine is alive; connected, when given, is the
// router's latest reading.
func (c *Collector) fed(connected *bool) {
	c.health.Lock()
	defer c.health.Unlock()
	c.health.lastFed = c.health.now()
	if connected != nil {
		c.health.routerSeen = true
		c.health.connected = *connected
	}
}

// Health says whether this failwatch is doing its job: the engine feeds
// observations and the router's API answers. The problems are in words,
// none when healthy.
func (c *Collector) Health() []string {
	c.health.Lock()
	defer c.health.Unlock()
	var problems []string
	switch since := c.health.now().Sub(c.health.lastFed); {
	case c.health.lastFed.IsZero():
		problems = append(problems, "engine: no observation yet")
	case since > c.health.staleAfter:
		problems = append(problems, fmt.Sprintf("engine: no observation for %s", since.Round(time.Second)))
	}
	switch {
	case !c.health.routerSeen:
		problems = append(problems, "router: not read yet")
	case !c.health.connected:
		problems = append(problems, "router: API not answering")
	}
	return problems
}

// serveHealth answers 200 "ok" when healthy, else 503 with one problem per
// line, for load balancers, systemd watchdogs and humans alike.
func (c *Collector) serveHealth(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	problems := c.Health()
	if len(problems) == 0 {
		fmt.Fprintln(w, "ok")
		return
	}
	w.WriteHeader(http.StatusServiceUnavailable)
	for _, p := range problems {
		fmt.Fprintln(w, p)
	}
}

const landingPage = `<!doctype html>
<title>failwatch</title>
<h1>failwatch</h1>
<ul>
<li><a href="/metrics">/metrics</a>: Prometheus metrics</li>
<li><a href="/healthz">/healthz</a>: 200 when the engine runs and the router answers, else 503 and why</li>
</ul>
`

// serveLanding is the page a browser pointed at the exporter finds.
func serveLanding(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprint(w, landingPage)
}
