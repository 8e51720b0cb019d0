package rosim

import (
	"slices"
	"time"

	"github.com/failwatch/failwatch/config"
)

// An address-list entry with a timeout is removed when it runs out:
// "timeout (time) Time after address will be removed from address list.
// If timeout is not specified, address will be stored in address list
// permanently" ([al6], https://wiki.mikrotik.com/wiki/Manual:IP/Firewall/Address_list);
// [al7] lists timeout alike. The emulator runs it out on the router's own
// clock (TimeScale) and prints what is left of it, so an entry that looks
// like an exemption now may be gone at the next reading, as on a router.
// The moment it runs out is kept in the row under keys no print shows.

const (
	expiresKey = "_expires" // the router's clock, RFC 3339
	timeoutKey = "_timeout" // the timeout the expiry was set from
)

// timed sets a row's expiry when its timeout was given or changed, and
// takes it away when the timeout was. Caller holds r.mu.
func (r *Router) timed(e row) {
	v, ok := e["timeout"]
	switch {
	case !ok:
		delete(e, expiresKey)
		delete(e, timeoutKey)
	case v != e[timeoutKey]:
		d, err := config.ParseDuration(v)
		if err != nil {
			return
		}
		e[expiresKey] = r.now().Add(d).Format(time.RFC3339Nano)
		e[timeoutKey] = v
	}
}

// expireLists removes the entries whose timeout has run out and sets the
// others' timeout to what is left, as a router prints it. Caller holds
// r.mu.
func (r *Router) expireLists() {
	now := r.now()
	for _, t := range []*table{r.addrLists, r.addrLists6} {
		if t == nil {
			continue
		}
		t.rows = slices.DeleteFunc(t.rows, func(e row) bool {
			at, err := time.Parse(time.RFC3339Nano, e[expiresKey])
			if err != nil {
				return false
			}
			if !now.Before(at) {
				return true
			}
			e["timeout"] = t.duration(at.Sub(now).Truncate(time.Second))
			e[timeoutKey] = e["timeout"]
			return false
		})
	}
}
