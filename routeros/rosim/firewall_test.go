package rosim

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

var versions = []string{"6.49.17 (long-term)", "7.13.5 (stable)", "7.18.2 (stable)"}

// run runs one command as the API would and returns its rows and the
// trap's message ("" for none).
func run(r *Router, cmd string, kv ...string) ([][]string, string) {
	res := r.exec("admin", cmd, kvAttrs(kv), nil)
	if res.trap != nil {
		return nil, res.trap.message
	}
	return res.rows, ""
}

// added runs an add that must work and returns the new item's .id.
func added(t *testing.T, r *Router, menu string, kv ...string) string {
	t.Helper()
	res := r.exec("admin", menu+"/add", kvAttrs(kv), nil)
	if res.trap != nil {
		t.Fatalf("%s add %v: %s", menu, kv, res.trap.message)
	}
	return strings.TrimPrefix(res.done[0], "=ret=")
}

func kvAttrs(kv []string) []attr {
	var attrs []attr
	for i := 0; i+1 < len(kv); i += 2 {
		attrs = append(attrs, attr{kv[i], kv[i+1]})
	}
	return attrs
}

// lan gives a router the clients' interface list: ether2 and ether3.
func lan(t *testing.T, r *Router) {
	t.Helper()
	added(t, r, "/interface/list", "name", "LAN")
	added(t, r, "/interface/list/member", "list", "LAN", "interface", "ether2")
	added(t, r, "/interface/list/member", "list", "LAN", "interface", "ether3")
}

// The bridge's rule: added disabled by setup, enabled by a failover, its
// target changed, disabled by a restore, removed; each read back as a
// router prints it, on every version.
func TestNATRuleLifecycle(t *testing.T) {
	for _, version := range versions {
		t.Run(version, func(t *testing.T) {
			r, addr := seeded(t, Options{Version: version})
			lan(t, r)
			c := dialRaw(t, addr, true)
			c.send("/ip/firewall/nat/add", "=chain=dstnat", "=action=dst-nat", "=protocol=tcp", "=dst-address=198.51.100.7",
				"=dst-port=80,443", "=in-interface-list=LAN", "=to-addresses=192.10.10.2", "=disabled=yes", "=comment=failwatch bridge www")
			if got := c.reply(); !slices.Equal(got, []string{"!done", "=ret=*1"}) {
				t.Fatalf("add: %q", got)
			}
			rule := func(disabled, to string) [][]string {
				return [][]string{{"!re", "=.id=*1", "=chain=dstnat", "=action=dst-nat", "=to-addresses=" + to, "=protocol=tcp",
					"=dst-address=198.51.100.7", "=dst-port=80,443", "=in-interface-list=LAN", "=log=false", "=bytes=0",
					"=packets=0", "=invalid=false", "=dynamic=false", "=disabled=" + disabled, "=comment=failwatch bridge www"}, {"!done"}}
			}
			byComment := []string{"/ip/firewall/nat/print", "?comment=failwatch bridge www"}
			c.expect(byComment, rule("true", "192.10.10.2"))
			c.expect([]string{"/ip/firewall/nat/enable", "=numbers=*1"}, [][]string{{"!done"}})
			c.expect(byComment, rule("false", "192.10.10.2"))
			c.expect([]string{"/ip/firewall/nat/set", "=.id=*1", "=to-addresses=192.10.10.3"}, [][]string{{"!done"}})
			c.expect([]string{"/ip/firewall/nat/disable", "=numbers=*1"}, [][]string{{"!done"}})
			c.expect(byComment, rule("true", "192.10.10.3"))
			c.expect([]string{"/ip/firewall/nat/print", "=.proplist=.id,disabled", "?disabled=true"}, [][]string{{"!re", "=.id=*1", "=disabled=true"}, {"!done"}})
			c.expect([]string{"/ip/firewall/nat/remove", "=.id=*1"}, [][]string{{"!done"}})
			empty := [][]string{{"!done"}}
			if strings.HasPrefix(version, "7.18") {
				empty = [][]string{{"!empty"}, {"!done"}}
			}
			c.expect([]string{"/ip/firewall/nat/print"}, empty)
			applied := r.Applied()
			want := []string{
				"/ip/firewall/nat/enable numbers=*1", "/ip/firewall/nat/set .id=*1 to-addresses=192.10.10.3",
				"/ip/firewall/nat/disable numbers=*1", "/ip/firewall/nat/remove .id=*1",
			}
			if len(applied) < len(want) || !slices.Equal(applied[len(applied)-len(want):], want) {
				t.Errorf("applied %q", applied)
			}
		})
	}
}

