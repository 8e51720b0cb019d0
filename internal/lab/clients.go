package lab

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/failover"
)

// Client is how a client finds the service's address before each ping.
type Client string

// The two clients the paper's table is read for.
const (
	// Resolving asks the resolver before every ping (the paper's client as
	// the lab has run it so far). No real client does this.
	Resolving Client = "re-resolves every ping"
	// Caching keeps an answer for its TTL, as a stub resolver with a cache
	// does: after a switch it goes on pinging the old address until the
	// answer expires.
	Caching Client = "caches for the TTL"
)

// ClientRow is scenario 2 on one failover path as one client saw it.
type ClientRow struct {
	Mode   Mode
	TTL    time.Duration
	Client Client
	// Stats are the paper's row: the first count pings.
	Stats monitor.Stats
	// Switch is from the fault to the resolver answering the standby.
	Switch time.Duration
	// Back is from the switch to the client's first ping answered by the
	// standby; BackOK is false when that did not happen within the run
	// (a cached answer with a long TTL).
	Back   time.Duration
	BackOK bool
}

// cache is a stub resolver's cache of the one name: it asks the lab's
// resolver only when the answer it holds has expired.
type cache struct {
	l       *Lab
	addr    netip.Addr
	expires time.Time
}

func (c *cache) lookup(ctx context.Context) netip.Addr {
	if time.Now().Before(c.expires) {
		return c.addr
	}
	qctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	a := monitor.Query(qctx, c.l.DNS, Name, "A")
	if len(a.Addrs) == 0 {
		return netip.Addr{}
	}
	c.addr, c.expires = a.Addrs[0], time.Now().Add(a.TTL)
	return c.addr
}

// ClientsScenario2 runs the paper's scenario 2 on one failover path, with
// the records' TTL set to ttl: both clients ping the service name count
// times at interval, side by side; before ping cutAt the public server is
// cut. The caching client goes on pinging after the count, until the
// standby answers it or until the switch plus the TTL and 5 s have passed
// (a TTL over a minute is not waited for). The lab is left as it was found,
// the public server restored and the name back on it.
func (l *Lab) ClientsScenario2(ctx context.Context, mode Mode, ttl time.Duration, count, cutAt int, interval time.Duration) ([]ClientRow, error) {
	c, f, err := l.openPath(ctx, mode)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	cfg := l.Config()
	if err := setTTL(ctx, c, ttl); err != nil {
		return nil, err
	}
	stop := func() {}
	if mode == Failwatch {
		l.watchWithPolicy(ctx, f, cfg, &stop)
		time.Sleep(time.Second) // let the probes call the server UP first
	} else if err := l.afterNetwatchTest(ctx, c); err != nil {
		return nil, err
	}
	defer stop()

	resolving, caching, fault, at := l.pingSideBySide(ctx, ttl, count, cutAt, interval)
	if at.IsZero() {
		return nil, fmt.Errorf("%s: %w", mode, errNotSwitched)
	}
	rows := []ClientRow{
		l.clientRow(mode, ttl, Resolving, resolving, count, fault, at),
		l.clientRow(mode, ttl, Caching, caching, count, fault, at),
	}
	if err := l.RestorePublic(); err != nil {
		return rows, err
	}
	if mode == Failwatch {
		stop()
		if _, err := f.Restore(ctx); err != nil {
			return rows, err
		}
	}
	_, err = l.WaitAnswer(ctx, l.Public.Addr, 60*time.Second)
	return rows, err
}

// setTTL sets the TTL of the name's static records and flushes the
// router's cache, so that its next answers carry it.
func setTTL(ctx context.Context, c *routeros.Client, ttl time.Duration) error {
	recs, err := c.StaticRecords(ctx, Name)
	if err != nil {
		return err
	}
	for _, r := range recs {
		if _, err := c.Run(ctx, "/ip/dns/static/set", "=.id="+r.ID, "=ttl="+config.FormatDuration(ttl)); err != nil {
			return err
		}
	}
	return c.FlushDNSCache(ctx)
}

