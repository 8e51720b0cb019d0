package lab

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/routeros"
)

// bridgeConfig is the service's TTL bridge in the lab: the two clients
// (by address and by the interface list LAN) carried to the private server
// for ICMP and the web port, failwatch's own host exempt.
func (l *Lab) bridgeConfig() config.Bridge {
	host := func(a netip.Addr) netip.Prefix { return netip.PrefixFrom(a, 32) }
	return config.Bridge{
		Mode:            config.BridgeNAT,
		SrcAddresses:    []netip.Prefix{host(l.Once.Addr), host(l.Cached.Addr)},
		InInterfaceList: LAN,
		TCP:             []int{80},
		ICMP:            true,
		Exempt:          []netip.Prefix{host(l.Net.Mgmt.Gateway)},
		Until:           config.UntilRestore,
	}
}

// testBridgeComment marks the rules the test enables itself, apart from
// any the service's bridge has.
const testBridgeComment = "failwatch lab test bridge"

// enableTestBridge is the test's own bridge at the switch: dst-nat rules
// in the shape a bridge writes (clients by the interface list LAN, only
// ICMP and the web port), added over the API, then the clients' tracked
// connections to the primary removed, since NAT applies to new connections
// only. It is the data path's measure, not any failover path's.
func (l *Lab) enableTestBridge(ctx context.Context, c *routeros.Client) error {
	p, t := l.Public.Addr.String(), l.Private.Addr.String()
	for _, proto := range [][]string{{"=protocol=icmp"}, {"=protocol=tcp", "=dst-port=80"}} {
		words := append([]string{"/ip/firewall/nat/add", "=chain=dstnat", "=action=dst-nat", "=dst-address=" + p,
			"=to-addresses=" + t, "=in-interface-list=" + LAN, "=comment=" + testBridgeComment + " " + strings.TrimPrefix(proto[0], "=protocol=")}, proto...)
		if _, err := c.Run(ctx, words...); err != nil {
			return fmt.Errorf("the test's bridge rule: %w", err)
		}
	}
	return l.removeClientConnections(ctx, c)
}

// removeClientConnections removes the clients' tracked connections to the
// primary, and reads the table back: none may be left.
func (l *Lab) removeClientConnections(ctx context.Context, c *routeros.Client) error {
	find := func() ([]string, error) {
		r, err := c.Run(ctx, "/ip/firewall/connection/print", "=.proplist=.id,src-address,dst-address")
		if err != nil {
			return nil, err
		}
		var ids []string
		for _, row := range r.Rows {
			src, dst := hostOf(row["src-address"]), hostOf(row["dst-address"])
			if dst == l.Public.Addr && (src == l.Once.Addr || src == l.Cached.Addr) {
				ids = append(ids, row[".id"])
			}
		}
		return ids, nil
	}
	ids, err := find()
	if err != nil {
		return err
	}
	for _, id := range ids {
		// An entry may end on its own meanwhile: the read-back decides.
		c.Run(ctx, "/ip/firewall/connection/remove", "=.id="+id)
	}
	// New flows open meanwhile (through the rule now); the old ones must
	// be gone.
	left, err := find()
	if err != nil {
		return err
	}
	if stuck := slices.DeleteFunc(left, func(id string) bool { return !slices.Contains(ids, id) }); len(stuck) > 0 {
		return fmt.Errorf("connections %s to the primary still tracked after their removal", strings.Join(stuck, ","))
	}
	return nil
}

// hostOf is the address of "a" or "a:port".
func hostOf(v string) netip.Addr {
	if ap, err := netip.ParseAddrPort(v); err == nil {
		return ap.Addr()
	}
	a, _ := netip.ParseAddr(v)
	return a
}

// removeTestBridge removes the test's rules, if any.
func (l *Lab) removeTestBridge(ctx context.Context, c *routeros.Client) error {
	r, err := c.Run(ctx, "/ip/firewall/nat/print", "=.proplist=.id,comment")
	if err != nil {
		return err
	}
	for _, row := range r.Rows {
		if strings.HasPrefix(row["comment"], testBridgeComment) {
			if _, err := c.Run(ctx, "/ip/firewall/nat/remove", "=.id="+row[".id"]); err != nil {
				return err
			}
		}
	}
	return nil
}

// ruleOn is from the fault to the first dst-nat rule from the primary to
// the standby the router namespace applied after it.
func (l *Lab) ruleOn(fault time.Time) (time.Duration, bool) {
	p, t := l.Public.Addr.String(), l.Private.Addr.String()
	for _, a := range l.Plane.History() {
		if a.At.Before(fault) {
			continue
		}
		for _, row := range a.NAT {
			if row["action"] == "dst-nat" && row["dst-address"] == p && row["to-addresses"] == t {
				return a.At.Sub(fault), true
			}
		}
	}
	return 0, false
}
