// Package tui is the dashboard: Bubble Tea components that render the state
// probes and router watchers send in, and turn keys into requests. It never
// talks to the network itself.
package tui
