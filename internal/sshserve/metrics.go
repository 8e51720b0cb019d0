package sshserve

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are serve's SSH series: who is in, who was refused, and what
// was dropped before it logged in.
type metrics struct {
	sessions    *prometheus.GaugeVec
	waiting     prometheus.Gauge
	logins      *prometheus.CounterVec
	refusals    *prometheus.CounterVec
	drops       *prometheus.CounterVec
	sessionEnds *prometheus.CounterVec
}

// Label values, each counted from zero so a rate over them is 0, not
// absent, until the first.
var (
	roleLabels    = []string{"viewer", "operator"}
	refusalLabels = []string{refusedKey, refusedOptions, refusedFrom, refusedExpired, refusedFull, refusedTerminal, refusedRequest}
	dropLabels    = []string{dropFull, dropRandom, dropPerSource, dropGrace, dropNoSession}
	endLabels     = []string{endClient, endQuit, endIdle, endLimit, endRefused, endShutdown}
)

// Why a login, a session or a request was refused.
const (
	refusedKey      = "key_not_listed"
	refusedOptions  = "key_not_loaded"
	refusedFrom     = "from"
	refusedExpired  = "expired"
	refusedFull     = "sessions_full"
	refusedTerminal = "no_terminal"
	refusedRequest  = "request"
)

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		sessions: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "failwatch_ssh_sessions", Help: "Dashboards served over SSH now, by role.",
		}, []string{"role"}),
		waiting: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "failwatch_ssh_unauthenticated_connections", Help: "SSH connections not yet authenticated (what max_startups bounds).",
		}),
		logins:   fromZero("failwatch_ssh_logins_total", "SSH logins accepted, by role.", "role", roleLabels),
		refusals: fromZero("failwatch_ssh_refusals_total", "SSH keys, sessions and requests refused, by reason.", "reason", refusalLabels),
		drops: fromZero("failwatch_ssh_dropped_connections_total", "SSH connections closed by serve's limits before a session: max_startups (full or random early drop), per_source_max_startups, login_grace_time, or no session opened.",
			"reason", dropLabels),
		sessionEnds: fromZero("failwatch_ssh_session_ends_total", "SSH sessions ended, by how.", "how", endLabels),
	}
	for _, r := range roleLabels {
		m.sessions.WithLabelValues(r)
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.sessions, m.waiting, m.logins, m.refusals, m.drops, m.sessionEnds} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

// fromZero is a counter by one label whose every value is counted from
// zero.
func fromZero(name, help, label string, values []string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, []string{label})
	for _, v := range values {
		c.WithLabelValues(v)
	}
	return c
}
