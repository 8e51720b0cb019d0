package sshserve

import (
	"net/netip"
	"testing"

	"github.com/failwatch/failwatch/config"
)

// max_startups start:rate:full as sshd's: below start every connection
// waits; from start, one is refused when the draw falls under rate%,
// rising linearly to 100% at full; per_source_max_startups bounds one
// address; a connection that leaves gives its place back.
func TestGate(t *testing.T) {
	g := newGate(config.Serve{MaxStartups: config.MaxStartups{Start: 4, Rate: 30, Full: 8}, PerSourceMaxStartups: 3})
	var draw float64
	g.random = func() float64 { return draw }
	addr := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{127, 0, 0, byte(2 + i)}) }

	for i := range 3 {
		if r := g.admit(addr(0)); r != "" {
			t.Fatalf("connection %d from one address: %s", i, r)
		}
	}
	if r := g.admit(addr(0)); r != dropPerSource {
		t.Errorf("a fourth from one address: %q, want %s", r, dropPerSource)
	}
	if r := g.admit(addr(1)); r != "" {
		t.Errorf("the fourth waiting, below start: %q", r)
	}
	// 4 waiting, at start: refused when the draw is under 30%.
	draw = 0.29
	if r := g.admit(addr(2)); r != dropRandom {
		t.Errorf("at start with a draw of 0.29: %q, want %s", r, dropRandom)
	}
	draw = 0.30
	if r := g.admit(addr(2)); r != "" {
		t.Errorf("at start with a draw of 0.30: %q", r)
	}
	// 5 waiting: 30% + 70% * 1/4 = 47.5%.
	draw = 0.47
	if r := g.admit(addr(3)); r != dropRandom {
		t.Errorf("one past start with a draw of 0.47: %q", r)
	}
	draw = 0.48
	if r := g.admit(addr(3)); r != "" {
		t.Errorf("one past start with a draw of 0.48: %q", r)
	}
	// 6 waiting: 65%; 7: 82.5%; at 8, full, whatever the draw.
	draw = 0.999
	for i := 4; g.waiting < 8; i++ {
		if r := g.admit(addr(i)); r != "" {
			t.Fatalf("with %d waiting and a draw of 0.999: %q", g.waiting, r)
		}
	}
	if r := g.admit(addr(10)); r != dropFull {
		t.Errorf("at full: %q, want %s", r, dropFull)
	}
	g.leave(addr(0))
	draw = 0.99
	if r := g.admit(addr(0)); r != "" {
		t.Errorf("a place given back, below full, draw 0.99: %q", r)
	}
	for a, n := range g.bySource {
		if n > 3 {
			t.Errorf("%s has %d waiting", a, n)
		}
	}
}
