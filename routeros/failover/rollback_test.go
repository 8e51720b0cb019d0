package failover

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/paper"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/rosim"
)

// The first change is applied and its reply lost with the link, which
// stays down a while: the rollback keeps trying to read the router back
// (up to three router timeouts) and undoes the change once it can, instead
// of giving up at the first refused connection.
func TestRollbackWaitsForTheRouter(t *testing.T) {
	r, c, f, _ := faultRig(t, config.Toggle)
	r.Inject(recordSet, 0, rosim.Fault{Kind: rosim.FaultDrop, Before: func() { r.Outage(2 * faultTimeout) }})
	res, err := f.FailoverToStandby(context.Background(), false)
	if res.Outcome != OutcomeRolledBack || err == nil || !strings.Contains(err.Error(), "rolled back") {
		t.Fatalf("outcome %s, err %v", res.Outcome, err)
	}
	if got := enabled(t, c); !slices.Equal(got, []string{paper.PublicAddress}) {
		t.Errorf("after the rollback the name points at %v", got)
	}
}

// The link stays down past the rollback's patience: the operation is
// UNKNOWN, and its error and its changes say what may remain on the router
// and the command that undoes each.
func TestRollbackListsWhatMayRemain(t *testing.T) {
	r, _, f, _ := faultRig(t, config.Toggle)
	r.Inject(recordSet, 0, rosim.Fault{Kind: rosim.FaultDrop, Before: func() { r.Outage(time.Minute) }})
	start := time.Now()
	res, err := f.FailoverToStandby(context.Background(), false)
	if res.Outcome != OutcomeUnknown || err == nil {
		t.Fatalf("outcome %s, err %v", res.Outcome, err)
	}
	if took := time.Since(start); took < 3*faultTimeout {
		t.Errorf("gave up after %s, before three router timeouts", took)
	}
	undo := "/ip dns static set *1 disabled=yes"
	if !strings.Contains(err.Error(), "may remain on the router, each undone by: "+undo) {
		t.Errorf("error %q does not list the change with its undo", err)
	}
	if len(res.Changes) != 1 || res.Changes[0].Status != "unknown" || res.Changes[0].Undo != undo {
		t.Errorf("changes %+v", res.Changes)
	}
}

// setup --apply: the first change is applied, its reply lost with the
// link, which stays down a while. The rollback waits for the router, finds
// the change applied, undoes it, and says so: not "applied 0" with the
// change left behind.
func TestSetupApplyWaitsForTheRouter(t *testing.T) {
	for _, outage := range []time.Duration{2 * faultTimeout, time.Minute} {
		r, addr := emulator(t, rosim.Options{})
		c, _, err := routeros.New(routeros.Options{Address: addr, User: "admin", Timeout: faultTimeout})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		ctx := context.Background()
		before := state(t, c)
		plan, err := paperSetup(false).Plan(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		first := plan.Steps[0]
		r.Inject(first.Words[0], 0, rosim.Fault{Kind: rosim.FaultDrop, Before: func() { r.Outage(outage) }})
		err = plan.Apply(ctx, c)
		if err == nil || !strings.Contains(err.Error(), "applied 0 of") || !strings.Contains(err.Error(), "perhaps change 1: its reply was lost") {
			t.Fatalf("outage %s: %v", outage, err)
		}
		if outage > time.Second {
			if want := "these changes may remain, each undone by (last first): " + first.Undo; !strings.Contains(err.Error(), want) {
				t.Errorf("outage %s: %v\nlacks %q", outage, err, want)
			}
			continue
		}
		if !strings.Contains(err.Error(), "rolled back (read back)") {
			t.Errorf("outage %s: %v", outage, err)
		}
		if after := state(t, c); after != before {
			t.Errorf("not rolled back:\n%s\n->\n%s", before, after)
		}
	}
}
