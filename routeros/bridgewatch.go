package routeros

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
)

// BridgeWatch is one service's TTL bridge as a reading takes it: its rules
// by comment prefix, and the connections it carries (to the primary's
// carried ports, answered by the standby).
type BridgeWatch struct {
	// Key names the reading in RouterState.Bridges (the service).
	Key     string
	Family  Family
	Prefix  string
	Primary netip.Addr
	// Standby is where the carried connections' replies come from: only
	// those count toward MaxBridgeConnections.
	Standby  netip.Addr
	TCP, UDP []int
	ICMP     bool
}

// BridgeReading is what one reading found of a bridge. Err is a reading
// that failed for the bridge alone: the records' reading stands.
type BridgeReading struct {
	Rules []NATRule
	Conns Connections
	Err   error
}

// MaxBridgeConnections bounds the connections a reading reads per bridge.
const MaxBridgeConnections = 256

// readBridges reads every watched bridge, one error each.
func (c *Client) readBridges(ctx context.Context, watches []BridgeWatch) map[string]BridgeReading {
	if len(watches) == 0 {
		return nil
	}
	out := make(map[string]BridgeReading, len(watches))
	// One print of each family's NAT table, however many bridges.
	rules := map[Family][]NATRule{}
	errs := map[Family]error{}
	for _, w := range watches {
		var br BridgeReading
		if _, read := rules[w.Family]; !read && errs[w.Family] == nil {
			rules[w.Family], errs[w.Family] = c.NATRules(ctx, w.Family, "")
		}
		if br.Err = errs[w.Family]; br.Err == nil {
			for _, r := range rules[w.Family] {
				if strings.HasPrefix(r.Comment, w.Prefix) {
					br.Rules = append(br.Rules, r)
				}
			}
			carried := func(conn Connection) bool { return conn.ReplySrc.Addr() == w.Standby }
			br.Conns, br.Err = c.ConnectionsTo(ctx, w.Family, w.Primary, w.TCP, w.UDP, w.ICMP, MaxBridgeConnections, carried)
		}
		out[w.Key] = br
	}
	return out
}

// InterfaceList is what an interface list holds, as far as failwatch can
// tell: its enabled members, whether it is a predefined list that holds
// every interface, and why its members cannot be told when they cannot.
type InterfaceList struct {
	Members []string
	All     bool
	Unknown string
}

// Holds says whether the list holds an interface; false when unknown.
func (l InterfaceList) Holds(iface string) bool { return l.All || slices.Contains(l.Members, iface) }

// ReadInterfaceList reads a list's members (/interface/list/member). The
// predefined all and static hold every interface (dynamic is taken as
// holding them too: failwatch cannot tell which are dynamic); a list that
// includes or excludes other lists cannot be told member by member.
func (c *Client) ReadInterfaceList(ctx context.Context, list string) (InterfaceList, error) {
	switch list {
	case "all", "static", "dynamic":
		return InterfaceList{All: true}, nil
	case "none":
		return InterfaceList{}, nil
	}
	l, err := c.Run(ctx, "/interface/list/print", "=.proplist=name,include,exclude", "?name="+list)
	if err != nil {
		return InterfaceList{}, fmt.Errorf("read /interface/list: %w", err)
	}
	var out InterfaceList
	for _, m := range l.Rows {
		if line(m, "include") != "" || line(m, "exclude") != "" {
			out.Unknown = fmt.Sprintf("interface list %s includes or excludes other lists", list)
		}
	}
	r, err := c.Run(ctx, "/interface/list/member/print", "=.proplist=.id,interface,disabled", "?list="+list)
	if err != nil {
		return InterfaceList{}, fmt.Errorf("read /interface/list/member: %w", err)
	}
	for _, m := range r.Rows {
		rd := &reader{m: m}
		rd.id()
		disabled := rd.boolean("disabled", true)
		iface := line(m, "interface")
		if iface == "" {
			rd.fail("no interface")
		}
		if rd.problem != "" {
			return InterfaceList{}, fmt.Errorf("unreadable interface list member: %s in %s", rd.problem, rowText(m))
		}
		if !disabled {
			out.Members = append(out.Members, iface)
		}
	}
	return out, nil
}

// DefaultRoute is the interfaces the enabled IPv4 default routes leave by,
// and the gateways whose interface the router did not say.
type DefaultRoute struct {
	Interfaces []string
	Untold     []string
}

// ReadDefaultRoute reads /ip/route dst-address=0.0.0.0/0: a route's
// interface is its immediate-gw's (RouterOS 7: "IP%interface", or the
// interface alone), or its gateway's when the gateway names it.
func (c *Client) ReadDefaultRoute(ctx context.Context) (DefaultRoute, error) {
	return c.readDefaultRoute(ctx, "/ip/route", "0.0.0.0/0")
}

// ReadDefaultRoute6 is ReadDefaultRoute for /ipv6/route dst-address=::/0,
// whose gateway names its interface as /ip/route's does
// ("fe80::1%ether1", https://wiki.mikrotik.com/wiki/Manual:IPv6/Route).
func (c *Client) ReadDefaultRoute6(ctx context.Context) (DefaultRoute, error) {
	return c.readDefaultRoute(ctx, "/ipv6/route", "::/0")
}

func (c *Client) readDefaultRoute(ctx context.Context, menu, dst string) (DefaultRoute, error) {
	r, err := c.Run(ctx, menu+"/print", "=.proplist=.id,gateway,immediate-gw,disabled", "?dst-address="+dst)
	if err != nil {
		return DefaultRoute{}, fmt.Errorf("read %s: %w", menu, err)
	}
	var out DefaultRoute
	for _, m := range r.Rows {
		rd := &reader{m: m}
		rd.id()
		if rd.boolean("disabled", true) {
			continue
		}
		if rd.problem != "" {
			return DefaultRoute{}, fmt.Errorf("unreadable default route: %s in %s", rd.problem, rowText(m))
		}
		iface, ok := routeInterface(line(m, "immediate-gw"))
		if !ok {
			iface, ok = routeInterface(line(m, "gateway"))
		}
		if !ok {
			out.Untold = append(out.Untold, line(m, "gateway"))
			continue
		}
		if !slices.Contains(out.Interfaces, iface) {
			out.Interfaces = append(out.Interfaces, iface)
		}
	}
	return out, nil
}

// routeInterface is the interface a gateway value names: "IP%iface" or
// "iface"; an address alone names none.
func routeInterface(gw string) (string, bool) {
	if gw == "" {
		return "", false
	}
	if _, iface, ok := strings.Cut(gw, "%"); ok {
		return iface, iface != ""
	}
	if _, err := netip.ParseAddr(gw); err == nil {
		return "", false
	}
	return gw, true
}

// LocalAddr is the source address the kernel picks towards dst, failwatch's
// own address as the router sees its probes (unless something between
// translates it): a UDP socket's connect sends nothing, and says it.
func LocalAddr(dst netip.Addr) (netip.Addr, error) {
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(dst, 9)))
	if err != nil {
		return netip.Addr{}, err
	}
	defer conn.Close()
	return conn.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap(), nil
}
