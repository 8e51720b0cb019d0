package failover

import (
	"context"
	"strings"
	"testing"

	"github.com/failwatch/failwatch/routeros/rosim"
)

// A router that says 7.18 but does not take ignore-initial-*: --apply
// learns it before writing (/console/inspect, not a refused add), leaves
// them out with a note, and applies; one without thr-avg, which a 196 ms
// primary needs, is refused before anything changes.
func TestSetupApplyLearnsWhatTheRouterTakes(t *testing.T) {
	ctx := context.Background()
	r, addr := emulator(t, rosim.Options{Lacks: []string{"ignore-initial-up", "ignore-initial-down"}})
	c := client(t, addr, "admin", "")
	seeded := r.Calls()["/tool/netwatch/add"]
	plan, err := paperSetup(false).Plan(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(plan.Notes, "\n"), "does not take netwatch ignore-initial-up and ignore-initial-down: left out") {
		t.Errorf("notes %q", plan.Notes)
	}
	if err := plan.Apply(ctx, c); err != nil {
		t.Fatalf("apply: %v", err)
	}
	if n := r.Calls()["/tool/netwatch/add"] - seeded; n != 1 {
		t.Errorf("%d netwatch adds: a router is asked, not probed with adds", n)
	}
	nw, _ := c.Run(ctx, "/tool/netwatch/print", "?comment=failwatch public")
	if len(nw.Rows) != 1 || nw.Rows[0]["disabled"] != "false" || nw.Rows[0]["thr-avg"] != "400ms" {
		t.Errorf("entry %v", nw.Rows)
	}

	_, addr = emulator(t, rosim.Options{Lacks: []string{"thr-avg"}})
	c = client(t, addr, "admin", "")
	before := state(t, c)
	if _, err := paperSetup(false).Plan(ctx, c); err == nil || !strings.Contains(err.Error(), "does not take netwatch thr-avg, which setup needs; nothing was changed") {
		t.Errorf("without thr-avg: %v", err)
	}
	if after := state(t, c); after != before {
		t.Errorf("the router changed:\n%s\n->\n%s", before, after)
	}
}

// A user the router will not answer /console/inspect for: setup goes by
// the version and says so.
func TestSetupWithoutInspect(t *testing.T) {
	ctx := context.Background()
	r, addr := emulator(t, rosim.Options{})
	c := client(t, addr, "admin", "")
	r.Inject("/console/inspect", 0, rosim.Fault{Message: "not enough permissions (9)"})
	plan, err := paperSetup(false).Plan(ctx, c)
	if err != nil || !strings.Contains(strings.Join(plan.Notes, "\n"), "did not say which netwatch properties it takes") {
		t.Fatalf("%v %q", err, plan.Notes)
	}
}
