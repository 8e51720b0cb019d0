package monitor

import (
	"math"
	"slices"
	"sync"
	"time"
)

// Sample is the outcome of one probe. A lost probe is a sample too: OK is
// false and Err says why (timeout, refused, HTTP 503, ...). A probe that
// never left (the send failed) has NotSent set: it fails the check like a
// loss but is not counted as transmitted, so loss stays what the network did.
type Sample struct {
	At      time.Time
	RTT     time.Duration
	OK      bool
	Err     string
	NotSent bool
}

// Stats summarises a run of samples the way iputils ping does, plus jitter
// and p95.
//
// Mdev is ping's: sqrt(mean(rtt²) − mean(rtt)²), the population standard
// deviation of the replies' round trips. Jitter is RFC 3550's interarrival
// jitter estimator, J += (|D| − J)/16, where D is the difference between the
// round trips of consecutive replies. P95 is the nearest-rank 95th percentile
// and is only computed over a window (it is zero for lifetime statistics).
type Stats struct {
	Sent, Received int
	// NotSent counts probes whose request never left (not in Sent).
	NotSent int
	// Last is the round trip of the most recent reply; LastOK says whether
	// the most recent probe got one.
	Last   time.Duration
	LastOK bool
	Min    time.Duration
	Avg    time.Duration
	Max    time.Duration
	Mdev   time.Duration
	Jitter time.Duration
	P95    time.Duration
}

// LossPercent is the share of probes that got no reply, 0 to 100.
func (s Stats) LossPercent() float64 {
	if s.Sent == 0 {
		return 0
	}
	return float64(s.Sent-s.Received) / float64(s.Sent) * 100
}

// Series keeps the most recent samples in a fixed ring, and running
// accumulators over every sample since the start, so its memory does not grow
// however long it runs. A compact series keeps, for its window, each probe's
// outcome alone (8 bytes instead of a sample's 64): the same statistics,
// exactly, but no samples to draw.
type Series struct {
	ring []Sample
	// outcomes is a compact series' window: a round trip, or lostOutcome
	// or notSentOutcome.
	outcomes []time.Duration
	next     int
	full     bool
	life     accumulator
}

const (
	lostOutcome    time.Duration = -1
	notSentOutcome time.Duration = -2
)

// NewSeries returns a series whose window holds the last window samples.
func NewSeries(window int) *Series {
	return &Series{ring: make([]Sample, max(window, 1))}
}

// NewCompactSeries returns a series whose window holds the outcomes of the
// last window probes: for report and exporter, where no screen asks for
// the samples (Samples returns none).
func NewCompactSeries(window int) *Series {
	return &Series{outcomes: make([]time.Duration, max(window, 1))}
}

func (s *Series) size() int { return max(len(s.ring), len(s.outcomes)) }

// Add records a sample.
func (s *Series) Add(x Sample) {
	if s.outcomes != nil {
		s.outcomes[s.next] = outcome(x)
	} else {
		s.ring[s.next] = x
	}
	s.next++
	if s.next == s.size() {
		s.next, s.full = 0, true
	}
	s.life.add(x)
}

func outcome(x Sample) time.Duration {
	switch {
	case x.NotSent:
		return notSentOutcome
	case !x.OK:
		return lostOutcome
	}
	return max(x.RTT, 0)
}

// at is the i-th sample of the window's storage, as far as statistics go.
func (s *Series) at(i int) Sample {
	if s.outcomes == nil {
		return s.ring[i]
	}
	switch o := s.outcomes[i]; o {
	case notSentOutcome:
		return Sample{NotSent: true}
	case lostOutcome:
		return Sample{}
	default:
		return Sample{RTT: o, OK: true}
	}
}

// Skip counts n probes that were never sent and left no sample (the
// probe loop was late); they show in the lifetime statistics' NotSent.
func (s *Series) Skip(n int) { s.life.notSent += n }

// Reset forgets every sample, for the admin's "reset statistics" key.
func (s *Series) Reset() {
	clear(s.ring)
	clear(s.outcomes)
	s.next, s.full = 0, false
	s.life = accumulator{}
}

// Len is the number of samples in the window.
func (s *Series) Len() int {
	if s.full {
		return s.size()
	}
	return s.next
}

// Samples returns a copy of the window, oldest first.
func (s *Series) Samples() []Sample {
	return s.AppendSamples(nil)
}

// AppendSamples appends the window, oldest first, to dst; a compact
// series has none to append.
func (s *Series) AppendSamples(dst []Sample) []Sample {
	if s.outcomes != nil {
		return dst
	}
	if s.full {
		dst = append(dst, s.ring[s.next:]...)
	}
	return append(dst, s.ring[:s.next]...)
}

// Window returns the statistics of the samples in the window.
func (s *Series) Window() Stats {
	var acc accumulator
	n := s.Len()
	scratch := rttScratch.Get().(*[]time.Duration)
	defer rttScratch.Put(scratch)
	rtts := (*scratch)[:0]
	start := 0
	if s.full {
		start = s.next
	}
	for i := range n {
		x := s.at((start + i) % s.size())
		acc.add(x)
		if x.OK {
			rtts = append(rtts, x.RTT)
		}
	}
	st := acc.stats()
	st.P95 = Percentile(rtts, 95)
	*scratch = rtts
	return st
}

// rttScratch holds the round trips Window sorts for its p95: a window's
// statistics are asked for at every sample of every server, and a new
// slice each time (2.4 KB for 300 probes) was most of a probe's garbage.
var rttScratch = sync.Pool{New: func() any { return new([]time.Duration) }}

// Lifetime returns the statistics of every sample since the start or the
// last Reset.
func (s *Series) Lifetime() Stats { return s.life.stats() }

// accumulator keeps running sums in O(1) memory. The mean and variance use
// Welford's update, which gives ping's mdev without the cancellation that
// sum-of-squares suffers over long runs.
type accumulator struct {
	sent, recv int
	notSent    int
	last       time.Duration
	lastOK     bool
	min, max   time.Duration
	mean, m2   float64 // nanoseconds
	jitter     float64 // nanoseconds
}

func (a *accumulator) add(x Sample) {
	a.lastOK = x.OK
	if x.NotSent {
		a.notSent++
		return
	}
	a.sent++
	if !x.OK {
		return
	}
	rtt := float64(x.RTT)
	if a.recv > 0 {
		a.jitter += (math.Abs(rtt-float64(a.last)) - a.jitter) / 16
	}
	a.recv++
	if a.recv == 1 || x.RTT < a.min {
		a.min = x.RTT
	}
	if x.RTT > a.max {
		a.max = x.RTT
	}
	delta := rtt - a.mean
	a.mean += delta / float64(a.recv)
	a.m2 += delta * (rtt - a.mean)
	a.last = x.RTT
}

func (a *accumulator) stats() Stats {
	st := Stats{Sent: a.sent, Received: a.recv, NotSent: a.notSent, LastOK: a.lastOK}
	if a.recv == 0 {
		return st
	}
	st.Last = a.last
	st.Min, st.Max = a.min, a.max
	st.Avg = time.Duration(math.Round(a.mean))
	st.Mdev = time.Duration(math.Round(math.Sqrt(a.m2 / float64(a.recv))))
	st.Jitter = time.Duration(math.Round(a.jitter))
	return st
}

// Percentile returns the nearest-rank p-th percentile; it sorts rtts.
func Percentile(rtts []time.Duration, p float64) time.Duration {
	if len(rtts) == 0 {
		return 0
	}
	slices.Sort(rtts)
	rank := int(math.Ceil(p / 100 * float64(len(rtts))))
	return rtts[max(rank, 1)-1]
}
