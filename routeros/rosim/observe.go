package rosim

import (
	"slices"
	"strings"
)

// The firewall as a data plane sees it: the lab applies the emulator's NAT
// rules to a real router namespace (nft) and its connection removals to
// the namespace's conntrack, so a rule a client writes over the API
// rewrites real packets. The router stays the control plane: this file
// only reads its tables and says when they changed.

// Firewall is a snapshot of what the data plane applies, each row as print
// shows it (.id included).
type Firewall struct {
	// NAT are /ip/firewall/nat's enabled rules, in order.
	NAT []map[string]string
	// AddressLists are /ip/firewall/address-list's enabled entries;
	// HasAddressLists is false when this router has no such menu, so a
	// rule naming a list cannot be applied.
	AddressLists    []map[string]string
	HasAddressLists bool
	// ListMembers are /interface/list/member's enabled entries.
	ListMembers []map[string]string
}

// addressListPath is the menu of address lists, where a router has one.
const addressListPath = "/ip/firewall/address-list"

// firewallObserver is who is told of firewall changes, and the
// connections removed that it has not taken yet.
type firewallObserver struct {
	changed func()
	removed []map[string]string
	// lost counts removals past the bound, not kept.
	lost int
}

// Firewall returns the snapshot the data plane applies.
func (r *Router) Firewall() Firewall {
	r.mu.Lock()
	defer r.mu.Unlock()
	var fw Firewall
	enabled := func(t *table) []map[string]string {
		var out []map[string]string
		for _, row := range t.rows {
			if row["disabled"] != "true" {
				out = append(out, cloneRow(row))
			}
		}
		return out
	}
	fw.NAT = enabled(r.nat)
	fw.ListMembers = enabled(r.ifMembers)
	if t := r.menu(addressListPath); t != nil {
		fw.AddressLists, fw.HasAddressLists = enabled(t), true
	}
	return fw
}

// ObserveFirewall has changed called after every change to the NAT rules,
// the address lists or the interface lists, and after every connection
// removed from /ip/firewall/connection, by a client or a script. It is
// called with the router locked: it must only signal, never call the
// router (read Firewall and RemovedConnections from another goroutine).
func (r *Router) ObserveFirewall(changed func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.observer = &firewallObserver{changed: changed}
}

// RemovedConnections returns the connections removed from
// /ip/firewall/connection since the last call, as print showed them, and
// how many more were removed but not kept (at most MaxConnections are).
func (r *Router) RemovedConnections() (rows []map[string]string, lost int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.observer == nil {
		return nil, 0
	}
	rows, lost = r.observer.removed, r.observer.lost
	r.observer.removed, r.observer.lost = nil, 0
	return rows, lost
}

// Forget drops a tracked connection the way its timeout does on a router:
// not a change anyone made, so neither Applied nor RemovedConnections
// lists it. An .id not in the table is no error (it was removed already).
func (r *Router) Forget(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tracked.rows = slices.DeleteFunc(r.tracked.rows, func(row row) bool { return row[".id"] == id })
}

// observeChange is deferred around every command: for a change to a menu
// the data plane applies, it tells the observer once the command is done,
// and keeps the connections a remove took away. The caller holds r.mu.
func (r *Router) observeChange(t *table, verb string, attrs []attr) func() {
	o := r.observer
	if o == nil || verb == "print" || verb == "getall" {
		return func() {}
	}
	if t != r.nat && t != r.ifMembers && t != r.ifLists && t != r.tracked && t != r.menu(addressListPath) {
		return func() {}
	}
	var before []row
	if t == r.tracked && verb == "remove" {
		for _, a := range attrs {
			if a.key == ".id" || a.key == "numbers" {
				ids := strings.Split(a.value, ",")
				for _, row := range t.rows {
					if slices.Contains(ids, row[".id"]) {
						before = append(before, cloneRow(row))
					}
				}
			}
		}
	}
	return func() {
		for _, gone := range before {
			if slices.ContainsFunc(t.rows, func(row row) bool { return row[".id"] == gone[".id"] }) {
				continue
			}
			if len(o.removed) >= r.opts.MaxConnections {
				o.lost++
				continue
			}
			o.removed = append(o.removed, gone)
		}
		o.changed()
	}
}

// ProtocolNumber is the IP protocol number of a protocol as a NAT rule's
// protocol property holds it (a name the router takes, or a number), -1
// for none: the data plane matches by number.
func ProtocolNumber(v string) int { return protocolNumber(v) }
