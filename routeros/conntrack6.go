package routeros

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// An IPv6 connection, /ipv6/firewall/connection, prints its addresses
// without ports and its ports apart: "dst-address (ip[:port]) Destination
// address and port (for IPv4 if a protocol is port-based)", "dst-port
// (integer) Destination port if protocol is port-based. IPv6 only", and
// src-port, reply-src-port alike
// (https://help.mikrotik.com/docs/spaces/ROS/pages/130220087/Connection+tracking).

// conn6Props are the properties an IPv6 connection is read with.
var conn6Props = ".id,protocol,src-address,src-port,dst-address,dst-port,reply-src-address,reply-src-port"

// Connection6From reads an IPv6 connection row strictly: IPv6 addresses
// without ports, and the ports apart for tcp and udp (see RecordFrom).
func Connection6From(m map[string]string) Connection {
	return connectionFrom(m, (*reader).endpoint6)
}

// endpoint6 reads an IPv6 address and, when the protocol has ports, its
// port from a property of its own: src-port for src-address, and so on.
func (rd *reader) endpoint6(addrKey string, ported bool) netip.AddrPort {
	v, ok := rd.m[addrKey]
	if !ok {
		rd.fail("no %s", addrKey)
		return netip.AddrPort{}
	}
	a, err := netip.ParseAddr(v)
	if err != nil || !a.Is6() || a.Zone() != "" {
		rd.fail("%s %q is not an IPv6 address", addrKey, quoted(v))
		return netip.AddrPort{}
	}
	if !ported {
		return netip.AddrPortFrom(a, 0)
	}
	portKey := strings.TrimSuffix(addrKey, "address") + "port"
	p, ok := rd.m[portKey]
	n, err := strconv.ParseUint(p, 10, 16)
	if !ok || err != nil {
		rd.fail("%s %q is not a port", portKey, quoted(p))
	}
	return netip.AddrPortFrom(a, uint16(n))
}

// connections6To is ConnectionsTo for IPv6: the router picks the
// connections to the address, and their ports and protocols are picked
// here (a query matches a whole value, and the port is a value of its own).
func (c *Client) connections6To(ctx context.Context, dst netip.Addr, tcp, udp []int, icmp bool, max int, keep func(Connection) bool) (Connections, error) {
	var out Connections
	if len(tcp)+len(udp) == 0 && !icmp {
		return out, nil
	}
	menu := IPv6.Menu("connection")
	r, err := c.Run(ctx, menu+"/print", "=.proplist="+conn6Props, "?dst-address="+dst.String())
	if err != nil {
		return out, fmt.Errorf("read %s: %w", menu, err)
	}
	for _, m := range r.Rows {
		out.add(Connection6From(m), tcp, udp, icmp, max, keep)
	}
	return out, nil
}
