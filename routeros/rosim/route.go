package rosim

import (
	"net/netip"
	"slices"
	"strings"
)

// /ip/route, as far as the TTL bridge's start-up check reads it: the
// default route's gateway names the WAN interface, which a bridge's
// clients must not include.
//
//	[rt6] https://wiki.mikrotik.com/wiki/Manual:IP/Route and the v3 guide
//	      (https://manualshive.com/ru/manual/allied-telesis/at-wr4500-series/2902624?page=112):
//	      dst-address "(IP address/netmask; default: 0.0.0.0/0)", gateway,
//	      distance; comment and disabled as every menu has them.
//	[rt7] a RouterOS 7 "/ip route print detail" as public repositories
//	      capture it: "dst-address=0.0.0.0/0 ... gateway=192.168.12.254
//	      immediate-gw=192.168.12.254%Vlan12", and "gateway=Vlan12
//	      immediate-gw=Vlan12" for a connected route: the next hop and the
//	      interface it leaves by, read-only.
//
// /ip/route does not resolve a gateway given as an address alone (the
// interfaces' addresses, Options.Addresses, serve masquerade only):
// immediate-gw is printed only when the gateway names its interface
// ("10.0.0.1%ether1" or "ether1"), and a client must say it cannot tell
// the interface otherwise.

// routeTable makes /ip/route for the router's version.
func (r *Router) routeTable() *table { return r.routeTableOf("/ip/route", false) }

// route6Table makes /ipv6/route: the same properties, IPv6 addresses, the
// default route ::/0, and a gateway that may name its interface
// ("fe80::21a:4dff:fe56:1f4d%ether1",
// https://wiki.mikrotik.com/wiki/Manual:IPv6/Route: "link local addresses
// can be used as route nexthops if interface is specified").
func (r *Router) route6Table() *table { return r.routeTableOf("/ipv6/route", true) }

// routeTableOf makes a family's route menu for the router's version.
func (r *Router) routeTableOf(path string, v6 bool) *table {
	v7 := !strings.HasPrefix(r.prof.name, "6.")
	def := map[bool]string{false: "0.0.0.0/0", true: "::/0"}[v6]
	props := []prop{
		{name: "dst-address", def: def}, {name: "gateway"}, {name: "distance", def: "1", kind: kindInt},
		{name: "active", def: "true", readOnly: true}, {name: "dynamic", def: "false", readOnly: true},
	}
	if v7 {
		props = append(props, prop{name: "immediate-gw", readOnly: true})
	}
	return r.configMenu(path, props, func(row row) *trap {
		p, err := netip.ParsePrefix(row["dst-address"])
		if err != nil || p.Addr().Is4() == v6 {
			return trapf(catValue, "invalid value for argument dst-address")
		}
		row["dst-address"] = p.Masked().String()
		gw := row["gateway"]
		if gw == "" {
			return missing("gateway")
		}
		addr, iface, hasIface := strings.Cut(gw, "%")
		a, err := netip.ParseAddr(addr)
		if err == nil && a.Is4() == v6 {
			return noSuchValue("gateway")
		}
		switch {
		case hasIface && (err != nil || !slices.Contains(r.opts.Interfaces, iface)):
			return noSuchValue("gateway")
		case !hasIface && err != nil && !slices.Contains(r.opts.Interfaces, gw):
			return noSuchValue("gateway")
		}
		row["active"] = "true"
		if row["disabled"] == "true" {
			row["active"] = "false"
		}
		delete(row, "immediate-gw")
		if v7 && (hasIface || err != nil) {
			row["immediate-gw"] = gw
		}
		return nil
	})
}
