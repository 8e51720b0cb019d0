package routeros

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/failwatch/failwatch/config"
)

// The TTL bridge's rows: /ip/firewall/nat rules, /ip/firewall/address-list
// entries and /ip/firewall/connection entries (and their /ipv6 twins), read
// as strictly as RecordFrom reads a record: a row that is not in a form a
// router sends says so in Unreadable, and is shown, never acted on.

// Family is a firewall's address family: "ip" or "ipv6", as the menus
// name it.
type Family string

// The two families.
const (
	IPv4 Family = "ip"
	IPv6 Family = "ipv6"
)

// Menu is a firewall menu of the family: Menu("nat") is /ip/firewall/nat.
func (f Family) Menu(sub string) string { return "/" + string(f) + "/firewall/" + sub }

// NATRule is one /ip/firewall/nat rule, with the properties the bridge
// writes and reads.
type NATRule struct {
	ID              string `json:"id"`
	Chain           string `json:"chain"`
	Action          string `json:"action"`
	Protocol        string `json:"protocol,omitempty"`
	SrcAddress      string `json:"src_address,omitempty"`
	DstAddress      string `json:"dst_address,omitempty"`
	DstPort         string `json:"dst_port,omitempty"`
	ToAddresses     string `json:"to_addresses,omitempty"`
	ToPorts         string `json:"to_ports,omitempty"`
	SrcAddressList  string `json:"src_address_list,omitempty"`
	InInterfaceList string `json:"in_interface_list,omitempty"`
	Comment         string `json:"comment"`
	Disabled        bool   `json:"disabled"`
	Dynamic         bool   `json:"dynamic,omitempty"`
	Invalid         bool   `json:"invalid,omitempty"`
	// Extra are the other matchers the rule has (natExtra), as key=value:
	// a rule with any is not one failwatch wrote.
	Extra []string `json:"extra,omitempty"`
	// Unreadable says why the row is none of the forms a router sends
	// (see Record.Unreadable).
	Unreadable string `json:"unreadable,omitempty"`
}

// natProps are the properties a NAT rule is read with.
var natProps = append([]string{".id", "chain", "action", "protocol", "src-address", "dst-address", "dst-port", "to-addresses", "to-address", "to-ports",
	"src-address-list", "in-interface-list", "comment", "disabled", "dynamic", "invalid"}, natExtra...)

// natExtra are the NAT rule's other matchers
// (https://help.mikrotik.com/docs/display/ROS/NAT, "Properties"; the
// community.routeros collection's _api_data.py lists the same per
// version): read only to tell that a rule has one. A name a version lacks
// is simply not printed, and an empty value is none. The parameters of
// other actions (address-list, jump-target, log-prefix) are not read: the
// action itself is compared.
var natExtra = []string{
	"src-port", "port", "in-interface", "out-interface", "out-interface-list",
	"connection-bytes", "connection-limit", "connection-mark", "connection-rate", "connection-type", "content", "dscp",
	"dst-address-list", "dst-address-type", "dst-limit", "fragment", "hotspot", "icmp-options", "in-bridge-port",
	"in-bridge-port-list", "ingress-priority", "ipsec-policy", "ipv4-options", "layer7-protocol", "limit",
	"nth", "out-bridge-port", "out-bridge-port-list", "packet-mark", "packet-size", "per-connection-classifier",
	"priority", "psd", "random", "realm", "routing-mark", "src-address-type", "src-mac-address", "tcp-mss", "time",
	"tls-host", "ttl",
}

// NATRuleFrom reads a /ip/firewall/nat row strictly (see RecordFrom). An
// /ipv6/firewall/nat rule names the address it translates to to-address
// from RouterOS 7.15, to-addresses before (the community.routeros
// collection's _api_data.py): a rule has one or the other.
func NATRuleFrom(m map[string]string) NATRule {
	rd := &reader{m: m}
	r := NATRule{
		ID: rd.id(), Chain: line(m, "chain"), Action: line(m, "action"), Protocol: line(m, "protocol"),
		SrcAddress: rd.match("src-address"), DstAddress: rd.match("dst-address"), DstPort: rd.ports("dst-port"),
		ToAddresses: rd.match("to-addresses"), ToPorts: rd.ports("to-ports"),
		SrcAddressList: line(m, "src-address-list"), InInterfaceList: line(m, "in-interface-list"),
		Comment: line(m, "comment"), Disabled: rd.boolean("disabled", true),
		Dynamic: rd.boolean("dynamic", false), Invalid: rd.boolean("invalid", false),
	}
	for _, k := range natExtra {
		if v, ok := m[k]; ok && v != "" {
			r.Extra = append(r.Extra, k+"="+quoted(v))
		}
	}
	if to := rd.match("to-address"); to != "" && r.ToAddresses != "" {
		rd.fail("both to-addresses and to-address")
	} else if to != "" {
		r.ToAddresses = to
	}
	if r.Chain == "" {
		rd.fail("no chain")
	}
	if r.Action == "" {
		rd.fail("no action")
	}
	if rd.problem != "" {
		r.Unreadable = rd.problem + " in " + rowText(m)
	}
	return r
}

// match reads an optional address matcher: an address, a prefix or a
// range, "!" negating it.
func (rd *reader) match(key string) string {
	v, ok := rd.m[key]
	if !ok {
		return ""
	}
	if !validMatch(strings.TrimPrefix(v, "!")) {
		rd.fail("%s %q is not an address, prefix or range", key, quoted(v))
	}
	return line(rd.m, key)
}

