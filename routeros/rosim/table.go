package rosim

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/failwatch/failwatch/config"
)

// trap is a RouterOS !trap: a category (-1 for none) and the router's message.
type trap struct {
	category int
	message  string
}

func (t *trap) Error() string { return t.message }

func trapf(category int, format string, args ...any) *trap {
	return &trap{category, fmt.Sprintf(format, args...)}
}

// Trap categories as the RouterOS API manual numbers them.
const (
	catMissing     = 0 // missing item or command
	catValue       = 1 // argument value failure
	catInterrupted = 2 // execution of command interrupted
	catGeneral     = 4 // general failure
	catNone        = -1
)

// row is one item of a menu, with its properties as RouterOS prints them.
type row map[string]string

// prop describes one property of a menu.
type prop struct {
	name string
	// def is the value printed when unset; "" means absent when unset.
	def      string
	kind     propKind
	readOnly bool
}

type propKind int

const (
	kindText propKind = iota
	kindBool
	kindDuration
	kindAddress
	kindInt
	kindPercent
	kindRanges
	// The firewall's (firewall.go): an IPv4 address, prefix or range that
	// "!" negates; an address or a range to translate to; a port list
	// that "!" negates; a port or a range to translate to; a protocol
	// name or number.
	kindAddrMatch
	kindToAddresses
	kindPorts
	kindToPorts
	kindProtocol
	// The IPv6 firewall's (firewall6.go): an IPv6 address or prefix that
	// "!" negates; an address or prefix to translate to.
	kindAddrMatch6
	kindToAddress6
)

// readsAs says whether a value reads as a kind that is kept as written.
var readsAs = map[propKind]func(v string) bool{
	kindPercent: func(v string) bool { _, err := config.ParsePercent(v); return err == nil },
	kindRanges:  func(v string) bool { _, err := config.ParseStatusRanges(v); return err == nil },
	kindAddress: func(v string) bool { _, err := netip.ParseAddr(v); return err == nil },
	kindInt:     func(v string) bool { _, err := strconv.Atoi(v); return err == nil },
}

// table is a menu such as /ip/dns/static: items in print order, each with
// a stable .id, and the properties it knows.
type table struct {
	path   string
	props  []prop
	rows   []row
	nextID int
	// check validates an item after add or set.
	check func(row) *trap
	// duration prints a duration as the router does.
	duration func(time.Duration) string
	// traffic: the items come from traffic, not from add and set, so the
	// menu has only print and remove (/ip/firewall/connection).
	traffic bool
	// ordered: the items are evaluated in print order (firewall rules), so
	// add takes place-before (orderedAdd).
	ordered bool
}

func (t *table) prop(name string) (prop, bool) {
	for _, p := range t.props {
		if p.name == name {
			return p, true
		}
	}
	return prop{}, false
}

// value normalises a value as RouterOS stores it: yes/no become true/false,
// durations print in the router's own way.
func (t *table) value(p prop, v string) (string, *trap) {
	switch p.kind {
	case kindBool:
		switch strings.ToLower(v) {
		case "yes", "true":
			return "true", nil
		case "no", "false":
			return "false", nil
		}
		return "", trapf(catValue, "value of %s must be yes or no", p.name)
	case kindDuration:
		d, err := config.ParseDuration(v)
		if err != nil || d < 0 {
			return "", trapf(catValue, "value of %s out of range or invalid time interval", p.name)
		}
		return t.duration(d), nil
	case kindPercent, kindRanges, kindAddress, kindInt:
		if !readsAs[p.kind](v) {
			return "", trapf(catValue, "invalid value for argument %s", p.name)
		}
	case kindAddrMatch, kindToAddresses, kindPorts, kindToPorts, kindProtocol:
		return firewallValue(p, v)
	case kindAddrMatch6, kindToAddress6:
		return firewallValue6(p, v)
	}
	return v, nil
}

// apply sets attributes on r, refusing unknown and read-only properties.
func (t *table) apply(r row, attrs []attr) *trap {
	for _, a := range attrs {
		p, ok := t.prop(a.key)
		if !ok || p.readOnly {
			return trapf(catNone, "unknown parameter %s", a.key)
		}
		if a.value == "" && p.kind != kindText {
			delete(r, a.key)
			continue
		}
		v, tr := t.value(p, a.value)
		if tr != nil {
			return tr
		}
		r[a.key] = v
	}
	return nil
}

type attr struct{ key, value string }

// add creates an item and returns its .id.
func (t *table) add(attrs []attr) (string, *trap) {
	r := row{}
	for _, p := range t.props {
		if p.def != "" {
			r[p.name] = p.def
			if p.kind == kindDuration {
				r[p.name], _ = t.value(p, p.def)
			}
		}
	}
	if tr := t.apply(r, attrs); tr != nil {
		return "", tr
	}
	if t.check != nil {
		if tr := t.check(r); tr != nil {
			return "", tr
		}
	}
	return t.insert(r), nil
}

// insert appends an item under a new .id and returns the id.
func (t *table) insert(r row) string {
	t.nextID++
	id := "*" + strings.ToUpper(strconv.FormatInt(int64(t.nextID), 16))
	r[".id"] = id
	t.rows = append(t.rows, r)
	return id
}

// find returns the items named by an API "numbers" or ".id" value: a comma
// separated list of ids (over the API, numbers are ids, not positions).
func (t *table) find(ids string) ([]row, *trap) {
	var out []row
	for id := range strings.SplitSeq(ids, ",") {
		i := slices.IndexFunc(t.rows, func(r row) bool { return r[".id"] == id })
		if i < 0 {
			return nil, trapf(catMissing, "no such item")
		}
		out = append(out, t.rows[i])
	}
	return out, nil
}

