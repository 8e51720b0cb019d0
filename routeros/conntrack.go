package routeros

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Connection is one tracked connection, /ip/firewall/connection. Its
// src-address and dst-address carry the port when the protocol has ports:
// "dst-address (ip[:port]) Destination address and port (if a protocol is
// port-based)" (https://help.mikrotik.com/docs/display/ROS/Connection+tracking,
// and the 6.x page https://wiki.mikrotik.com/wiki/Manual:Connection_tracking).
type Connection struct {
	ID       string `json:"id"`
	Protocol string `json:"protocol"`
	// Src and Dst are the addresses the client's first packet carried;
	// their ports are 0 for a protocol without ports.
	Src netip.AddrPort `json:"src"`
	Dst netip.AddrPort `json:"dst"`
	// ReplySrc is where the replies come from: the translated destination
	// when dst-nat applied to the connection.
	ReplySrc netip.AddrPort `json:"reply_src"`
	// Unreadable: see Record.Unreadable.
	Unreadable string `json:"unreadable,omitempty"`
}

// connProps are the properties a connection is read with.
var connProps = ".id,protocol,src-address,dst-address,reply-src-address"

// ConnectionFrom reads a connection row strictly: an address with a port
// for tcp and udp, without one for anything else (see RecordFrom).
func ConnectionFrom(m map[string]string) Connection {
	return connectionFrom(m, (*reader).endpoint)
}

// connectionFrom reads what a connection row of either family holds:
// endpoint reads each of its three ends, as the family prints them.
func connectionFrom(m map[string]string, endpoint func(rd *reader, addrKey string, ported bool) netip.AddrPort) Connection {
	rd := &reader{m: m}
	c := Connection{ID: rd.id(), Protocol: line(m, "protocol")}
	if c.Protocol == "" {
		rd.fail("no protocol")
	}
	ported := c.Protocol == "tcp" || c.Protocol == "udp"
	c.Src = endpoint(rd, "src-address", ported)
	c.Dst = endpoint(rd, "dst-address", ported)
	c.ReplySrc = endpoint(rd, "reply-src-address", ported)
	if rd.problem != "" {
		c.Unreadable = rd.problem + " in " + rowText(m)
	}
	return c
}

// endpoint reads an address, with a port when the protocol has them.
func (rd *reader) endpoint(key string, ported bool) netip.AddrPort {
	v, ok := rd.m[key]
	if !ok {
		rd.fail("no %s", key)
		return netip.AddrPort{}
	}
	if ported {
		ap, err := netip.ParseAddrPort(v)
		if err != nil {
			rd.fail("%s %q is not an address and port", key, quoted(v))
		}
		return ap
	}
	a, err := netip.ParseAddr(v)
	if err != nil {
		rd.fail("%s %q is not an address", key, quoted(v))
	}
	return netip.AddrPortFrom(a, 0)
}

// Connections is a bounded reading of the connection table: at most the
// cap asked for, and how many more the router holds of those asked.
type Connections struct {
	Rows []Connection `json:"rows"`
	More int          `json:"more,omitempty"`
}

// String says how many were read, and how many more there are.
func (c Connections) String() string {
	if c.More > 0 {
		return fmt.Sprintf("%d connection(s) (%d more)", len(c.Rows), c.More)
	}
	return fmt.Sprintf("%d connection(s)", len(c.Rows))
}

// ConnectionsTo reads the tracked connections to an address: to its ports
// of tcp and udp, and (icmp) to the address itself, at most max of those
// keep takes (nil takes every one). The router picks them by their whole
// dst-address (a query matches a whole value) and sends only the
// properties read, so a large table costs what those connections cost;
// the reply is bounded as every reply is. Only the rows keep takes count
// toward max (a connection the caller has no use for, such as an exempt
// source's, never fills the cap in place of one it needs); the rows past
// max are counted in More, not kept. An unreadable row is always kept, so
// that the caller sees it.
func (c *Client) ConnectionsTo(ctx context.Context, family Family, dst netip.Addr, tcp, udp []int, icmp bool, max int, keep func(Connection) bool) (Connections, error) {
	if family == IPv6 {
		return c.connections6To(ctx, dst, tcp, udp, icmp, max, keep)
	}
	var dsts []string
	add := func(d string) {
		// A port carried over both tcp and udp is asked for once; the
		// words keep the order of the config's ports.
		if !slices.Contains(dsts, d) {
			dsts = append(dsts, d)
		}
	}
	for _, p := range append(append([]int{}, tcp...), udp...) {
		add(netip.AddrPortFrom(dst, uint16(p)).String())
	}
	if icmp {
		add(dst.String())
	}
	var out Connections
	if len(dsts) == 0 {
		return out, nil
	}
	words := anyOf([]string{family.Menu("connection") + "/print", "=.proplist=" + connProps}, "dst-address", dsts)
	r, err := c.Run(ctx, words...)
	if err != nil {
		return out, fmt.Errorf("read %s: %w", family.Menu("connection"), err)
	}
	for _, m := range r.Rows {
		// A udp flow to a tcp port is not the bridge's.
		out.add(ConnectionFrom(m), tcp, udp, icmp, max, keep)
	}
	return out, nil
}

// add keeps a connection read when it is one asked for and keep takes
// it, up to max; past max it is counted in More.
func (out *Connections) add(conn Connection, tcp, udp []int, icmp bool, max int, keep func(Connection) bool) {
	if conn.Unreadable == "" && (!carried(conn, tcp, udp, icmp) || (keep != nil && !keep(conn))) {
		return
	}
	if len(out.Rows) >= max {
		out.More++
		return
	}
	out.Rows = append(out.Rows, conn)
}

// carried says whether a connection is of a protocol and port asked for.
func carried(c Connection, tcp, udp []int, icmp bool) bool {
	port := int(c.Dst.Port())
	has := func(ports []int) bool {
		for _, p := range ports {
			if p == port {
				return true
			}
		}
		return false
	}
	switch strings.ToLower(c.Protocol) {
	case "tcp":
		return has(tcp)
	case "udp":
		return has(udp)
	case "icmp", "icmpv6":
		return icmp
	}
	return false
}

// ConnectionExists says whether the connection table still holds an entry:
// the read-back of a removal whose reply was lost.
func (c *Client) ConnectionExists(ctx context.Context, family Family, id string) (bool, error) {
	r, err := c.Run(ctx, family.Menu("connection")+"/print", "=.proplist=.id", "?.id="+id)
	if err != nil {
		return false, fmt.Errorf("read %s: %w", family.Menu("connection"), err)
	}
	return len(r.Rows) > 0, nil
}

// InMatch says whether an address is in a matcher's value as a router
// prints it: an address, a prefix or a range ("!" is not taken).
func InMatch(a netip.Addr, v string) bool {
	if p, err := netip.ParsePrefix(v); err == nil {
		return p.Contains(a)
	}
	lo, hi, isRange := strings.Cut(v, "-")
	first, err := netip.ParseAddr(lo)
	if err != nil {
		return false
	}
	if !isRange {
		return first == a
	}
	last, err := netip.ParseAddr(hi)
	return err == nil && a.BitLen() == first.BitLen() && !a.Less(first) && !last.Less(a)
}
