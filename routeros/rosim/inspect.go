package rosim

import (
	"maps"
	"slices"
)

// What tests and benchmarks read of a running router.

// Sessions counts the open API sessions.
func (r *Router) Sessions() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.sessions)
}

// CacheFlushes counts /ip/dns/cache/flush calls, for tests.
func (r *Router) CacheFlushes() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.flushes
}

// Calls counts the commands run so far, by command ("/ip/dns/static/print"),
// for tests and benchmarks of how much a client asks.
func (r *Router) Calls() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.calls)
}

// Applied lists every change the router applied (add, set, enable, disable,
// remove), in order, as "/ip/dns/static/set .id=*1 disabled=yes" (a value
// that is empty or holds a space or a quote is quoted, as Go quotes it):
// what a client's account of what it sent can be checked against. A change
// refused with a !trap is not in it.
func (r *Router) Applied() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.applied)
}
