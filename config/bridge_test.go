package config

import (
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

// bridged is a file whose first service is bridged with body (its lines
// start at line 8, indented under bridge:); extra is appended.
func bridged(body, extra string) string {
	return "router:\n  address: 192.0.2.1\nservices:\n" +
		"  - name: shop.example.test\n    primary: pub\n    standby: priv\n    bridge:\n" +
		indent(body, "      ") + extra +
		"servers:\n  - {name: pub, address: 198.51.100.7}\n  - {name: priv, address: 192.0.2.7}\n"
}

func indent(body, by string) string {
	var b strings.Builder
	for l := range strings.SplitSeq(strings.TrimSuffix(body, "\n"), "\n") {
		b.WriteString(by + l + "\n")
	}
	return b.String()
}

const natBody = "mode: nat\nsrc_address: [192.168.88.0/24]\ntcp: [80, 443]\n"

// wantErrors parses file and checks its errors, each with its position;
// want nil: the file is valid.
func wantErrors(t *testing.T, file string, want []string) *Config {
	t.Helper()
	cfg, err := Parse("f.yaml", []byte(file))
	if want == nil {
		if err != nil {
			t.Fatalf("want no error, got:\n%v\nin\n%s", err, file)
		}
		return cfg
	}
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("want Errors, got %v", err)
	}
	if got := strings.Split(errs.Error(), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n got  %q\n want %q\nin\n%s", got, want, file)
	}
	return nil
}

func TestBridgeRefused(t *testing.T) {
	tests := []struct {
		name, file string
		want       []string
	}{
		{"a nat bridge", bridged(natBody, ""), nil},
		{"clients by interface list only", bridged("mode: nat\nin_interface_list: LAN\nudp: [53]\n", ""), nil},
		{"pings only", bridged("mode: nat\nin_interface_list: LAN\nicmp: true\n", ""), nil},
		{"off, with nothing else", bridged("mode: off\n", ""), nil},
		{"a mode that is not one", bridged("mode: on\n", ""),
			[]string{`f.yaml:8:13: services[0].bridge.mode: "on" is not one of off, nat`}},
		{"nat without clients", bridged("mode: nat\ntcp: [80]\n", ""),
			[]string{`f.yaml:8:7: services[0].bridge: a nat bridge needs its clients: src_address (their networks or addresses) and/or in_interface_list`}},
		{"every IPv4 client", bridged("mode: nat\nsrc_address: [192.168.88.0/24, 0.0.0.0/0]\ntcp: [80]\n", ""),
			[]string{`f.yaml:9:38: services[0].bridge.src_address[1]: 0.0.0.0/0 would carry every client, the WAN too: list the clients' networks`}},
		{"every IPv6 client", bridged("mode: nat\nsrc_address: ['::/0']\ntcp: [80]\n", ""),
			[]string{`f.yaml:9:21: services[0].bridge.src_address[0]: ::/0 would carry every client, the WAN too: list the clients' networks`}},
		{"every IPv4 client in two halves", bridged("mode: nat\nsrc_address: [0.0.0.0/1, 128.0.0.0/1]\ntcp: [80]\n", ""),
			[]string{`f.yaml:9:21: services[0].bridge.src_address[0]: 0.0.0.0/1 is wider than /8, the widest private network: it would carry clients on the WAN side too; list the clients' networks`,
				`f.yaml:9:32: services[0].bridge.src_address[1]: 128.0.0.0/1 is wider than /8, the widest private network: it would carry clients on the WAN side too; list the clients' networks`}},
		{"the widest private network", bridged("mode: nat\nsrc_address: [10.0.0.0/8]\ntcp: [80]\n", ""), nil},
		{"the widest private IPv6 network", strings.ReplaceAll(bridged("mode: nat\nsrc_address: ['fc00::/7']\ntcp: [80]\n", ""),
			"address: 198.51.100.7}\n  - {name: priv, address: 192.0.2.7}", "address: '2001:db8::1'}\n  - {name: priv, address: '2001:db8::2'}"), nil},
		{"an IPv4 exemption on an IPv6 pair", strings.ReplaceAll(bridged("mode: nat\nsrc_address: ['fd00:88::/64']\nexempt: [192.168.88.77/32]\ntcp: [80]\n", ""),
			"address: 198.51.100.7}\n  - {name: priv, address: 192.0.2.7}", "address: '2001:db8::1'}\n  - {name: priv, address: '2001:db8::2'}"),
			[]string{`f.yaml:10:16: services[0].bridge.exempt[0]: 192.168.88.77/32 is not of the pair's address family (2001:db8::1): the exempt address list cannot hold it`}},
		{"clients not a list", bridged("mode: nat\nsrc_address: 192.168.88.0/24\ntcp: [80]\n", ""),
			[]string{`f.yaml:9:20: services[0].bridge.src_address: want a list of client networks or addresses, got "192.168.88.0/24"`}},
		{"a client network with host bits", bridged("mode: nat\nsrc_address: [192.168.88.1/24]\ntcp: [80]\n", ""),
			[]string{`f.yaml:9:21: services[0].bridge.src_address[0]: 192.168.88.1/24 has bits set past its /24: did you mean 192.168.88.0/24?`}},
		{"port 0", bridged("mode: nat\nin_interface_list: LAN\ntcp: [0]\n", ""),
			[]string{`f.yaml:10:13: services[0].bridge.tcp[0]: 0 is outside 1..65535`}},
		{"port past 65535", bridged("mode: nat\nin_interface_list: LAN\nudp: [53, 65536]\n", ""),
			[]string{`f.yaml:10:17: services[0].bridge.udp[1]: 65536 is outside 1..65535`}},
		{"ports that are no values", bridged("mode: nat\nin_interface_list: LAN\ntcp: [{a: 1}, {b: 2}]\n", ""),
			[]string{`f.yaml:10:13: services[0].bridge.tcp[0]: want a value, got a mapping`,
				`f.yaml:10:21: services[0].bridge.tcp[1]: want a value, got a mapping`}},
		{"a port twice", bridged("mode: nat\nin_interface_list: LAN\ntcp: [80, 443, 80]\n", ""),
			[]string{`f.yaml:10:22: services[0].bridge.tcp[2]: port 80 is given twice`}},
		{"every port of the address", bridged("mode: nat\nin_interface_list: LAN\nudp: []\nicmp: false\n", ""),
			[]string{`f.yaml:8:7: services[0].bridge: say what the bridge carries: tcp or udp ports, or icmp: true; it never carries every port of the address, so an admin's ssh to the primary still reaches it`}},
		{"until neither", bridged(natBody+"until: forever\n", ""),
			[]string{`f.yaml:11:14: services[0].bridge.until: "forever" is not one of until_restore, ttl`}},
		{"a negative margin", bridged(natBody+"until: ttl\nmargin: -1s\n", ""),
			[]string{`f.yaml:12:15: services[0].bridge.margin: must not be negative, got "-1s"`}},
		{"an exemption that is no address", bridged(natBody+"exempt: [mgmt]\n", ""),
			[]string{`f.yaml:11:16: services[0].bridge.exempt[0]: "mgmt" is not an address or a network (e.g. 192.168.88.0/24)`}},
		{"exempt every client", bridged(natBody+"exempt: [0.0.0.0/0]\n", ""),
			[]string{`f.yaml:11:16: services[0].bridge.exempt[0]: 0.0.0.0/0 exempts every client: the bridge would carry nothing`}},
		{"an unknown key", bridged(natBody+"src_adress: [10.0.0.0/8]\n", ""),
			[]string{`f.yaml:11:7: services[0].bridge.src_adress: unknown key "src_adress" (did you mean "src_address"?)`}},
		{"families differ", strings.Replace(bridged(natBody, ""), "192.0.2.7", "2001:db8::7", 1),
			[]string{`f.yaml:8:7: services[0].bridge: the primary pub (198.51.100.7) and the standby priv (2001:db8::7) are of different address families: the router cannot carry one to the other`}},
		{"a host name primary", strings.Replace(bridged(natBody, ""), "{name: pub, address: 198.51.100.7}",
			"{name: pub, address: pub.example.test, record: {comment: pub}}", 1),
			[]string{`f.yaml:8:7: services[0].bridge: pub's address pub.example.test is not an IP address: a host name cannot be bridged (the router carries one address to another)`}},
		{"one address to two standbys", bridged(natBody, "  - name: api.example.test\n    primary: pub\n    standby: spare\n    bridge:\n"+indent(natBody, "      ")) +
			"  - {name: spare, address: 192.0.2.8}\n",
			[]string{`f.yaml:15:7: services[1].bridge: shop.example.test and api.example.test are both bridged from 198.51.100.7 but to different standbys (192.0.2.7, 192.0.2.8): the router cannot carry one address to two standbys`}},
		{"one address to one standby for two names", bridged(natBody, "  - name: api.example.test\n    primary: pub\n    standby: priv\n    bridge:\n"+indent(natBody, "      ")), nil},
		{"two standbys, one of them not bridged", bridged(natBody, "  - name: api.example.test\n    primary: pub\n    standby: spare\n") +
			"  - {name: spare, address: 192.0.2.8}\n", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { wantErrors(t, tc.file, tc.want) })
	}
}