// What each version refuses of a NAT rule, with the router's message; a
// refused set leaves the rule as it was.
func TestNATRefusals(t *testing.T) {
	base := []string{"chain", "dstnat", "action", "dst-nat", "to-addresses", "192.10.10.2"}
	all := map[string]bool{"6.49": true, "7.13": true, "7.18": true}
	for _, tc := range []struct {
		kv []string
		// bare: kv alone, not over a valid rule (and no set tried).
		bare    bool
		want    string
		refused map[string]bool
	}{
		{[]string{"action", "dst-nat", "to-addresses", "192.10.10.2"}, true, "missing value(s) of argument(s) chain", all},
		{[]string{"chain", "", "action", "dst-nat"}, true, "missing value(s) of argument(s) chain", all},
		{[]string{"action", "teleport"}, false, "input does not match any value of action", all},
		{[]string{"action", "endpoint-independent-nat"}, false, "input does not match any value of action", map[string]bool{"6.49": true, "7.13": true}},
		{[]string{"tls-host", "*.example.com"}, false, "unknown parameter tls-host", map[string]bool{"7.18": true}},
		{[]string{"socks5-port", "1080"}, false, "unknown parameter socks5-port", all},
		{[]string{"bytes", "5"}, false, "unknown parameter bytes", all},
		{[]string{"to-addresses", "not-an-ip"}, false, "invalid value for argument to-addresses", all},
		{[]string{"to-addresses", "2001:db8::1"}, false, "invalid value for argument to-addresses", all},
		{[]string{"to-addresses", "192.10.10.9-192.10.10.2"}, false, "invalid value for argument to-addresses", all},
		{[]string{"dst-address", "198.51.100.0/33"}, false, "invalid value for argument dst-address", all},
		{[]string{"protocol", "tcpx"}, false, "input does not match any value of protocol", all},
		{[]string{"protocol", "tcp", "dst-port", "70000"}, false, "invalid value for argument dst-port", all},
		{[]string{"dst-port", "443"}, false, "dst-port can be used only with protocol tcp, udp, udp-lite, sctp or dccp", all},
		{[]string{"protocol", "icmp", "dst-port", "443"}, false, "dst-port can be used only with protocol tcp, udp, udp-lite, sctp or dccp", all},
		{[]string{"protocol", "udp", "to-ports", "80,443"}, false, "invalid value for argument to-ports", all},
		{[]string{"in-interface-list", "NOPE"}, false, "input does not match any value of in-interface-list", all},
		{[]string{"in-interface-list", "static"}, false, "input does not match any value of in-interface-list", map[string]bool{"6.49": true, "7.13": true}},
		{[]string{"in-interface", "ether9"}, false, "input does not match any value of in-interface", all},
		{[]string{"disabled", "maybe"}, false, "value of disabled must be yes or no", all},
		// Taken everywhere: negations, ranges, lists, numbers.
		{[]string{"protocol", "6", "dst-port", "!22", "src-address", "!192.168.88.0/24", "dst-address", "198.51.100.1-198.51.100.9", "in-interface-list", "!LAN"}, false, "", nil},
		{[]string{"to-addresses", "192.10.10.2-192.10.10.4", "protocol", "udp", "to-ports", "5000-5010"}, false, "", nil},
	} {
		for _, version := range versions {
			r := New(Options{Version: version})
			lan(t, r)
			kv := tc.kv
			if !tc.bare {
				kv = append(slices.Clone(base), tc.kv...)
			}
			want := ""
			if tc.refused[version[:4]] {
				want = tc.want
			}
			if _, got := run(r, "/ip/firewall/nat/add", kv...); got != want {
				t.Errorf("%s: add %v: %q, want %q", version, kv, got, want)
			}
			if want != "" && !tc.bare {
				id := added(t, r, "/ip/firewall/nat", base...)
				props := []string{".proplist", ".id,action,to-addresses,dst-port,disabled"}
				before, _ := run(r, "/ip/firewall/nat/print", props...)
				if _, got := run(r, "/ip/firewall/nat/set", append([]string{".id", id}, tc.kv...)...); got != want {
					t.Errorf("%s: set %v: %q, want %q", version, tc.kv, got, want)
				}
				if after, _ := run(r, "/ip/firewall/nat/print", props...); !slices.EqualFunc(before, after, slices.Equal[[]string]) {
					t.Errorf("%s: a refused set changed %q to %q", version, before, after)
				}
			}
			r.Close()
		}
	}
}

