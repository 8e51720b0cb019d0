package dataplane

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/failwatch/failwatch/routeros/rosim"
)

// Table is the nft table the data plane owns in the router namespace.
const Table = "ip failwatch_router"

// notMatchers are a NAT row's properties that select no packets: said how
// to act, counted, or only shown.
var notMatchers = []string{".id", "chain", "action", "to-addresses", "to-ports", "comment", "disabled", "dynamic", "invalid", "bytes", "packets", "log"}

// Translate turns the router's firewall into an nft script that replaces
// Table in one transaction. ifaces maps the router's interface names to the
// namespace's; every interface a rule or list names must be mapped.
func Translate(fw rosim.Firewall, ifaces map[string]string) (string, error) {
	t := &translation{fw: fw, ifaces: ifaces, sets: map[string]string{}}
	chains := map[string][]string{}
	for _, row := range fw.NAT {
		line, err := t.rule(row)
		if err != nil {
			return "", fmt.Errorf("nat rule %s: %w", row[".id"], err)
		}
		if line == "" {
			line = "# " + row[".id"] + " can match no packet here"
		}
		chains[row["chain"]] = append(chains[row["chain"]], line)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "table %s\ndelete table %s\ntable %s {\n", Table, Table, Table)
	for _, name := range t.setOrder {
		fmt.Fprintf(&b, "\t# address list %s\n\tset %s {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\tauto-merge\n", strconv.Quote(name), t.sets[name])
		if elems := t.elements[name]; len(elems) > 0 {
			fmt.Fprintf(&b, "\t\telements = { %s }\n", strings.Join(elems, ", "))
		}
		b.WriteString("\t}\n")
	}
	// A router tracks every connection; in a namespace conntrack runs
	// only once a rule uses it, so one rule does from the start.
	b.WriteString("\tchain track {\n\t\ttype filter hook prerouting priority raw; policy accept;\n\t\tct state new\n\t}\n")
	for _, c := range []struct{ name, hook string }{{"dstnat", "prerouting"}, {"srcnat", "postrouting"}} {
		fmt.Fprintf(&b, "\tchain %s {\n\t\ttype nat hook %s priority %s; policy accept;\n", c.name, c.hook, c.name)
		for _, line := range chains[c.name] {
			fmt.Fprintf(&b, "\t\t%s\n", line)
		}
		b.WriteString("\t}\n")
	}
	b.WriteString("}\n")
	return b.String(), nil
}

// translation is one Translate's state: the address lists the rules name,
// each an nft set.
type translation struct {
	fw       rosim.Firewall
	ifaces   map[string]string
	sets     map[string]string
	setOrder []string
	elements map[string][]string
}

// rule is one NAT row as an nft rule, or "" for a rule that can match no
// packet here (an interface list with no interface).
func (t *translation) rule(row map[string]string) (string, error) {
	for _, k := range slices.Sorted(maps.Keys(row)) {
		v := row[k]
		if !slices.Contains(notMatchers, k) && !slices.Contains(matchers, k) {
			return "", fmt.Errorf("property %s is not applied by the lab's data plane", k)
		}
		if k == "log" && v != "false" {
			return "", fmt.Errorf("log=%s is not applied by the lab's data plane", v)
		}
	}
	if row["invalid"] == "true" {
		// The router itself does not apply an invalid rule.
		return "", nil
	}
	chain, action := row["chain"], row["action"]
	if chain != "dstnat" && chain != "srcnat" {
		return "", fmt.Errorf("chain %s is not applied by the lab's data plane (only dstnat and srcnat)", chain)
	}
	var parts []string
	for _, k := range matchers {
		v, ok := row[k]
		if !ok {
			continue
		}
		m, never, err := t.match(k, v)
		if err != nil {
			return "", fmt.Errorf("%s=%s: %w", k, v, err)
		}
		if never {
			return "", nil
		}
		if m != "" {
			parts = append(parts, m)
		}
	}
	verdict, err := verdict(chain, action, row)
	if err != nil {
		return "", err
	}
	parts = append(parts, verdict, "comment "+strconv.Quote(row[".id"]))
	return strings.Join(parts, " "), nil
}

// matchers are the matchers translated, in the order nft needs them: the
// protocol before its ports.
var matchers = []string{"protocol", "src-address", "dst-address", "src-address-list", "dst-address-list", "src-port", "dst-port", "in-interface", "in-interface-list"}

// match is one matcher as nft text; never says the rule can match nothing.
func (t *translation) match(k, v string) (text string, never bool, err error) {
	body, neg := strings.CutPrefix(v, "!")
	op := ""
	if neg {
		op = "!= "
	}
	switch k {
	case "protocol":
		n := rosim.ProtocolNumber(body)
		if n < 0 {
			return "", false, fmt.Errorf("not a protocol")
		}
		return fmt.Sprintf("meta l4proto %s%d", op, n), false, nil
	case "src-address", "dst-address":
		a, err := nftAddress(body)
		return fmt.Sprintf("ip %s %s%s", addrField(k), op, a), false, err
	case "src-address-list", "dst-address-list":
		set, err := t.set(body)
		return fmt.Sprintf("ip %s %s@%s", addrField(k), op, set), false, err
	case "src-port", "dst-port":
		ports, err := nftPorts(body)
		return fmt.Sprintf("th %s %s{ %s }", map[string]string{"src-port": "sport", "dst-port": "dport"}[k], op, ports), false, err
	case "in-interface":
		dev, ok := t.ifaces[body]
		if !ok {
			return "", false, fmt.Errorf("interface %s has no namespace interface", body)
		}
		return fmt.Sprintf("iifname %s%s", op, strconv.Quote(dev)), false, nil
	}
	return t.interfaceList(body, neg)
}

