package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// haSeries are the cluster's series (ha: configured), registered at the
// first HA state: without ha: they are not exported at all.
type haSeries struct {
	once sync.Once
	// role is 1 for this instance's role (leader, follower, none), 0 for
	// the others; acting is 1 while it may send changes to the router.
	role   *prometheus.GaugeVec
	acting prometheus.Gauge
}

var haRoles = []string{"leader", "follower", "none"}

// ObserveHA sets this instance's role in its cluster and whether it acts.
func (c *Collector) ObserveHA(role string, acting bool) {
	h := &c.ha
	h.once.Do(func() {
		h.role = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "failwatch_ha_role",
			Help: "This instance's role in its cluster: 1 for the role it has (leader, follower, none: no etcd lease)."}, []string{"role"})
		h.acting = prometheus.NewGauge(prometheus.GaugeOpts{Name: "failwatch_ha_acting",
			Help: "1 while this instance leads and its lease surely stands: it may send changes to the router."})
		c.reg.MustRegister(h.role, h.acting)
	})
	for _, r := range haRoles {
		v := 0.0
		if r == role {
			v = 1
		}
		h.role.WithLabelValues(r).Set(v)
	}
	a := 0.0
	if acting {
		a = 1
	}
	h.acting.Set(a)
}
