package routeros

import "testing"

// An IPv6 rule names the address it translates to to-address from 7.15,
// to-addresses before: either is read; both at once is no row a router
// sends.
func TestNATRuleToAddress(t *testing.T) {
	base := func(kv ...string) map[string]string {
		return rowWith(map[string]string{".id": "*1", "chain": "dstnat", "action": "dst-nat", "dst-address": "2001:db8::7", "disabled": "true"}, kv...)
	}
	for _, tc := range []struct {
		name, to, unreadable string
		row                  map[string]string
	}{
		{"7.13", "2001:db8::2", "", base("to-addresses", "2001:db8::2")},
		{"7.18", "2001:db8::2", "", base("to-address", "2001:db8::2")},
		{"both", "", "both to-addresses and to-address", base("to-addresses", "2001:db8::2", "to-address", "2001:db8::3")},
		{"not an address", "", `to-address "x" is not an address, prefix or range`, base("to-address", "x")},
	} {
		r := NATRuleFrom(tc.row)
		if tc.unreadable != "" {
			if len(r.Unreadable) < len(tc.unreadable) || r.Unreadable[:len(tc.unreadable)] != tc.unreadable {
				t.Errorf("%s: unreadable %q, want %q", tc.name, r.Unreadable, tc.unreadable)
			}
			continue
		}
		if r.Unreadable != "" || r.ToAddresses != tc.to {
			t.Errorf("%s: %+v", tc.name, r)
		}
	}
}
