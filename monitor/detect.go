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
	// then the configured one applies.
	MinRTTs = 16
	// StateTimeoutFactor is k in k x p99: 25% above the longest recent
	// round trip. The paper's public server (196 ms, mdev 4.1 ms, p99
	// about 206 ms) gets 258 ms instead of the lab's configured 300 ms;
	// a reply that long after its p99 is far out of the path's normal.
	StateTimeoutFactor = 1.25
	// StateTimeoutFloor keeps a LAN's sub-millisecond round trips from
	// giving a timeout a busy host's scheduling could miss: RFC 6298
	// rounds up to 1 s for TCP, Linux to 200 ms; a probe has no
	// retransmission to lose, so half of Linux's.
	StateTimeoutFloor = 100 * time.Millisecond
	// BurstSpacing separates a confirmation burst's echo requests: tens of
	// milliseconds, so a burst is not one queue drop or one rate-limiter
	// tick, and still well inside one probe interval.
	BurstSpacing = 30 * time.Millisecond
	// ICMPBurst is the most echo requests a lost ICMP probe is confirmed
	// with; TCP and HTTP checks confirm with one attempt, not a burst at
	// the server's service.
	ICMPBurst = 2
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
	nextID   uint64
	pending  []verdict
	rtts     rttHistory
	burst    int         // most confirmation probes after a loss
	toSend   []time.Time // when each confirmation probe still to send is due
	inBurst  bool        // a burst was sent in this loss run
	adaptive bool
}

func newJudge(kind config.CheckKind, p config.Probe, plain bool) judge {
	j := judge{adaptive: !plain}
	if plain {
		return j
	}
	j.burst = 1
	if kind == config.ICMP {
		j.burst = ICMPBurst
	}
	// More than down_after-1 confirmations prove nothing more.
	j.burst = min(j.burst, max(p.DownAfter, 1)-1)
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

// ready pops the verdicts known in send order.
func (j *judge) ready() []verdict {
	n := 0
	for n < len(j.pending) && j.pending[n].known {
		n++
	}
	out := slices.Clone(j.pending[:n])
	j.pending = slices.Delete(j.pending, 0, n)
	return out
}

// afterVerdict plans a confirmation burst after the first loss of a run
// while the check is not DOWN. The burst's probes count as the probes they
// are towards down_after (a loss run of a scheduled probe and a lost burst
// of two is three consecutive losses), a reply in it ends the loss run, and
// none of them enters the loss window, which stays a sample of the
// scheduled probes. One burst per loss run: a run that goes on is left to
// the scheduled probes.
func (j *judge) afterVerdict(v verdict, state State, now time.Time) {
	if v.sample.OK {
		j.inBurst = false
		return
	}
	if v.confirm || j.inBurst || j.burst == 0 || state == Down {
		return
	}
	j.inBurst = true
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
