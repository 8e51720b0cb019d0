package failover

import (
	"net/netip"

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

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
