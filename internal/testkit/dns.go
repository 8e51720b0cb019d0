package testkit

import (
	"testing"

	"github.com/failwatch/failwatch/routeros/rosim"
)

// DNS serves an emulated router's DNS on loopback (UDP) and returns its
// address; it stops with the router (Emulator and Start close it when the
// test ends).
func DNS(t testing.TB, r *rosim.Router) string {
	t.Helper()
	addr, err := r.ServeDNS("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return addr.String()
}
