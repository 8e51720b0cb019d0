package netlabtest

import (
	"os"
	"testing"

	"github.com/failwatch/failwatch/internal/netlab"
)

// TestHost builds a host for a test and removes it when the test ends. Where
// namespaces cannot be made the test is skipped with the reason, except under
// CI (CI set in the environment), where every test must really run.
func TestHost(t testing.TB) *netlab.Host {
	t.Helper()
	if err := netlab.Available(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI must run the namespace tests: %v", err)
		}
		t.Skipf("needs network namespaces: %v", err)
	}
	h, err := netlab.NewHost()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := h.Close(); err != nil {
			t.Error(err)
		}
	})
	return h
}
