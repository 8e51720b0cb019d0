package monitor

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/failwatch/failwatch/config"
)

// The state's timeout is RFC 6298's SRTT + max(G, 4 x RTTVAR), seeded by
// the first MinRTTs round trips, RTTVAR the largest of its last
// RTTVarHistory values. Figures to 0.1 ms (the smoothing divides in
// nanoseconds).
func TestStateTimeout(t *testing.T) {
	ms := time.Millisecond
	// The paper's public server about: 196 ms, 4 ms either side.
	paper := []time.Duration{192 * ms, 200 * ms, 192 * ms, 200 * ms, 192 * ms, 200 * ms, 192 * ms, 200 * ms}
	tests := []struct {
		name       string
		rtts       []time.Duration
		configured time.Duration
		want       time.Duration
	}{
		{"too few round trips: the configured timeout", repeat(MinRTTs-1, 10*ms), time.Second, time.Second},
		{"a LAN's round trips: the floor", repeat(MinRTTs, ms), time.Second, StateTimeoutFloor},
		// SRTT 196, RTTVAR 4: 196 + 4 x 4. 1.25 x the longest (before
		// issue 28's second step) gave 250 ms.
		{"the paper's public server: SRTT + 4 x RTTVAR", paper, 300 * ms, 212 * ms},
		{"the same from one round trip on, smoothed", append(slices.Clone(paper), 196*ms), 300 * ms, 212 * ms},
		{"a round trip that never varies: SRTT + G", repeat(MinRTTs, 200*ms), time.Second, 210 * ms},
		{"never above the configured timeout", repeat(MinRTTs, 290*ms), 300 * ms, 300 * ms},
		// RTTVAR (3 x 0 + 300) / 4 = 75, SRTT (7 x 100 + 400) / 8 = 137.5.
		{"a late reply lifts it", append(repeat(MinRTTs, 100*ms), 400*ms), time.Second, 437500 * time.Microsecond},
		// SRTT back to 100 + 37.5 x (7/8)^15, RTTVAR's 75 still the largest.
		{"its variation is kept RTTVarHistory round trips",
			append(append(repeat(MinRTTs, 100*ms), 400*ms), repeat(RTTVarHistory-1, 100*ms)...), time.Second, 405100 * time.Microsecond},
		{"and then falls back to SRTT + G",
			append(append(repeat(MinRTTs, 100*ms), 400*ms), repeat(80, 100*ms)...), time.Second, 110 * ms},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var e rttEstimator
			for _, r := range tc.rtts {
				e.add(r)
			}
			if got := e.timeout(tc.configured).Round(100 * time.Microsecond); got != tc.want {
				t.Errorf("timeout %s, want %s", got, tc.want)
			}
		})
	}
}

func repeat(n int, d time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

func TestBurstSize(t *testing.T) {
	tests := []struct {
		kind      config.CheckKind
		downAfter int
		plain     bool
		want      int
	}{
		{config.ICMP, 3, false, ICMPBurst},
		{config.ICMP, 2, false, ICMPBurst},
		{config.ICMP, 1, false, 0},
		{config.ICMP, 10, false, ICMPBurst},
		{config.TCP, 3, false, 1},
		{config.HTTP, 3, false, 1},
		{config.ICMP, 3, true, 0},
	}
	for _, tc := range tests {
		p := config.Probe{DownAfter: tc.downAfter}
		if got := newJudge(tc.kind, p, tc.plain).burst; got != tc.want {
			t.Errorf("%s, down_after %d, plain %v: burst %d, want %d", tc.kind, tc.downAfter, tc.plain, got, tc.want)
		}
	}
}

func TestConfirmStaysOutOfTheLossWindow(t *testing.T) {
	th := Thresholds{DownAfter: 3, UpAfter: 1, LossWindow: 4, DownLossPercent: 50}
	// Scheduled: reply, loss, reply, loss would fill the window at 50%;
	// the two lost confirmations between them must not count there.
	h := NewHysteresis(th)
	h.Observe(Sample{OK: true})
	h.Observe(Sample{Err: "timeout"})
	h.Confirm(Sample{Err: "timeout"})
	h.Observe(Sample{OK: true})
	if tr, changed := h.Confirm(Sample{Err: "timeout"}); changed {
		t.Fatalf("a confirmation changed the state: %+v", tr)
	}
	if st, _ := h.State(); st != Up {
		t.Fatalf("state %v, want UP", st)
	}
	// And towards down_after they count as the losses they are.
	tr, changed := h.Confirm(Sample{Err: "timeout"})
	if changed {
		t.Fatalf("two losses in a row changed the state: %+v", tr)
	}
	tr, changed = h.Confirm(Sample{Err: "timeout"})
	if !changed || tr.To != Down || !strings.HasPrefix(tr.Reason, "3 consecutive probes lost") {
		t.Fatalf("three losses in a row: %+v %v", tr, changed)
	}
}

// scripted answers each probe by the time it is sent: a round trip, or
// nothing (lost) when rtt says so; it counts the probes.
type scripted struct {
	mu    sync.Mutex
	rtt   func(now time.Time) (time.Duration, bool)
	sent  []time.Time
	start time.Time
}

// byProbe is a server whose n-th probe (scheduled or confirmation, from 1)
// gets rtt(n).
func byProbe(rtt func(n int) (time.Duration, bool)) *scripted {
	n := 0
	return &scripted{rtt: func(time.Time) (time.Duration, bool) {
		n++
		return rtt(n)
	}}
}

func (s *scripted) Probe(ctx context.Context, _ netip.Addr) Sample {
	now := time.Now()
	s.mu.Lock()
	s.sent = append(s.sent, now)
	rtt, ok := s.rtt(now)
	s.mu.Unlock()
	if !ok {
		<-ctx.Done()
		return lost(now, "timeout")
	}
	select {
	case <-time.After(rtt):
		return Sample{At: now, RTT: rtt, OK: true}
	case <-ctx.Done():
		return lost(now, "timeout")
	}
}

func (s *scripted) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sent)
}

