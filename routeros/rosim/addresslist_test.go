package rosim

import (
	"slices"
	"strings"
	"testing"
)

// An address list takes what each version's manual lists and refuses the
// rest; addresses are kept as the router keeps them.
func TestAddressList(t *testing.T) {
	for _, version := range versions {
		t.Run(version, func(t *testing.T) {
			r, _ := seeded(t, Options{Version: version})
			v6 := strings.HasPrefix(version, "6.")
			for _, tc := range []struct {
				kv   []string
				want string // the address kept, or the trap
			}{
				{[]string{"list", "c", "address", "192.168.88.0/24"}, "192.168.88.0/24"},
				{[]string{"list", "c", "address", "192.168.88.7/24"}, "192.168.88.0/24"},
				{[]string{"list", "c", "address", "192.168.88.7/32"}, "192.168.88.7"},
				{[]string{"list", "c", "address", "192.168.0.0-192.168.1.255"}, "192.168.0.0/23"},
				{[]string{"list", "c", "address", "192.168.0.3-192.168.0.9"}, "192.168.0.3-192.168.0.9"},
				{[]string{"list", "c", "address", "192.168.0.9-192.168.0.3"}, "invalid value for argument address"},
				{[]string{"list", "c", "address", "2001:db8::1"}, "invalid value for argument address"},
				{[]string{"list", "c", "address", "www.example.com"}, "invalid value for argument address"},
				{[]string{"address", "192.168.88.1"}, "missing value(s) of argument(s) list"},
				{[]string{"list", "c"}, "missing value(s) of argument(s) address"},
				{[]string{"list", "c", "address", "10.0.0.1", "timeout", "5m"}, "10.0.0.1"},
				{[]string{"list", "c", "address", "10.0.0.1", "timeout", "soon"}, "value of timeout out of range or invalid time interval"},
				{[]string{"list", "c", "address", "10.0.0.1", "creation-time", "x"}, "unknown parameter creation-time"},
				{[]string{"list", "c", "address", "10.0.0.1", "dynamic", "yes"}, map[bool]string{true: "unknown parameter dynamic", false: "10.0.0.1"}[v6]},
			} {
				res := r.exec("admin", "/ip/firewall/address-list/add", kvAttrs(tc.kv), nil)
				if res.trap != nil {
					if res.trap.message != tc.want {
						t.Errorf("add %v: %q, want %q", tc.kv, res.trap.message, tc.want)
					}
					continue
				}
				id := strings.TrimPrefix(res.done[0], "=ret=")
				got := r.exec("admin", "/ip/firewall/address-list/print", nil, query{".id=" + id}).rows
				if len(got) != 1 || !slices.Contains(got[0], "=address="+tc.want) {
					t.Errorf("add %v printed %v, want address %s", tc.kv, got, tc.want)
				}
				hasCreated := slices.ContainsFunc(got[0], func(w string) bool { return strings.HasPrefix(w, "=creation-time=") })
				if hasCreated == v6 {
					t.Errorf("%s: creation-time printed %v: %v", version, hasCreated, got[0])
				}
			}
		})
	}
}

// A rule that names its clients by an address list carries a client's new
// connection and not one from an address the list leaves out, nor one from
// the exempt list the accept rule before it names: failwatch's probes of
// the primary are never carried to the standby.
func TestTrackThroughAddressLists(t *testing.T) {
	for _, version := range versions {
		t.Run(version, func(t *testing.T) {
			r, _ := seeded(t, Options{Version: version})
			added(t, r, "/ip/firewall/address-list", "list", "clients", "address", "192.168.88.0/24")
			added(t, r, "/ip/firewall/address-list", "list", "exempt", "address", "192.168.88.2")
			off := added(t, r, "/ip/firewall/address-list", "list", "clients", "address", "10.9.0.0/16", "disabled", "yes")
			added(t, r, "/ip/firewall/nat", "chain", "dstnat", "action", "accept", "dst-address", "198.51.100.7", "src-address-list", "exempt")
			added(t, r, "/ip/firewall/nat", "chain", "dstnat", "action", "dst-nat", "protocol", "tcp", "dst-address", "198.51.100.7",
				"dst-port", "443", "src-address-list", "clients", "to-addresses", "192.10.10.2")
			added(t, r, "/ip/firewall/nat", "chain", "dstnat", "action", "dst-nat", "protocol", "udp", "dst-address", "198.51.100.7",
				"dst-port", "53", "src-address-list", "!clients", "to-addresses", "192.10.10.3")
			for _, tc := range []struct {
				conn Conn
				want string
			}{
				{Conn{Protocol: "tcp", Src: addrPort("192.168.88.10:50000"), Dst: addrPort("198.51.100.7:443")}, "192.10.10.2:443"},
				{Conn{Protocol: "tcp", Src: addrPort("192.168.88.2:50001"), Dst: addrPort("198.51.100.7:443")}, "198.51.100.7:443"},
				{Conn{Protocol: "tcp", Src: addrPort("10.9.0.1:50002"), Dst: addrPort("198.51.100.7:443")}, "198.51.100.7:443"},
				{Conn{Protocol: "udp", Src: addrPort("10.9.0.1:50003"), Dst: addrPort("198.51.100.7:53")}, "192.10.10.3:53"},
				{Conn{Protocol: "udp", Src: addrPort("192.168.88.10:50004"), Dst: addrPort("198.51.100.7:53")}, "198.51.100.7:53"},
			} {
				id, err := r.Track(tc.conn)
				if err != nil {
					t.Fatal(err)
				}
				rows := r.exec("admin", "/ip/firewall/connection/print", kvAttrs([]string{".proplist", "reply-src-address"}), query{".id=" + id}).rows
				if last := rows[len(rows)-1]; !slices.Equal(last, []string{"=reply-src-address=" + tc.want}) {
					t.Errorf("%v -> %v, want reply from %s", tc.conn.Src, last, tc.want)
				}
			}
			// The disabled entry came back: its addresses are clients now.
			if _, tr := run(r, "/ip/firewall/address-list/enable", "numbers", off); tr != "" {
				t.Fatal(tr)
			}
			if _, err := r.Track(Conn{Protocol: "tcp", Src: addrPort("10.9.0.1:50005"), Dst: addrPort("198.51.100.7:443")}); err != nil {
				t.Fatal(err)
			}
			rows, _ := run(r, "/ip/firewall/connection/print", ".proplist", "reply-src-address")
			if last := rows[len(rows)-1]; !slices.Equal(last, []string{"=reply-src-address=192.10.10.2:443"}) {
				t.Errorf("an enabled entry's client: %v", last)
			}
		})
	}
}
