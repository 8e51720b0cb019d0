package dataplane

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/exp/golden"

	"github.com/failwatch/failwatch/routeros/rosim"
)

// The lab's interfaces: the router's names to the namespace's.
var ifaces = map[string]string{"ether1": "fwo1-1", "ether2": "fwo1-2", "ether3": "fwo1-3", "ether4": "fwo1-4"}

// nat is a NAT row as the emulator prints it, with the defaults every row
// has.
func nat(id string, kv ...string) map[string]string {
	row := map[string]string{".id": id, "action": "accept", "log": "false", "bytes": "0", "packets": "0",
		"invalid": "false", "dynamic": "false", "disabled": "false"}
	for i := 0; i < len(kv); i += 2 {
		row[kv[i]] = kv[i+1]
	}
	return row
}

// The rows a bridge writes (issue 25's contract) and the other shapes the
// translation carries, each as the nft text the namespace gets (golden,
// testdata/TestTranslate/NAME.golden; -update rewrites them).
func TestTranslate(t *testing.T) {
	lists := []map[string]string{
		{".id": "*1", "list": "failwatch-clients-web", "address": "198.18.0.9"},
		{".id": "*2", "list": "failwatch-clients-web", "address": "198.18.0.12/30"},
		{".id": "*3", "list": "failwatch-exempt-web", "address": "198.18.0.1"},
		{".id": "*4", "list": "admins", "address": "10.0.0.5-10.0.0.9"},
	}
	members := []map[string]string{{".id": "*1", "list": "LAN", "interface": "ether3"}, {".id": "*2", "list": "LAN", "interface": "ether4"}}
	for _, tc := range []struct {
		name string
		fw   rosim.Firewall
	}{
		{"empty", rosim.Firewall{}},
		{"bridge", rosim.Firewall{HasAddressLists: true, AddressLists: lists, NAT: []map[string]string{
			nat("*1", "chain", "dstnat", "dst-address", "198.18.0.2", "src-address-list", "failwatch-exempt-web", "comment", "failwatch bridge web exempt"),
			nat("*2", "chain", "dstnat", "dst-address", "198.18.0.2", "src-address-list", "admins"),
			nat("*3", "chain", "dstnat", "action", "dst-nat", "dst-address", "198.18.0.2", "to-addresses", "198.18.0.6",
				"protocol", "tcp", "dst-port", "80,443", "src-address-list", "failwatch-clients-web", "comment", "failwatch bridge web tcp"),
			nat("*4", "chain", "dstnat", "action", "dst-nat", "dst-address", "198.18.0.2", "to-addresses", "198.18.0.6",
				"protocol", "icmp", "src-address-list", "failwatch-clients-web", "comment", "failwatch bridge web icmp"),
			nat("*5", "chain", "srcnat", "action", "masquerade", "dst-address", "198.18.0.6", "src-address-list", "failwatch-clients-web"),
		}}},
		{"interface lists and negation", rosim.Firewall{ListMembers: members, NAT: []map[string]string{
			nat("*1", "chain", "dstnat", "action", "dst-nat", "dst-address", "!198.18.0.0/30", "to-addresses", "198.18.0.6-198.18.0.7",
				"to-ports", "8080-8081", "protocol", "udp", "in-interface-list", "LAN"),
			nat("*2", "chain", "dstnat", "action", "dst-nat", "dst-address", "198.18.0.2", "to-addresses", "198.18.0.6",
				"protocol", "udp", "dst-port", "!53,1000-2000", "src-port", "5353", "in-interface", "!ether1"),
			nat("*3", "chain", "dstnat", "in-interface-list", "!LAN", "src-address", "198.18.0.8-198.18.0.11"),
			nat("*4", "chain", "dstnat", "in-interface-list", "none", "action", "dst-nat", "to-addresses", "198.18.0.6"),
			nat("*5", "chain", "dstnat", "in-interface-list", "all", "dst-address", "198.18.0.3"),
			nat("*6", "chain", "srcnat", "action", "src-nat", "to-addresses", "198.18.0.1", "protocol", "17"),
			nat("*7", "chain", "srcnat", "action", "masquerade", "to-ports", "40000-41000", "protocol", "tcp"),
		}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Translate(tc.fw, ifaces)
			if err != nil {
				t.Fatal(err)
			}
			golden.RequireEqual(t, []byte(got))
		})
	}
}

