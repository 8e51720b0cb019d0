package netlab

import (
	"os"
	"testing"
)

// Two test processes with different temporary directories must still share
// one lock, or each would pick the same free subnet.
func TestLockIsOneForTheMachine(t *testing.T) {
	if st, err := os.Stat("/run/lock"); err != nil || !st.IsDir() {
		t.Skip("no /run/lock on this machine: the lock falls back to the temporary directory")
	}
	t.Setenv("TMPDIR", t.TempDir())
	if got := lockPath(); got != "/run/lock/failwatch-netlab.lock" {
		t.Fatalf("lock path %q follows $TMPDIR", got)
	}
}
