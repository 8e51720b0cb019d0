package metrics

import (
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The series are built at each scrape from what the collector keeps, as an
// exporter's collector does (node_exporter, blackbox_exporter), instead of a
// GaugeVec or CounterVec child kept for every server: at 1,000 servers the
// children, their label pairs and their maps were about 6 MB of the
// exporter's 12 MB live heap, and each probe's WithLabelValues lookups were
// garbage of their own. What is kept is a few numbers a check, server and
// service; a scrape makes its const metrics and lets them go. The series
// served are the same ones, with the same names, labels, help and values:
// each kind of state below mirrors what its vectors held, and says so.

// desc is one series' name, help and labels.
func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

var (
	rttDesc = desc("failwatch_probe_rtt_seconds", "Round-trip time of answered probes.", "server", "check")
	// rttBuckets are the histogram's upper bounds: 0.5 ms doubling to 4 s.
	rttBuckets = prometheus.ExponentialBuckets(0.0005, 2, 14)
	probesDesc = desc("failwatch_probes_total",
		"Probes, by result: ok, lost (sent, no good answer) or not_sent (the request never left; not in the loss ratio).", "server", "check", "result")
	lossDesc     = desc("failwatch_probe_loss_ratio", "Share of probes lost over the statistics window, 0 to 1.", "server", "check")
	jitterDesc   = desc("failwatch_probe_jitter_seconds", "RFC 3550 interarrival jitter of the round trips over the window.", "server", "check")
	checkUpDesc  = desc("failwatch_check_up", "1 when the check is UP after hysteresis, else 0.", "server", "check")
	serverUpDesc = desc("failwatch_server_up", "1 when every check of the server is UP, else 0.", "server")
	activeDesc   = desc("failwatch_active_server", "1 for the server the router's static records point the service's name at.", "service", "server")
	factsDesc    = desc("failwatch_facts_state",
		"1 for the state of what failwatch knows of the service's records: known (a fresh reading), stale (the last reading is older than two intervals), unknown (none), unreadable (a row could not be read). failwatch_active_server has no series while unknown or unreadable.",
		"service", "state")
	connectedDesc  = desc("failwatch_router_connected", "1 when the router's API answers, else 0.")
	operationsDesc = desc("failwatch_operations_total", "Failover, restore, hold and release operations, by result.", "operation", "result")
	lastSwitchDesc = desc("failwatch_last_switch_duration_seconds",
		"From the previously active server going DOWN to the records pointing elsewhere, for the service's last switch.", "service")
	switchesDesc = desc("failwatch_active_server_changes_total",
		"Times the service's active server changed, by anyone (failwatch, netwatch, an admin).", "service")
	netwatchDesc  = desc("failwatch_router_netwatch_up", "The router's netwatch status of a host: 1 up, 0 down.", "host")
	answerDesc    = desc("failwatch_dns_answer_server", "1 for the server the resolver's answer for the service's name points at: what clients are told.", "service", "server")
	answerTTLDesc = desc("failwatch_dns_answer_ttl_seconds", "TTL of the resolver's answer: how long a client may keep it after a switch.", "service")
	answeredDesc  = desc("failwatch_dns_answered", "1 when the resolver answered the service's name with an address, else 0.", "service")
	bridgeDesc    = desc("failwatch_bridge_active",
		"1 while the service's TTL bridge carries clients (its dst-nat rules enabled, all or some), 0 while off or missing; no series while its state is not known.", "service")
	bridgeConnsDesc = desc("failwatch_bridge_connections",
		"Tracked connections the service's TTL bridge carries now (answered by the standby), as read (up to 256 a reading); no series while not known.", "service")
)

// allDescs are the series Collect makes, for Describe.
var allDescs = []*prometheus.Desc{rttDesc, probesDesc, lossDesc, jitterDesc, checkUpDesc, serverUpDesc, activeDesc, factsDesc,
	connectedDesc, operationsDesc, lastSwitchDesc, switchesDesc, netwatchDesc, answerDesc, answerTTLDesc, answeredDesc, bridgeDesc, bridgeConnsDesc}

// counter is a counter's value and when its series began, which a
// protobuf scrape carries as its created timestamp, as a CounterVec
// child's.
type counter struct {
	n       float64
	created time.Time
}

func (c *counter) inc(now time.Time) {
	if c.created.IsZero() {
		c.created = now
	}
	c.n++
}

// checkKey names a check of a server.
type checkKey struct{ server, check string }

// checkSeries are one check's series, from its first probe on: the probes
// by result (ok and lost from the first, not_sent from the first not
// sent), the round trips' histogram from the first answered one, and the
// window's loss, jitter and state as the last probe left them.
type checkSeries struct {
	ok, lost, notSent counter
	// buckets count the round trips by rttBuckets, each in the first
	// bucket whose bound is not below it (the last: above every bound).
	buckets [15]uint64
	rtts    counter
	rttSum  float64
	loss    float64
	jitter  float64
	up      float64
}

func (s *checkSeries) observeRTT(v float64, now time.Time) {
	s.buckets[sort.SearchFloat64s(rttBuckets, v)]++
	s.rttSum += v
	s.rtts.inc(now)
}

// serviceSeries are one service's series. Each field says when its series
// exists, as the vector did.
type serviceSeries struct {
	// state is the facts' state (one series per state of factStates:
	// from the start for a configured service, else from its first
	// facts). known: the active server's series exist, one per server,
	// 1 for active.
	state  string
	facts  bool
	known  bool
	active string
	// answer is the server the resolver's answer points at, one series
	// per server (from the start for a configured service, else from its
	// first answer); answered from the first answer; ttl while the last
	// one answered.
	answer              string
	answers             bool
	answered, ttl       float64
	hasAnswered, hasTTL bool
	// lastSwitch from the first switch with a fault; switches from the
	// start for a configured service, else from its first switch.
	lastSwitch    float64
	hasLastSwitch bool
	switches      counter
	hasSwitches   bool
	// bridgeOn and bridgeConns while its bridge's state is known.
	bridgeOn, bridgeConns float64
	hasBridge             bool
}

// send sends a metric, or the error that made it invalid: a label value
// that is not UTF-8 fails the scrape with its reason rather than panic in
// the registry's goroutine, as the Must constructors would.
func send(ch chan<- prometheus.Metric, d *prometheus.Desc, m prometheus.Metric, err error) {
	if err != nil {
		m = prometheus.NewInvalidMetric(d, err)
	}
	ch <- m
}

// gauge sends a gauge's series.
func gauge(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64, labels ...string) {
	m, err := prometheus.NewConstMetric(d, prometheus.GaugeValue, v, labels...)
	send(ch, d, m, err)
}

// count sends a counter's series, with when it began.
func count(ch chan<- prometheus.Metric, d *prometheus.Desc, c counter, labels ...string) {
	m, err := prometheus.NewConstMetricWithCreatedTimestamp(d, prometheus.CounterValue, c.n, c.created, labels...)
	send(ch, d, m, err)
}

// Describe sends every series' description.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range allDescs {
		ch <- d
	}
}