// pingSideBySide runs both clients' pings, cutting the public server before
// ping cutAt. It returns each client's pings, when the cut came, and when
// the resolver answered the standby (zero: not within a minute).
func (l *Lab) pingSideBySide(ctx context.Context, ttl time.Duration, count, cutAt int, interval time.Duration) (resolving, caching []ping, fault, switchedAt time.Time) {
	switched := make(chan time.Time, 1)
	cut := make(chan struct{})
	var wg sync.WaitGroup
	start := time.Now()
	wg.Go(func() {
		resolving = l.pingLoop(ctx, start, count, interval, func(i int) netip.Addr {
			if i == cutAt {
				fault = time.Now()
				l.CutPublic()
				close(cut)
				go func() {
					at, _ := l.WaitAnswer(ctx, l.Private.Addr, 60*time.Second)
					switched <- at
				}()
			}
			return l.Answer(ctx)
		}, nil)
	})
	wg.Go(func() {
		cc := &cache{l: l}
		caching = l.pingLoop(ctx, start, count, interval, func(i int) netip.Addr {
			if i == cutAt {
				<-cut
			}
			return cc.lookup(ctx)
		}, func(p ping, n int) bool {
			// After the paper's count: until the standby answers, or the
			// cached answer has had time to expire.
			if n < count {
				return true
			}
			if p.OK && p.to == l.Private.Addr {
				return false
			}
			return ttl <= time.Minute && !fault.IsZero() && time.Since(fault) < ttl+5*time.Second+interval
		})
	})
	wg.Wait()
	return resolving, caching, fault, <-switched
}

// openPath connects to the lab's router and makes it fail over the way the
// mode says; the caller closes the client.
func (l *Lab) openPath(ctx context.Context, mode Mode) (*routeros.Client, *failover.Failover, error) {
	c, err := l.Client()
	if err != nil {
		return nil, nil, err
	}
	f := l.Failover(c)
	cfg := l.Config()
	switch mode {
	case Setup:
		s := &failover.Setup{Service: cfg.Services[0], Primary: cfg.Servers[0], Standby: cfg.Servers[1], Probe: cfg.Probe, RTT: PublicDelay[0]}
		var plan *failover.Plan
		if plan, err = s.Plan(ctx, c); err == nil {
			err = plan.Apply(ctx, c)
		}
	case Failwatch:
		_, err = f.HoldNetwatch(ctx)
	}
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	return c, f, nil
}

// ping is one of a client's pings and the address it went to.
type ping struct {
	monitor.Sample
	to netip.Addr
}

// pingLoop pings whatever resolve returns, at interval from start; after
// count pings it goes on while more says so (nil: it stops at count).
func (l *Lab) pingLoop(ctx context.Context, start time.Time, count int, interval time.Duration,
	resolve func(i int) netip.Addr, more func(ping, int) bool) []ping {
	var out []ping
	for i := 0; ; i++ {
		if i >= count && more == nil {
			return out
		}
		if wait := time.Until(start.Add(time.Duration(i) * interval)); wait > 0 {
			select {
			case <-ctx.Done():
				return out
			case <-time.After(wait):
			}
		}
		p := ping{to: resolve(i)}
		if p.to.IsValid() {
			pctx, cancel := context.WithTimeout(ctx, time.Second)
			p.Sample = l.ICMP.Probe(pctx, p.to)
			cancel()
		} else {
			p.Sample = monitor.Sample{At: time.Now(), Err: "name did not resolve"}
		}
		out = append(out, p)
		if more != nil && !more(p, i+1) {
			return out
		}
	}
}

// clientRow reads one client's pings: the paper's row of the first count,
// and when the standby first answered it after the switch.
func (l *Lab) clientRow(mode Mode, ttl time.Duration, client Client, pings []ping, count int, fault, switched time.Time) ClientRow {
	var samples []monitor.Sample
	for _, p := range pings[:min(count, len(pings))] {
		samples = append(samples, p.Sample)
	}
	row := ClientRow{Mode: mode, TTL: ttl, Client: client, Switch: switched.Sub(fault), Stats: stats(samples)}
	for _, p := range pings {
		if p.OK && p.to == l.Private.Addr && p.At.After(fault) {
			row.Back, row.BackOK = max(p.At.Sub(switched), 0), true
			break
		}
	}
	return row
}