func validMatch(v string) bool {
	if _, err := netip.ParsePrefix(v); err == nil {
		return true
	}
	lo, hi, isRange := strings.Cut(v, "-")
	a, err := netip.ParseAddr(lo)
	if err != nil || !isRange {
		return err == nil
	}
	b, err := netip.ParseAddr(hi)
	return err == nil && a.Is4() == b.Is4() && !b.Less(a)
}

// ports reads an optional port list: "80", "80,443", "1000-2000", "!"
// negating it.
func (rd *reader) ports(key string) string {
	v, ok := rd.m[key]
	if !ok {
		return ""
	}
	if _, ok := ParsePorts(strings.TrimPrefix(v, "!")); !ok {
		rd.fail("%s %q is not a port list", key, quoted(v))
	}
	return line(rd.m, key)
}

// ParsePorts reads a port list as a router prints it. The emulator has
// its own (rosim's parsePorts), so that each side is checked by the other.
func ParsePorts(v string) ([][2]int, bool) {
	var out [][2]int
	for part := range strings.SplitSeq(v, ",") {
		first, last, isRange := strings.Cut(part, "-")
		lo, err1 := strconv.Atoi(first)
		hi, err2 := lo, error(nil)
		if isRange {
			hi, err2 = strconv.Atoi(last)
		}
		if err1 != nil || err2 != nil || lo < 0 || hi > 65535 || hi < lo {
			return nil, false
		}
		out = append(out, [2]int{lo, hi})
	}
	return out, true
}

// NATRules reads the family's NAT rules whose comment starts with prefix,
// in print order. RouterOS queries match a whole value only, so the rules
// are read with a .proplist and picked here; the reply is bounded as every
// reply is.
func (c *Client) NATRules(ctx context.Context, family Family, prefix string) ([]NATRule, error) {
	r, err := c.Run(ctx, family.Menu("nat")+"/print", "=.proplist="+strings.Join(natProps, ","))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", family.Menu("nat"), err)
	}
	var out []NATRule
	for _, m := range r.Rows {
		if strings.HasPrefix(line(m, "comment"), prefix) {
			out = append(out, NATRuleFrom(m))
		}
	}
	return out, nil
}

// AddressListEntry is one /ip/firewall/address-list entry.
type AddressListEntry struct {
	ID       string `json:"id"`
	List     string `json:"list"`
	Address  string `json:"address"`
	Comment  string `json:"comment,omitempty"`
	Disabled bool   `json:"disabled"`
	Dynamic  bool   `json:"dynamic,omitempty"`
	// Timeout is what is left of the entry's timeout, as the router
	// prints it; "" for a permanent entry. A timed entry is removed when it
	// runs out (https://wiki.mikrotik.com/wiki/Manual:IP/Firewall/Address_list:
	// "Time after address will be removed from address list").
	Timeout string `json:"timeout,omitempty"`
	// Unreadable: see Record.Unreadable.
	Unreadable string `json:"unreadable,omitempty"`
}

// Permanent says whether the entry stays until removed: no timeout, and
// not one of the router's own (dynamic) entries.
func (e AddressListEntry) Permanent() bool { return e.Timeout == "" && !e.Dynamic }

// AddressListEntryFrom reads an address-list row strictly. Its address is
// an address, a prefix or a range (a DNS name is the router's to resolve
// into dynamic entries of its own, which are read instead).
func AddressListEntryFrom(m map[string]string) AddressListEntry {
	rd := &reader{m: m}
	e := AddressListEntry{
		ID: rd.id(), List: line(m, "list"), Address: rd.match("address"), Comment: line(m, "comment"),
		Disabled: rd.boolean("disabled", true), Dynamic: rd.boolean("dynamic", false), Timeout: line(m, "timeout"),
	}
	if _, ok := m["timeout"]; ok {
		if _, err := config.ParseDuration(e.Timeout); err != nil {
			rd.fail("timeout %q is not a duration", quoted(e.Timeout))
		}
	}
	if e.List == "" {
		rd.fail("no list")
	}
	if _, ok := m["address"]; !ok {
		rd.fail("no address")
	}
	if rd.problem != "" {
		e.Unreadable = rd.problem + " in " + rowText(m)
	}
	return e
}

// AddressList reads the entries of one list.
func (c *Client) AddressList(ctx context.Context, family Family, list string) ([]AddressListEntry, error) {
	r, err := c.Run(ctx, family.Menu("address-list")+"/print", "?list="+list)
	if err != nil {
		return nil, fmt.Errorf("read %s %s: %w", family.Menu("address-list"), list, err)
	}
	out := make([]AddressListEntry, 0, len(r.Rows))
	for _, m := range r.Rows {
		out = append(out, AddressListEntryFrom(m))
	}
	return out, nil
}

// Add adds an item to a menu, as key, value pairs, and returns its .id.
func (c *Client) Add(ctx context.Context, menu string, kv ...string) (string, error) {
	words := []string{menu + "/add"}
	for i := 0; i+1 < len(kv); i += 2 {
		words = append(words, "="+kv[i]+"="+kv[i+1])
	}
	r, err := c.Run(ctx, words...)
	if err != nil {
		return "", err
	}
	id := r.Done["ret"]
	if !ValidID(id) {
		return "", fmt.Errorf("%s/add: the router answered id %q, not *HEX", menu, quoted(id))
	}
	return id, nil
}

// Remove removes one item of a menu.
func (c *Client) Remove(ctx context.Context, menu, id string) error {
	_, err := c.Run(ctx, menu+"/remove", "=.id="+id)
	return err
}