func addrPort(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// Connections print as a router prints them (dst-address with the port
// for tcp and udp, without for icmp), keep the mapping they opened with
// whatever the rules do later, and go with remove; the menu has no add,
// set, enable or disable.
func TestConnectionTable(t *testing.T) {
	for _, version := range versions {
		t.Run(version, func(t *testing.T) {
			r, addr := seeded(t, Options{Version: version})
			lan(t, r)
			rule := added(t, r, "/ip/firewall/nat", "chain", "dstnat", "action", "dst-nat", "protocol", "tcp", "dst-address", "198.51.100.7",
				"dst-port", "443", "in-interface-list", "LAN", "to-addresses", "192.10.10.2", "disabled", "yes")
			// The hairpin source NAT the manual describes, for clients on
			// the standby's subnet.
			added(t, r, "/ip/firewall/nat", "chain", "srcnat", "action", "src-nat", "src-address", "192.10.10.0/24", "dst-address", "192.10.10.2",
				"to-addresses", "192.10.10.1")
			track := func(c Conn) string {
				t.Helper()
				id, err := r.Track(c)
				if err != nil {
					t.Fatal(err)
				}
				return id
			}
			before := track(Conn{Protocol: "tcp", Src: addrPort("192.168.88.10:51000"), Dst: addrPort("198.51.100.7:443"), OrigPackets: 10, OrigBytes: 900, ReplPackets: 8, ReplBytes: 4000})
			if _, tr := run(r, "/ip/firewall/nat/enable", "numbers", rule); tr != "" {
				t.Fatal(tr)
			}
			bridged := track(Conn{Protocol: "tcp", Src: addrPort("192.168.88.11:51001"), Dst: addrPort("198.51.100.7:443")})
			hairpin := track(Conn{Protocol: "tcp", Src: addrPort("192.10.10.20:51002"), Dst: addrPort("198.51.100.7:443")})
			wan := track(Conn{Protocol: "tcp", Src: addrPort("203.0.113.5:51003"), Dst: addrPort("198.51.100.7:443"), InInterface: "ether1"})
			ssh := track(Conn{Protocol: "tcp", Src: addrPort("192.168.88.12:51004"), Dst: addrPort("198.51.100.7:22")})
			ping := track(Conn{Protocol: "icmp", Src: addrPort("192.168.88.10:0"), Dst: addrPort("198.51.100.7:0"), ICMPID: 77, OrigPackets: 4, OrigBytes: 336, ReplPackets: 4, ReplBytes: 336})
			dns := track(Conn{Protocol: "udp", Src: addrPort("192.168.88.10:40000"), Dst: addrPort("192.168.88.1:53")})

			c := dialRaw(t, addr, true)
			c.expect([]string{"/ip/firewall/connection/print", "?.id=" + before}, [][]string{{"!re", "=.id=" + before, "=protocol=tcp",
				"=src-address=192.168.88.10:51000", "=dst-address=198.51.100.7:443", "=reply-src-address=198.51.100.7:443",
				"=reply-dst-address=192.168.88.10:51000", "=tcp-state=established", "=timeout=1d", "=orig-packets=10", "=orig-bytes=900",
				"=orig-fasttrack-packets=0", "=orig-fasttrack-bytes=0", "=repl-packets=8", "=repl-bytes=4000",
				"=repl-fasttrack-packets=0", "=repl-fasttrack-bytes=0", "=orig-rate=0", "=repl-rate=0", "=expected=false",
				"=seen-reply=true", "=assured=true", "=confirmed=true", "=dying=false", "=fasttrack=false", "=srcnat=false",
				"=dstnat=false"}, {"!done"}})
			props := "=.proplist=.id,src-address,dst-address,reply-src-address,reply-dst-address,srcnat,dstnat"
			c.expect([]string{"/ip/firewall/connection/print", props, "?dst-address=198.51.100.7:443"}, [][]string{
				// Opened before the rule: the old mapping stays.
				{"!re", "=.id=" + before, "=src-address=192.168.88.10:51000", "=dst-address=198.51.100.7:443",
					"=reply-src-address=198.51.100.7:443", "=reply-dst-address=192.168.88.10:51000", "=srcnat=false", "=dstnat=false"},
				{"!re", "=.id=" + bridged, "=src-address=192.168.88.11:51001", "=dst-address=198.51.100.7:443",
					"=reply-src-address=192.10.10.2:443", "=reply-dst-address=192.168.88.11:51001", "=srcnat=false", "=dstnat=true"},
				// A client on the standby's subnet: carried there, and
				// answered through the router by the hairpin.
				{"!re", "=.id=" + hairpin, "=src-address=192.10.10.20:51002", "=dst-address=198.51.100.7:443",
					"=reply-src-address=192.10.10.2:443", "=reply-dst-address=192.10.10.1:51002", "=srcnat=true", "=dstnat=true"},
				// From the WAN: not a client of the bridge.
				{"!re", "=.id=" + wan, "=src-address=203.0.113.5:51003", "=dst-address=198.51.100.7:443",
					"=reply-src-address=198.51.100.7:443", "=reply-dst-address=203.0.113.5:51003", "=srcnat=false", "=dstnat=false"},
				{"!done"}})
			c.expect([]string{"/ip/firewall/connection/print", props, "?dst-address=198.51.100.7:22"}, [][]string{
				{"!re", "=.id=" + ssh, "=src-address=192.168.88.12:51004", "=dst-address=198.51.100.7:22",
					"=reply-src-address=198.51.100.7:22", "=reply-dst-address=192.168.88.12:51004", "=srcnat=false", "=dstnat=false"}, {"!done"}})
			c.expect([]string{"/ip/firewall/connection/print", "=.proplist=.id,protocol,dst-address,icmp-type,icmp-id,tcp-state,timeout", "?protocol=icmp", "?protocol=udp", "?#|"},
				[][]string{{"!re", "=.id=" + ping, "=protocol=icmp", "=dst-address=198.51.100.7", "=icmp-type=8", "=icmp-id=77", "=timeout=10s"},
					{"!re", "=.id=" + dns, "=protocol=udp", "=dst-address=192.168.88.1:53", "=timeout=10s"}, {"!done"}})
			c.expect([]string{"/ip/firewall/connection/remove", "=.id=" + before + "," + bridged}, [][]string{{"!done"}})
			c.expect([]string{"/ip/firewall/connection/remove", "=.id=" + before}, [][]string{{"!trap", "=category=0", "=message=no such item"}, {"!done"}})
			c.expect([]string{"/ip/firewall/connection/print", "=.proplist=.id", "?dst-address=198.51.100.7:443"},
				[][]string{{"!re", "=.id=" + hairpin}, {"!re", "=.id=" + wan}, {"!done"}})
			for _, verb := range []string{"add", "set", "enable", "disable"} {
				c.expect([]string{"/ip/firewall/connection/" + verb, "=.id=" + wan}, [][]string{
					{"!trap", "=category=0", "=message=no such command or directory (" + verb + ")"}, {"!trap", "=message=no such command prefix"}, {"!done"}})
			}
			// An IPv6 flow is /ipv6/firewall/connection's (conntrack6_test.go).
			_, err := r.Track(Conn{Protocol: "tcp", Src: addrPort("[2001:db8::1]:5000"), Dst: addrPort("[2001:db8::2]:443")})
			if rows, _ := run(r, "/ip/firewall/connection/print"); len(rows) != 5 {
				t.Errorf("/ip/firewall/connection holds %d entries, want the 5 left: %q", len(rows), rows)
			}
			if (err == nil) == strings.HasPrefix(version, "6.") {
				t.Errorf("an IPv6 flow on %s: %v", version, err)
			}
		})
	}
}

// Interface lists and their members: added, printed by list, disabled,
// removed; refused with the router's message when a name is none of the
// router's, on every version (static is a predefined list on 7.18 only).
func TestInterfaceListMembers(t *testing.T) {
	for _, version := range versions {
		t.Run(version, func(t *testing.T) {
			_, addr := seeded(t, Options{Version: version, Interfaces: []string{"ether1", "ether2", "bridge"}})
			c := dialRaw(t, addr, true)
			c.expect([]string{"/interface/list/add", "=name=LAN", "=comment=clients"}, [][]string{{"!done", "=ret=*1"}})
			c.expect([]string{"/interface/list/add", "=name=WAN"}, [][]string{{"!done", "=ret=*2"}})
			c.expect([]string{"/interface/list/member/add", "=list=LAN", "=interface=bridge"}, [][]string{{"!done", "=ret=*1"}})
			c.expect([]string{"/interface/list/member/add", "=list=LAN", "=interface=ether2"}, [][]string{{"!done", "=ret=*2"}})
			c.expect([]string{"/interface/list/member/add", "=list=WAN", "=interface=ether1"}, [][]string{{"!done", "=ret=*3"}})
			refuse := func(words []string, msg string) {
				c.expect(words, [][]string{{"!trap", "=category=1", "=message=" + msg}, {"!done"}})
			}
			refuse([]string{"/interface/list/member/add", "=list=LAN", "=interface=ether9"}, "input does not match any value of interface")
			refuse([]string{"/interface/list/member/add", "=list=DMZ", "=interface=ether2"}, "input does not match any value of list")
			refuse([]string{"/interface/list/member/add", "=interface=ether2"}, "missing value(s) of argument(s) list")
			refuse([]string{"/interface/list/member/add", "=list=LAN"}, "missing value(s) of argument(s) interface")
			refuse([]string{"/interface/list/member/set", "=.id=*3", "=interface=ether7"}, "input does not match any value of interface")
			refuse([]string{"/interface/list/add", "=comment=nameless"}, "missing value(s) of argument(s) name")
			c.expect([]string{"/interface/list/member/add", "=list=LAN", "=interface=ether1", "=colour=red"}, [][]string{{"!trap", "=message=unknown parameter colour"}, {"!done"}})
			if strings.HasPrefix(version, "7.18") {
				c.expect([]string{"/interface/list/member/add", "=list=static", "=interface=ether1"}, [][]string{{"!done", "=ret=*4"}})
			} else {
				refuse([]string{"/interface/list/member/add", "=list=static", "=interface=ether1"}, "input does not match any value of list")
			}
			c.expect([]string{"/interface/list/member/disable", "=numbers=*2"}, [][]string{{"!done"}})
			c.expect([]string{"/interface/list/member/print", "?list=LAN"}, [][]string{
				{"!re", "=.id=*1", "=list=LAN", "=interface=bridge", "=dynamic=false", "=disabled=false"},
				{"!re", "=.id=*2", "=list=LAN", "=interface=ether2", "=dynamic=false", "=disabled=true"}, {"!done"}})
			c.expect([]string{"/interface/list/member/enable", "=numbers=*2"}, [][]string{{"!done"}})
			c.expect([]string{"/interface/list/member/remove", "=.id=*1"}, [][]string{{"!done"}})
			c.expect([]string{"/interface/list/member/print", "=.proplist=interface,disabled", "?list=LAN"}, [][]string{
				{"!re", "=interface=ether2", "=disabled=false"}, {"!done"}})
			c.expect([]string{"/interface/list/print", "?name=LAN"}, [][]string{
				{"!re", "=.id=*1", "=name=LAN", "=builtin=false", "=dynamic=false", "=comment=clients"}, {"!done"}})
		})
	}
}

// A large connection table read as a client bounds its read: a .proplist
// and a ?dst-address= query bring back only the primary's entries, of
// the tens of thousands; the table itself is bounded by MaxConnections.
func TestLargeConnectionTableBoundedPrint(t *testing.T) {
	const entries = 50_000
	r, addr := seeded(t, Options{MaxConnections: entries})
	var want [][]string
	for i := range entries {
		dst := fmt.Sprintf("203.0.%d.%d:443", i/250%250, i%250+1)
		if i%10_000 == 7 {
			dst = "198.51.100.7:443"
		}
		id, err := r.Track(Conn{Protocol: "tcp", Src: netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 168, byte(i / 60000), 10}), uint16(1024+i%60000)), Dst: addrPort(dst)})
		if err != nil {
			t.Fatal(err)
		}
		if dst == "198.51.100.7:443" {
			want = append(want, []string{"!re", "=.id=" + id, "=dst-address=" + dst})
		}
	}
	if _, err := r.Track(Conn{Protocol: "udp", Src: addrPort("192.168.88.10:5353"), Dst: addrPort("192.168.88.1:53")}); err == nil {
		t.Error("a full table took one more connection")
	}
	c := dialRaw(t, addr, true)
	start := time.Now()
	c.expect([]string{"/ip/firewall/connection/print", "=.proplist=.id,dst-address", "?dst-address=198.51.100.7:443"}, append(want, []string{"!done"}))
	if len(want) != 5 {
		t.Fatalf("%d entries to the primary", len(want))
	}
	// The port is part of the value: the bare address matches nothing.
	c.expect([]string{"/ip/firewall/connection/print", "=.proplist=.id", "?dst-address=198.51.100.7"}, [][]string{{"!empty"}, {"!done"}})
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("two filtered prints of %d entries took %s", entries, took)
	}
}

