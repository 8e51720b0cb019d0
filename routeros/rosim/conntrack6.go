package rosim

import (
	"fmt"
	"net/netip"
	"strconv"
)

// track6 opens an IPv6 connection through the IPv6 NAT rules, as Track
// does an IPv4 one, into /ipv6/firewall/connection as the manual prints it
// [ctv6]: addresses without ports, the ports apart for tcp and udp, none
// of the IPv4-only counters; an ICMP echo is icmpv6, type 128 (RFC 4443).
func (r *Router) track6(c Conn) (string, error) {
	if !c.Src.Addr().Is6() || !c.Dst.Addr().Is6() || c.Src.Addr().Is4In6() || c.Dst.Addr().Is4In6() {
		return "", fmt.Errorf("rosim: track: %s -> %s is neither IPv4 nor IPv6", c.Src, c.Dst)
	}
	if r.tracked6 == nil {
		return "", fmt.Errorf("rosim: track: RouterOS %s has no /ipv6/firewall/connection", r.prof.name)
	}
	ported := c.Protocol != "icmp"
	if !ported {
		c.Protocol = "icmpv6"
	}
	return r.open(r.tracked6, c, "128", func(c Conn, replySrc, replyDst netip.AddrPort) row {
		row := row{
			"protocol": c.Protocol, "src-address": c.Src.Addr().String(), "dst-address": c.Dst.Addr().String(),
			"reply-src-address": replySrc.Addr().String(), "reply-dst-address": replyDst.Addr().String(),
		}
		if ported {
			row["src-port"], row["dst-port"] = strconv.Itoa(int(c.Src.Port())), strconv.Itoa(int(c.Dst.Port()))
			row["reply-src-port"], row["reply-dst-port"] = strconv.Itoa(int(replySrc.Port())), strconv.Itoa(int(replyDst.Port()))
		}
		return row
	})
}
