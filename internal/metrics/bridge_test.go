package metrics

import (
	"strings"
	"testing"

	"github.com/failwatch/failwatch/internal/engine"
)

// The bridge's series follow the engine's facts through the feed: on with
// its connections, off, and absent while not known.
func TestBridgeSeries(t *testing.T) {
	c := New([]string{"public", "private"}, []string{"www.example.test"})
	facts := func(b *engine.BridgeFacts) engine.FactsChanged {
		return engine.FactsChanged{{Service: "www.example.test", State: engine.FactKnown, Active: "private", Bridge: b}}
	}
	c.observe(facts(&engine.BridgeFacts{State: "on", Connections: 3, More: 2}))
	body := scrape(c)
	for _, want := range []string{`failwatch_bridge_active{service="www.example.test"} 1`, `failwatch_bridge_connections{service="www.example.test"} 5`} {
		if !strings.Contains(body, want) {
			t.Errorf("missing %s", want)
		}
	}
	c.observe(facts(&engine.BridgeFacts{State: "off"}))
	if body := scrape(c); !strings.Contains(body, `failwatch_bridge_active{service="www.example.test"} 0`) {
		t.Errorf("off:\n%s", body)
	}
	c.observe(facts(&engine.BridgeFacts{State: "unreadable", Why: "NAT rule ..."}))
	if body := scrape(c); strings.Contains(body, "failwatch_bridge_active{") || strings.Contains(body, "failwatch_bridge_connections{") {
		t.Errorf("a bridge not known has series:\n%s", body)
	}
}
