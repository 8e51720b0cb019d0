package failover

import (
	"context"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/paper"
	"github.com/failwatch/failwatch/internal/testkit"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/rosim"
)

// bridgedSetup is the paper's setup with a bridge for the LAN's clients.
func bridgedSetup() *Setup {
	s := paperSetup(false)
	// A host prefix among the clients and the exemptions: the router keeps it
	// as a bare address, and the read-back must still find it.
	s.Service.Bridge = config.Bridge{Mode: config.BridgeNAT, SrcAddresses: []netip.Prefix{netip.MustParsePrefix("192.168.88.0/24"), netip.MustParsePrefix("10.9.9.9/32")},
		Exempt: []netip.Prefix{netip.MustParsePrefix("192.168.88.77/32")}, TCP: []int{80, 443}, ICMP: true, Until: config.UntilRestore, Comment: "failwatch bridge " + paper.Name}
	s.Own = []netip.Addr{ownAddr}
	return s
}

// bridgeRows are the family's NAT rules and address-list entries as the
// router prints them, ids and creation times left out, for comparing two
// routers.
func bridgeRows(t *testing.T, c *routeros.Client, fam routeros.Family) string {
	t.Helper()
	var lines []string
	for _, menu := range []string{fam.Menu("nat"), fam.Menu("address-list")} {
		r, err := c.Run(context.Background(), menu+"/print")
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range r.Rows {
			var kv []string
			for k, v := range row {
				if k != ".id" && k != "creation-time" {
					kv = append(kv, k+"="+v)
				}
			}
			sort.Strings(kv)
			lines = append(lines, menu+" "+strings.Join(kv, " "))
		}
	}
	return strings.Join(lines, "\n")
}

// On every version: setup writes the bridge's rows disabled, the script
// and --apply alike, and again changes nothing; then, failwatch not
// running, the router's own netwatch turns the bridge on when the primary
// dies (a client's connection from before removed, its new one carried,
// failwatch's own not) and off when it is back.
func TestSetupBridgeOnEveryProfile(t *testing.T) {
	ctx := context.Background()
	for _, version := range versions {
		t.Run(version, func(t *testing.T) {
			caps, err := CapsOf(version)
			if err != nil {
				t.Fatal(err)
			}
			scripted, saddr := emulator(t, rosim.Options{Version: version})
			script := bridgedSetup().Script(caps)
			if err := scripted.Import(script); err != nil {
				t.Fatalf("script: %v\n%s", err, script)
			}
			sim := rosim.NewSimulated()
			r, addr := emulator(t, rosim.Options{Version: version, Probe: sim.Probe, TimeScale: 60})
			c := client(t, addr, "admin", "")
			applySetup(t, bridgedSetup(), c)
			sc := client(t, saddr, "admin", "")
			if a, b := bridgeRows(t, sc, routeros.IPv4), bridgeRows(t, c, routeros.IPv4); a != b || !strings.Contains(b, "disabled=true") || strings.Contains(b, "disabled=false comment=failwatch bridge") {
				t.Fatalf("script and apply disagree, or a rule is enabled:\nscript:\n%s\napply:\n%s", a, b)
			}
			if again, err := bridgedSetup().Plan(ctx, c); err != nil || len(again.Steps) != 0 {
				t.Fatalf("second plan: %v %+v", err, again)
			}
			f, _, _ := paperFailover(t, c, config.Toggle)
			f.Service.Bridge = bridgedSetup().Service.Bridge
			before := track(t, r, "tcp", lanClient, 443)
			active := func() string {
				recs, _ := c.StaticRecords(ctx, paper.Name)
				return Active(f.Service, recs, f.Primary, f.Standby)
			}
			sim.SetUp(netip.MustParseAddr(paper.PublicAddress), false)
			waitActive(t, 5*time.Second, "private", active)
			waitBridge(t, c, f, BridgeOn)
			// The script removes the connections after it turned the rules
			// on: a reading may come between the two.
			testkit.EventuallyLast(t, 3*time.Second, "the client's connection from before the bridge removed", func() (string, bool) {
				got := replyFrom(t, c, before)
				return got, got == ""
			})
			if got := replyFrom(t, c, track(t, r, "tcp", lanClient, 80)); got != paper.PrivateAddress {
				t.Errorf("a client's new connection answered by %s", got)
			}
			if got := replyFrom(t, c, track(t, r, "tcp", netip.AddrPortFrom(ownAddr, 40000), 443)); got != paper.PublicAddress {
				t.Errorf("failwatch's own connection answered by %s", got)
			}
			sim.SetUp(netip.MustParseAddr(paper.PublicAddress), true)
			waitActive(t, 5*time.Second, "public", active)
			waitBridge(t, c, f, BridgeOff)
		})
	}
}

