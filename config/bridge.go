package config

import (
	"net/netip"
	"time"
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
	Mode BridgeMode
	// SrcAddresses and InInterfaceList are the clients it applies to (at
	// least one of them; never 0.0.0.0/0 or ::/0).
	SrcAddresses    []netip.Prefix
	InInterfaceList string
	// TCP and UDP are the ports carried; never every port of the address,
	// so an admin's ssh to the primary during maintenance still reaches it.
	TCP, UDP []int
	// ICMP carries pings too, only when asked.
	ICMP bool
	// Exempt are sources never carried, besides failwatch's own addresses,
	// which are always exempt: a carried probe would show the dead primary
	// up and make the policy loop.
	Exempt []netip.Prefix
	// ExemptAddressList names a router address list (management hosts)
	// never carried.
	ExemptAddressList string
	// Until is how long the bridge stays up; Margin is added to the TTL in
	// ttl mode.
	Until  BridgeUntil
	Margin time.Duration
	// Comment finds the rule on the router; by default
	// "failwatch bridge SERVICE".
	Comment string
}

// On reports whether the bridge is configured.
func (b Bridge) On() bool { return b.Mode != BridgeOff }
