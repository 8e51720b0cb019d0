package rosim

import (
	"net/netip"
	"slices"
	"strings"
)

// /ip/firewall/address-list, which the TTL bridge's rules name as their
// clients (src-address-list) and exemptions. Its properties:
//
//	[al6] https://wiki.mikrotik.com/wiki/Manual:IP/Firewall/Address_list
//	      (RouterOS 2.9 to 6): address "(DNS Name | IP address/netmask |
//	      IP-IP)", list, timeout; print flags X disabled, D dynamic.
//	[al7] https://help.mikrotik.com/docs/display/ROS/Address-lists and
//	      https://manual.mikrotik.com/docs/cli-reference/ip/firewall/address-list
//	      (RouterOS 7): list "( mandatory )", address ("IP-IP ranges are
//	      supported only for IPv4 addresses"; a range "will auto modify
//	      the typed entry to 192.168.0.0/23 on saving"), timeout, dynamic
//	      "(yes, no) Allows creating data entry with dynamic form", and the
//	      read-only creation-time. The 6.x page has neither a settable
//	      dynamic nor creation-time, so the 6.49 profile takes neither.
//
// A DNS name as the address is refused here: a router resolves it into
// dynamic entries of its own, which the emulator does not; refusing it is
// stricter than a router, never looser. An entry's timeout runs out on
// the router's clock (listexpiry.go).

// addressListTable makes /ip/firewall/address-list for the router's
// version.
func (r *Router) addressListTable() *table {
	v6 := strings.HasPrefix(r.prof.name, "6.")
	props := []prop{{name: "list"}, {name: "address"}, {name: "timeout", kind: kindDuration}}
	if v6 {
		props = append(props, prop{name: "dynamic", def: "false", readOnly: true})
	} else {
		props = append(props, prop{name: "dynamic", def: "false", kind: kindBool}, prop{name: "creation-time", readOnly: true})
	}
	return r.listTable("/ip/firewall/address-list", props, listAddress, !v6)
}

// listTable is an address-list menu with the version's props: an entry needs a list and an address, which
// address checks and returns as the router keeps it; a timeout runs out
// on the router's clock, and created stamps creation-time.
func (r *Router) listTable(path string, props []prop, address func(string) (string, bool), created bool) *table {
	return r.configMenu(path, props, func(row row) *trap {
		if t := missingOf(row, "list", "address"); t != nil {
			return t
		}
		a, ok := address(row["address"])
		if !ok {
			return trapf(catValue, "invalid value for argument address")
		}
		row["address"] = a
		if created && row["creation-time"] == "" {
			row["creation-time"] = r.stamp(r.now())
		}
		r.timed(row)
		return nil
	})
}

// configMenu is a menu of configuration: its props, then disabled and
// comment, which a router prints last; durations on the router's clock.
func (r *Router) configMenu(path string, props []prop, check func(row) *trap) *table {
	props = append(props, prop{name: "disabled", def: "false", kind: kindBool}, prop{name: "comment"})
	return &table{path: path, duration: r.formatDuration, props: props, check: check}
}

// listAddress is an IPv4 address, prefix or range as the router keeps it
// [al7]: a host prefix as its address, a prefix by its network, a range
// that is exactly a prefix as that prefix.
func listAddress(v string) (string, bool) {
	m, ok := parseAddrMatch(v)
	if !ok {
		return "", false
	}
	if m.lo == m.hi {
		return m.lo.String(), true
	}
	for bits := 0; bits < 32; bits++ {
		p := netip.PrefixFrom(m.lo, bits).Masked()
		if last, _ := parseAddrMatch(p.String()); p.Addr() == m.lo && last.hi == m.hi {
			return p.String(), true
		}
	}
	return m.lo.String() + "-" + m.hi.String(), true
}

// inAddressList says whether an address is in an enabled entry of a list.
// The caller holds r.mu.
func (r *Router) inAddressList(list string, a netip.Addr) bool {
	r.expireLists()
	lists := r.addrLists
	if !a.Is4() {
		lists = r.addrLists6
	}
	return slices.ContainsFunc(lists.rows, func(e row) bool {
		return e["list"] == list && e["disabled"] != "true" && addrMatches(e["address"], a)
	})
}