// timeline runs a monitor of one check over p on s in a synctest bubble
// for d, and returns its events.
func timeline(t *testing.T, kind config.CheckKind, p config.Probe, plain bool, s *scripted, d time.Duration) ([]Event, ServerStatus) {
	t.Helper()
	var got []Event
	var st ServerStatus
	synctest.Test(t, func(t *testing.T) {
		s.start = time.Now()
		srv := config.Server{Name: "s", Address: "192.0.2.1", Checks: []config.Check{{Kind: kind, Port: 80}}}
		m, err := NewServer(srv, Options{Probe: p, Plain: plain,
			Prober: func(config.Server, config.Check) (Prober, error) { return s, nil }})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		events := make(chan Event)
		done := make(chan struct{})
		go func() {
			defer close(done)
			for ev := range events {
				got = append(got, ev)
			}
		}()
		m.Run(ctx, events)
		close(events)
		<-done
		st = m.Status()
	})
	return got, st
}

// downAt is when the server first went DOWN, after start; zero when never.
func downAt(events []Event, start time.Time) time.Duration {
	for _, ev := range events {
		if ev.Type == EventServer && ev.Transition.To == Down {
			return ev.Time.Sub(start)
		}
	}
	return 0
}

// The server dies at 20.1 s, just after the probe of 20 s was answered.
// Plainly: probes of 21, 22 and 23 s lost, the last judged at its 1 s
// timeout, 24 s. With the state's timeout (a round trip that never varies:
// 200 ms + G, 210 ms) and the burst: the probe of 21 s is judged lost at
// 21.21 s, the burst of 6 leaves from 21.21 s to 21.41 s and is judged lost
// 210 ms later, at 21.62 s.
func TestDeadServerTimeline(t *testing.T) {
	p := config.Defaults().Probe
	p.Interval, p.Timeout = time.Second, time.Second
	dies := func(start time.Time) func(time.Time) (time.Duration, bool) {
		return func(now time.Time) (time.Duration, bool) {
			return 200 * time.Millisecond, now.Sub(start) < 20100*time.Millisecond
		}
	}
	tests := []struct {
		name   string
		kind   config.CheckKind
		plain  bool
		want   time.Duration
		probes int // probes sent by the end, 25 s
	}{
		{"plain", config.ICMP, true, 24 * time.Second, 26},
		{"icmp: adaptive timeout and a burst", config.ICMP, false, 21620 * time.Millisecond, 26 + ICMPBurst},
		// TCP confirms with one attempt: 21 s lost, the attempt at 21.21 s
		// lost at 21.42 s, then the probe of 22 s at 22.21 s.
		{"tcp: adaptive timeout and one attempt", config.TCP, false, 22210 * time.Millisecond, 27},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &scripted{}
			s.rtt = func(now time.Time) (time.Duration, bool) { return dies(s.start)(now) }
			events, st := timeline(t, tc.kind, p, tc.plain, s, 25*time.Second+time.Millisecond)
			if got := downAt(events, s.start); got != tc.want {
				t.Errorf("DOWN at %s, want %s", got, tc.want)
			}
			if got := s.count(); got != tc.probes {
				t.Errorf("%d probes sent, want %d", got, tc.probes)
			}
			// The statistics count the scheduled probes alone, by the
			// configured timeout: 26 sent, the last still out at the end.
			if l := st.Checks[0].Lifetime; l.Sent != 25 || l.Received != 21 {
				t.Errorf("statistics %d sent, %d received, want 25 and 21", l.Sent, l.Received)
			}
		})
	}
}

