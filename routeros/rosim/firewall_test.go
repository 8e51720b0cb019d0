package rosim

import (
	"slices"
	"strings"
	"testing"
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
