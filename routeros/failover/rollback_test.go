package failover

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/paper"
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