// Collect makes the series from what is kept now.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, s := range c.checks {
		collectCheck(ch, k, s)
	}
	for server, up := range c.serverUp {
		gauge(ch, serverUpDesc, up, server)
	}
	gauge(ch, connectedDesc, c.connected)
	for host, up := range c.netwatch {
		gauge(ch, netwatchDesc, b2f(up), host)
	}
	for k, n := range c.operations {
		count(ch, operationsDesc, *n, k[0], k[1])
	}
	for name, s := range c.svcs {
		c.collectService(ch, name, s)
	}
}

func collectCheck(ch chan<- prometheus.Metric, k checkKey, s *checkSeries) {
	if s.rtts.n > 0 {
		cumulative := make(map[float64]uint64, len(rttBuckets))
		var n uint64
		for i, bound := range rttBuckets {
			n += s.buckets[i]
			cumulative[bound] = n
		}
		m, err := prometheus.NewConstHistogramWithCreatedTimestamp(rttDesc, uint64(s.rtts.n), s.rttSum, cumulative, s.rtts.created, k.server, k.check)
		send(ch, rttDesc, m, err)
	}
	count(ch, probesDesc, s.ok, k.server, k.check, "ok")
	count(ch, probesDesc, s.lost, k.server, k.check, "lost")
	if s.notSent.n > 0 {
		count(ch, probesDesc, s.notSent, k.server, k.check, "not_sent")
	}
	gauge(ch, lossDesc, s.loss, k.server, k.check)
	gauge(ch, jitterDesc, s.jitter, k.server, k.check)
	gauge(ch, checkUpDesc, s.up, k.server, k.check)
}

func (c *Collector) collectService(ch chan<- prometheus.Metric, name string, s *serviceSeries) {
	if s.facts {
		for _, st := range factStates {
			gauge(ch, factsDesc, b2f(st == s.state), name, st)
		}
	}
	for _, server := range c.servers {
		if s.known {
			gauge(ch, activeDesc, b2f(server == s.active), name, server)
		}
		if s.answers {
			gauge(ch, answerDesc, b2f(server == s.answer), name, server)
		}
	}
	if s.hasAnswered {
		gauge(ch, answeredDesc, s.answered, name)
	}
	if s.hasTTL {
		gauge(ch, answerTTLDesc, s.ttl, name)
	}
	if s.hasLastSwitch {
		gauge(ch, lastSwitchDesc, s.lastSwitch, name)
	}
	if s.hasSwitches {
		count(ch, switchesDesc, s.switches, name)
	}
	if s.hasBridge {
		gauge(ch, bridgeDesc, s.bridgeOn, name)
		gauge(ch, bridgeConnsDesc, s.bridgeConns, name)
	}
}
