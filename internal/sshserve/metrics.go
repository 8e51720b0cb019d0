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
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "failwatch_ssh_logins_total", Help: "SSH logins accepted, by role.",
		}, []string{"role"}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "failwatch_ssh_refusals_total", Help: "SSH keys, sessions and requests refused, by reason.",
		}, []string{"reason"}),
		drops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "failwatch_ssh_dropped_connections_total", Help: "SSH connections closed by serve's limits before a session: max_startups (full or random early drop), per_source_max_startups, login_grace_time, or no session opened.",
		}, []string{"reason"}),
		sessionEnds: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "failwatch_ssh_session_ends_total", Help: "SSH sessions ended, by how.",
		}, []string{"how"}),
	}
	for _, r := range roleLabels {
		m.sessions.WithLabelValues(r)
		m.logins.WithLabelValues(r)
	}
	for _, r := range refusalLabels {
		m.refusals.WithLabelValues(r)
	}
	for _, r := range dropLabels {
		m.drops.WithLabelValues(r)
	}
	for _, r := range endLabels {
		m.sessionEnds.WithLabelValues(r)
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
