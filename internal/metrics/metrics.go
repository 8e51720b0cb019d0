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

	"github.com/failwatch/failwatch/monitor"
)

// Collector holds failwatch's metrics.
type Collector struct {
	reg *prometheus.Registry
	ha  haSeries

	rtt        *prometheus.HistogramVec
	probes     *prometheus.CounterVec
	loss       *prometheus.GaugeVec
	jitter     *prometheus.GaugeVec
	checkUp    *prometheus.GaugeVec
	serverUp   *prometheus.GaugeVec
	active     *prometheus.GaugeVec
	facts      *prometheus.GaugeVec
	connected  prometheus.Gauge
	operations *prometheus.CounterVec
	lastSwitch *prometheus.GaugeVec
	switches   *prometheus.CounterVec
	netwatch   *prometheus.GaugeVec
	answer     *prometheus.GaugeVec
	answerTTL  *prometheus.GaugeVec
	answered   *prometheus.GaugeVec
	// bridge are the TTL bridges' series (bridge.go).
	bridge *bridgeSeries

	servers []string
	// services are the services' names: the per-service series carry them
	// as the service label.
	services []string
	// netwatchHosts are the hosts with a netwatch series.
	netwatchHosts map[string]bool
	// known says, by service, that its facts have a value (an active
	// server series).
	known map[string]bool

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
	c := newSeries()
	c.servers, c.services = servers, services
	c.reg.MustRegister(c.rtt, c.probes, c.loss, c.jitter, c.checkUp, c.serverUp, c.active, c.facts, c.connected,
		c.operations, c.lastSwitch, c.switches, c.netwatch, c.answer, c.answerTTL, c.answered,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	c.bridge = newBridgeSeries(c.reg)
	c.health.now = time.Now
	c.health.staleAfter = DefaultStaleAfter
	c.startSeries()
	return c
}

// newSeries defines every series, with its name, help and labels.
func newSeries() *Collector {
	return &Collector{
		reg: prometheus.NewRegistry(),
		rtt: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "failwatch_probe_rtt_seconds", Help: "Round-trip time of answered probes.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}, []string{"server", "check"}),
		probes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "failwatch_probes_total", Help: "Probes, by result: ok, lost (sent, no good answer) or not_sent (the request never left; not in the loss ratio).",
		}, []string{"server", "check", "result"}),
		loss: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "failwatch_probe_loss_ratio", Help: "Share of probes lost over the statistics window, 0 to 1.",
		}, []string{"server", "check"}),
		jitter: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "failwatch_probe_jitter_seconds", Help: "RFC 3550 interarrival jitter of the round trips over the window.",
		}, []string{"server", "check"}),
		checkUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "failwatch_check_up", Help: "1 when the check is UP after hysteresis, else 0.",
		}, []string{"server", "check"}),
		serverUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "failwatch_server_up", Help: "1 when every check of the server is UP, else 0.",
		}, []string{"server"}),
		active: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "failwatch_active_server", Help: "1 for the server the router's static records point the service's name at.",
		}, []string{"service", "server"}),
		facts: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "failwatch_facts_state", Help: "1 for the state of what failwatch knows of the service's records: known (a fresh reading), stale (the last reading is older than two intervals), unknown (none), unreadable (a row could not be read). failwatch_active_server has no series while unknown or unreadable.",
		}, []string{"service", "state"}),
		connected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "failwatch_router_connected", Help: "1 when the router's API answers, else 0.",
		}),
		operations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "failwatch_operations_total", Help: "Failover, restore, hold and release operations, by result.",
		}, []string{"operation", "result"}),
		lastSwitch: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "failwatch_last_switch_duration_seconds", Help: "From the previously active server going DOWN to the records pointing elsewhere, for the service's last switch.",
		}, []string{"service"}),
		switches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "failwatch_active_server_changes_total", Help: "Times the service's active server changed, by anyone (failwatch, netwatch, an admin).",
		}, []string{"service"}),
		netwatch: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "failwatch_router_netwatch_up", Help: "The router's netwatch status of a host: 1 up, 0 down.",
		}, []string{"host"}),
		answer: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "failwatch_dns_answer_server", Help: "1 for the server the resolver's answer for the service's name points at: what clients are told.",
		}, []string{"service", "server"}),
		answerTTL: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "failwatch_dns_answer_ttl_seconds", Help: "TTL of the resolver's answer: how long a client may keep it after a switch.",
		}, []string{"service"}),
		answered: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "failwatch_dns_answered", Help: "1 when the resolver answered the service's name with an address, else 0.",
		}, []string{"service"}),
		netwatchHosts: map[string]bool{}, known: map[string]bool{},
	}
}

