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
// goes unanswered.
func (h *Host) DelayEchoLossy(ctx context.Context, mean, mdev time.Duration, loss Loss) error {
	return h.delayEcho(ctx, mean, mdev, loss)
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
	goodMean, badMean time.Duration
	lossGood, lossBad float64
	bad               bool
	until             time.Time
	rng               *rand.Rand
}

// NewGilbertElliott starts in the good state. The long-run loss is
// (goodMean*lossGood + badMean*lossBad) / (goodMean + badMean).
func NewGilbertElliott(goodMean, badMean time.Duration, lossGood, lossBad float64, seed uint64) *GilbertElliott {
	return &GilbertElliott{goodMean: goodMean, badMean: badMean, lossGood: lossGood, lossBad: lossBad,
		rng: rand.New(rand.NewPCG(seed, 2))}
}

// Lose moves the path through the spells that ended by now and draws the
// request's fate in the state it is in.
func (l *GilbertElliott) Lose(now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.until.IsZero() {
		l.until = now.Add(l.spell())
	}
	for !now.Before(l.until) {
		l.bad = !l.bad
		l.until = l.until.Add(l.spell())
	}
	p := l.lossGood
	if l.bad {
		p = l.lossBad
	}
	return l.rng.Float64() < p
}

func (l *GilbertElliott) spell() time.Duration {
	mean := l.goodMean
	if l.bad {
		mean = l.badMean
	}
	return max(time.Duration(l.rng.ExpFloat64()*float64(mean)), time.Microsecond)
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
