package failover

import (
	"fmt"
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

// UnreadableError is a reading of a service's rows that failwatch could not
// read strictly: nothing is changed on the strength of it.
type UnreadableError struct {
	Service string
	// Reason is the first row's problem, with the row.
	Reason string
	// Rows counts the service's unreadable rows.
	Rows int
}

func (e *UnreadableError) Error() string {
	s := "unreadable: " + e.Reason
	if e.Rows > 1 {
		s += fmt.Sprintf(" (and %d more unreadable rows)", e.Rows-1)
	}
	return s
}

// Unreadable checks the service's static records in a reading (see
// Unreadable).
func (f *Failover) Unreadable(records []routeros.Record) error {
	return Unreadable(f.Service, f.Siblings, records, f.Primary, f.Standby)
}

// Unreadable checks a service's static records in a reading: a record that
// belongs to it (by its name; by a server's comment or address when its
// name is no sibling service's) and could not be read, or a record whose
// name could not be read at all, makes the service's reading unreadable.
// Other services' rows do not.
func Unreadable(svc config.Service, siblings []string, records []routeros.Record, servers ...config.Server) error {
	matches := []config.RecordMatch{svc.Record}
	for _, s := range servers {
		matches = append(matches, s.Record)
	}
	belongs := func(r routeros.Record) bool {
		switch {
		case r.Name == "" && r.Regexp == "":
			return true
		case strings.EqualFold(r.Name, svc.Name):
			return true
		case slices.ContainsFunc(siblings, func(s string) bool { return strings.EqualFold(r.Name, s) }):
			return false
		}
		return slices.ContainsFunc(matches, func(m config.RecordMatch) bool {
			return (m.Comment != "" || m.Address != "") && r.Matches(m.Comment, m.Address)
		})
	}
	var first string
	n := 0
	for _, r := range records {
		if r.Unreadable == "" || !belongs(r) {
			continue
		}
		if n == 0 {
			first = r.Unreadable
		}
		n++
	}
	if n == 0 {
		return nil
	}
	return &UnreadableError{Service: svc.Name, Reason: first, Rows: n}
}

// unreadableNetwatch checks the netwatch entries of the servers' hosts
// that are the service's (see Own): one that could not be read blocks an
// operation that changes netwatch.
func unreadableNetwatch(service string, entries []routeros.Netwatch) error {
	var first string
	n := 0
	for _, e := range entries {
		if e.Unreadable != "" {
			if n == 0 {
				first = e.Unreadable
			}
			n++
		}
	}
	if n == 0 {
		return nil
	}
	return &UnreadableError{Service: service, Reason: "netwatch " + first, Rows: n}
}

// enabledRecords keeps the records that are not disabled.
func enabledRecords(recs []routeros.Record) []routeros.Record {
	var out []routeros.Record
	for _, r := range recs {
		if !r.Disabled {
			out = append(out, r)
		}
	}
	return out
}

func recordOf(records []routeros.Record, s config.Server) (routeros.Record, bool) {
	for _, r := range records {
		if r.Matches(s.Record.Comment, s.Record.Address) {
			return r, true
		}
	}
	return routeros.Record{}, false
}

// Active names the server the service's enabled record points at, "" if
// none or if more than one is enabled (an undefined answer). Only records
// of the servers' type count (A, or AAAA for IPv6 servers): a TXT or MX
// record on the same name is normal and does not count.
func Active(svc config.Service, records []routeros.Record, servers ...config.Server) string {
	enabled := enabledRecords(OfType(records, RecordType(servers...)))
	if len(enabled) != 1 {
		return ""
	}
	for _, s := range servers {
		if svc.Layout == config.Rewrite {
			if enabled[0].Address == s.Address {
				return s.Name
			}
		} else if enabled[0].Matches(s.Record.Comment, s.Record.Address) {
			return s.Name
		}
	}
	return ""
}

// Owners names, by record ID, the server each of the name's records of the
// failed-over type belongs to, as Active matches them (by comment or
// address; by address in the rewrite layout). Records of other types, and
// records no server matches, have no owner.
func Owners(svc config.Service, records []routeros.Record, servers ...config.Server) map[string]string {
	out := map[string]string{}
	for _, r := range OfType(records, RecordType(servers...)) {
		for _, s := range servers {
			if (svc.Layout == config.Rewrite && r.Address == s.Address) ||
				(svc.Layout != config.Rewrite && r.Matches(s.Record.Comment, s.Record.Address)) {
				out[r.ID] = s.Name
				break
			}
		}
	}
	return out
}

func describeMatch(s config.Server) string {
	if s.Record.Comment != "" {
		return fmt.Sprintf("comment %q", s.Record.Comment)
	}
	return "address " + s.Record.Address
}