func addrField(k string) string {
	if strings.HasPrefix(k, "src") {
		return "saddr"
	}
	return "daddr"
}

// interfaceList matches the interfaces of a list: all (and static: no
// interface here is dynamic) holds every one, none and dynamic none, any
// other list its enabled members.
func (t *translation) interfaceList(list string, neg bool) (string, bool, error) {
	switch list {
	case "all", "static":
		return "", neg, nil
	case "none", "dynamic":
		return "", !neg, nil
	}
	var devs []string
	for _, m := range t.fw.ListMembers {
		if m["list"] != list {
			continue
		}
		dev, ok := t.ifaces[m["interface"]]
		if !ok {
			return "", false, fmt.Errorf("member %s of list %s has no namespace interface", m["interface"], list)
		}
		devs = append(devs, strconv.Quote(dev))
	}
	if len(devs) == 0 {
		return "", !neg, nil
	}
	op := ""
	if neg {
		op = "!= "
	}
	return fmt.Sprintf("iifname %s{ %s }", op, strings.Join(devs, ", ")), false, nil
}

// set is the nft set of an address list, made on first use.
func (t *translation) set(list string) (string, error) {
	if name, ok := t.sets[list]; ok {
		return name, nil
	}
	if !t.fw.HasAddressLists {
		return "", fmt.Errorf("this router has no /ip/firewall/address-list to read the list from")
	}
	var elems []string
	for _, e := range t.fw.AddressLists {
		if e["list"] != list {
			continue
		}
		a, err := nftAddress(e["address"])
		if err != nil {
			return "", fmt.Errorf("address list %s entry %s: %w", list, e[".id"], err)
		}
		elems = append(elems, a)
	}
	if t.elements == nil {
		t.elements = map[string][]string{}
	}
	name := "list" + strconv.Itoa(len(t.setOrder))
	t.sets[list], t.elements[list] = name, elems
	t.setOrder = append(t.setOrder, list)
	return name, nil
}

// verdict is the rule's action as nft text.
func verdict(chain, action string, row map[string]string) (string, error) {
	to, err := target(row)
	if err != nil {
		return "", err
	}
	switch {
	case action == "accept":
		return "accept", nil
	case action == "dst-nat" && chain == "dstnat" && row["to-addresses"] != "":
		return "dnat to " + to, nil
	case action == "src-nat" && chain == "srcnat" && row["to-addresses"] != "":
		return "snat to " + to, nil
	case action == "masquerade" && chain == "srcnat":
		if to != "" {
			return "masquerade to " + to, nil
		}
		return "masquerade", nil
	}
	return "", fmt.Errorf("action %s in chain %s (to-addresses %q) is not applied by the lab's data plane", action, chain, row["to-addresses"])
}

// target is to-addresses and to-ports as nft's "ADDR[-ADDR][:PORT[-PORT]]".
func target(row map[string]string) (string, error) {
	var out string
	if v := row["to-addresses"]; v != "" {
		lo, hi, isRange := strings.Cut(v, "-")
		if !isIPv4(lo) || isRange && !isIPv4(hi) {
			return "", fmt.Errorf("to-addresses=%s is not an IPv4 address or range", v)
		}
		out = v
	}
	if v := row["to-ports"]; v != "" {
		// nft maps ports only after a match of a protocol that has them.
		if n := rosim.ProtocolNumber(row["protocol"]); n != 6 && n != 17 {
			return "", fmt.Errorf("to-ports=%s without protocol tcp or udp is not applied by the lab's data plane", v)
		}
		p, err := nftPorts(v)
		if err != nil || strings.Contains(p, ",") {
			return "", fmt.Errorf("to-ports=%s is not a port or a range", v)
		}
		out += ":" + p
	}
	return out, nil
}

func isIPv4(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is4()
}

// nftAddress checks an IPv4 address, prefix or range and writes it as nft
// does; anything else (a DNS name in an address list, IPv6) is refused.
func nftAddress(v string) (string, error) {
	if p, err := netip.ParsePrefix(v); err == nil && p.Addr().Is4() {
		return p.Masked().String(), nil
	}
	lo, hi, isRange := strings.Cut(v, "-")
	if isIPv4(lo) && (!isRange || isIPv4(hi)) {
		return v, nil
	}
	return "", fmt.Errorf("%q is not an IPv4 address, prefix or range", v)
}

// nftPorts checks a port list ("80", "80,443", "1000-2000") and writes it
// as the body of an nft set.
func nftPorts(v string) (string, error) {
	var out []string
	for part := range strings.SplitSeq(v, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		if !isRange {
			hi = lo
		}
		a, err1 := strconv.Atoi(lo)
		b, err2 := strconv.Atoi(hi)
		if err1 != nil || err2 != nil || a < 0 || b > 65535 || b < a {
			return "", fmt.Errorf("%q is not a port list", v)
		}
		out = append(out, part)
	}
	return strings.Join(out, ", "), nil
}
