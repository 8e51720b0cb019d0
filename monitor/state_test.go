package monitor

import (
	"strings"
	"testing"
	"time"
)

// run feeds a pattern ('.' reply, 'x' loss) and returns the state after each
// sample as a string of U, D and ? characters.
func run(h *Hysteresis, pattern string) string {
	var b strings.Builder
	for _, c := range pattern {
		h.Observe(Sample{OK: c == '.', Err: "timeout"})
		st, _ := h.State()
		b.WriteByte(map[State]byte{Unknown: '?', Up: 'U', Down: 'D'}[st])
	}
	return b.String()
}

func TestHysteresisEdges(t *testing.T) {
	def := Thresholds{DownAfter: 3, UpAfter: 2, LossWindow: 20, DownLossPercent: 50}
	tests := []struct {
		name    string
		th      Thresholds
		pattern string
		want    string
	}{
		{"up after exactly up_after replies", def, "..", "?U"},
		{"down from unknown after down_after losses", def, "xxx", "??D"},
		{"down after exactly down_after losses, not one before", def, "..xx.xxx", "?UUUUUUD"},
		{"a reply resets the loss run", def, "..xxxx", "?UUUDD"},
		{"up again after up_after replies, not one before", def, "..xxx.x..", "?UUUDDDDU"},
		{"one lost in four never goes down", def, "..." + strings.Repeat("...x", 10), "?UU" + strings.Repeat("UUUU", 10)},
		{"loss window: every other lost goes down when the window fills",
			Thresholds{DownAfter: 3, UpAfter: 2, LossWindow: 4, DownLossPercent: 50}, "..x.x.", "?UUUUD"},
		{"loss window restarts at each change",
			Thresholds{DownAfter: 3, UpAfter: 2, LossWindow: 4, DownLossPercent: 50}, "..x.x...x.x.", "?UUUUDDUUUUD"},
		{"below the loss limit stays up",
			Thresholds{DownAfter: 3, UpAfter: 2, LossWindow: 4, DownLossPercent: 50}, "...x...x...x", "?UUUUUUUUUUU"},
		{"thresholds of one follow every sample", Thresholds{DownAfter: 1, UpAfter: 1}, ".x.x", "UDUD"},
		{"a loss-rule DOWN on a reply needs up_after fresh replies",
			Thresholds{DownAfter: 3, UpAfter: 2, LossWindow: 2, DownLossPercent: 50}, "..x...", "?UUDDU"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := run(NewHysteresis(tc.th), tc.pattern); got != tc.want {
				t.Errorf("pattern %s\n got  %s\n want %s", tc.pattern, got, tc.want)
			}
		})
	}
}

func TestHysteresisReasons(t *testing.T) {
	h := NewHysteresis(Thresholds{DownAfter: 2, UpAfter: 1, LossWindow: 10, DownLossPercent: 50})
	tr, ok := h.Observe(Sample{OK: true})
	if !ok || tr.From != Unknown || tr.To != Up || tr.Reason != "1 consecutive replies" {
		t.Errorf("first transition %+v %v", tr, ok)
	}
	h.Observe(Sample{Err: "HTTP 503 Service Unavailable"})
	tr, ok = h.Observe(Sample{Err: "HTTP 503 Service Unavailable"})
	if !ok || tr.To != Down || tr.Reason != "2 consecutive probes lost (HTTP 503 Service Unavailable)" {
		t.Errorf("down transition %+v %v", tr, ok)
	}
}

func TestServerState(t *testing.T) {
	tests := []struct {
		checks []State
		want   State
	}{
		{nil, Unknown},
		{[]State{Up}, Up},
		{[]State{Up, Up}, Up},
		{[]State{Down, Down}, Down},
		{[]State{Up, Down}, Degraded},
		{[]State{Unknown, Down}, Degraded},
		{[]State{Up, Unknown}, Unknown},
	}
	for _, tc := range tests {
		if got := ServerState(tc.checks); got != tc.want {
			t.Errorf("ServerState(%v) = %v, want %v", tc.checks, got, tc.want)
		}
	}
}

// A reply that came after the timeout is a loss, whatever the prober says.
func TestLateReplyIsLost(t *testing.T) {
	for _, tc := range []struct {
		in   Sample
		lost bool
	}{
		{Sample{OK: true, RTT: 900 * time.Millisecond}, false},
		{Sample{OK: true, RTT: time.Second}, false},
		{Sample{OK: true, RTT: 1200 * time.Millisecond}, true},
		{Sample{Err: "timeout"}, true},
	} {
		got := lateIsLost(tc.in, time.Second)
		if got.OK == tc.lost || (tc.lost && tc.in.OK && (got.RTT != 0 || !strings.Contains(got.Err, "after the timeout"))) {
			t.Errorf("lateIsLost(%+v) = %+v", tc.in, got)
		}
	}
}
