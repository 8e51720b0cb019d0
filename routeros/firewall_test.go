package routeros

import (
	"context"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/failwatch/failwatch/routeros/rosim"
)

// The bridge's rules are found by their comment's prefix, read strictly;
// a row of another comment is not read at all.
func TestNATRulesByComment(t *testing.T) {
	_, c := adminClient(t, rosim.Options{})
	ctx := context.Background()
	for _, kv := range [][]string{
		{"chain", "dstnat", "action", "accept", "dst-address", "198.51.100.7", "src-address-list", "failwatch-exempt-www", "disabled", "yes", "comment", "failwatch bridge www exempt"},
		{"chain", "dstnat", "action", "dst-nat", "protocol", "tcp", "dst-address", "198.51.100.7", "dst-port", "80,443",
			"src-address-list", "failwatch-clients-www", "to-addresses", "192.10.10.2", "disabled", "yes", "comment", "failwatch bridge www tcp until 2026-12-03T14:00:00Z"},
		{"chain", "srcnat", "action", "masquerade", "comment", "defconf: masquerade"},
	} {
		if _, err := c.Add(ctx, IPv4.Menu("nat"), kv...); err != nil {
			t.Fatal(err)
		}
	}
	rules, err := c.NATRules(ctx, IPv4, "failwatch bridge www ")
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 2 {
		t.Fatalf("%d rules: %+v", len(rules), rules)
	}
	tcp := rules[1]
	if tcp.Unreadable != "" || tcp.Action != "dst-nat" || tcp.DstPort != "80,443" || tcp.ToAddresses != "192.10.10.2" || !tcp.Disabled ||
		tcp.SrcAddressList != "failwatch-clients-www" || !strings.HasSuffix(tcp.Comment, "until 2026-12-03T14:00:00Z") {
		t.Errorf("read %+v", tcp)
	}
}

