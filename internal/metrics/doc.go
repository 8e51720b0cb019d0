// Package metrics exposes what failwatch sees as Prometheus metrics, for
// fleets that outgrow one terminal: a collector of probe, router, DNS and
// operation series, and Feed, the engine's subscriber that fills it from
// the same events as the dashboard. It sits beside the engine, not in
// monitor, because its series speak of routers and services.
package metrics
