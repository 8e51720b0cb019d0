package monitor

import (
	"fmt"
	"slices"
	"time"

	"github.com/failwatch/failwatch/config"
)

// The up/down state is judged on a timeout of its own, learnt from the
// check's recent round trips, and a lost probe is confirmed at once instead
// of waiting for the next scheduled one. Both serve the state only: the
// statistics (Series) still count every scheduled probe by the configured
// timeout, as ping would, and never see a confirmation probe.
//
// The timeout is the idea of TCP's retransmission timer (RFC 6298: a timer
// from the measured round trips, with a floor, never below what the path
// has shown), in the form the probes need: the larger of StateTimeoutFloor
// and StateTimeoutFactor times the longest of the last RTTHistory round
// trips (with 64 of them the nearest-rank p99 is the longest), capped by the
// configured timeout.
const (
	// RTTHistory round trips are kept per check for the state's timeout.
	RTTHistory = 64
	// MinRTTs round trips must be known before the timeout adapts; until
	// then the configured one applies. RFC 6298 adapts from the first
	// measurement, at three times it; 8 is under a second of 100 ms probes.
	MinRTTs = 8
	// StateTimeoutFactor is k in k x p99: 25% above the longest recent
	// round trip. The paper's public server (196 ms, mdev 4.1 ms, p99
	// about 206 ms) gets about 258 ms instead of the lab's configured
	// 300 ms; a reply that long after its p99 is far out of the path's
	// normal, and if it comes all the same it lifts the timeout.
	StateTimeoutFactor = 1.25
	// StateTimeoutFloor keeps a LAN's sub-millisecond round trips from
	// giving a timeout a busy host's scheduling could miss: RFC 6298
	// rounds up to 1 s for TCP, Linux to 200 ms; a probe has no
	// retransmission to lose, so half of Linux's.
	StateTimeoutFloor = 100 * time.Millisecond
	// ICMPBurst echo requests, BurstSpacing apart, confirm a lost ICMP
	// probe; TCP and HTTP checks confirm with one attempt, not a burst at
	// the server's service. A burst confirms only when lost entirely, so
	// its size is what keeps a spell of bursty loss from passing for an
	// outage: in bench-detect's Gilbert-Elliott model (bad spells of 200 ms
	// on average losing half) a burst of 2, 30 ms apart and leaving 258 ms
	// after the lost probe, is wholly lost about e^(-258/200) x 0.5 x
	// e^(-30/200) x 0.5 = 6% of the time, by the model's arithmetic, 25
	// times the 0.25% of two scheduled probes a second apart; 6 over 200 ms
	// bring it to about 0.2% (docs/BENCHMARKS.md has what was measured).
	ICMPBurst    = 6
	BurstSpacing = 40 * time.Millisecond
	// BurstEvery scheduled probes at most have one burst: a burst takes
	// a rate-limited server's tokens (bench-detect: 1.25 times the probe
	// rate, a bucket of 2), the next scheduled probe finds none and is
	// lost, and a burst at once after it finds none either: a false DOWN
	// the scheduled probes alone never made. Within BurstEvery of the last
	// burst, a loss is confirmed by the scheduled probes, as before.
	BurstEvery = 20
)

// rttHistory is a check's last RTTHistory round trips, for its state's
// timeout; replies later than that timeout count too, or a path whose
// round trip grew would stay DOWN.
type rttHistory struct {
	ring    [RTTHistory]time.Duration
	n, next int
	longest time.Duration
}

func (h *rttHistory) add(rtt time.Duration) {
	h.ring[h.next] = rtt
	h.next = (h.next + 1) % RTTHistory
	h.n = min(h.n+1, RTTHistory)
	h.longest = slices.Max(h.ring[:h.n])
}

// timeout is the state's timeout for a check whose configured one is
// configured.
func (h *rttHistory) timeout(configured time.Duration) time.Duration {
	if h.n < MinRTTs {
		return configured
	}
	k := time.Duration(float64(h.longest) * StateTimeoutFactor)
	return min(configured, max(StateTimeoutFloor, k))
}

// verdict is one probe as the state sees it: scheduled or a confirmation,
// with its outcome once known.
type verdict struct {
	id      uint64
	sent    time.Time
	confirm bool
	known   bool
	sample  Sample
}

// judge is the state's side of a check: probes awaiting their verdict in
// the order they were sent, the round trips the timeout is learnt from,
// and the confirmation probes still to send.
type judge struct {
	nextID  uint64
	pending []verdict
	rtts    rttHistory
	// burst is how many probes confirm a loss (0: none); interval and
	// downAfter say when the scheduled probes would decide anyway.
	burst     int
	interval  time.Duration
	downAfter int
	toSend    []time.Time // when each confirmation probe still to send is due
	inBurst   bool        // a burst was sent in this loss run
	adaptive  bool
	// scheduled counts the scheduled probes sent, lastBurst that count at
	// the last burst (BurstEvery).
	scheduled, lastBurst uint64
}

func newJudge(kind config.CheckKind, p config.Probe, plain bool) judge {
	j := judge{adaptive: !plain, interval: p.Interval, downAfter: max(p.DownAfter, 1)}
	switch {
	case plain || j.downAfter == 1:
		// One loss is DOWN already: nothing to confirm.
	case kind == config.ICMP:
		j.burst = ICMPBurst
	default:
		j.burst = 1
	}
	return j
}

