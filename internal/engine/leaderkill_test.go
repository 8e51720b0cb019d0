package engine

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/failwatch/failwatch/internal/ha/hatest"
	"github.com/failwatch/failwatch/internal/paper"
	"github.com/failwatch/failwatch/internal/testkit"
	"github.com/failwatch/failwatch/routeros/rosim"
)

// childEnv makes this test binary one failwatch instance (childInstance)
// instead of running the tests: "etcd endpoint|router api|dns|name|dir"
// (dir for its audit log, the parent test's).
const childEnv = "FAILWATCH_HA_CHILD"

// TestMain runs a child instance when asked to, for the kill -9 test.
func TestMain(m *testing.M) {
	if v, ok := os.LookupEnv(childEnv); ok {
		childInstance(v)
		return
	}
	os.Exit(m.Run())
}

// childInstance is one instance in its own process with the primary DOWN
// in its view, until killed.
func childInstance(v string) {
	var parts [5]string
	copy(parts[:], strings.Split(v, "|"))
	t := &childT{dir: parts[4]}
	g := &haRig{api: parts[1], dns: parts[2]}
	in := g.start(t, parts[0], parts[3], 1)
	in.sims["public"].SetDown(true)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	// Whether it acts, on stdout at each change, for the parent to time.
	sub := in.e.Subscribe(256)
	defer sub.Close()
	acting := false
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-sub.C():
			evs := []Event{ev}
			if snap, ok := ev.(Snapshot); ok {
				evs = snap.Events
			}
			for _, ev := range evs {
				if s, ok := ev.(HAState); ok && s.Acting != acting {
					acting = s.Acting
					fmt.Printf("acting %v\n", acting)
				}
			}
		}
	}
}

// childT is the testing.TB a child instance runs with: a failure ends the
// process, which the parent sees as the instance gone.
type childT struct {
	testing.TB
	dir string
}

func (*childT) Helper()               {}
func (*childT) Cleanup(func())        {}
func (*childT) TempDir() string       { d, _ := os.MkdirTemp("", "failwatch-ha-child"); return d }
func (*childT) Fatal(args ...any)     { os.Exit(3) }
func (*childT) Fatalf(string, ...any) { os.Exit(3) }
func (*childT) Logf(string, ...any)   {}
func (*childT) Errorf(string, ...any) { os.Exit(3) }
func (*childT) Skipf(string, ...any)  { os.Exit(3) }

// The leader is a process of its own, killed with SIGKILL as its
// "disable the primary's record" reaches the router (the change refused:
// it never applies). The surviving instance leads within the bound and
// finishes the failover from the journal: exactly one enabled record.
func TestHALeaderKill9MidOperation(t *testing.T) {
	etcd := hatest.Start(t)
	g := newHARig(t)
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), childEnv+"="+etcd.Endpoint()+"|"+g.api+"|"+g.dns+"|child|"+t.TempDir())
	kills := make(chan time.Time, 1)
	// The process reaches the emulator's goroutine through a channel: the
	// race detector cannot see that its change came after Start.
	proc := make(chan *os.Process, 1)
	g.r.Inject("/ip/dns/static/set", 1, rosim.Fault{Kind: rosim.FaultTrap, Message: "killed", Before: func() {
		kills <- time.Now()
		_ = (<-proc).Kill()
	}})
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	proc <- child.Process
	exited := make(chan struct{})
	go func() { _ = child.Wait(); close(exited) }()
	t.Cleanup(func() { _ = child.Process.Kill(); <-exited })
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		t.Fatal("the child instance was not killed mid-operation within 30s")
	}
	var killed time.Time
	select {
	case killed = <-kills:
	default:
		t.Fatalf("the child exited (%v) before its operation", child.ProcessState)
	}
	survivor := g.start(t, etcd.Endpoint(), "survivor", 1)
	survivor.sims["public"].SetDown(true)
	testkit.EventuallyLast(t, 4*haTTL, "the survivor acts", func() (bool, bool) { s, _ := survivor.e.HA(); return s.Acting, s.Acting })
	t.Logf("the survivor acts %s after the kill", time.Since(killed).Round(time.Millisecond))
	testkit.Eventually(t, 10*time.Second, "exactly one enabled record, the standby's", func() bool {
		return slices.Equal(enabledAddresses(t, g), []string{paper.PrivateAddress})
	})
	if n, ops := failovers(t, []*instance{survivor}); n != 1 || ops[0] != "failover by ha" {
		t.Errorf("the survivor's changing operations: %v, want the one finishing the journal's failover", ops)
	}
}
