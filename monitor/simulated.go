package monitor

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"sync"
	"time"
)

// Simulated is a prober that sends no packet: it answers after a round trip
// drawn from a normal distribution, loses a share of probes, and can be
// taken down. `failwatch demo` uses it with the paper's profiles
// (internal/paper), and says on screen that its servers are simulated.
type Simulated struct {
	Mean, Mdev time.Duration
	// Loss is the share of probes lost while up, 0 to 1.
	Loss float64

	mu   sync.Mutex
	down bool
	rng  *rand.Rand
}

// SetDown takes the simulated server down (every probe lost) or back up.
func (s *Simulated) SetDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

// Down reports whether the simulated server is down.
func (s *Simulated) Down() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.down
}

func (s *Simulated) draw() (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rng == nil {
		s.rng = rand.New(rand.NewPCG(uint64(s.Mean), uint64(s.Mdev)+1))
	}
	if s.down || s.rng.Float64() < s.Loss {
		return 0, false
	}
	rtt := s.Mean + time.Duration(s.rng.NormFloat64()*float64(s.Mdev))
	return max(rtt, s.Mean/4), true
}

// Probe waits one simulated round trip, or until the deadline for a loss.
func (s *Simulated) Probe(ctx context.Context, _ netip.Addr) Sample {
	start := time.Now()
	rtt, ok := s.draw()
	if !ok {
		<-ctx.Done()
		return lost(start, "timeout")
	}
	t := time.NewTimer(rtt)
	defer t.Stop()
	select {
	case <-t.C:
		return Sample{At: start, RTT: rtt, OK: true}
	case <-ctx.Done():
		return lost(start, "timeout")
	}
}
