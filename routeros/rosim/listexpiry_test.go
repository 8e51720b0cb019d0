package rosim

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/failwatch/failwatch/config"
)

// An address-list entry with a timeout prints what is left of it and is
// gone when it runs out on the router's clock, matching no rule any more;
// one without a timeout stays.
func TestAddressListTimeoutRunsOut(t *testing.T) {
	for _, tc := range []struct{ menu, timed, kept string }{
		{"/ip/firewall/address-list", "192.168.88.2", "192.168.88.3"},
		{"/ipv6/firewall/address-list", "fd00::2", "fd00::3"},
	} {
		t.Run(tc.menu, func(t *testing.T) {
			r, _ := seeded(t, Options{Version: "7.18.2 (stable)", TimeScale: 600})
			id := added(t, r, tc.menu, "list", "exempt", "address", tc.timed, "timeout", "1m")
			added(t, r, tc.menu, "list", "exempt", "address", tc.kept)
			print := func() []string {
				res := r.exec("admin", tc.menu+"/print", kvAttrs([]string{".proplist", "address,timeout"}), nil)
				if res.trap != nil {
					t.Fatal(res.trap.message)
				}
				var out []string
				for _, w := range res.rows {
					out = append(out, strings.Join(w, " "))
				}
				return out
			}
			first := print()
			if len(first) != 2 || !strings.Contains(first[0], "=timeout=") {
				t.Fatalf("rows %q", first)
			}
			left, err := config.ParseDuration(strings.TrimPrefix(strings.Fields(first[0])[1], "=timeout="))
			if err != nil || left > time.Minute || left <= 0 {
				t.Errorf("timeout left %q: %v", first[0], err)
			}
			if res := r.exec("admin", tc.menu+"/set", kvAttrs([]string{".id", id, "comment", "x"}), nil); res.trap != nil {
				t.Fatal(res.trap.message)
			}
			// 1m of the router's clock is 100ms of the wall's.
			waitUntil(t, 2*time.Second, "the timed entry never ran out", func() bool { return len(print()) == 1 })
			if got := print(); !strings.Contains(got[0], tc.kept) {
				t.Errorf("left %q", got)
			}
			r.mu.Lock()
			in := r.inAddressList("exempt", netip.MustParseAddr(tc.timed))
			r.mu.Unlock()
			if in {
				t.Errorf("%s still matches the list", tc.timed)
			}
		})
	}
}