// Misprint and Inject reach the new menus: a NAT rule printed unreadable
// while it is fine, a connection remove refused or answered by a hang-up
// after it was applied.
func TestFaultsOnFirewallMenus(t *testing.T) {
	r, addr := seeded(t, Options{})
	rule := added(t, r, "/ip/firewall/nat", "chain", "dstnat", "action", "dst-nat", "dst-address", "198.51.100.7", "to-addresses", "192.10.10.2", "comment", "bridge")
	conn, err := r.Track(Conn{Protocol: "tcp", Src: addrPort("192.168.88.10:51000"), Dst: addrPort("198.51.100.7:443")})
	if err != nil {
		t.Fatal(err)
	}
	r.Misprint("/ip/firewall/nat", rule, "disabled", "maybe")
	r.Misprint("/ip/firewall/connection", conn, "dst-address", Absent)
	c := dialRaw(t, addr, true)
	c.expect([]string{"/ip/firewall/nat/print", "=.proplist=.id,disabled"}, [][]string{{"!re", "=.id=" + rule, "=disabled=maybe"}, {"!done"}})
	c.expect([]string{"/ip/firewall/connection/print", "=.proplist=.id,dst-address"}, [][]string{{"!re", "=.id=" + conn}, {"!done"}})

	r.Inject("/ip/firewall/connection/remove", 0, Fault{Kind: FaultTrap, Message: "busy"})
	c.expect([]string{"/ip/firewall/connection/remove", "=.id=" + conn}, [][]string{{"!trap", "=category=4", "=message=busy"}, {"!done"}})
	if rows, _ := run(r, "/ip/firewall/connection/print", ".proplist", ".id"); len(rows) != 1 {
		t.Errorf("a refused remove took the connection: %q", rows)
	}
	r.Inject("/ip/firewall/nat/disable", 0, Fault{Kind: FaultDrop})
	c.send("/ip/firewall/nat/disable", "=numbers="+rule)
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.rd.ReadSentence(); err == nil {
		t.Error("a dropped disable was answered")
	}
	r.mu.Lock()
	got := r.nat.rows[0]["disabled"]
	r.mu.Unlock()
	if got != "true" {
		t.Errorf("the dropped disable was not applied: disabled=%s", got)
	}
}

