package monitor

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/failwatch/failwatch/config"
)

// Prober sends one probe to an address and reports what came back. It must
// return by the context's deadline; a probe that gets no answer in time is a
// lost sample, not an error.
type Prober interface {
	Probe(ctx context.Context, addr netip.Addr) Sample
}

// Starter is a prober that needs no goroutine per probe: Start sends at
// once and calls done exactly once, from another goroutine, with the reply
// or, when timeout passes, the loss. ICMP is one: one reader serves every
// probe, so a probe costs a map entry and a timer.
type Starter interface {
	Start(addr netip.Addr, timeout time.Duration, done func(Sample))
}

// NewProber builds the prober for a check. ICMP needs icmp (see NewICMP);
// it is shared by every ICMP check so the socket mode is chosen once.
func NewProber(c config.Check, icmp *ICMP) (Prober, error) {
	switch c.Kind {
	case config.ICMP:
		if icmp == nil {
			return nil, fmt.Errorf("icmp check: no ICMP prober")
		}
		return icmp, nil
	case config.TCP:
		return TCPProber{Port: uint16(c.Port)}, nil
	case config.HTTP:
		return NewHTTPProber(c.URL, c.Expect, c.Insecure)
	}
	return nil, fmt.Errorf("unknown check type %q", c.Kind)
}

// lost builds the sample of a probe that got no good answer.
func lost(at time.Time, format string, args ...any) Sample {
	return Sample{At: at, Err: fmt.Sprintf(format, args...)}
}