// timeout is the state's timeout now.
func (j *judge) timeout(configured time.Duration) time.Duration {
	if !j.adaptive {
		return configured
	}
	return j.rtts.timeout(configured)
}

// sent notes a probe leaving and returns its id.
func (j *judge) sent(at time.Time, confirm bool) uint64 {
	j.nextID++
	j.pending = append(j.pending, verdict{id: j.nextID, sent: at, confirm: confirm})
	if !confirm {
		j.scheduled++
	}
	return j.nextID
}

// outcome gives probe id its outcome; a reply later than the state's
// timeout is a loss for the state. It is a no-op for a probe already
// judged overdue.
func (j *judge) outcome(id uint64, x Sample, timeout time.Duration) {
	for i := range j.pending {
		v := &j.pending[i]
		if v.id != id || v.known {
			continue
		}
		if x.OK && x.RTT > timeout {
			x = Sample{At: x.At, Err: fmt.Sprintf("reply after %s, later than the state's timeout %s",
				x.RTT.Round(time.Millisecond), timeout.Round(time.Millisecond))}
		}
		if x.OK && v.confirm {
			// The burst has its answer: the rest need not leave.
			j.toSend = nil
		}
		v.known, v.sample = true, x
		return
	}
}

// overdue judges lost every probe older than timeout at now, and returns
// when the next one will be, zero when none is out.
func (j *judge) overdue(now time.Time, timeout time.Duration) time.Time {
	var next time.Time
	for i := range j.pending {
		v := &j.pending[i]
		if v.known {
			continue
		}
		due := v.sent.Add(timeout)
		if !now.Before(due) {
			v.known, v.sample = true, Sample{At: v.sent, Err: fmt.Sprintf("no reply within %s (the state's timeout)",
				timeout.Round(time.Millisecond))}
			continue
		}
		if next.IsZero() || due.Before(next) {
			next = due
		}
	}
	return next
}

// ready pops the verdicts known, in send order. A confirmation burst is
// one question and waits until every probe of it is known: lost entirely,
// its probes count as the losses they are towards down_after (a lost probe
// and a lost burst of 6 are 7 consecutive losses); any probe of it
// answered, the burst counts as that one answer, which ends the loss run,
// and its losses count for nothing: the server answered.
func (j *judge) ready() []verdict {
	var out []verdict
	for len(j.pending) > 0 && j.pending[0].known {
		if !j.pending[0].confirm {
			out = append(out, j.pending[0])
			j.pending = j.pending[1:]
			continue
		}
		burst, whole := j.burstAt()
		if !whole {
			break
		}
		out = append(out, burst...)
	}
	if len(j.pending) == 0 {
		j.pending = nil
	}
	return out
}

// burstAt takes the burst at the head of pending when all of it is known
// (with the scheduled probes sent during it, in order), as ready counts it.
func (j *judge) burstAt() ([]verdict, bool) {
	n, last := 0, 0
	for i, v := range j.pending {
		if !v.known {
			return nil, false
		}
		if !v.confirm {
			continue
		}
		n++
		last = i
		if n == j.burst {
			break
		}
	}
	if n < j.burst && len(j.toSend) > 0 {
		return nil, false // the rest of the burst has not left yet
	}
	var out []verdict
	answered := -1
	for i := 0; i <= last; i++ {
		if v := j.pending[i]; v.confirm && v.sample.OK && answered < 0 {
			answered = i
		}
	}
	for i := 0; i <= last; i++ {
		v := j.pending[i]
		switch {
		case !v.confirm, answered < 0, i == answered:
			out = append(out, v)
		}
	}
	j.pending = j.pending[last+1:]
	return out, true
}

// afterVerdict plans a confirmation burst after the first loss of a run
// while the check is not DOWN, when the burst would be judged before the
// scheduled probes reach down_after (at 100 ms probes and down_after 2 the
// next probe is already out and decides sooner). One burst per loss run,
// and one per BurstEvery scheduled probes: a run that goes on is left to
// the scheduled probes. How a burst counts is ready's.
func (j *judge) afterVerdict(v verdict, state State, now time.Time, timeout time.Duration) {
	if v.sample.OK {
		j.inBurst = false
		return
	}
	if v.confirm || j.inBurst || j.burst == 0 || state == Down ||
		(j.lastBurst > 0 && j.scheduled-j.lastBurst < BurstEvery) {
		return
	}
	if timeout+time.Duration(j.burst-1)*BurstSpacing >= time.Duration(j.downAfter-1)*j.interval {
		return
	}
	j.inBurst, j.lastBurst = true, j.scheduled
	for i := range j.burst {
		j.toSend = append(j.toSend, now.Add(time.Duration(i)*BurstSpacing))
	}
}

// due pops the confirmation probes due at now and returns how many, and
// when the next one is (zero when none is planned).
func (j *judge) due(now time.Time) (int, time.Time) {
	n := 0
	for n < len(j.toSend) && !now.Before(j.toSend[n]) {
		n++
	}
	j.toSend = j.toSend[n:]
	if len(j.toSend) == 0 {
		j.toSend = nil
		return n, time.Time{}
	}
	return n, j.toSend[0]
}
