package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/failwatch/failwatch/internal/engine"
)

// bridgeSeries are the TTL bridges' series: whether each is on, and the
// tracked connections it carries, as the engine's facts say; a service
// whose bridge's state is not known (its reading failed or a row could
// not be read) has no series rather than a guess.
type bridgeSeries struct {
	active      *prometheus.GaugeVec
	connections *prometheus.GaugeVec
}

func newBridgeSeries(reg prometheus.Registerer) *bridgeSeries {
	b := &bridgeSeries{
		active: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "failwatch_bridge_active",
			Help: "1 while the service's TTL bridge carries clients (its dst-nat rules enabled, all or some), 0 while off or missing; no series while its state is not known.",
		}, []string{"service"}),
		connections: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "failwatch_bridge_connections",
			Help: "Tracked connections the service's TTL bridge carries now (answered by the standby), as read (up to 256 a reading); no series while not known.",
		}, []string{"service"}),
	}
	reg.MustRegister(b.active, b.connections)
	return b
}

// ObserveBridge records a service's bridge facts; nil (no bridge) or a
// state not known removes its series.
func (c *Collector) ObserveBridge(service string, b *engine.BridgeFacts) {
	known := b != nil && b.State != "unknown" && b.State != "unreadable"
	if !known {
		c.bridge.active.DeleteLabelValues(service)
		c.bridge.connections.DeleteLabelValues(service)
		return
	}
	c.bridge.active.WithLabelValues(service).Set(b2f(b.On()))
	c.bridge.connections.WithLabelValues(service).Set(float64(b.Connections + b.More))
}