func waitBridge(t *testing.T, c *routeros.Client, f *Failover, want BridgeState) {
	t.Helper()
	testkit.EventuallyLast(t, 3*time.Second, fmt.Sprintf("the bridge %s", want), func() (BridgeState, bool) {
		got := bridgeState(t, c, f)
		return got, got == want
	})
}

// An IPv6 pair: RouterOS 6 has no IPv6 NAT, so setup refuses the bridge
// there, saying so, before anything changes; RouterOS 7 writes it in
// /ipv6 firewall nat.
func TestSetupBridgeIPv6(t *testing.T) {
	s := bridgedSetup()
	s.Primary.Address, s.Standby.Address = "2001:db8::7", "2001:db8::2"
	s.Service.Bridge.SrcAddresses = []netip.Prefix{netip.MustParsePrefix("fd00:88::/64")}
	for _, version := range versions {
		caps, _ := CapsOf(version)
		err := s.BridgeSupported(caps)
		script := s.Script(caps)
		if strings.HasPrefix(version, "6.") {
			if err == nil || !strings.Contains(err.Error(), "the bridge is IPv4 only on RouterOS 6.49") || strings.Contains(script, "\n/ipv6 firewall nat\n") || !strings.Contains(script, "IPv4 only") {
				t.Errorf("%s: %v", version, err)
			}
			_, c := versionRouter(t, version)
			if _, err := s.Plan(context.Background(), c); err == nil || !strings.Contains(err.Error(), "IPv4 only") {
				t.Errorf("%s: plan %v", version, err)
			}
			continue
		}
		if err != nil || !strings.Contains(script, "/ipv6 firewall nat") || !strings.Contains(script, `(dst-address=\"2001:db8::7\" and dst-port=443)`) || !strings.Contains(script, caps.IPv6NATTo+`="2001:db8::2"`) {
			t.Errorf("%s: %v\n%s", version, err, script)
		}
	}
}

// While a ttl bridge is on, its rules' comments carry an end time: setup
// refuses rather than add them twice.
func TestSetupRefusesWhileATTLBridgeIsOn(t *testing.T) {
	_, c, f, _, _ := bridgeRig(t, rosim.Options{}, lanBridge(config.UntilTTL))
	if _, err := f.FailoverToStandby(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	rows := bridgeRows(t, c, routeros.IPv4)
	s := bridgedSetup()
	s.Service.Bridge.Until = config.UntilTTL
	_, err := s.Plan(context.Background(), c)
	if err == nil || !strings.Contains(err.Error(), "run setup once it has ended") {
		t.Fatalf("err %v", err)
	}
	if bridgeRows(t, c, routeros.IPv4) != rows {
		t.Error("the router changed")
	}
}

// --apply refused half way after the bridge's rows were added: they go too,
// read back, and the router is as before.
func TestSetupBridgeApplyRollsBack(t *testing.T) {
	ctx := context.Background()
	for _, version := range versions {
		t.Run(version, func(t *testing.T) {
			r, c := versionRouter(t, version)
			before, rows := state(t, c), bridgeRows(t, c, routeros.IPv4)
			plan, err := bridgedSetup().Plan(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			r.Inject("/tool/netwatch/add", 0, rosim.Fault{Message: "failure: out of memory"})
			if err := plan.Apply(ctx, c); err == nil || !strings.Contains(err.Error(), "rolled back") {
				t.Fatalf("err %v", err)
			}
			if state(t, c) != before || bridgeRows(t, c, routeros.IPv4) != rows {
				t.Errorf("not rolled back:\n%s\n%s", state(t, c), bridgeRows(t, c, routeros.IPv4))
			}
		})
	}
}