// The connections to an address's carried ports are read with only the
// properties used, at most the cap, the rest counted.
func TestConnectionsToBounded(t *testing.T) {
	r, c := adminClient(t, rosim.Options{})
	ctx := context.Background()
	track := func(proto, src, dst string) {
		t.Helper()
		if _, err := r.Track(rosim.Conn{Protocol: proto, Src: netip.MustParseAddrPort(src), Dst: netip.MustParseAddrPort(dst)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 5 {
		track("tcp", "192.168.88.10:"+strconv.Itoa(50000+i), "198.51.100.7:443")
	}
	track("tcp", "192.168.88.10:51000", "198.51.100.7:22") // ssh: not carried
	track("udp", "192.168.88.10:51001", "198.51.100.7:443")
	track("icmp", "192.168.88.10:0", "198.51.100.7:0")
	track("tcp", "192.168.88.10:51002", "198.51.100.8:443") // another address
	got, err := c.ConnectionsTo(ctx, IPv4, netip.MustParseAddr("198.51.100.7"), []int{80, 443}, nil, true, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Rows) != 3 || got.More != 3 || got.String() != "3 connection(s) (3 more)" {
		t.Fatalf("read %s: %+v", got, got.Rows)
	}
	for _, conn := range got.Rows {
		if conn.Unreadable != "" || conn.Dst.Addr() != netip.MustParseAddr("198.51.100.7") {
			t.Errorf("read %+v", conn)
		}
	}
	none, err := c.ConnectionsTo(ctx, IPv4, netip.MustParseAddr("198.51.100.7"), nil, []int{53}, false, 10, nil)
	if err != nil || len(none.Rows) != 0 || none.More != 0 {
		t.Errorf("udp 53: %+v, %v", none, err)
	}
}

// Rows not in a form a router sends are unreadable, with the row.
func TestFirewallRowsStrict(t *testing.T) {
	for _, tc := range []struct {
		name string
		got  string
		want string
	}{
		{"nat bool", NATRuleFrom(map[string]string{".id": "*1", "chain": "dstnat", "action": "accept", "disabled": "maybe"}).Unreadable, `disabled "maybe" is not true or false`},
		{"nat id", NATRuleFrom(map[string]string{".id": "1", "chain": "dstnat", "action": "accept", "disabled": "false"}).Unreadable, `.id "1" is not *HEX`},
		{"nat address", NATRuleFrom(map[string]string{".id": "*1", "chain": "dstnat", "action": "dst-nat", "to-addresses": "192.10.10", "disabled": "false"}).Unreadable, `to-addresses "192.10.10"`},
		{"nat port", NATRuleFrom(map[string]string{".id": "*1", "chain": "dstnat", "action": "dst-nat", "dst-port": "80,http", "disabled": "false"}).Unreadable, `dst-port "80,http"`},
		{"nat chain", NATRuleFrom(map[string]string{".id": "*1", "action": "accept", "disabled": "false"}).Unreadable, "no chain"},
		{"nat negated", NATRuleFrom(map[string]string{".id": "*1", "chain": "dstnat", "action": "accept", "src-address": "!10.0.0.0/8", "disabled": "false"}).Unreadable, ""},
		{"list", AddressListEntryFrom(map[string]string{".id": "*1", "list": "c", "address": "10.0.0.1-10.0.0.9", "disabled": "false"}).Unreadable, ""},
		{"list dns", AddressListEntryFrom(map[string]string{".id": "*1", "list": "c", "address": "example.com", "disabled": "false"}).Unreadable, `address "example.com"`},
		{"conn tcp", ConnectionFrom(map[string]string{".id": "*1", "protocol": "tcp", "src-address": "10.0.0.1:5", "dst-address": "10.0.0.2:80", "reply-src-address": "10.0.0.3:80"}).Unreadable, ""},
		{"conn no port", ConnectionFrom(map[string]string{".id": "*1", "protocol": "tcp", "src-address": "10.0.0.1", "dst-address": "10.0.0.2:80", "reply-src-address": "10.0.0.3:80"}).Unreadable, `src-address "10.0.0.1" is not an address and port`},
		{"conn icmp", ConnectionFrom(map[string]string{".id": "*1", "protocol": "icmp", "src-address": "10.0.0.1", "dst-address": "10.0.0.2", "reply-src-address": "10.0.0.2"}).Unreadable, ""},
		{"conn missing", ConnectionFrom(map[string]string{".id": "*1", "protocol": "icmp", "src-address": "10.0.0.1", "dst-address": "10.0.0.2"}).Unreadable, "no reply-src-address"},
	} {
		if (tc.want == "") != (tc.got == "") || !strings.Contains(tc.got, tc.want) {
			t.Errorf("%s: unreadable %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}

// Whatever a router prints, a firewall row is read without a panic, and a
// row read as readable holds only the forms a router sends.
func FuzzNATRuleFrom(f *testing.F) {
	f.Add("*1", "dstnat", "dst-nat", "198.51.100.7", "80,443", "192.10.10.2", "false")
	f.Add("*1g", "", "", "1.2.3", "80-", "!x", "maybe")
	f.Fuzz(func(t *testing.T, id, chain, action, dst, port, to, disabled string) {
		m := map[string]string{".id": id, "chain": chain, "action": action, "dst-address": dst, "dst-port": port, "to-addresses": to, "disabled": disabled}
		r := NATRuleFrom(m)
		if unreadable(t, r.Unreadable) {
			return
		}
		if !ValidID(r.ID) || r.Disabled != (disabled == "true") || (disabled != "true" && disabled != "false") || r.Chain == "" {
			t.Fatalf("read %+v from %q", r, m)
		}
		if !validMatch(strings.TrimPrefix(r.DstAddress, "!")) || !validMatch(strings.TrimPrefix(r.ToAddresses, "!")) {
			t.Fatalf("read addresses %q %q", r.DstAddress, r.ToAddresses)
		}
		if _, ok := ParsePorts(strings.TrimPrefix(r.DstPort, "!")); !ok {
			t.Fatalf("read port %q", r.DstPort)
		}
	})
}

func FuzzConnectionFrom(f *testing.F) {
	f.Add("*1", "tcp", "10.0.0.1:5", "10.0.0.2:80", "10.0.0.3:80")
	f.Add("*2", "icmp", "10.0.0.1", "10.0.0.2:", "[::1]:80")
	f.Fuzz(func(t *testing.T, id, proto, src, dst, reply string) {
		m := map[string]string{".id": id, "protocol": proto, "src-address": src, "dst-address": dst, "reply-src-address": reply}
		checkConnectionRead(t, m, ConnectionFrom, netip.Addr.IsValid)
	})
}

// checkConnectionRead is the connection fuzz targets' check: a row that
// from reads has a valid id and three addresses that addr takes.
func checkConnectionRead(t *testing.T, m map[string]string, from func(map[string]string) Connection, addr func(netip.Addr) bool) {
	t.Helper()
	c := from(m)
	if unreadable(t, c.Unreadable) {
		return
	}
	if !ValidID(c.ID) || !addr(c.Src.Addr()) || !addr(c.Dst.Addr()) || !addr(c.ReplySrc.Addr()) {
		t.Fatalf("read %+v from %q", c, m)
	}
}

func FuzzAddressListEntryFrom(f *testing.F) {
	f.Add("*1", "c", "10.0.0.0/8", "false")
	f.Add("*1", "", "10.0.0.9-10.0.0.1", "yes")
	f.Fuzz(func(t *testing.T, id, list, address, disabled string) {
		m := map[string]string{".id": id, "list": list, "address": address, "disabled": disabled}
		e := AddressListEntryFrom(m)
		if unreadable(t, e.Unreadable) {
			return
		}
		if !ValidID(e.ID) || e.List == "" || !validMatch(e.Address) || (disabled != "true" && disabled != "false") {
			t.Fatalf("read %+v from %q", e, m)
		}
	})
}
