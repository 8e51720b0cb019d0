package failover

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/routeros"
)

// RecordType is the type of record a failover between these servers
// moves: AAAA when the primary's address is IPv6, else A. Records of other
// types on the name (TXT, MX, ...) are not the failover's business.
func RecordType(servers ...config.Server) string {
	for _, s := range servers {
		if a, err := netip.ParseAddr(s.Address); err == nil {
			if a.Is6() && !a.Is4In6() {
				return "AAAA"
			}
			return "A"
		}
	}
	return "A"
}

// OfType keeps the records of one type.
func OfType(records []routeros.Record, typ string) []routeros.Record {
	var out []routeros.Record
	for _, r := range records {
		if r.Type == typ || (r.Type == "" && typ == "A") {
			out = append(out, r)
		}
	}
	return out
}

// NetwatchByHost is what the router's netwatch says of each host: the
// statuses of its enabled entries ("up", "down", "up/down" when they
// disagree), "held" when its entries are held by failwatch, "disabled" when
// they are off for another reason, and "" when there is no entry: a held
// or disabled netwatch is not the same as none.
func NetwatchByHost(entries []routeros.Netwatch, hosts ...string) map[string]string {
	out := make(map[string]string, len(hosts))
	for _, h := range hosts {
		var statuses []string
		held, disabled := false, false
		for _, n := range entries {
			switch {
			case n.Host != h:
			case !n.Disabled:
				if !slices.Contains(statuses, n.Status) {
					statuses = append(statuses, n.Status)
				}
			case strings.HasSuffix(n.Comment, HoldMark):
				held = true
			default:
				disabled = true
			}
		}
		switch {
		case len(statuses) > 0:
			out[h] = strings.Join(statuses, "/")
		case held:
			out[h] = "held"
		case disabled:
			out[h] = "disabled"
		}
	}
	return out
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
