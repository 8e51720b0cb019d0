package netlabtest

import (
	"io"
	"os"
	"testing"

	"github.com/failwatch/failwatch/internal/netlab"
)

// TestHost builds a host for a test and removes it when the test ends. Where
// namespaces cannot be made the test is skipped with the reason, except under
// CI (CI set in the environment), where every test must really run.
func TestHost(t testing.TB) *netlab.Host {
	t.Helper()
	return build(t, netlab.NewHost)
}

// TestRouter builds a router namespace for a test, as TestHost builds a
// host, and removes it with its hosts when the test ends.
func TestRouter(t testing.TB) *netlab.Router {
	t.Helper()
	return build(t, netlab.NewRouter)
}

// build makes a namespace with newNS for a test, where namespaces can be
// made, and closes it when the test ends.
func build[NS io.Closer](t testing.TB, newNS func() (NS, error)) NS {
	t.Helper()
	need(t)
	ns, err := newNS()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ns.Close(); err != nil {
			t.Error(err)
		}
	})
	return ns
}

// need skips a test that cannot build namespaces here, except under CI.
func need(t testing.TB) {
	t.Helper()
	if err := netlab.Available(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI must run the namespace tests: %v", err)
		}
		t.Skipf("needs network namespaces: %v", err)
	}
}
