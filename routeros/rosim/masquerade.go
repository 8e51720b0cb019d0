package rosim

import (
	"net/netip"
	"strings"
)

// Source NAT by masquerade: "masquerade - replace source address of an IP
// packet to IP determined by routing facility"
// (https://wiki.mikrotik.com/wiki/Manual:IP/Firewall/NAT, the action's
// list; https://help.mikrotik.com/docs/display/ROS/NAT, "Masquerade" and
// "Hairpin NAT": the router's own address on the interface the packet
// leaves by). The emulator's routing is what Options.Addresses and
// /ip/route say: the out interface is the one whose network holds the
// destination (a connected route), else the enabled default route's
// (its gateway naming the interface, or an address in an interface's
// network). When neither tells it, the masquerade translates nothing, and
// the connection says srcnat=false: the emulator does not pretend to know.

// masquerade is where a masquerade rule sends a new connection's source
// from: the out interface's address, with the rule's to-ports if it has
// them. The caller holds r.mu.
func (r *Router) masquerade(rule row, c Conn, from netip.AddrPort) (netip.AddrPort, bool) {
	addr, ok := r.outAddress(c.Dst.Addr())
	if !ok {
		return from, false
	}
	port := from.Port()
	if v, ok := rule["to-ports"]; ok {
		ranges, _ := parsePorts(v)
		port = uint16(ranges[0][0])
	}
	return netip.AddrPortFrom(addr, port), true
}

// outAddress is the router's address on the interface a packet to dst
// leaves by. The caller holds r.mu.
func (r *Router) outAddress(dst netip.Addr) (netip.Addr, bool) {
	if iface, ok := r.connected(dst); ok {
		return r.opts.Addresses[iface].Addr(), true
	}
	for _, route := range r.routes.rows {
		p, err := netip.ParsePrefix(route["dst-address"])
		if err != nil || p.Bits() != 0 || p.Addr().Is4() != dst.Is4() || route["disabled"] == "true" {
			continue
		}
		gw, iface, named := strings.Cut(route["gateway"], "%")
		if !named {
			iface = gw
		}
		if a, err := netip.ParseAddr(gw); err == nil && !named {
			iface, named = r.connected(a)
		} else {
			named = true
		}
		if own, ok := r.opts.Addresses[iface]; named && ok && own.Addr().Is4() == dst.Is4() {
			return own.Addr(), true
		}
	}
	return netip.Addr{}, false
}

// connected is the interface whose network holds a, in Interfaces' order.
// The caller holds r.mu.
func (r *Router) connected(a netip.Addr) (string, bool) {
	for _, iface := range r.opts.Interfaces {
		if p, ok := r.opts.Addresses[iface]; ok && p.Masked().Contains(a) {
			return iface, true
		}
	}
	return "", false
}
