package config

import (
	"fmt"
	"net/netip"
	"time"

	"go.yaml.in/yaml/v3"
)

// BridgeMode says whether a service's TTL bridge is on.
type BridgeMode string

// Bridge modes: off by default; nat carries cached clients with a dst-nat
// rule on the router.
const (
	BridgeOff BridgeMode = ""
	BridgeNAT BridgeMode = "nat"
)

// BridgeUntil says how long a bridge stays up after a failover.
type BridgeUntil string

// Until the primary is restored, or for the records' TTL plus a margin
// after the switch (RouterOS's default static TTL is 1d, so that may be
// long).
const (
	UntilRestore BridgeUntil = "until_restore"
	UntilTTL     BridgeUntil = "ttl"
)

// Bridge is a service's TTL bridge (YAML service.bridge). A client that
// looked the name up before the fault keeps the primary's address for the
// record's TTL whatever the records say now; while the name is on the
// standby, the router carries those clients' packets to the standby with a
// dst-nat rule, for the given clients and ports only.
type Bridge struct {
	Mode BridgeMode `yaml:"mode" oneof:"off=,nat"`
	// SrcAddresses and InInterfaceList are the clients it applies to (at
	// least one of them; never 0.0.0.0/0 or ::/0). An address is the
	// network of that address alone.
	SrcAddresses    []netip.Prefix `yaml:"src_address" list:"client networks or addresses"`
	InInterfaceList string         `yaml:"in_interface_list"`
	// TCP and UDP are the ports carried; never every port of the address,
	// so an admin's ssh to the primary during maintenance still reaches it.
	TCP []int `yaml:"tcp" range:"1..65535" list:"ports"`
	UDP []int `yaml:"udp" range:"1..65535" list:"ports"`
	// ICMP carries pings too, only when asked.
	ICMP bool `yaml:"icmp"`
	// Exempt are sources never carried, besides failwatch's own addresses,
	// which are always exempt: a carried probe would show the dead primary
	// up and make the policy loop.
	Exempt []netip.Prefix `yaml:"exempt" list:"networks or addresses"`
	// ExemptAddressList names a router address list (management hosts)
	// never carried.
	ExemptAddressList string `yaml:"exempt_address_list"`
	// Until is how long the bridge stays up; Margin is added to the TTL in
	// ttl mode.
	Until  BridgeUntil   `yaml:"until" default:"until_restore" oneof:"until_restore,ttl"`
	Margin time.Duration `yaml:"margin" default:"30s" min:"0s"`
	// Comment finds the rule on the router; by default
	// "failwatch bridge SERVICE".
	Comment string `yaml:"comment"`
}

// On reports whether the bridge is configured.
func (b Bridge) On() bool { return b.Mode != BridgeOff }

// check refuses a nat bridge that would carry every client or every port:
// its clients and what it carries must be named, never 0.0.0.0/0.
func (b *Bridge) check(d *decoder, path string) {
	if !b.On() {
		return
	}
	if !d.listsSome(path+".src_address") && b.InInterfaceList == "" {
		d.errorf(d.at(path), path, "a nat bridge needs its clients: src_address (their networks or addresses) and/or in_interface_list")
	}
	d.eachPrefix(path+".src_address", "would carry every client, the WAN too: list the clients' networks")
	d.noWideClients(path + ".src_address")
	d.eachPrefix(path+".exempt", "exempts every client: the bridge would carry nothing")
	d.noRepeatedPorts(path + ".tcp")
	d.noRepeatedPorts(path + ".udp")
	if !d.listsSome(path+".tcp") && !d.listsSome(path+".udp") && !b.ICMP {
		d.errorf(d.at(path), path, "say what the bridge carries: tcp or udp ports, or icmp: true; it never carries every port of the address, so an admin's ssh to the primary still reaches it")
	}
}

// listsSome says whether the file gives something at path: a list with an
// entry, or what is no list, which is refused as such.
func (d *decoder) listsSome(path string) bool {
	n := d.at(path)
	return n != nil && (n.Kind != yaml.SequenceNode || len(n.Content) > 0)
}

