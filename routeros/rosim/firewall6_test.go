package rosim

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// The IPv6 menus per version: 6.49 has neither NAT nor a connection list;
// 7.13 names the address to translate to to-addresses, 7.18 to-address
// (from 7.15); an address-list entry takes a timeout from 7.15; IPv6
// addresses and prefixes only, never IPv4 or a range.
func TestIPv6MenusPerVersion(t *testing.T) {
	for _, tc := range []struct {
		version, to, other string
		timeout            bool
	}{
		{"6.49.17 (long-term)", "", "", false},
		{"7.13.5 (stable)", "to-addresses", "to-address", false},
		{"7.18.2 (stable)", "to-address", "to-addresses", true},
	} {
		t.Run(tc.version, func(t *testing.T) {
			r := New(Options{Version: tc.version})
			t.Cleanup(r.Close)
			for _, menu := range []string{"/ipv6/firewall/nat", "/ipv6/firewall/connection"} {
				_, tr := run(r, menu+"/print")
				if none := strings.HasPrefix(tr, "no such command"); none != (tc.to == "") {
					t.Errorf("%s/print: %q", menu, tr)
				}
			}
			for _, bad := range []string{"192.168.88.0/24", "2001:db8::1-2001:db8::9", "2001:db8::zz", "::ffff:192.0.2.1"} {
				if _, tr := run(r, "/ipv6/firewall/address-list/add", "list", "x", "address", bad); tr != "invalid value for argument address" {
					t.Errorf("address %s: %q", bad, tr)
				}
			}
			added(t, r, "/ipv6/firewall/address-list", "list", "clients", "address", "2001:db8:88::10/64")
			added(t, r, "/ipv6/firewall/address-list", "list", "clients", "address", "2001:db8:88::5/128")
			rows, _ := run(r, "/ipv6/firewall/address-list/print", ".proplist", "address")
			if want := [][]string{{"=address=2001:db8:88::/64"}, {"=address=2001:db8:88::5"}}; !slices.EqualFunc(rows, want, slices.Equal[[]string]) {
				t.Errorf("entries %q, want %q", rows, want)
			}
			_, tr := run(r, "/ipv6/firewall/address-list/add", "list", "x", "address", "2001:db8::1", "timeout", "1h")
			if (tr == "") != tc.timeout {
				t.Errorf("timeout: %q", tr)
			}
			if tc.to == "" {
				return
			}
			rule := []string{"chain", "dstnat", "action", "dst-nat", "dst-address", "2001:db8::7", "protocol", "tcp", "dst-port", "443"}
			if _, tr := run(r, "/ipv6/firewall/nat/add", append(rule, tc.other, "2001:db8:10::2")...); tr != "unknown parameter "+tc.other {
				t.Errorf("%s: %q", tc.other, tr)
			}
			for _, bad := range [][]string{{tc.to, "192.10.10.2"}, {"dst-address", "198.51.100.7"}, {"ttl", "64"}, {"fragment", "yes"}} {
				if _, tr := run(r, "/ipv6/firewall/nat/add", append(slices.Clone(rule), bad...)...); tr == "" {
					t.Errorf("%v taken", bad)
				}
			}
			added(t, r, "/ipv6/firewall/nat", append(rule, tc.to, "2001:db8:10::2")...)
		})
	}
}

// An IPv6 connection opens through the IPv6 rules as an IPv4 one does
// through the IPv4 rules (an exempt source kept on the primary by an
// accept, a client carried by the dst-nat), and prints as the manual
// says: addresses without ports, the ports apart, no IPv4-only counters.
func TestIPv6ConnectionTable(t *testing.T) {
	for _, tc := range []struct{ version, to string }{{"7.13.5 (stable)", "to-addresses"}, {"7.18.2 (stable)", "to-address"}} {
		t.Run(tc.version, func(t *testing.T) {
			r := New(Options{Version: tc.version})
			t.Cleanup(r.Close)
			added(t, r, "/ipv6/firewall/address-list", "list", "clients", "address", "2001:db8:88::/64")
			added(t, r, "/ipv6/firewall/address-list", "list", "exempt", "address", "2001:db8:88::2")
			added(t, r, "/ipv6/firewall/nat", "chain", "dstnat", "action", "accept", "dst-address", "2001:db8::7", "src-address-list", "exempt")
			added(t, r, "/ipv6/firewall/nat", "chain", "dstnat", "action", "dst-nat", "dst-address", "2001:db8::7", "protocol", "tcp",
				"dst-port", "443", "src-address-list", "clients", tc.to, "2001:db8:10::2")
			added(t, r, "/ipv6/firewall/nat", "chain", "dstnat", "action", "dst-nat", "dst-address", "2001:db8::7", "protocol", "icmpv6",
				"src-address-list", "clients", tc.to, "2001:db8:10::2")
			track := func(c Conn) []string {
				t.Helper()
				id, err := r.Track(c)
				if err != nil {
					t.Fatal(err)
				}
				rows, _ := run(r, "/ipv6/firewall/connection/print")
				i := slices.IndexFunc(rows, func(row []string) bool { return row[0] == "=.id="+id })
				if i < 0 {
					t.Fatalf("connection %s not in %q", id, rows)
				}
				return rows[i][1:]
			}
			ap := netip.MustParseAddrPort
			client := track(Conn{Protocol: "tcp", Src: ap("[2001:db8:88::10]:51000"), Dst: ap("[2001:db8::7]:443")})
			if want := []string{"=protocol=tcp", "=src-address=2001:db8:88::10", "=src-port=51000", "=dst-address=2001:db8::7", "=dst-port=443",
				"=reply-src-address=2001:db8:10::2", "=reply-src-port=443", "=reply-dst-address=2001:db8:88::10", "=reply-dst-port=51000",
				"=tcp-state=established", "=timeout=1d", "=seen-reply=false", "=assured=true", "=srcnat=false", "=dstnat=true"}; !slices.Equal(client, want) {
				t.Errorf("a client's connection\n got  %q\n want %q", client, want)
			}
			if probe := track(Conn{Protocol: "tcp", Src: ap("[2001:db8:88::2]:40000"), Dst: ap("[2001:db8::7]:443")}); !slices.Contains(probe, "=reply-src-address=2001:db8::7") {
				t.Errorf("an exempt source carried: %q", probe)
			}
			if ssh := track(Conn{Protocol: "tcp", Src: ap("[2001:db8:88::10]:51001"), Dst: ap("[2001:db8::7]:22")}); !slices.Contains(ssh, "=dstnat=false") {
				t.Errorf("ssh carried: %q", ssh)
			}
			ping := track(Conn{Protocol: "icmp", Src: ap("[2001:db8:88::10]:0"), Dst: ap("[2001:db8::7]:0"), ICMPID: 9})
			if want := []string{"=protocol=icmpv6", "=src-address=2001:db8:88::10", "=dst-address=2001:db8::7", "=reply-src-address=2001:db8:10::2",
				"=reply-dst-address=2001:db8:88::10", "=timeout=10s", "=icmp-type=128", "=icmp-code=0", "=icmp-id=9", "=seen-reply=false",
				"=assured=false", "=srcnat=false", "=dstnat=true"}; !slices.Equal(ping, want) {
				t.Errorf("a ping\n got  %q\n want %q", ping, want)
			}
			if _, err := r.Track(Conn{Protocol: "tcp", Src: ap("192.168.88.10:1"), Dst: ap("[2001:db8::7]:443")}); err == nil {
				t.Error("a flow of two families tracked")
			}
		})
	}
}
