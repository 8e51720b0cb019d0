package metrics

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/failwatch/failwatch/monitor"
)

// Collector holds failwatch's metrics.
type Collector struct {
	reg *prometheus.Registry

	rtt        *prometheus.HistogramVec
	probes     *prometheus.CounterVec
	loss       *prometheus.GaugeVec
	jitter     *prometheus.GaugeVec
	checkUp    *prometheus.GaugeVec
	serverUp   *prometheus.GaugeVec
	active     *prometheus.GaugeVec
	connected  prometheus.Gauge
	operations *prometheus.CounterVec
	lastSwitch prometheus.Gauge
	switches   prometheus.Counter
	netwatch   *prometheus.GaugeVec
	answer     *prometheus.GaugeVec
	answerTTL  prometheus.Gauge
	answered   prometheus.Gauge

	servers []string
}

// New registers the metrics for the named servers.
func New(servers []string) *Collector {
	c := &Collector{
		reg: prometheus.NewRegistry(),
		rtt: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "failwatch_probe_rtt_seconds", Help: "Round-trip time of answered probes.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}, []string{"server", "check"}),
		probes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "failwatch_probes_total", Help: "Probes sent, by result (ok or lost).",
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
			Name: "failwatch_active_server", Help: "1 for the server the router's static records point the service name at.",
		}, []string{"server"}),
		connected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "failwatch_router_connected", Help: "1 when the router's API answers, else 0.",
		}),
		operations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "failwatch_operations_total", Help: "Failover, restore, hold and release operations, by result.",
		}, []string{"operation", "result"}),
		lastSwitch: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "failwatch_last_switch_duration_seconds", Help: "From the previously active server going DOWN to the records pointing elsewhere, for the last switch.",
		}),
		switches: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "failwatch_active_server_changes_total", Help: "Times the active server changed, by anyone (failwatch, netwatch, an admin).",
		}),
		netwatch: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "failwatch_router_netwatch_up", Help: "The router's netwatch status of a host: 1 up, 0 down.",
		}, []string{"host"}),
		answer: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "failwatch_dns_answer_server", Help: "1 for the server the resolver's answer for the service name points at: what clients are told.",
		}, []string{"server"}),
		answerTTL: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "failwatch_dns_answer_ttl_seconds", Help: "TTL of the resolver's answer: how long a client may keep it after a switch.",
		}),
		answered: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "failwatch_dns_answered", Help: "1 when the resolver answered the service name with an address, else 0.",
		}),
		servers: servers,
	}
	c.reg.MustRegister(c.rtt, c.probes, c.loss, c.jitter, c.checkUp, c.serverUp, c.active, c.connected,
		c.operations, c.lastSwitch, c.switches, c.netwatch, c.answer, c.answerTTL, c.answered)
	for _, s := range servers {
		c.serverUp.WithLabelValues(s).Set(0)
		c.active.WithLabelValues(s).Set(0)
		c.answer.WithLabelValues(s).Set(0)
	}
	return c
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
func (c *Collector) ObserveDNS(answered bool, server string, ttl time.Duration) {
	c.answered.Set(b2f(answered))
	c.answerTTL.Set(ttl.Seconds())
	for _, s := range c.servers {
		c.answer.WithLabelValues(s).Set(b2f(s == server))
	}
}

// ObserveServer records a monitor event.
func (c *Collector) ObserveServer(ev monitor.Event) {
	switch ev.Type {
	case monitor.EventSample:
		result := "lost"
		if ev.Sample.OK {
			result = "ok"
			c.rtt.WithLabelValues(ev.Server, ev.Check.Label).Observe(ev.Sample.RTT.Seconds())
		}
		c.probes.WithLabelValues(ev.Server, ev.Check.Label, result).Inc()
		c.loss.WithLabelValues(ev.Server, ev.Check.Label).Set(ev.Check.Window.LossPercent() / 100)
		c.jitter.WithLabelValues(ev.Server, ev.Check.Label).Set(ev.Check.Window.Jitter.Seconds())
		c.checkUp.WithLabelValues(ev.Server, ev.Check.Label).Set(b2f(ev.Check.State == monitor.Up))
	case monitor.EventServer:
		c.serverUp.WithLabelValues(ev.Server).Set(b2f(ev.Transition.To == monitor.Up))
	}
}

// ObserveRouter records a reading of the router: whether it answered, the
// active server ("" for none) and the netwatch status of each host.
func (c *Collector) ObserveRouter(at time.Time, connected bool, active string, netwatch map[string]string) {
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
	for _, s := range c.servers {
		c.active.WithLabelValues(s).Set(b2f(s == active))
	}
}

// ObserveSwitch records the active server changing; after is from the
// fault to the switch when there was one (the engine's one definition).
func (c *Collector) ObserveSwitch(fault bool, after time.Duration) {
	c.switches.Inc()
	if fault {
		c.lastSwitch.Set(after.Seconds())
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

// Handler is the /metrics handler, for tests and embedding.
func (c *Collector) Handler() http.Handler { return promhttp.HandlerFor(c.reg, promhttp.HandlerOpts{}) }
