package dataplane

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/failwatch/failwatch/internal/testkit"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/rosim"
)

// A removal is never applied with a firewall older than it: while a bridge
// adds rule i and then removes connection i, over and over, every read
// that takes removal i holds rule i. Read firewall-first, a removal made
// between the two reads came with a firewall without its rule.
func TestReadHoldsTheRulesBeforeEachRemoval(t *testing.T) {
	r, api := testkit.Emulator(t, rosim.Options{})
	r.ObserveFirewall(func() {})
	c, _, err := routeros.New(routeros.Options{Address: api, User: "admin", Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p := &Plane{opts: Options{Router: r}}
	const n = 200
	ids := make([]string, n)
	for i := range ids {
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 168, 88, byte(10 + i%200)}), 0)
		if ids[i], err = r.Track(rosim.Conn{Protocol: "icmp", Src: src, Dst: netip.MustParseAddrPort("198.51.100.1:0"), ICMPID: i + 1}); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	var writeErr error
	done := make(chan struct{})
	wg.Go(func() {
		defer close(done)
		for i := range n {
			if _, writeErr = c.Run(ctx, "/ip/firewall/nat/add", "=chain=dstnat", "=action=dst-nat", "=dst-address=198.51.100.1",
				"=to-addresses=198.51.100.2", "=protocol=icmp", fmt.Sprintf("=comment=rule %d", i)); writeErr != nil {
				return
			}
			if _, writeErr = c.Run(ctx, "/ip/firewall/connection/remove", "=.id="+ids[i]); writeErr != nil {
				return
			}
		}
	})
	seen := 0
	check := func() {
		removed, _, fw := p.read()
		for _, row := range removed {
			i := slices.Index(ids, row[".id"])
			seen++
			if !slices.ContainsFunc(fw.NAT, func(rule map[string]string) bool { return rule["comment"] == fmt.Sprintf("rule %d", i) }) {
				t.Fatalf("removal of connection %d read with a firewall without rule %d, enabled before it", i, i)
			}
		}
	}
	for writing := true; writing; {
		select {
		case <-done:
			writing = false
		default:
			check()
		}
	}
	wg.Wait()
	check()
	if writeErr != nil || seen != n {
		t.Fatalf("%d of %d removals read (%v)", seen, n, writeErr)
	}
}
