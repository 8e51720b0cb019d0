package failover

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/routeros"
)

// check warns of failwatch's own address among a bridge's clients unless
// bridge.exempt holds it, from the kernel's own choice of source address
// towards a loopback primary (nothing is sent).
func TestBridgeOwnWarnings(t *testing.T) {
	loop := netip.MustParsePrefix("127.0.0.0/8")
	own := netip.MustParsePrefix("127.0.0.1/32")
	for _, tc := range []struct {
		name   string
		bridge config.Bridge
		local  func(netip.Addr) (netip.Addr, error)
		want   string
	}{
		{"own among the clients", config.Bridge{Mode: config.BridgeNAT, SrcAddresses: []netip.Prefix{loop}, TCP: []int{80}}, routeros.LocalAddr,
			"svc.test's bridge: failwatch's own address 127.0.0.1 towards 127.0.0.2 is among its clients (src_address) and not in bridge.exempt"},
		{"exempt", config.Bridge{Mode: config.BridgeNAT, SrcAddresses: []netip.Prefix{loop}, Exempt: []netip.Prefix{own}, TCP: []int{80}}, routeros.LocalAddr, ""},
		{"not a client", config.Bridge{Mode: config.BridgeNAT, SrcAddresses: []netip.Prefix{netip.MustParsePrefix("192.168.88.0/24")}, TCP: []int{80}}, routeros.LocalAddr, ""},
		{"interface list only: the router's to tell", config.Bridge{Mode: config.BridgeNAT, InInterfaceList: "LAN", TCP: []int{80}}, routeros.LocalAddr, ""},
		{"no bridge", config.Bridge{}, routeros.LocalAddr, ""},
		{"no route", config.Bridge{Mode: config.BridgeNAT, SrcAddresses: []netip.Prefix{loop}, TCP: []int{80}},
			func(netip.Addr) (netip.Addr, error) { return netip.Addr{}, errors.New("network is unreachable") },
			"svc.test's bridge: failwatch's own source address towards 127.0.0.2 cannot be told (network is unreachable)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &config.Config{
				Services: []config.Service{{Name: "svc.test", Primary: "web1", Standby: "web2", Bridge: tc.bridge}},
				Servers: []config.Server{{Name: "web1", Role: config.Primary, Address: "127.0.0.2"},
					{Name: "web2", Role: config.Standby, Address: "127.0.0.3"}},
			}
			got := BridgeOwnWarnings(cfg, tc.local)
			switch {
			case tc.want == "" && len(got) != 0:
				t.Errorf("warnings %q, want none", got)
			case tc.want != "" && (len(got) != 1 || !strings.HasPrefix(got[0], tc.want)):
				t.Errorf("warnings %q, want one starting %q", got, tc.want)
			}
		})
	}
}
