package engine

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/engine/enginetest"
	"github.com/failwatch/failwatch/internal/testkit"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/failover"
	"github.com/failwatch/failwatch/routeros/rosim"
)

// own6 is failwatch's own IPv6 address in these tests.
var own6 = netip.MustParseAddr("fd00:88::2")

// ipv6Rig is the paper's config with an IPv6 pair on an emulator, the
// service's bridge as given (its comment the service's), and a client of
// the router and the service's failover; run starts the engine, failwatch's
// own address own6.
func ipv6Rig(t *testing.T, bridge config.Bridge) (r *rosim.Router, c *routeros.Client, f *failover.Failover, run func() *Engine) {
	t.Helper()
	r, api := testkit.Emulator(t, rosim.Options{})
	cfg := enginetest.PaperConfig(api)
	cfg.Servers[0].Address, cfg.Servers[1].Address = "2001:db8::7", "2001:db8::2"
	bridge.Mode, bridge.Until, bridge.Comment = config.BridgeNAT, config.UntilRestore, "failwatch bridge "+cfg.Services[0].Name
	cfg.Services[0].Bridge = bridge
	c, f = serviceFailover(t, cfg)
	return r, c, f, func() *Engine {
		e, _ := runEngine(t, cfg, enginetest.PaperSims(), Options{User: "tester",
			LocalAddr: func(netip.Addr) (netip.Addr, error) { return own6, nil }})
		return e
	}
}

// An IPv6 pair's bridge as the engine reads it on 7.18: its rules in
// /ipv6/firewall/nat (to-address), failwatch's own IPv6 address exempt by
// the router's list so the start-up check allows it, and the connections
// it carries counted from /ipv6/firewall/connection.
func TestBridgeIPv6Facts(t *testing.T) {
	r, c, f, run := ipv6Rig(t, config.Bridge{SrcAddresses: []netip.Prefix{netip.MustParsePrefix("fd00:88::/64")}, TCP: []int{443}})
	items := failover.BridgeItems(f.Service, f.Primary, f.Standby, []netip.Addr{own6})
	for _, it := range items {
		for i, p := range it.Props {
			if p[0] == "to-addresses" {
				it.Props[i][0] = "to-address"
			}
			if p[0] == "disabled" {
				it.Props[i][1] = "no"
			}
		}
	}
	addItems(t, c, items)
	e := run()
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
	_, c, _, run := ipv6Rig(t, config.Bridge{InInterfaceList: "LAN", TCP: []int{443}})
	addRows(t, c, [][]string{
		{"/interface/list", "name", "LAN"},
		{"/interface/list/member", "list", "LAN", "interface", "ether2"},
		{"/ip/route", "gateway", "203.0.113.1%ether1"},
		{"/ipv6/route", "gateway", "fe80::1%ether2"},
	})
	e := run()
	b := bridgeRefused(t, e)
	if !strings.Contains(b.Refused, "holds ether2") {
		t.Errorf("refused %q", b.Refused)
	}
}