// Round trips of 250 ms: a burst's 6 probes (200 ms) have all left before
// its first answer. A reply after the state's timeout but inside the
// configured one is a received packet for the statistics and a loss for
// the state; the burst
// that follows is answered (the late round trip has lifted the timeout), so
// the state stays UP. A lone lost probe likewise: its burst answers.
func TestLateAndLoneLossesStayUp(t *testing.T) {
	p := config.Defaults().Probe
	p.Interval, p.Timeout = time.Second, time.Second
	tests := []struct {
		name          string
		rtt           func(i int) (time.Duration, bool)
		sent, receive int
		probes        int
	}{
		{"one late reply at 600 ms", func(i int) (time.Duration, bool) {
			if i == 20 {
				return 600 * time.Millisecond, true
			}
			return 250 * time.Millisecond, true
		}, 30, 30, 30 + ICMPBurst},
		{"one lost probe", func(i int) (time.Duration, bool) { return 250 * time.Millisecond, i != 20 }, 30, 29, 30 + ICMPBurst},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := byProbe(tc.rtt)
			events, st := timeline(t, config.ICMP, p, false, s, 30*time.Second-time.Millisecond)
			for _, ev := range events {
				if ev.Type == EventCheck && ev.Transition.To != Up {
					t.Errorf("state went %s: %s", ev.Transition.To, ev.Reason)
				}
			}
			if st.State != Up {
				t.Errorf("state %s at the end", st.State)
			}
			l := st.Checks[0].Lifetime
			if l.Sent != tc.sent || l.Received != tc.receive {
				t.Errorf("statistics %d sent, %d received, want %d and %d", l.Sent, l.Received, tc.sent, tc.receive)
			}
			if got := s.count(); got != tc.probes {
				t.Errorf("%d probes, want %d (a burst of %d after the loss)", got, tc.probes, ICMPBurst)
			}
		})
	}
}

// A burst is one question: lost entirely it counts its probes as losses;
// one answer in it ends the loss run and its losses count for nothing. And
// where the scheduled probes decide sooner (100 ms probes, down_after 2)
// no burst is sent.
func TestBurstIsOneQuestion(t *testing.T) {
	p := config.Defaults().Probe
	p.Interval, p.Timeout = time.Second, time.Second
	lab := p
	lab.Interval, lab.Timeout, lab.DownAfter = 100*time.Millisecond, 300*time.Millisecond, 2
	tests := []struct {
		name   string
		p      config.Probe
		lost   func(i int) bool // by probe, scheduled and confirmation, from 1
		down   bool
		probes int
	}{
		{"all but the burst's last lost: UP", p, func(i int) bool { return i >= 20 && i < 20+ICMPBurst }, false, 30 + ICMPBurst},
		{"the burst lost entirely: DOWN", p, func(i int) bool { return i >= 20 && i <= 20+ICMPBurst }, true, 30 + ICMPBurst},
		{"100 ms probes, down_after 2: no burst, one loss stays UP", lab, func(i int) bool { return i == 100 }, false, 300},
		// Probe 20 lost, its burst answered (21 to 26), scheduled probe
		// 5 after it lost too: within BurstEvery, no second burst.
		{"a second loss soon after a burst: no second burst", p, func(i int) bool { return i == 20 || i == 31 }, false, 30 + ICMPBurst},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := byProbe(func(n int) (time.Duration, bool) { return 250 * time.Millisecond, !tc.lost(n) })
			events, st := timeline(t, config.ICMP, tc.p, false, s, 30*time.Second-time.Millisecond)
			if down := downAt(events, s.start) != 0; down != tc.down {
				t.Errorf("went DOWN: %v, want %v", down, tc.down)
			}
			if got := s.count(); got != tc.probes {
				t.Errorf("%d probes, want %d", got, tc.probes)
			}
			if tc.down || st.State == Up {
				return
			}
			t.Errorf("state %s at the end", st.State)
		})
	}
}

