// Package monitor probes servers and keeps their statistics and up/down state.
// It knows nothing of terminals: it emits events that the dashboard, the
// report and the metrics endpoint consume.
package monitor
