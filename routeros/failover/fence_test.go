package failover

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/paper"
)

// A fence that lets n changes through and refuses the rest, counting what
// it was asked.
type countingFence struct{ allow, asked int }

func (c *countingFence) check() error {
	c.asked++
	if c.asked > c.allow {
		return errors.New("lease past its bound")
	}
	return nil
}

// The fence is asked before each change: refused after the first (the
// standby's record enabled), the operation stops at once, sends nothing
// more (not the other record's disable, not a rollback, not the flush) and
// says so; the router keeps both records enabled, for a leader to finish.
func TestFenceStopsAnOperationAtOnce(t *testing.T) {
	tests := []struct {
		name    string
		allow   int
		enabled []string
		outcome Outcome
	}{
		{"refused before the first change", 0, []string{paper.PublicAddress}, OutcomeUnknown},
		{"refused between enable and disable", 1, []string{paper.PublicAddress, paper.PrivateAddress}, OutcomeUnknown},
		{"never refused", 10, []string{paper.PrivateAddress}, OutcomeChanged},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, c, f, _ := faultRig(t, config.Toggle)
			fence := &countingFence{allow: tt.allow}
			f.Fence = fence.check
			res, err := f.FailoverToStandby(context.Background(), false)
			if res.Outcome != tt.outcome {
				t.Errorf("outcome %s, want %s (err %v)", res.Outcome, tt.outcome, err)
			}
			if tt.outcome == OutcomeUnknown && (err == nil || !strings.Contains(err.Error(), "not even a rollback") || !strings.Contains(err.Error(), "lease past its bound")) {
				t.Errorf("err %v does not say it stopped and why", err)
			}
			got := enabled(t, c)
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tt.enabled))
			if !slices.Equal(got, want) {
				t.Errorf("enabled records %v, want %v", got, want)
			}
			if tt.outcome == OutcomeUnknown && len(res.Changes) != tt.allow {
				t.Errorf("changes %+v: want only the %d sent before the refusal", res.Changes, tt.allow)
			}
		})
	}
}