// What the translation does not carry is refused, naming the rule and
// what it could not apply; nothing is dropped on the quiet.
func TestTranslateRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		fw   rosim.Firewall
		want string
	}{
		{"an untranslated matcher", rosim.Firewall{NAT: []map[string]string{nat("*7", "chain", "dstnat", "connection-mark", "x")}},
			"nat rule *7: property connection-mark is not applied"},
		{"both ports", rosim.Firewall{NAT: []map[string]string{nat("*1", "chain", "dstnat", "protocol", "tcp", "port", "80")}},
			"nat rule *1: property port is not applied"},
		{"logging", rosim.Firewall{NAT: []map[string]string{nat("*1", "chain", "dstnat", "log", "true")}}, "log=true"},
		{"a user chain", rosim.Firewall{NAT: []map[string]string{nat("*2", "chain", "bridge")}}, "chain bridge is not applied"},
		{"jump", rosim.Firewall{NAT: []map[string]string{nat("*2", "chain", "dstnat", "action", "jump", "jump-target", "x")}},
			"property jump-target is not applied"},
		{"redirect", rosim.Firewall{NAT: []map[string]string{nat("*2", "chain", "dstnat", "action", "redirect", "to-ports", "80", "protocol", "tcp")}},
			"action redirect in chain dstnat"},
		{"to-ports without a port protocol", rosim.Firewall{NAT: []map[string]string{nat("*2", "chain", "dstnat", "action", "dst-nat", "to-addresses", "198.18.0.6", "to-ports", "80", "protocol", "!tcp")}},
			"to-ports=80 without protocol tcp or udp"},
		{"dst-nat in srcnat", rosim.Firewall{NAT: []map[string]string{nat("*2", "chain", "srcnat", "action", "dst-nat", "to-addresses", "198.18.0.6")}},
			"action dst-nat in chain srcnat"},
		{"dst-nat with ports only", rosim.Firewall{NAT: []map[string]string{nat("*2", "chain", "dstnat", "action", "dst-nat", "to-ports", "80", "protocol", "tcp")}},
			"action dst-nat in chain dstnat"},
		{"no address-list menu", rosim.Firewall{NAT: []map[string]string{nat("*3", "chain", "dstnat", "src-address-list", "failwatch-clients-web")}},
			"has no /ip/firewall/address-list"},
		{"a DNS name in a list", rosim.Firewall{HasAddressLists: true,
			AddressLists: []map[string]string{{".id": "*9", "list": "l", "address": "example.com"}},
			NAT:          []map[string]string{nat("*3", "chain", "dstnat", "src-address-list", "l")}},
			`entry *9: "example.com" is not an IPv4 address`},
		{"IPv6", rosim.Firewall{NAT: []map[string]string{nat("*3", "chain", "dstnat", "dst-address", "2001:db8::1")}},
			"not an IPv4 address"},
		{"an unmapped interface", rosim.Firewall{NAT: []map[string]string{nat("*3", "chain", "dstnat", "in-interface", "ether5")}},
			"interface ether5 has no namespace interface"},
		{"an unmapped list member", rosim.Firewall{ListMembers: []map[string]string{{"list": "LAN", "interface": "ether5"}},
			NAT: []map[string]string{nat("*3", "chain", "dstnat", "in-interface-list", "LAN")}},
			"member ether5 of list LAN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Translate(tc.fw, ifaces)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v (script %q), want an error with %q", err, got, tc.want)
			}
		})
	}
}

// A removed connection row becomes conntrack's match for the same entry.
func TestDeleteArgs(t *testing.T) {
	for _, tc := range []struct {
		row  map[string]string
		want string
	}{
		{map[string]string{"protocol": "tcp", "src-address": "198.18.0.10:51000", "dst-address": "198.18.0.2:80"},
			"-D -p tcp --orig-src 198.18.0.10 --sport 51000 --orig-dst 198.18.0.2 --dport 80"},
		{map[string]string{"protocol": "udp", "src-address": "198.18.0.10:5353", "dst-address": "198.18.0.2:53"},
			"-D -p udp --orig-src 198.18.0.10 --sport 5353 --orig-dst 198.18.0.2 --dport 53"},
		{map[string]string{"protocol": "icmp", "src-address": "198.18.0.10", "dst-address": "198.18.0.2", "icmp-id": "77"},
			"-D -p icmp --orig-src 198.18.0.10 --orig-dst 198.18.0.2 --icmp-id 77"},
		{map[string]string{"protocol": "tcp", "src-address": "198.18.0.10", "dst-address": "198.18.0.2:80"}, "error"},
		{map[string]string{"protocol": "gre", "src-address": "198.18.0.10", "dst-address": "198.18.0.2"}, "error"},
	} {
		args, err := deleteArgs(tc.row)
		got := strings.Join(args, " ")
		if err != nil {
			got = "error"
		}
		if got != tc.want {
			t.Errorf("%v: got %q (%v), want %q", tc.row, got, err, tc.want)
		}
	}
}
