package routeros

import (
	"strings"
	"testing"
)

// An entry's timeout is read, and an entry with one, or a dynamic one, is
// not permanent; a timeout that is no duration makes the row unreadable.
func TestAddressListEntryTimeout(t *testing.T) {
	base := func(kv ...string) map[string]string {
		return rowWith(map[string]string{".id": "*1", "list": "x", "address": "192.0.2.1", "disabled": "false"}, kv...)
	}
	for _, tc := range []struct {
		name       string
		row        map[string]string
		permanent  bool
		unreadable string
	}{
		{"permanent", base(), true, ""},
		{"timed", base("timeout", "23:59:58"), false, ""},
		{"dynamic", base("dynamic", "true"), false, ""},
		{"a timeout that is no duration", base("timeout", "soon"), false, `timeout "soon" is not a duration`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := AddressListEntryFrom(tc.row)
			if tc.unreadable != "" {
				if !strings.Contains(e.Unreadable, tc.unreadable) {
					t.Errorf("unreadable %q, want %q", e.Unreadable, tc.unreadable)
				}
				return
			}
			if e.Unreadable != "" || e.Permanent() != tc.permanent {
				t.Errorf("%+v: permanent %t, want %t", e, e.Permanent(), tc.permanent)
			}
		})
	}
}