// Setup's netwatch scripts reach the bridge's menus as a router's do:
// enable the rule by its comment, remove the tracked connections to the
// dead primary.
func TestScriptsReachFirewallMenus(t *testing.T) {
	r := New(Options{})
	defer r.Close()
	added(t, r, "/ip/firewall/nat", "chain", "dstnat", "action", "dst-nat", "protocol", "tcp", "dst-address", "198.51.100.7", "dst-port", "443",
		"to-addresses", "192.10.10.2", "disabled", "yes", "comment", "failwatch bridge")
	for _, dst := range []string{"198.51.100.7:443", "198.51.100.7:22", "192.0.2.9:443"} {
		if _, err := r.Track(Conn{Protocol: "tcp", Src: addrPort("192.168.88.10:51000"), Dst: addrPort(dst)}); err != nil {
			t.Fatal(err)
		}
	}
	err := r.Import(`/ip firewall nat enable [find comment="failwatch bridge"]
/ip firewall connection remove [find dst-address="198.51.100.7:443"]`)
	if err != nil {
		t.Fatal(err)
	}
	nat, _ := run(r, "/ip/firewall/nat/print", ".proplist", "disabled")
	conns, _ := run(r, "/ip/firewall/connection/print", ".proplist", "dst-address")
	if !slices.Equal(nat[0], []string{"=disabled=false"}) || len(conns) != 2 || slices.Contains(conns[0], "=dst-address=198.51.100.7:443") || slices.Contains(conns[1], "=dst-address=198.51.100.7:443") {
		t.Errorf("after the script: nat %q, connections %q", nat, conns)
	}
	if err := r.Import(`/ip firewall connection add protocol=tcp`); err == nil {
		t.Error("a script added a connection")
	}
}

