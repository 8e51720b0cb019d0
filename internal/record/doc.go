// Package record keeps what an engine saw, so an incident can be looked at
// afterwards: a subscriber that appends every event (probe samples and state
// changes, router readings and log lines, DNS answers, operation steps) to a
// JSON-lines file, rotated by size, and a player that feeds a recording back
// as the same events, in order, at its own pace or faster. A file holds one
// schema (docs/JSON.md), said by each run's first line; the player reads
// only its own, so a replay never shows a recording it half understands.
package record
