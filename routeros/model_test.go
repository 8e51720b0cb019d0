package routeros

import (
	"net/netip"
	"testing"
)

// Whatever a router prints, a row is read without a panic, and a row read
// as readable holds only the forms a router sends.
func FuzzRecordFrom(f *testing.F) {
	f.Add("*1", "x.example", "192.0.2.1", "false", "", "comment")
	f.Add("*1g", "", "192.0.2", "maybe", "AAAA", "")
	f.Fuzz(func(t *testing.T, id, name, address, disabled, typ, comment string) {
		m := map[string]string{".id": id, "name": name, "address": address, "disabled": disabled, "type": typ, "comment": comment}
		r := RecordFrom(m)
		if len(r.Unreadable) > maxProblem+len(" in []")+maxRowText {
			t.Fatalf("unreadable reason of %d bytes", len(r.Unreadable))
		}
		if r.Unreadable != "" {
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
