package rosim

import (
	"testing"
	"time"
)

// waitUntil polls ok until it holds or within has passed, then fails with
// what. The package's one poll: testkit.Eventually cannot be used here,
// since testkit imports rosim.
func waitUntil(t *testing.T, within time.Duration, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(within); !ok(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal(what)
		}
	}
}