// /console/inspect lists what a version's NAT add takes: tls-host before
// 7.16, not on 7.18.
func TestInspectNAT(t *testing.T) {
	for version, want := range map[string]bool{"7.13.5 (stable)": true, "7.18.2 (stable)": false} {
		r := New(Options{Version: version})
		res := r.exec("admin", "/console/inspect", []attr{{"request", "child"}, {"path", "ip,firewall,nat,add"}}, nil)
		var names []string
		for _, row := range res.rows {
			names = append(names, strings.TrimPrefix(row[1], "=name="))
		}
		if res.trap != nil || !slices.Contains(names, "to-addresses") || slices.Contains(names, "bytes") || slices.Contains(names, "tls-host") != want {
			t.Errorf("%s: inspect lists %q (%v)", version, names, res.trap)
		}
		r.Close()
	}
}

// Track walks the dstnat chain as a router does: the first enabled rule
// that matches decides, passthrough goes on, jump walks its target and
// return comes back, a matcher the emulator does not evaluate never
// matches; negations, ranges and to-ports as a router takes them.
func TestTrackThroughRules(t *testing.T) {
	dnat := []string{"chain", "dstnat", "action", "dst-nat", "to-addresses", "192.10.10.2"}
	rule := func(kv ...string) []string { return append(slices.Clone(dnat), kv...) }
	for _, tc := range []struct {
		name  string
		rules [][]string
		conn  Conn
		want  string // reply-src-address
	}{
		{"range", [][]string{rule("dst-address", "198.51.100.1-198.51.100.9")}, Conn{}, "192.10.10.2:443"},
		{"prefix miss", [][]string{rule("dst-address", "198.51.100.0/30")}, Conn{}, "198.51.100.7:443"},
		{"negated port", [][]string{rule("protocol", "tcp", "dst-port", "!22")}, Conn{Dst: addrPort("198.51.100.7:22")}, "198.51.100.7:22"},
		{"port list", [][]string{rule("protocol", "tcp", "dst-port", "80,400-500")}, Conn{}, "192.10.10.2:443"},
		{"other protocol", [][]string{rule("protocol", "udp")}, Conn{}, "198.51.100.7:443"},
		{"to-ports", [][]string{rule("protocol", "tcp", "to-ports", "8443")}, Conn{}, "192.10.10.2:8443"},
		{"not from LAN", [][]string{rule("in-interface-list", "!LAN")}, Conn{InInterface: "ether1"}, "192.10.10.2:443"},
		{"from LAN", [][]string{rule("in-interface-list", "!LAN")}, Conn{}, "198.51.100.7:443"},
		{"in-interface", [][]string{rule("in-interface", "ether2")}, Conn{}, "192.10.10.2:443"},
		{"source", [][]string{rule("src-address", "192.168.88.0/24")}, Conn{Src: addrPort("192.168.89.10:5000")}, "198.51.100.7:443"},
		{"disabled", [][]string{rule("disabled", "yes")}, Conn{}, "198.51.100.7:443"},
		{"accept first", [][]string{{"chain", "dstnat", "action", "accept"}, rule()}, Conn{}, "198.51.100.7:443"},
		{"passthrough first", [][]string{{"chain", "dstnat", "action", "passthrough"}, rule()}, Conn{}, "192.10.10.2:443"},
		{"jump", [][]string{{"chain", "dstnat", "action", "jump", "jump-target", "bridge"}, {"chain", "bridge", "action", "dst-nat", "to-addresses", "192.10.10.3"}, rule()}, Conn{}, "192.10.10.3:443"},
		{"jump and return", [][]string{{"chain", "dstnat", "action", "jump", "jump-target", "bridge"}, {"chain", "bridge", "action", "return"}, rule()}, Conn{}, "192.10.10.2:443"},
		{"unevaluated matcher", [][]string{rule("connection-mark", "bridged")}, Conn{}, "198.51.100.7:443"},
		{"src-nat in dstnat", [][]string{{"chain", "dstnat", "action", "src-nat", "to-addresses", "192.10.10.1"}, rule()}, Conn{}, "198.51.100.7:443"},
	} {
		for _, version := range versions {
			r := New(Options{Version: version})
			lan(t, r)
			for _, kv := range tc.rules {
				added(t, r, "/ip/firewall/nat", kv...)
			}
			c := tc.conn
			c.Protocol = "tcp"
			if !c.Src.IsValid() {
				c.Src = addrPort("192.168.88.10:5000")
			}
			if !c.Dst.IsValid() {
				c.Dst = addrPort("198.51.100.7:443")
			}
			id, err := r.Track(c)
			if err != nil {
				t.Fatal(err)
			}
			res := r.exec("admin", "/ip/firewall/connection/print", []attr{{".proplist", "reply-src-address"}}, query{".id=" + id})
			if len(res.rows) != 1 || !slices.Equal(res.rows[0], []string{"=reply-src-address=" + tc.want}) {
				t.Errorf("%s: %s: %q, want %s", version, tc.name, res.rows, tc.want)
			}
			r.Close()
		}
	}
}
