package failover

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/failwatch/failwatch/internal/paper"
	"github.com/failwatch/failwatch/routeros"
)

// retry's backoff in the bubble's virtual time: it tries again after 50 ms,
// doubling to at most a second, clips the last wait to the budget, and
// stops at once on what trying again cannot change (a trap, rows it cannot
// trust) or when the caller gives up.
func TestRetryBacksOffWithinTheBudget(t *testing.T) {
	lost := errors.New("read tcp: connection reset")
	trap := &routeros.TrapError{Command: "/ip/dns/static/set", Message: "no such item"}
	ms := time.Millisecond
	tests := []struct {
		name string
		// fails answers try n (from 1): nil is success.
		fails  func(n int) error
		cancel time.Duration // the caller gives up then, 0 never
		tries  []time.Duration
		err    error
		after  string // the suffix a failure after several tries carries
	}{
		{"lost replies until the budget ends", func(int) error { return lost }, 0,
			[]time.Duration{0, 50 * ms, 150 * ms, 350 * ms, 750 * ms, 1550 * ms, 2550 * ms, 3000 * ms}, lost, " (after 8 tries in 3s)"},
		{"a reply on the third try", func(n int) error { return map[bool]error{true: lost}[n < 3] }, 0,
			[]time.Duration{0, 50 * ms, 150 * ms}, nil, ""},
		{"a trap is final", func(int) error { return trap }, 0,
			[]time.Duration{0}, trap, ""},
		{"rows it cannot trust are final", func(n int) error {
			return map[bool]error{true: lost, false: &UnreadableError{Service: paper.Name, Reason: "disabled=maybe", Rows: 1}}[n < 2]
		}, 0, []time.Duration{0, 50 * ms}, &UnreadableError{}, " (after 2 tries in 3s)"},
		{"the caller gives up while it waits", func(int) error { return lost }, 100 * ms,
			[]time.Duration{0, 50 * ms}, lost, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx := context.Background()
				if tc.cancel > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, tc.cancel)
					defer cancel()
				}
				start := time.Now()
				var tries []time.Duration
				err := retry(ctx, 3*time.Second, func(context.Context) error {
					tries = append(tries, time.Since(start))
					return tc.fails(len(tries))
				})
				if !slices.Equal(tries, tc.tries) {
					t.Errorf("tried at %v, want %v", tries, tc.tries)
				}
				switch want := tc.err.(type) {
				case nil:
					if err != nil {
						t.Errorf("error %v, want none", err)
					}
				case *UnreadableError:
					var got *UnreadableError
					if !errors.As(err, &got) {
						t.Errorf("error %v, want the unreadable rows", err)
					}
				default:
					if !errors.Is(err, want) {
						t.Errorf("error %v, want %v", err, want)
					}
				}
				if err != nil && !strings.HasSuffix(err.Error(), tc.after) || tc.after == "" && strings.Contains(errText(err), "(after ") {
					t.Errorf("error %q, want it to end %q", errText(err), tc.after)
				}
				if tc.cancel > 0 {
					if took := time.Since(start); took != tc.cancel {
						t.Errorf("returned after %v, want at once when the caller gave up (%v)", took, tc.cancel)
					}
				}
			})
		})
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
