package rosim

import (
	"net/netip"
	"slices"
	"testing"
)

// A masquerade rewrites a new connection's source to the address of the
// interface it leaves by: the connected network that holds the
// (translated) destination, else the default route's interface; with no
// address to take, it translates nothing. The hairpin: a client on the
// standby's subnet carried to the standby is answered through the router.
func TestMasquerade(t *testing.T) {
	addrs := map[string]netip.Prefix{"ether1": netip.MustParsePrefix("203.0.113.2/24"),
		"ether2": netip.MustParsePrefix("192.168.88.1/24"), "ether3": netip.MustParsePrefix("192.10.10.1/24")}
	for _, tc := range []struct {
		name    string
		addrs   map[string]netip.Prefix
		route   string
		src     string
		in      string
		replyTo string
		srcnat  string
	}{
		{"hairpin: the standby's subnet", addrs, "", "192.10.10.20:51002", "ether3", "192.10.10.1:51002", "true"},
		{"another client: through the default route", addrs, "203.0.113.1", "192.168.88.30:51003", "ether2", "203.0.113.2:51003", "true"},
		{"the default route naming its interface", addrs, "203.0.113.1%ether1", "192.168.88.30:51003", "ether2", "203.0.113.2:51003", "true"},
		{"no route out", addrs, "", "192.168.88.30:51003", "ether2", "192.168.88.30:51003", "false"},
		{"no addresses", nil, "", "192.10.10.20:51002", "ether3", "192.10.10.20:51002", "false"},
	} {
		for _, version := range versions {
			t.Run(tc.name+"/"+version, func(t *testing.T) {
				r := New(Options{Version: version, Addresses: tc.addrs})
				t.Cleanup(r.Close)
				added(t, r, "/ip/firewall/nat", "chain", "dstnat", "action", "dst-nat", "protocol", "tcp", "dst-address", "198.51.100.7",
					"dst-port", "443", "to-addresses", "192.10.10.2")
				if tc.route != "" {
					added(t, r, "/ip/route", "gateway", tc.route)
				}
				// The translated destination goes out by ether3 (the
				// standby's subnet) for the hairpin; the WAN rule masquerades
				// everything else.
				added(t, r, "/ip/firewall/nat", "chain", "srcnat", "action", "masquerade", "dst-address", "192.10.10.2", "src-address", "192.10.10.0/24")
				added(t, r, "/ip/firewall/nat", "chain", "srcnat", "action", "masquerade", "dst-address", "!192.10.10.2")
				if tc.name != "hairpin: the standby's subnet" {
					// Another client carried to a standby off-site.
					run(r, "/ip/firewall/nat/set", ".id", "*1", "to-addresses", "198.51.100.9")
				}
				id, err := r.Track(Conn{Protocol: "tcp", Src: addrPort(tc.src), Dst: addrPort("198.51.100.7:443"), InInterface: tc.in})
				if err != nil {
					t.Fatal(err)
				}
				rows, _ := run(r, "/ip/firewall/connection/print", ".proplist", ".id,reply-dst-address,srcnat,dstnat")
				want := []string{"=.id=" + id, "=reply-dst-address=" + tc.replyTo, "=srcnat=" + tc.srcnat, "=dstnat=true"}
				if len(rows) != 1 || !slices.Equal(rows[0], want) {
					t.Errorf("connection %q, want %q", rows, want)
				}
			})
		}
	}
}