// The single service: takes a bridge too; left out, or off, it is the zero
// Bridge; a rule's comment names its service unless given.
func TestBridgeSingleServiceAndDefaults(t *testing.T) {
	single := "router:\n  address: 192.0.2.1\nservice:\n  name: shop.example.test\n  bridge:\n" + indent(natBody, "    ") +
		"servers:\n  - {name: pub, role: primary, address: 198.51.100.7}\n  - {name: priv, role: standby, address: 192.0.2.7}\n"
	cfg := wantErrors(t, single, nil)
	want := Bridge{Mode: BridgeNAT, SrcAddresses: []netip.Prefix{netip.MustParsePrefix("192.168.88.0/24")}, TCP: []int{80, 443},
		Until: UntilRestore, Margin: 30 * time.Second, Comment: "failwatch bridge shop.example.test"}
	if got := cfg.Services[0].Bridge; !reflect.DeepEqual(got, want) {
		t.Errorf("bridge\n got  %+v\n want %+v", got, want)
	}
	wantErrors(t, strings.Replace(single, "tcp: [80, 443]", "tcp: [80, 80]", 1),
		[]string{`f.yaml:8:15: service.bridge.tcp[1]: port 80 is given twice`})
	for _, body := range []string{"", "  bridge:\n    mode: off\n    tcp: [80]\n"} {
		file := strings.Replace(single, single[strings.Index(single, "  bridge:"):strings.Index(single, "servers:")], body, 1)
		if cfg := wantErrors(t, file, nil); !reflect.DeepEqual(cfg.Services[0].Bridge, Bridge{}) || cfg.Services[0].Bridge.On() {
			t.Errorf("bridge %q: %+v, want off and zero", body, cfg.Services[0].Bridge)
		}
	}
}
