package metrics

import (
	"github.com/failwatch/failwatch/internal/engine"
)

// ObserveBridge records a service's bridge facts: whether it is on, and the
// tracked connections it carries, as the engine's facts say; nil (no
// bridge) or a state not known (its reading failed or a row could not be
// read) removes its series rather than guess.
func (c *Collector) ObserveBridge(service string, b *engine.BridgeFacts) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.service(service)
	s.hasBridge = b != nil && b.State != "unknown" && b.State != "unreadable"
	if s.hasBridge {
		s.bridgeOn, s.bridgeConns = b2f(b.On()), float64(b.Connections+b.More)
	}
}