// A burst stops at its first answer: on a LAN (1 ms) the first confirmation
// is answered before the second is due, and the rest never leave.
func TestBurstStopsAtItsAnswer(t *testing.T) {
	p := config.Defaults().Probe
	p.Interval, p.Timeout = time.Second, time.Second
	s := byProbe(func(n int) (time.Duration, bool) { return time.Millisecond, n != 20 })
	events, st := timeline(t, config.ICMP, p, false, s, 30*time.Second-time.Millisecond)
	if downAt(events, s.start) != 0 || st.State != Up {
		t.Errorf("state %s, want UP throughout", st.State)
	}
	if got := s.count(); got != 31 {
		t.Errorf("%d probes, want 30 scheduled and 1 confirmation", got)
	}
}

// At 100 ms probes with down_after 2 (the lab's path) the scheduled probes
// confirm: the state's timeout (200 ms + G) says when a probe is suspect,
// and a suspect waits for its own reply unless the state needs its
// verdict. The server answers in 200 ms; from 20.1 s it is slow or dead.
func TestSuspectWaitsForItsReply(t *testing.T) {
	ms := time.Millisecond
	lab := config.Defaults().Probe
	lab.Interval, lab.Timeout, lab.DownAfter, lab.UpAfter = 100*ms, 300*ms, 2, 2
	far := lab
	far.Timeout = time.Second
	// spell answers in 200 ms but for the probes sent at 20.1 s, answered
	// in 260 ms, and at 20.2 s, answered in rtt or, ok false, never.
	spell := func(rtt time.Duration, ok bool) func(time.Duration) (time.Duration, bool) {
		return func(at time.Duration) (time.Duration, bool) {
			switch at {
			case 20100 * ms:
				return 260 * ms, true
			case 20200 * ms:
				return rtt, ok
			}
			return 200 * ms, true
		}
	}
	// dead answers in 200 ms until 20.05 s, then never.
	dead := func(at time.Duration) (time.Duration, bool) { return 200 * ms, at < 20050*ms }
	tests := []struct {
		name string
		p    config.Probe
		// rtt of the probe sent at this time after the start; false: lost
		rtt  func(at time.Duration) (time.Duration, bool)
		down time.Duration // zero: never
	}{
		// The probe of 20.1 s is suspect at 20.31 s and answered at
		// 20.36 s; that reply lifts the timeout (SRTT 207.5 + 4 x 15) to
		// 267.5 ms, and the probe of 20.2 s is answered at 20.495 s,
		// suspect at 20.4675 s: each reply came before the state needed
		// it. Judged lost at the state's timeout, the two made a DOWN.
		{"a slow spell: two replies late for the state's timeout, neither needed yet: UP", lab, spell(295*ms, true), 0},
		// The late reply first, a loss after it: the reply at 20.36 s
		// ends the run before the lost probe of 20.2 s is judged.
		{"a late reply, then a lost probe: UP", lab, spell(0, false), 0},
		// Dead from 20.05 s: the probe of 20.1 s suspect at 20.31 s, lost
		// at its configured 300 ms, 20.4 s; the one of 20.2 s suspect at
		// 20.41 s completes down_after: DOWN then, as without waiting.
		{"dead: DOWN at the second lost probe's state timeout", lab, dead, 20410 * ms},
		// A configured timeout of 1 s: at 20.41 s the two suspects
		// complete down_after together.
		{"dead, a configured timeout far above: the same", far, dead, 20410 * ms},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &scripted{}
			s.rtt = func(now time.Time) (time.Duration, bool) { return tc.rtt(now.Sub(s.start)) }
			events, _ := timeline(t, config.ICMP, tc.p, false, s, 21*time.Second-time.Millisecond)
			if got := downAt(events, s.start); got != tc.down {
				t.Errorf("DOWN at %s, want %s (zero: never)", got, tc.down)
			}
			if got, want := s.count(), 210; got != want {
				t.Errorf("%d probes, want %d scheduled and no burst", got, want)
			}
		})
	}
}

// Round trips drawn as the lab's responder draws them for the paper's
// public server (normal, 196 ms, sd 4.1 ms): few ordinary replies
// overshoot the state's timeout. With RFC 6298's own RTTVAR (the last one,
// not the largest of RTTVarHistory) 0.28% of these do, 551: a timer that
// tight calls the server's normal replies late.
func TestStateTimeoutOvershoot(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var e rttEstimator
	const n = 200000
	late := 0
	for i := range n {
		rtt := 196*time.Millisecond + time.Duration(rng.NormFloat64()*float64(4100*time.Microsecond))
		if i >= MinRTTs && rtt > e.timeout(300*time.Millisecond) {
			late++
		}
		e.add(rtt)
	}
	if share := float64(late) / n; share > 0.0005 {
		t.Errorf("%d of %d replies (%.3f%%) later than the state's timeout, want under 0.05%%", late, n, share*100)
	}
}