// set changes items; on a failure nothing is changed.
func (t *table) set(rows []row, attrs []attr) *trap {
	updated := make([]row, len(rows))
	for i, r := range rows {
		c := cloneRow(r)
		if tr := t.apply(c, attrs); tr != nil {
			return tr
		}
		if t.check != nil {
			if tr := t.check(c); tr != nil {
				return tr
			}
		}
		updated[i] = c
	}
	for i, r := range rows {
		clear(r)
		for k, v := range updated[i] {
			r[k] = v
		}
	}
	return nil
}

func (t *table) remove(rows []row) {
	t.rows = slices.DeleteFunc(t.rows, func(r row) bool {
		for _, x := range rows {
			if x[".id"] == r[".id"] {
				return true
			}
		}
		return false
	})
}

func cloneRow(r row) row {
	c := make(row, len(r))
	for k, v := range r {
		c[k] = v
	}
	return c
}

// words renders an item as =key=value words in the menu's property order,
// limited to proplist when it is given.
func (t *table) words(r row, proplist []string) []string {
	out := []string{}
	emit := func(k string) {
		if v, ok := r[k]; ok {
			out = append(out, "="+k+"="+v)
		}
	}
	if proplist != nil {
		for _, k := range proplist {
			emit(k)
		}
		return out
	}
	emit(".id")
	for _, p := range t.props {
		emit(p.name)
	}
	return out
}

// dnsTypes are the record types /ip/dns/static takes (RouterOS 7).
var dnsTypes = []string{"A", "AAAA", "CNAME", "FWD", "MX", "NS", "NXDOMAIN", "SRV", "TXT"}

// dnsTypeNeeds is the property a record of a type must have, the router
// trapping "... must be set" without it.
var dnsTypeNeeds = map[string]string{"CNAME": "cname", "FWD": "forward-to", "MX": "mx-exchange", "NS": "ns", "SRV": "srv-target"}

func dnsStaticTable(prof profile, duration func(time.Duration) string) *table {
	props := []prop{
		{name: "name"},
		{name: "regexp"},
		{name: "type"},
		{name: "address", kind: kindAddress},
		{name: "cname"},
		{name: "forward-to"},
		{name: "mx-exchange"},
		{name: "mx-preference", kind: kindInt},
		{name: "ns"},
		{name: "srv-port", kind: kindInt},
		{name: "srv-priority", kind: kindInt},
		{name: "srv-target"},
		{name: "srv-weight", kind: kindInt},
		{name: "text"},
	}
	if prof.matchSubdomain {
		props = append(props, prop{name: "address-list"})
	}
	props = append(props,
		prop{name: "ttl", def: "1d", kind: kindDuration},
		prop{name: "dynamic", def: "false", kind: kindBool, readOnly: true},
		prop{name: "disabled", def: "false", kind: kindBool})
	if prof.matchSubdomain {
		props = append(props, prop{name: "match-subdomain", def: "false", kind: kindBool})
	}
	props = append(props, prop{name: "comment"})
	return &table{
		path:     "/ip/dns/static",
		duration: duration,
		props:    props,
		check: func(r row) *trap {
			if r["name"] == "" && r["regexp"] == "" {
				return trapf(catValue, "name or regexp must be set")
			}
			if t, ok := r["type"]; ok {
				r["type"] = strings.ToUpper(t)
				if !slices.Contains(dnsTypes, r["type"]) {
					return trapf(catValue, "input does not match any value of type")
				}
			}
			// RouterOS prints no type for an A record.
			if r["type"] == "A" {
				delete(r, "type")
			}
			switch r["type"] {
			case "":
				if a, err := netip.ParseAddr(r["address"]); err != nil || !a.Is4() {
					return trapf(catValue, "invalid value for argument address")
				}
			case "AAAA":
				if a, err := netip.ParseAddr(r["address"]); err != nil || !a.Is6() {
					return trapf(catValue, "invalid value for argument address")
				}
			}
			if k := dnsTypeNeeds[r["type"]]; k != "" && r[k] == "" {
				return trapf(catValue, "%s must be set", k)
			}
			return nil
		},
	}
}

func netwatchTable(prof profile, duration func(time.Duration) string) *table {
	props := append([]prop{}, prof.netwatch...)
	props = append(props,
		prop{name: "status", def: "unknown", readOnly: true},
		prop{name: "since", readOnly: true})
	if prof.netwatchTypes != nil {
		props = append(props,
			prop{name: "done-tests", def: "0", readOnly: true},
			prop{name: "failed-tests", def: "0", readOnly: true})
		// The last icmp test's results.
		for _, k := range []string{"sent-count", "response-count", "loss-count", "loss-percent", "rtt-avg", "rtt-min", "rtt-max", "rtt-jitter", "rtt-stdev"} {
			props = append(props, prop{name: k, readOnly: true})
		}
	}
	props = append(props,
		prop{name: "disabled", def: "false", kind: kindBool},
		prop{name: "comment"})
	return &table{
		path:     "/tool/netwatch",
		duration: duration,
		props:    props,
		check: func(r row) *trap {
			if _, err := netip.ParseAddr(r["host"]); err != nil {
				return trapf(catValue, "invalid value for argument host")
			}
			if prof.netwatchTypes != nil && !slices.Contains(prof.netwatchTypes, r["type"]) {
				return trapf(catValue, "invalid value for argument type")
			}
			return nil
		},
	}
}
