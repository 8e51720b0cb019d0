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
// The timeout is TCP's retransmission timer (RFC 6298, section 2): SRTT +
// max(G, K x RTTVAR), with a floor, capped by the configured timeout. Two
// changes, both for a timer that decides on its own whether a server is
// lost: RTTVAR is the largest of its last RTTVarHistory values, as Linux
// keeps the largest mean deviation of a round trip's worth (mdev_max): the
// RFC's RTTVAR follows the last four round trips or so and is, now and then,
// so small that an ordinary reply overshoots SRTT + 4 x RTTVAR (0.28% of
// the paper's public server's replies drawn as the lab draws them, under
// 0.05% with the largest: TestStateTimeoutOvershoot); and SRTT and RTTVAR
// start from the mean and mean deviation of the first MinRTTs round trips,
// not from the first alone at RTTVAR = R/2, which would keep the timer at
// the configured one for the first RTTVarHistory round trips more.
//
// A timer that close above the round trips is overshot whenever the round
// trip grows for a moment (a queue filling behind other traffic), which a
// server's loss is not. So a scheduled probe without a reply by the timer
// is only suspect, and lost when the state needs its verdict: when a burst
// would confirm it, when it completes down_after, or when a later probe's
// verdict is known; a reply before then, however late, is a reply. On a
// dead server nothing changes: its last lost probe is judged at the timer,
// and the ones before it have been lost for the configured timeout by then
// or are judged with it (TCP, likewise, undoes a retransmission the late
// acknowledgement shows was spurious: RFC 3522).
const (
	// MinRTTs round trips must be known before the timeout adapts; until
	// then the configured one applies. They seed SRTT and RTTVAR; 8 is
	// under a second of 100 ms probes.
	MinRTTs = 8
	// RTTVarHistory values of RTTVAR are kept, and the largest is the
	// one the timer uses: 16 round trips, 1.6 s of 100 ms probes.
	RTTVarHistory = 16
	// StateTimeoutK is RFC 6298's K. The paper's public server (196 ms,
	// mdev 4.1 ms) gets about 212 ms instead of the lab's configured 300.
	StateTimeoutK = 4
	// StateTimeoutMargin is RFC 6298's G, the least margin above SRTT: a
	// path whose round trip barely varies would otherwise get a timer a
	// reply a millisecond late overshoots (the kernel stamps the replies,
	// but the delay on the way is a busy host's and network's).
	StateTimeoutMargin = 10 * time.Millisecond
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
	// on average losing half) a burst of 2, 30 ms apart and leaving 212 ms
	// after the lost probe, is wholly lost about e^(-212/200) x 0.5 x
	// e^(-30/200) x 0.5 = 7.5% of the time, by the model's arithmetic, 30
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

// rttEstimator is a check's smoothed round trip and its variation, for its
// state's timeout; replies later than that timeout count too, or a path
// whose round trip grew would stay DOWN.
type rttEstimator struct {
	n            int
	seed         [MinRTTs]time.Duration
	srtt, rttvar time.Duration
	vars         [RTTVarHistory]time.Duration
	next         int
	// varMax is the largest of vars.
	varMax time.Duration
}

func (e *rttEstimator) add(rtt time.Duration) {
	switch {
	case e.n < MinRTTs-1:
		e.seed[e.n] = rtt
		e.n++
		return
	case e.n == MinRTTs-1:
		e.seed[e.n] = rtt
		e.srtt, e.rttvar = meanDeviation(e.seed[:])
	default:
		// RFC 6298 (2.3): RTTVAR first, from the SRTT before this round
		// trip; alpha 1/8, beta 1/4.
		e.rttvar = (3*e.rttvar + (e.srtt - rtt).Abs()) / 4
		e.srtt = (7*e.srtt + rtt) / 8
	}
	e.n++
	e.vars[e.next] = e.rttvar
	e.next = (e.next + 1) % RTTVarHistory
	e.varMax = slices.Max(e.vars[:])
}

// meanDeviation is the mean of d and the mean of their distances from it.
func meanDeviation(d []time.Duration) (mean, dev time.Duration) {
	var sum time.Duration
	for _, x := range d {
		sum += x
	}
	mean = sum / time.Duration(len(d))
	for _, x := range d {
		dev += (x - mean).Abs()
	}
	return mean, dev / time.Duration(len(d))
}

// timeout is the state's timeout for a check whose configured one is
// configured.
func (e *rttEstimator) timeout(configured time.Duration) time.Duration {
	if e.n < MinRTTs {
		return configured
	}
	rto := e.srtt + max(StateTimeoutMargin, StateTimeoutK*e.varMax)
	return min(configured, max(StateTimeoutFloor, rto))
}

// verdict is one probe as the state sees it: scheduled or a confirmation,
// with its outcome once known. A scheduled probe with no reply by the
// state's timeout is suspect: lost, unless its reply comes before the
// state needs its verdict (ready).
type verdict struct {
	id      uint64
	sent    time.Time
	confirm bool
	known   bool
	suspect bool
	sample  Sample
}

// judge is the state's side of a check: probes awaiting their verdict in
// the order they were sent, the round trips the timeout is learnt from,
// and the confirmation probes still to send.
type judge struct {
	nextID  uint64
	pending []verdict
	rtts    rttEstimator
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
	// lost is the verdicts lost in a row so far; state and lastTimeout
	// are the state and the state's timeout when last seen, for ready.
	lost        int
	state       State
	lastTimeout time.Duration
	// verdicts is ready's result, its storage kept from call to call as
	// pending's is: a probe's verdict allocates nothing (at 1,000 servers
	// probed once a second the two were a tenth of the exporter's
	// garbage).
	verdicts []verdict
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

// sent notes a probe leaving and returns its id. pending keeps its
// storage from the front (ready and burstAt pop by moving the rest down):
// a few verdicts at most, the probes out at once.
func (j *judge) sent(at time.Time, confirm bool) uint64 {
	j.nextID++
	j.pending = append(j.pending, verdict{id: j.nextID, sent: at, confirm: confirm})
	if !confirm {
		j.scheduled++
	}
	return j.nextID
}

// outcome gives probe id its outcome. A scheduled probe's reply counts
// however late, while its verdict is still open; a confirmation's reply
// later than the state's timeout is a loss, the burst being judged on that
// timeout. It is a no-op for a verdict already given.
func (j *judge) outcome(id uint64, x Sample, timeout time.Duration) {
	for i := range j.pending {
		v := &j.pending[i]
		if v.id != id || v.known {
			continue
		}
		if x.OK && v.confirm && x.RTT > timeout {
			x = Sample{At: x.At, Err: fmt.Sprintf("reply after %s, later than the state's timeout %s",
				x.RTT.Round(time.Millisecond), timeout.Round(time.Millisecond))}
		}
		if x.OK && v.confirm {
			// The burst has its answer: the rest need not leave.
			j.toSend = nil
		}
		v.known, v.suspect, v.sample = true, false, x
		return
	}
}

// overdue judges every probe older than timeout at now: a confirmation
// lost, a scheduled probe suspect; it returns when the next one will be,
// zero when none is out.
func (j *judge) overdue(now time.Time, timeout time.Duration) time.Time {
	j.lastTimeout = timeout
	var next time.Time
	for i := range j.pending {
		v := &j.pending[i]
		if v.known || v.suspect {
			continue
		}
		due := v.sent.Add(timeout)
		if !now.Before(due) {
			v.sample = Sample{At: v.sent, Err: fmt.Sprintf("no reply within %s (the state's timeout)", timeout.Round(time.Millisecond))}
			v.known, v.suspect = v.confirm, !v.confirm
			continue
		}
		if next.IsZero() || due.Before(next) {
			next = due
		}
	}
	return next
}

// needed says whether the state needs the suspect verdict at the head of
// pending now, as a loss: when a burst would confirm it (the burst leaves
// at once), when it and the suspects after it complete down_after, or
// when a later verdict is known (verdicts go in order). Otherwise it waits
// for its own reply or its loss by the configured timeout: a path whose
// round trip grows for a moment (a queue filling) makes replies late for
// the state's timeout but not lost, and one that comes before anything
// depends on it is a reply.
func (j *judge) needed() bool {
	if j.wouldBurst(j.lastTimeout) {
		return true
	}
	suspects := 0
	for _, v := range j.pending {
		switch {
		case v.known:
			return true
		case v.suspect:
			suspects++
		}
	}
	return j.lost+suspects >= j.downAfter
}

// ready pops the verdicts known, in send order, and a suspect one at the
// head as a loss when the state needs it (needed). A confirmation burst is
// one question and waits until every probe of it is known: lost entirely,
// its probes count as the losses they are towards down_after (a lost probe
// and a lost burst of 6 are 7 consecutive losses); any probe of it
// answered, the burst counts as that one answer, which ends the loss run,
// and its losses count for nothing: the server answered. What it returns
// is good until the next call.
func (j *judge) ready() []verdict {
	out := j.verdicts[:0]
	for len(j.pending) > 0 {
		head := &j.pending[0]
		switch {
		case head.suspect && j.needed():
			head.known, head.suspect = true, false
		case !head.known && !head.confirm:
			return j.popped(out)
		}
		if !head.confirm {
			out = append(out, j.count(*head))
			j.pending = slices.Delete(j.pending, 0, 1)
			continue
		}
		burst, whole := j.burstAt()
		if !whole {
			break
		}
		for _, v := range burst {
			out = append(out, j.count(v))
		}
	}
	return j.popped(out)
}

// count keeps the losses in a row as verdicts go to the state.
func (j *judge) count(v verdict) verdict {
	if v.sample.OK {
		j.lost = 0
	} else {
		j.lost++
	}
	return v
}

// popped is ready's result, its storage kept for the next call.
func (j *judge) popped(out []verdict) []verdict {
	j.verdicts = out
	return out
}

// burstAt takes the burst at the head of pending when all of it is known
// (with the scheduled probes sent during it, in order), as ready counts it.
func (j *judge) burstAt() ([]verdict, bool) {
	n, last := 0, 0
	for i, v := range j.pending {
		if !v.known && !v.suspect {
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
		// A scheduled probe suspect within the burst is lost: the
		// burst's verdicts after it are known.
		v.known, v.suspect = true, false
		switch {
		case !v.confirm, answered < 0, i == answered:
			out = append(out, v)
		}
	}
	j.pending = slices.Delete(j.pending, 0, last+1)
	return out, true
}

// afterVerdict plans a confirmation burst after the first loss of a run
// while the check is not DOWN, when the burst would be judged before the
// scheduled probes reach down_after (at 100 ms probes and down_after 2 the
// next probe is already out and decides sooner). One burst per loss run,
// and one per BurstEvery scheduled probes: a run that goes on is left to
// the scheduled probes. How a burst counts is ready's.
func (j *judge) afterVerdict(v verdict, state State, now time.Time, timeout time.Duration) {
	j.state = state
	if v.sample.OK {
		j.inBurst = false
		return
	}
	if v.confirm || !j.wouldBurst(timeout) {
		return
	}
	j.inBurst, j.lastBurst = true, j.scheduled
	for i := range j.burst {
		j.toSend = append(j.toSend, now.Add(time.Duration(i)*BurstSpacing))
	}
}

// wouldBurst says whether a loss now would be confirmed by a burst
// (afterVerdict), on the state's timeout.
func (j *judge) wouldBurst(timeout time.Duration) bool {
	if j.inBurst || j.burst == 0 || j.state == Down || (j.lastBurst > 0 && j.scheduled-j.lastBurst < BurstEvery) {
		return false
	}
	return timeout+time.Duration(j.burst-1)*BurstSpacing < time.Duration(j.downAfter-1)*j.interval
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
