package failover

import (
	"context"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/failwatch/failwatch/internal/paper"
	"github.com/failwatch/failwatch/internal/testkit"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/rosim"
)

// An IPv6 pair's bridge, through the emulator.
var (
	primary6 = netip.MustParseAddr("2001:db8::7")
	standby6 = netip.MustParseAddr("2001:db8::2")
	client6  = netip.MustParseAddrPort("[fd00:88::10]:50000")
	own6     = netip.MustParseAddr("fd00:88::2")
)

// bridged6Setup is the paper's setup with an IPv6 pair and a bridge for
// an IPv6 LAN, failwatch's own address on it.
func bridged6Setup() *Setup {
	s := bridgedSetup()
	s.Primary.Address, s.Standby.Address = primary6.String(), standby6.String()
	s.Service.Bridge.SrcAddresses = []netip.Prefix{netip.MustParsePrefix("fd00:88::/64"), netip.MustParsePrefix("fd00:99::9/128")}
	// The pair's family, as check requires: an IPv4 exemption cannot be
	// in /ipv6/firewall/address-list.
	s.Service.Bridge.Exempt = []netip.Prefix{netip.MustParsePrefix("fd00:88::77/128")}
	s.Own = []netip.Addr{own6}
	return s
}

// router6 is an emulated router of a version holding the IPv6 pair's two
// AAAA records, the primary's enabled.
func router6(t *testing.T, version string) (*rosim.Router, *routeros.Client) {
	t.Helper()
	r := rosim.New(rosim.Options{Version: version})
	c := client(t, testkit.Start(t, r), "admin", "")
	for _, rec := range [][]string{
		{"name", paper.Name, "type", "AAAA", "address", primary6.String(), "comment", "Server Public"},
		{"name", paper.Name, "type", "AAAA", "address", standby6.String(), "comment", "ServerPrivate", "disabled", "yes"},
	} {
		if _, err := c.Add(context.Background(), "/ip/dns/static", rec...); err != nil {
			t.Fatal(err)
		}
	}
	return r, c
}

// On the versions with IPv6 NAT: setup writes the bridge in /ipv6 (the
// script and --apply alike, each version's name for the address to
// translate to), a failover turns it on (a client's connection from
// before removed, its new one carried, failwatch's own and an admin's ssh
// not), and restore turns it off.
func TestBridgeIPv6ThroughTheEmulator(t *testing.T) {
	ctx := context.Background()
	for _, version := range []string{"7.13.5 (stable)", "7.18.2 (stable)"} {
		t.Run(version, func(t *testing.T) {
			caps, _ := CapsOf(version)
			scripted, sc := router6(t, version)
			if err := scripted.Import(bridged6Setup().Script(caps)); err != nil {
				t.Fatalf("script: %v", err)
			}
			r, c := router6(t, version)
			applySetup(t, bridged6Setup(), c)
			applied := bridgeRows(t, c, routeros.IPv6)
			if a := bridgeRows(t, sc, routeros.IPv6); a != applied || !strings.Contains(applied, caps.IPv6NATTo+"=2001:db8::2") || strings.Contains(applied, "disabled=false comment=failwatch bridge") {
				t.Fatalf("script and apply disagree, or a rule is enabled:\nscript:\n%s\napply:\n%s", a, applied)
			}
			s := bridged6Setup()
			f := &Failover{Client: c, Service: s.Service, Primary: s.Primary, Standby: s.Standby, User: "tester",
				Audit: NewAudit(filepath.Join(t.TempDir(), "audit.jsonl"))}
			track := func(src netip.AddrPort, port uint16) string {
				t.Helper()
				id, err := r.Track(rosim.Conn{Protocol: "tcp", Src: src, Dst: netip.AddrPortFrom(primary6, port)})
				if err != nil {
					t.Fatal(err)
				}
				return id
			}
			before := track(client6, 443)
			res, err := f.FailoverToStandby(ctx, false)
			if err != nil || res.Outcome != OutcomeChanged {
				t.Fatalf("failover: %+v %v", res, err)
			}
			if rules := bridgeRules(t, c, routeros.IPv6, f.Service); StateOf(rules) != BridgeOn {
				t.Fatalf("the bridge after the failover: %v", rules)
			}
			if got := reply(t, c, routeros.IPv6, before); got != "" {
				t.Errorf("the client's connection from before the bridge stayed (answered by %s)", got)
			}
			if !slices.ContainsFunc(res.Changes, func(ch Change) bool { return ch.Kind == "connection" }) {
				t.Errorf("no connection removal among the changes: %+v", res.Changes)
			}
			for _, tc := range []struct {
				what string
				src  netip.AddrPort
				port uint16
				want netip.Addr
			}{
				{"a client's new connection", netip.MustParseAddrPort("[fd00:88::10]:50001"), 80, standby6},
				{"failwatch's own", netip.AddrPortFrom(own6, 40000), 443, primary6},
				{"an admin's ssh", netip.MustParseAddrPort("[fd00:88::10]:50002"), 22, primary6},
			} {
				if got := reply(t, c, routeros.IPv6, track(tc.src, tc.port)); got != tc.want.String() {
					t.Errorf("%s answered by %s, want %s", tc.what, got, tc.want)
				}
			}
			if _, err := f.Restore(ctx); err != nil {
				t.Fatal(err)
			}
			if rules := bridgeRules(t, c, routeros.IPv6, f.Service); StateOf(rules) != BridgeOff {
				t.Errorf("the bridge after the restore: %+v", rules)
			}
			// The netwatch scripts' removal, run by the router's own
			// script engine: the carried ports' connections to the
			// primary go, an admin's ssh stays.
			carried, ssh := track(client6, 443), track(client6, 22)
			if err := r.Import("/ipv6 firewall connection remove [find where " + s.bridgedConnections() + "]"); err != nil {
				t.Fatal(err)
			}
			if reply(t, c, routeros.IPv6, carried) != "" || reply(t, c, routeros.IPv6, ssh) != primary6.String() {
				t.Errorf("the scripts' removal: the carried connection answered by %q, ssh by %q", reply(t, c, routeros.IPv6, carried), reply(t, c, routeros.IPv6, ssh))
			}
		})
	}
}
