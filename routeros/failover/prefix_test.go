package failover

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/failwatch/failwatch/internal/paper"
	"github.com/failwatch/failwatch/internal/testkit"
	"github.com/failwatch/failwatch/routeros/rosim"
)

// Whatever change of the printed script a router refuses (each in turn,
// inside :if and :do blocks too, on every version), what ran before it
// leaves exactly one switching set enabled (the paper's two entries, or
// setup's one), and that set fails the name over and back.
func TestSetupScriptEveryPrefix(t *testing.T) {
	for _, version := range versions {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			caps, err := CapsOf(version)
			if err != nil {
				t.Fatal(err)
			}
			script := paperSetup(false).Script(caps)
			for n := 1; ; n++ {
				done := prefixRun(t, version, script, n)
				if done {
					if n < 4 {
						t.Fatalf("the script made only %d changes", n-1)
					}
					return
				}
			}
		})
	}
}

// prefixRun runs the script on a fresh paper router with its n-th change
// refused and checks what it left; true when the script made fewer than n
// changes (and then ran whole).
func prefixRun(t *testing.T, version, script string, n int) bool {
	t.Helper()
	sim := rosim.NewSimulated()
	r, addr := emulator(t, rosim.Options{Version: version, Probe: sim.Probe, TimeScale: 200})
	defer r.Close()
	c := client(t, addr, "admin", "")
	changes, importErr := r.ImportFailing(script, n)
	if n > changes {
		if importErr != nil {
			t.Fatalf("the whole script: %v", importErr)
		}
		n = 0
	}
	ctx := context.Background()
	entries, err := c.NetwatchEntries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var old, ours []string
	for _, e := range Switching(entries) {
		if e.Comment == "failwatch public" {
			ours = append(ours, e.ID)
		} else {
			old = append(old, e.ID)
		}
	}
	what := fmt.Sprintf("change %d refused (%v)", n, importErr)
	if n == 0 {
		what = "the whole script"
	}
	if !(len(old) == 2 && len(ours) == 0) && !(len(old) == 0 && len(ours) == 1) {
		t.Fatalf("%s: switching entries enabled: the paper's %v, setup's %v", what, old, ours)
	}
	f, _, _ := paperFailover(t, c, paperSetup(false).Service.Layout)
	active := func() string {
		recs, err := c.StaticRecords(ctx, paper.Name)
		if err != nil {
			t.Fatal(err)
		}
		return Active(f.Service, recs, f.Primary, f.Standby)
	}
	public := netip.MustParseAddr(paper.PublicAddress)
	for _, step := range []struct {
		up   bool
		want string
	}{{false, "private"}, {true, "public"}} {
		sim.SetUp(public, step.up)
		testkit.EventuallyLast(t, 3*time.Second, fmt.Sprintf("%s: the name moved to %s (netwatch %v)", what, step.want, entries), func() (string, bool) {
			got := active()
			if got == step.want {
				return got, true
			}
			return fmt.Sprintf("on %s; log:\n%s", got, lastLines(logText(t, c))), false
		})
	}
	return n == 0
}

func lastLines(s string) string {
	lines := strings.Split(s, "\n")
	return strings.Join(lines[max(0, len(lines)-15):], "\n")
}
