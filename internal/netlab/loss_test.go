package netlab

import (
	"math"
	"testing"
	"time"
)

// lossRate sends n requests every step through l and returns the share lost
// and the share lost among requests sent right after a loss (how bursty).
func lossRate(l Loss, n int, step time.Duration) (rate, afterLoss float64) {
	start := time.Unix(0, 0)
	var lost, pairs, pairLost int
	prev := false
	for i := range n {
		x := l.Lose(start.Add(time.Duration(i) * step))
		if x {
			lost++
		}
		if prev {
			pairs++
			if x {
				pairLost++
			}
		}
		prev = x
	}
	return float64(lost) / float64(n), float64(pairLost) / float64(max(pairs, 1))
}

func TestLossModels(t *testing.T) {
	tests := []struct {
		name              string
		loss              Loss
		step              time.Duration
		rate, afterLoss   float64 // expected
		rateTol, afterTol float64
	}{
		{"independent 5%: a loss says nothing of the next", NewIndependent(0.05, 1), 100 * time.Millisecond, 0.05, 0.05, 0.005, 0.02},
		// Bad spells of 200 ms at 50% loss, 10% of the time: 5% in all,
		// and a request 30 ms after a loss is lost about 43% of the time
		// (the spell goes on with e^(-30/200), then 50%).
		{"Gilbert-Elliott 5%: 30 ms after a loss, mostly still bad",
			NewGilbertElliott(1800*time.Millisecond, 200*time.Millisecond, 0, 0.5, 1), 30 * time.Millisecond, 0.05, 0.43, 0.01, 0.05},
		// Probes 1 s apart outlive a 200 ms spell: as good as independent.
		{"Gilbert-Elliott 5%: 1 s after a loss, independent again",
			NewGilbertElliott(1800*time.Millisecond, 200*time.Millisecond, 0, 0.5, 2), time.Second, 0.05, 0.05, 0.01, 0.03},
		// 20 a second against 10 a second: every other one answered.
		{"rate limit 10/s at 20/s", NewRateLimit(10, 2), 50 * time.Millisecond, 0.5, 0.0, 0.01, 0.01},
		{"rate limit 12.5/s at 10/s: every one answered", NewRateLimit(12.5, 2), 100 * time.Millisecond, 0, 0, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rate, after := lossRate(tc.loss, 200000, tc.step)
			if math.Abs(rate-tc.rate) > tc.rateTol {
				t.Errorf("loss %.4f, want %.3f ± %.3f", rate, tc.rate, tc.rateTol)
			}
			if math.Abs(after-tc.afterLoss) > tc.afterTol {
				t.Errorf("loss right after a loss %.4f, want %.3f ± %.3f", after, tc.afterLoss, tc.afterTol)
			}
		})
	}
}

// The limiter spends tokens only on what the path delivered: a request the
// path lost leaves its token for the next.
func TestThenSpendsOnlyDelivered(t *testing.T) {
	start := time.Unix(0, 0)
	limit := NewRateLimit(1, 1)
	every := Then(NewIndependent(1, 1), limit)
	for i := range 10 {
		if !every.Lose(start.Add(time.Duration(i) * time.Millisecond)) {
			t.Fatal("a path that loses everything delivered one")
		}
	}
	if limit.Lose(start.Add(10 * time.Millisecond)) {
		t.Error("the limiter spent its token on requests the path lost")
	}
	if !limit.Lose(start.Add(11 * time.Millisecond)) {
		t.Error("a second request within the second went through a limit of 1/s with a bucket of 1")
	}
}

// Slow spells: slow 2% of the time, each slow request delayed by lo to hi
// more, and a request 100 ms after a slow one mostly still slow (the spell
// goes on with e^(-100/1000), about 0.9).
func TestSlowSpells(t *testing.T) {
	lo, hi := 20*time.Millisecond, 80*time.Millisecond
	s := NewSlowSpells(49*time.Second, time.Second, lo, hi, 1)
	start := time.Unix(0, 0)
	const n = 400000
	var slow, pairs, pairSlow int
	prev := false
	for i := range n {
		x := s.Extra(start.Add(time.Duration(i) * 100 * time.Millisecond))
		if x != 0 && (x < lo || x > hi) {
			t.Fatalf("extra delay %s outside %s to %s", x, lo, hi)
		}
		if x != 0 {
			slow++
		}
		if prev {
			pairs++
			if x != 0 {
				pairSlow++
			}
		}
		prev = x != 0
	}
	if rate := float64(slow) / n; math.Abs(rate-0.02) > 0.005 {
		t.Errorf("slow %.4f of the time, want 0.02 ± 0.005", rate)
	}
	if after := float64(pairSlow) / float64(max(pairs, 1)); math.Abs(after-0.9) > 0.03 {
		t.Errorf("slow right after a slow one %.3f, want 0.90 ± 0.03", after)
	}
}
