// Package metrics exposes what failwatch sees as Prometheus metrics, for
// fleets that outgrow one terminal. It consumes the same events as the
// dashboard.
package metrics