// startSeries gives the series that have a value before any observation
// their first one.
func (c *Collector) startSeries() {
	// Counted from zero, so a rate or an increase over them is 0, not absent,
	// before the first operation.
	for _, op := range []string{"failover", "restore", "hold", "release"} {
		c.operations.WithLabelValues(op, "ok")
		c.operations.WithLabelValues(op, "failed")
	}
	for _, svc := range c.services {
		// The last switch's duration has no value before a switch: absent,
		// not 0, so that no alert or panel reads a switch that never was.
		c.switches.WithLabelValues(svc)
		// Nothing is known of the records before a reading: no active
		// server series, the state unknown.
		c.setFactsState(svc, "unknown")
		for _, s := range c.servers {
			c.answer.WithLabelValues(svc, s).Set(0)
		}
	}
	for _, s := range c.servers {
		c.serverUp.WithLabelValues(s).Set(0)
	}
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
	c.answered.WithLabelValues(service).Set(b2f(answered))
	// An answer that did not come has no TTL: absent, not 0.
	if answered {
		c.answerTTL.WithLabelValues(service).Set(ttl.Seconds())
	} else {
		c.answerTTL.DeleteLabelValues(service)
	}
	for _, s := range c.servers {
		c.answer.WithLabelValues(service, s).Set(b2f(s == server))
	}
}

// ObserveServer records a monitor event.
func (c *Collector) ObserveServer(ev monitor.Event) {
	c.fed(nil)
	switch ev.Type {
	case monitor.EventSample:
		result := "lost"
		switch {
		case ev.Sample.OK:
			result = "ok"
			c.rtt.WithLabelValues(ev.Server, ev.Check.Label).Observe(ev.Sample.RTT.Seconds())
		case ev.Sample.NotSent:
			result = "not_sent"
		}
		// Both results exist from the first probe on, so a loss ratio
		// computed from them is 0, not absent, for a server that never lost.
		c.probes.WithLabelValues(ev.Server, ev.Check.Label, "ok")
		c.probes.WithLabelValues(ev.Server, ev.Check.Label, "lost")
		c.probes.WithLabelValues(ev.Server, ev.Check.Label, result).Inc()
		c.loss.WithLabelValues(ev.Server, ev.Check.Label).Set(ev.Check.Window.LossPercent() / 100)
		c.jitter.WithLabelValues(ev.Server, ev.Check.Label).Set(ev.Check.Window.Jitter.Seconds())
		c.checkUp.WithLabelValues(ev.Server, ev.Check.Label).Set(b2f(ev.Check.State == monitor.Up))
	case monitor.EventServer:
		c.serverUp.WithLabelValues(ev.Server).Set(b2f(ev.Transition.To == monitor.Up))
	}
}

// SetServers takes the server list after a config reload: a removed
// server's series go (a stale "up" must not outlive the server), a new one's
// start at zero. Call it from the goroutine that observes.
func (c *Collector) SetServers(servers []string) {
	for _, old := range c.servers {
		if !slices.Contains(servers, old) {
			for _, v := range []interface {
				DeletePartialMatch(prometheus.Labels) int
			}{c.rtt, c.probes, c.loss, c.jitter, c.checkUp, c.serverUp, c.active, c.answer} {
				v.DeletePartialMatch(prometheus.Labels{"server": old})
			}
		}
	}
	for _, s := range servers {
		if !slices.Contains(c.servers, s) {
			c.serverUp.WithLabelValues(s).Set(0)
			for _, svc := range c.services {
				if c.known[svc] {
					c.active.WithLabelValues(svc, s).Set(0)
				}
				c.answer.WithLabelValues(svc, s).Set(0)
			}
		}
	}
	c.servers = servers
}

// ObserveRouter records a reading of the router: whether it answered and
// the netwatch status of each host.
func (c *Collector) ObserveRouter(at time.Time, connected bool, netwatch map[string]string) {
	c.fed(&connected)
	c.connected.Set(b2f(connected))
	if !connected {
		return
	}
	for host, status := range netwatch {
		switch status {
		case "up", "down":
			c.netwatch.WithLabelValues(host).Set(b2f(status == "up"))
		default:
			c.netwatch.DeleteLabelValues(host)
		}
	}
	// A host whose entry went (or whose server a reload removed) has no
	// status any more.
	for host := range c.netwatchHosts {
		if _, ok := netwatch[host]; !ok {
			c.netwatch.DeleteLabelValues(host)
			delete(c.netwatchHosts, host)
		}
	}
	for host := range netwatch {
		c.netwatchHosts[host] = true
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
	c.setFactsState(service, state)
	c.known[service] = state == "known" || state == "stale"
	if !c.known[service] {
		c.active.DeletePartialMatch(prometheus.Labels{"service": service})
		return
	}
	for _, s := range c.servers {
		c.active.WithLabelValues(service, s).Set(b2f(s == active))
	}
}

func (c *Collector) setFactsState(service, state string) {
	for _, s := range factStates {
		c.facts.WithLabelValues(service, s).Set(b2f(s == state))
	}
}

// ObserveSwitch records a service's active server changing; after is from
// the fault to the switch when there was one (the engine's one definition).
func (c *Collector) ObserveSwitch(service string, fault bool, after time.Duration) {
	c.switches.WithLabelValues(service).Inc()
	if fault {
		c.lastSwitch.WithLabelValues(service).Set(after.Seconds())
	}
}

// ObserveOperation counts a finished operation.
func (c *Collector) ObserveOperation(op string, err error) {
	result := "ok"
	if err != nil {
		result = "failed"
	}
	c.operations.WithLabelValues(op, result).Inc()
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