// eachPrefix refuses a /0 among the networks listed at path.
func (d *decoder) eachPrefix(path, why string) {
	for i, n := range d.elements(path) {
		if p, err := parsePrefix(n.Value); isValue(n) && err == nil && p.Bits() == 0 {
			d.errorf(n, fmt.Sprintf("%s[%d]", path, i), "%s %s", p, why)
		}
	}
}

// noWideClients refuses a client network wider than the widest private
// one of its family, 10.0.0.0/8 (RFC 1918) or fc00::/7 (RFC 4193): clients
// behind the router never need more, and a few wide prefixes together
// (0.0.0.0/1 and 128.0.0.0/1) carry every client as a /0 does. A /0 is
// said by eachPrefix.
func (d *decoder) noWideClients(path string) {
	for i, n := range d.elements(path) {
		p, err := parsePrefix(n.Value)
		if !isValue(n) || err != nil || p.Bits() == 0 {
			continue
		}
		widest := map[bool]int{true: 8, false: 7}[p.Addr().Is4()]
		if p.Bits() < widest {
			d.errorf(n, fmt.Sprintf("%s[%d]", path, i), "%s is wider than /%d, the widest private network: it would carry clients on the WAN side too; list the clients' networks", p, widest)
		}
	}
}

// noRepeatedPorts refuses a port listed twice at path.
func (d *decoder) noRepeatedPorts(path string) {
	seen := map[string]bool{}
	for i, n := range d.elements(path) {
		if !isValue(n) {
			continue
		}
		if seen[n.Value] {
			d.errorf(n, fmt.Sprintf("%s[%d]", path, i), "port %s is given twice", n.Value)
		}
		seen[n.Value] = true
	}
}

// validateBridges checks each bridged service against its servers: a
// bridge carries the primary's address to the standby's, so both must be
// addresses of one family, and one address cannot go to two standbys.
func (d *decoder) validateBridges(cfg *Config) {
	type carried struct {
		service string
		to      netip.Addr
	}
	from := map[netip.Addr]carried{}
	for i, svc := range cfg.Services {
		if !svc.Bridge.On() {
			continue
		}
		key := d.servicePath(i) + ".bridge"
		primary, standby := cfg.Pair(svc)
		p, ok1 := d.bridgeAddr(key, primary)
		s, ok2 := d.bridgeAddr(key, standby)
		if !ok1 || !ok2 {
			continue
		}
		if p.Is4() != s.Is4() {
			d.errorf(d.at(key), key, "the primary %s (%s) and the standby %s (%s) are of different address families: the router cannot carry one to the other", primary.Name, p, standby.Name, s)
			continue
		}
		d.sameFamily(key+".src_address", p, "the clients' address list")
		d.sameFamily(key+".exempt", p, "the exempt address list")
		if c, dup := from[p]; dup && c.to != s {
			d.errorf(d.at(key), key, "%s and %s are both bridged from %s but to different standbys (%s, %s): the router cannot carry one address to two standbys", c.service, svc.Name, p, c.to, s)
			continue
		}
		from[p] = carried{svc.Name, s}
	}
}

// sameFamily refuses a prefix at path of another family than the pair's:
// setup writes it into the pair's family's address list
// (/ipv6/firewall/address-list for an IPv6 pair), which takes only its
// own family's addresses, and a rule of one family never matches the
// other's packets.
func (d *decoder) sameFamily(path string, pair netip.Addr, what string) {
	for i, n := range d.elements(path) {
		p, err := parsePrefix(n.Value)
		if isValue(n) && err == nil && p.Addr().Is4() != pair.Is4() {
			d.errorf(n, fmt.Sprintf("%s[%d]", path, i), "%s is not of the pair's address family (%s): %s cannot hold it", p, pair, what)
		}
	}
}

// bridgeAddr is a bridged service's server's address, which must be an
// IP address: a rule carries one address to another.
func (d *decoder) bridgeAddr(key string, s Server) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s.Address)
	if err != nil || a.Zone() != "" {
		d.errorf(d.at(key), key, "%s's address %s is not an IP address: a host name cannot be bridged (the router carries one address to another)", s.Name, s.Address)
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}
