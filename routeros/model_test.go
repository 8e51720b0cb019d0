package routeros

import (
	"net/netip"
	"strings"
	"testing"
)

// unreadable says whether a row read by a fuzz test was unreadable, and
// fails the test unless its reason is bounded and says why before the row
// it quotes: a value the reason quotes never cuts off what is wrong with it.
func unreadable(t *testing.T, reason string) bool {
	t.Helper()
	if reason == "" {
		return false
	}
	if len(reason) > maxProblem+len(" in []")+maxRowText {
		t.Fatalf("unreadable reason of %d bytes", len(reason))
	}
	why, _, ok := strings.Cut(reason, " in [")
	if !ok || !strings.HasPrefix(why, "no ") && !strings.Contains(why, " is not ") {
		t.Fatalf("reason %q does not say why", reason)
	}
	return true
}

// Whatever a router prints, a row is read without a panic, and a row read
// as readable holds only the forms a router sends.
func FuzzRecordFrom(f *testing.F) {
	f.Add("*1", "x.example", "192.0.2.1", "false", "", "comment")
	f.Add("*1g", "", "192.0.2", "maybe", "AAAA", "")
	f.Fuzz(func(t *testing.T, id, name, address, disabled, typ, comment string) {
		m := map[string]string{".id": id, "name": name, "address": address, "disabled": disabled, "type": typ, "comment": comment}
		r := RecordFrom(m)
		if unreadable(t, r.Unreadable) {
			return
		}
		if !ValidID(r.ID) || (disabled != "true" && disabled != "false") || r.Disabled != (disabled == "true") {
			t.Fatalf("read %+v from %q", r, m)
		}
		if r.Type == "A" || r.Type == "AAAA" {
			if _, err := netip.ParseAddr(r.Address); err != nil {
				t.Fatalf("read address %q", r.Address)
			}
		}
	})
}
