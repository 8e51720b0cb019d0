package failover

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/failwatch/failwatch/config"
)

// BridgeOwnWarnings are what `failwatch check` can tell of each bridge
// without the router: failwatch's own source address towards the primary
// (local, the kernel's choice for a socket to it) among the bridge's
// src_address clients and not in bridge.exempt. Only a warning: setup
// puts this host's address in the router's exempt list, which check cannot
// read; the engine's start-up check, which reads it, refuses such a bridge.
// A client found only by in_interface_list is the router's to tell.
func BridgeOwnWarnings(cfg *config.Config, local func(netip.Addr) (netip.Addr, error)) []string {
	var out []string
	for _, svc := range cfg.Services {
		b := svc.Bridge
		if !b.On() {
			continue
		}
		primary, _ := cfg.Pair(svc)
		p, err := netip.ParseAddr(primary.Address)
		if err != nil {
			continue
		}
		own, err := local(p.Unmap())
		if err != nil {
			out = append(out, fmt.Sprintf("%s's bridge: failwatch's own source address towards %s cannot be told (%v): the engine checks it at start", svc.Name, p, err))
			continue
		}
		in := func(list []netip.Prefix) bool {
			return slices.ContainsFunc(list, func(n netip.Prefix) bool { return n.Contains(own) })
		}
		if in(b.SrcAddresses) && !in(b.Exempt) {
			out = append(out, fmt.Sprintf("%s's bridge: failwatch's own address %s towards %s is among its clients (src_address) and not in bridge.exempt: "+
				"its probes would be carried unless the router's exempt list holds it: run failwatch setup on this host", svc.Name, own, p))
		}
	}
	return out
}
