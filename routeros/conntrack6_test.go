package routeros

import (
	"context"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/failwatch/failwatch/routeros/rosim"
)

// An IPv6 connection row is read as the manual prints it: addresses
// without ports, the ports apart for tcp and udp; anything else is
// unreadable.
func TestConnection6From(t *testing.T) {
	row := func(kv ...string) map[string]string {
		return rowWith(map[string]string{".id": "*1", "protocol": "tcp", "src-address": "fd00:88::10", "src-port": "50000",
			"dst-address": "2001:db8::7", "dst-port": "443", "reply-src-address": "2001:db8::2", "reply-src-port": "443"}, kv...)
	}
	for _, tc := range []struct {
		name string
		row  map[string]string
		want string
	}{
		{"tcp", row(), ""},
		{"icmpv6 without ports", row("protocol", "icmpv6", "src-port", "-", "dst-port", "-", "reply-src-port", "-"), ""},
		{"no port", row("dst-port", "-"), `dst-port "" is not a port`},
		{"a port out of range", row("src-port", "70000"), `src-port "70000" is not a port`},
		{"the IPv4 form", row("dst-address", "[2001:db8::7]:443"), `dst-address "[2001:db8::7]:443" is not an IPv6 address`},
		{"an IPv4 address", row("reply-src-address", "192.10.10.2"), `reply-src-address "192.10.10.2" is not an IPv6 address`},
		{"no reply", row("reply-src-address", "-"), "no reply-src-address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Connection6From(tc.row)
			if (tc.want == "") != (c.Unreadable == "") || !strings.HasPrefix(c.Unreadable, tc.want) {
				t.Errorf("unreadable %q, want %q", c.Unreadable, tc.want)
			}
			if tc.want == "" && tc.name == "tcp" && (c.Dst.String() != "[2001:db8::7]:443" || c.ReplySrc.String() != "[2001:db8::2]:443" || c.Src.Port() != 50000) {
				t.Errorf("read %+v", c)
			}
		})
	}
}

func FuzzConnection6From(f *testing.F) {
	f.Add("*1", "tcp", "fd00::1", "5", "2001:db8::7", "443", "2001:db8::2", "443")
	f.Add("*2", "icmpv6", "fd00::1", "", "2001:db8::7", "x", "::ffff:1.2.3.4", "")
	f.Fuzz(func(t *testing.T, id, proto, src, sport, dst, dport, reply, rport string) {
		m := map[string]string{".id": id, "protocol": proto, "src-address": src, "src-port": sport,
			"dst-address": dst, "dst-port": dport, "reply-src-address": reply, "reply-src-port": rport}
		checkConnectionRead(t, m, Connection6From, netip.Addr.Is6)
	})
}

// The IPv6 connections to an address's carried ports, read through the
// emulator: picked by address, their ports and protocols here, at most the
// cap, the rest counted.
func TestConnections6ToBounded(t *testing.T) {
	r, c := adminClient(t, rosim.Options{})
	primary := netip.MustParseAddr("2001:db8::7")
	track := func(proto, src string, port uint16) {
		t.Helper()
		if _, err := r.Track(rosim.Conn{Protocol: proto, Src: netip.MustParseAddrPort(src), Dst: netip.AddrPortFrom(primary, port)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 4 {
		track("tcp", "[fd00:88::10]:"+strconv.Itoa(50000+i), 443)
	}
	track("tcp", "[fd00:88::10]:51000", 22) // ssh: not carried
	track("udp", "[fd00:88::10]:51001", 443)
	track("icmp", "[fd00:88::10]:0", 0)
	got, err := c.ConnectionsTo(context.Background(), IPv6, primary, []int{80, 443}, nil, true, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Rows) != 3 || got.More != 2 {
		t.Fatalf("read %s: %+v", got, got.Rows)
	}
	for _, conn := range got.Rows {
		if conn.Unreadable != "" || conn.Dst.Addr() != primary || (conn.Protocol == "tcp" && conn.Dst.Port() != 443) {
			t.Errorf("read %+v", conn)
		}
	}
}
