package rosim

import (
	"context"
	"fmt"
)

// Import runs a whole RouterOS script as /import would, through the same
// menus as the API (a property this version lacks is refused here as
// there). It stops at the first error, saying which line, as a router
// does; what ran before it stays.
func (r *Router) Import(src string) error {
	_, err := r.ImportFailing(src, 0)
	return err
}

// ImportFailing is Import with the n-th change it makes (an add, set,
// enable, disable, remove or flush, in the order the script runs them,
// inside :if and :do blocks too) refused as a router refuses a line it
// cannot take: for tests of what every prefix of a script leaves behind.
// It returns how many changes the script tried; n beyond that failed
// nothing.
func (r *Router) ImportFailing(src string, n int) (changes int, err error) {
	in := r.newInterp(r.ctx, "admin")
	in.failAt = n
	_, err = in.runBlock(src, true)
	return in.changes, err
}

// runScript runs a netwatch or scheduler script as *sys; an error is
// logged as the router logs it, never silently ignored.
func (r *Router) runScript(ctx context.Context, src, source string) {
	if err := r.newInterp(ctx, sysUser).run(src); err != nil && ctx.Err() == nil {
		r.mu.Lock()
		r.log.add("script,error", fmt.Sprintf("%s script error: %v", source, err))
		r.mu.Unlock()
	}
}

// menu is the table behind a menu path, nil for none. The caller holds
// r.mu.
func (r *Router) menu(path string) *table {
	switch path {
	case "/ip/dns/static":
		return r.static
	case "/tool/netwatch":
		return r.netwatch
	case "/system/scheduler":
		return r.scheduler
	case "/ip/firewall/nat":
		return r.nat
	case "/ip/route":
		return r.routes
	case "/ipv6/route":
		return r.routes6
	case "/ip/firewall/address-list":
		r.expireLists()
		return r.addrLists
	case "/ip/firewall/connection":
		return r.tracked
	case "/ipv6/firewall/nat":
		return r.nat6
	case "/ipv6/firewall/address-list":
		r.expireLists()
		return r.addrLists6
	case "/ipv6/firewall/connection":
		return r.tracked6
	case "/interface/list":
		return r.ifLists
	case "/interface/list/member":
		return r.ifMembers
	}
	return nil
}
