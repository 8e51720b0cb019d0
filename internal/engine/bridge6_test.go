package engine

import (
	"context"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/paper"
	"github.com/failwatch/failwatch/internal/paper/papersim"
	"github.com/failwatch/failwatch/internal/testkit"
	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/failover"
	"github.com/failwatch/failwatch/routeros/rosim"
)

// An IPv6 pair's bridge as the engine reads it on 7.18: its rules in
// /ipv6/firewall/nat (to-address), failwatch's own IPv6 address exempt by
// the router's list so the start-up check allows it, and the connections
// it carries counted from /ipv6/firewall/connection.
func TestBridgeIPv6Facts(t *testing.T) {
	own6 := netip.MustParseAddr("fd00:88::2")
	r, api := testkit.Emulator(t, rosim.Options{})
	cfg := paper.Config()
	cfg.Router = config.Router{Address: api, User: "admin", Timeout: 2 * time.Second}
	cfg.Probe.Interval = 100 * time.Millisecond
	cfg.Servers[0].Address, cfg.Servers[1].Address = "2001:db8::7", "2001:db8::2"
	svc := &cfg.Services[0]
	svc.Bridge = config.Bridge{Mode: config.BridgeNAT, SrcAddresses: []netip.Prefix{netip.MustParsePrefix("fd00:88::/64")},
		TCP: []int{443}, Until: config.UntilRestore, Comment: "failwatch bridge " + svc.Name}
	c, _, err := routeros.New(routeros.OptionsFrom(cfg.Router))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	f := failover.ForService(cfg, *svc, c, "setup", nil)
	ctx := context.Background()
	for _, it := range failover.BridgeItems(f.Service, f.Primary, f.Standby, []netip.Addr{own6}) {
		var kv []string
		for _, p := range it.Props {
			if p[0] == "to-addresses" {
				p[0] = "to-address"
			}
			if p[0] == "disabled" {
				p[1] = "no"
			}
			kv = append(kv, p[0], p[1])
		}
		if _, err := c.Add(ctx, it.Menu, kv...); err != nil {
			t.Fatalf("%s add %v: %v", it.Menu, kv, err)
		}
	}
	sims := map[string]*monitor.Simulated{"public": papersim.Public(), "private": papersim.Private()}
	e, _, err := New(cfg, Options{Router: routeros.OptionsFrom(cfg.Router), User: "tester", AuditLog: filepath.Join(t.TempDir(), "audit.jsonl"),
		LocalAddr: func(netip.Addr) (netip.Addr, error) { return own6, nil },
		Monitor: monitor.Options{Probe: cfg.Probe, Prober: func(s config.Server, _ config.Check) (monitor.Prober, error) {
			return sims[s.Name], nil
		}}})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { e.Run(runCtx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	for _, src := range []string{"[fd00:88::10]:50000", "[fd00:88::2]:40000"} {
		if _, err := r.Track(rosim.Conn{Protocol: "tcp", Src: netip.MustParseAddrPort(src), Dst: netip.MustParseAddrPort("[2001:db8::7]:443")}); err != nil {
			t.Fatal(err)
		}
	}
	b := bridgeFacts(t, e, "the IPv6 bridge on, carrying the client", func(b *BridgeFacts) bool {
		return b.State == "on" && b.Connections == 1 && b.Refused == ""
	})
	if b.From != "2001:db8::7" || b.To != "2001:db8::2" || b.Why != "" {
		t.Errorf("facts %+v", b)
	}
}

// An IPv6 pair's bridge whose interface list holds the IPv6 default
// route's interface is refused, though the IPv4 default route leaves by
// another.
func TestBridgeIPv6RefusedWhenItsListHoldsTheIPv6WAN(t *testing.T) {
	_, api := testkit.Emulator(t, rosim.Options{})
	cfg := paper.Config()
	cfg.Router = config.Router{Address: api, User: "admin", Timeout: 2 * time.Second}
	cfg.Probe.Interval = 100 * time.Millisecond
	cfg.Servers[0].Address, cfg.Servers[1].Address = "2001:db8::7", "2001:db8::2"
	svc := &cfg.Services[0]
	svc.Bridge = config.Bridge{Mode: config.BridgeNAT, InInterfaceList: "LAN", TCP: []int{443}, Until: config.UntilRestore, Comment: "failwatch bridge " + svc.Name}
	c, _, err := routeros.New(routeros.OptionsFrom(cfg.Router))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx := context.Background()
	for _, add := range [][]string{
		{"/interface/list", "name", "LAN"},
		{"/interface/list/member", "list", "LAN", "interface", "ether2"},
		{"/ip/route", "gateway", "203.0.113.1%ether1"},
		{"/ipv6/route", "gateway", "fe80::1%ether2"},
	} {
		if _, err := c.Add(ctx, add[0], add[1:]...); err != nil {
			t.Fatal(err)
		}
	}
	sims := map[string]*monitor.Simulated{"public": papersim.Public(), "private": papersim.Private()}
	e, _, err := New(cfg, Options{Router: routeros.OptionsFrom(cfg.Router), User: "tester", AuditLog: filepath.Join(t.TempDir(), "audit.jsonl"),
		LocalAddr: func(netip.Addr) (netip.Addr, error) { return netip.MustParseAddr("fd00:88::2"), nil },
		Monitor: monitor.Options{Probe: cfg.Probe, Prober: func(s config.Server, _ config.Check) (monitor.Prober, error) {
			return sims[s.Name], nil
		}}})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { e.Run(runCtx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	b := bridgeFacts(t, e, "the bridge refused", func(b *BridgeFacts) bool { return b.Refused != "" && !strings.HasPrefix(b.Refused, "not checked yet") })
	if !strings.Contains(b.Refused, "holds ether2") {
		t.Errorf("refused %q", b.Refused)
	}
}
