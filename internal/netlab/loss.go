package netlab

import (
	"context"
	"math"
	"math/rand/v2"
	"sync"
	"time"
)

// Loss decides, per echo request reaching the delay responder, whether the
// path loses it: the loss of a far server's internet path, which the lab's
// veth pair does not have (the paper's public server lost 5%).
type Loss interface {
	Lose(now time.Time) bool
}

// DelayEchoLossy is DelayEcho with loss: each request loss says is lost
// goes unanswered; and, when slow is not nil, each answered one is delayed
// by slow's extra too.
func (h *Host) DelayEchoLossy(ctx context.Context, mean, mdev time.Duration, loss Loss, slow Slowdown) error {
	return h.delayEcho(ctx, mean, mdev, loss, slow)
}

// Independent loses each request alone with probability P.
type Independent struct {
	mu  sync.Mutex
	p   float64
	rng *rand.Rand
}

// NewIndependent loses a share p of requests, each on its own; seed makes a
// run repeatable.
func NewIndependent(p float64, seed uint64) *Independent {
	return &Independent{p: p, rng: rand.New(rand.NewPCG(seed, 1))}
}

// Lose draws one request's fate.
func (l *Independent) Lose(time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rng.Float64() < l.p
}

// GilbertElliott is bursty loss: a path that is good or bad, in spells of
// exponentially distributed length, losing each request with the loss of
// its state. Spells are in time, not in packets, so probes sent close
// together (a confirmation burst) share a spell as a real congested queue
// or a flapping link makes them do; a per-packet chain would make a burst
// as independent as probes a second apart.
type GilbertElliott struct {
	mu                sync.Mutex
	spells            spells
	lossGood, lossBad float64
	rng               *rand.Rand
}

// NewGilbertElliott starts in the good state. The long-run loss is
// (goodMean*lossGood + badMean*lossBad) / (goodMean + badMean).
func NewGilbertElliott(goodMean, badMean time.Duration, lossGood, lossBad float64, seed uint64) *GilbertElliott {
	rng := rand.New(rand.NewPCG(seed, 2))
	return &GilbertElliott{spells: spells{goodMean: goodMean, badMean: badMean, rng: rng}, lossGood: lossGood, lossBad: lossBad, rng: rng}
}

// Lose moves the path through the spells that ended by now and draws the
// request's fate in the state it is in.
func (l *GilbertElliott) Lose(now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	p := l.lossGood
	if l.spells.bad(now) {
		p = l.lossBad
	}
	return l.rng.Float64() < p
}

// spells is a path good or bad in turn, in spells of exponentially
// distributed length in time, starting good.
type spells struct {
	goodMean, badMean time.Duration
	isBad             bool
	until             time.Time
	rng               *rand.Rand
}

// bad moves through the spells that ended by now and says whether the path
// is in a bad one.
func (s *spells) bad(now time.Time) bool {
	if s.until.IsZero() {
		s.until = now.Add(s.spell())
	}
	for !now.Before(s.until) {
		s.isBad = !s.isBad
		s.until = s.until.Add(s.spell())
	}
	return s.isBad
}

func (s *spells) spell() time.Duration {
	mean := s.goodMean
	if s.isBad {
		mean = s.badMean
	}
	return max(time.Duration(s.rng.ExpFloat64()*float64(mean)), time.Microsecond)
}

// Slowdown is extra delay on a path, per echo request answered.
type Slowdown interface {
	Extra(now time.Time) time.Duration
}

// SlowSpells is a path whose round trip grows in spells (a queue filling
// behind a burst of other traffic, a route flapping to a longer one): in
// time as GilbertElliott's, each request in a slow spell delayed by a
// further uniform draw between lo and hi. The lab's normal round trips
// have no such tail; a timer set close above them meets it here.
type SlowSpells struct {
	mu     sync.Mutex
	spells spells
	lo, hi time.Duration
	rng    *rand.Rand
}

// NewSlowSpells starts in the normal state.
func NewSlowSpells(normalMean, slowMean, lo, hi time.Duration, seed uint64) *SlowSpells {
	rng := rand.New(rand.NewPCG(seed, 3))
	return &SlowSpells{spells: spells{goodMean: normalMean, badMean: slowMean, rng: rng}, lo: lo, hi: hi, rng: rng}
}

// Extra is the request's delay beyond the path's normal round trip.
func (s *SlowSpells) Extra(now time.Time) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.spells.bad(now) {
		return 0
	}
	return s.lo + time.Duration(s.rng.Int64N(int64(s.hi-s.lo)+1))
}

// RateLimit answers at most PerSecond echo requests a second with a bucket
// of Burst, as a router's ICMP rate limit does; the rest go unanswered. It
// sees only the requests the path delivered (Then).
type RateLimit struct {
	mu        sync.Mutex
	perSecond float64
	burst     float64
	tokens    float64
	last      time.Time
}

// NewRateLimit allows perSecond replies a second, burst at once.
func NewRateLimit(perSecond float64, burst int) *RateLimit {
	return &RateLimit{perSecond: perSecond, burst: float64(burst), tokens: float64(burst)}
}

// Lose takes a token, or loses the request when there is none.
func (l *RateLimit) Lose(now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() {
		l.tokens = math.Min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.perSecond)
	}
	l.last = now
	if l.tokens < 1 {
		return true
	}
	l.tokens--
	return false
}

// Then is path loss followed by a limiter: the limiter only sees, and
// spends tokens on, the requests the path delivered.
func Then(path, limit Loss) Loss { return then{path, limit} }

type then struct{ path, limit Loss }

func (t then) Lose(now time.Time) bool { return t.path.Lose(now) || t.limit.Lose(now) }
