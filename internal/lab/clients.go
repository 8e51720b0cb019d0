package lab

import (
	"context"
	"errors"
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

// The two clients the paper's table is read for, real programs in their
// own namespaces behind the router (realclients.go).
const (
	// ResolveOnce is `ping -c 20 NAME` with the router's DNS as its
	// resolver: it looks the name up once and pings that address, as the
	// paper's client did.
	ResolveOnce Client = "ping -c N NAME (resolves once)"
	// Caching runs `ping -c 1 NAME` every second, each looking the name
	// up through dnsmasq, which answers from its cache for the TTL.
	Caching Client = "ping -c 1 NAME each second via dnsmasq (caches for the TTL)"
)

// Bridge is how the router carries clients that still send to the
// primary's address after the switch.
type Bridge string

// The bridge variants a run can have.
const (
	// NoBridge: nothing carries them.
	NoBridge Bridge = "without bridge"
	// ServiceBridge: the service's bridge is configured
	// (config.Service.Bridge) and the path does whatever it does with it;
	// the row says whether a rule was in fact applied.
	ServiceBridge Bridge = "service bridge (the path's own)"
	// TestBridge: the lab itself enables the dst-nat rules over the API
	// the moment the DNS answer changes and removes the clients'
	// connections to the primary: a measure of the data path, not of any
	// failover path.
	TestBridge Bridge = "rule enabled by the test at the switch"
)

// ClientRow is scenario 2 on one failover path as one client saw it.
type ClientRow struct {
	Mode   Mode
	Bridge Bridge
	TTL    time.Duration
	Client Client
	// Stats are the paper's row: the first count pings.
	Stats monitor.Stats
	// Switch is from the fault to the resolver answering the standby.
	Switch time.Duration
	// Back is from the switch to the client's first ping answered by the
	// standby (through the bridge or by its address); BackOK is false when
	// that did not happen within the run (a cached answer with a long
	// TTL).
	Back   time.Duration
	BackOK bool
	// RuleOn is from the fault to a dst-nat rule from the primary to the
	// standby applied in the router namespace; RuleOnOK is false when none
	// was during the run.
	RuleOn   time.Duration
	RuleOnOK bool
	// Op is failwatch's failover as its operation reported it, its
	// bridge's steps among them; nil on the netwatch paths.
	Op *failover.Result
}

// ClientsScenario2 runs the paper's scenario 2 on one failover path, with
// the records' TTL set to ttl and the bridge as asked: both clients ping
// the service name count times at interval, side by side; before ping
// cutAt the public server is cut. The caching client goes on pinging after
// the count, until the standby answers it or until the switch plus the TTL
// and 5 s have passed (a TTL over a minute is not waited for). The lab is
// left as it was found, the public server restored and the name back on it.
func (l *Lab) ClientsScenario2(ctx context.Context, mode Mode, bridge Bridge, ttl time.Duration, count, cutAt int, interval time.Duration) ([]ClientRow, error) {
	c, f, done, err := l.startRun(ctx, mode, bridge, ttl)
	if err != nil {
		return nil, err
	}
	defer done()
	cfg := l.Config()
	stop := func() {}
	var watch *policyWatch
	if mode == Failwatch {
		watch = l.watchWithPolicy(ctx, f, cfg)
		stop = watch.stop
		time.Sleep(time.Second) // let the probes call the server UP first
	} else if err := l.afterNetwatchTest(ctx, c); err != nil {
		return nil, err
	}
	defer stop()

	run, err := l.runClients(ctx, c, bridge, ttl, count, cutAt, interval)
	if err != nil {
		return nil, err
	}
	if run.switched.IsZero() {
		return nil, fmt.Errorf("%s: %w", mode, errNotSwitched)
	}
	rows := []ClientRow{
		l.clientRow(mode, bridge, ttl, ResolveOnce, run.once, count, run),
		l.clientRow(mode, bridge, ttl, Caching, run.cached, count, run),
	}
	var loop error
	if watch != nil {
		op, up := watch.result()
		for i := range rows {
			rows[i].Op = op
		}
		if !up.IsZero() {
			loop = fmt.Errorf("%s: failwatch's probes saw the cut primary UP %s after the fault: they were carried to the standby (the probe loop)",
				mode, up.Sub(run.fault).Round(time.Millisecond))
		}
	}
	return rows, errors.Join(loop, l.afterClients(ctx, mode, f, c, &stop))
}

// afterClients puts the lab back: the test's bridge rules removed, the
// public server restored, and the name back on it.
func (l *Lab) afterClients(ctx context.Context, mode Mode, f *failover.Failover, c *routeros.Client, stop *func()) error {
	if err := l.removeTestBridge(ctx, c); err != nil {
		return err
	}
	if err := l.RestorePublic(); err != nil {
		return err
	}
	if mode == Failwatch {
		(*stop)()
		if _, err := f.Restore(ctx); err != nil {
			return err
		}
	}
	_, err := l.WaitAnswer(ctx, l.Public.Addr, 60*time.Second)
	if err == nil {
		err = l.Plane.Err()
	}
	return err
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

// clientRun is what one run of both clients saw.
type clientRun struct {
	once, cached    []ping
	fault, switched time.Time
}

// runClients runs both clients side by side, cutting the public server
// before ping cutAt, and with the test's bridge enables the rules when the
// resolver first answers the standby.
func (l *Lab) runClients(ctx context.Context, c *routeros.Client, bridge Bridge, ttl time.Duration, count, cutAt int, interval time.Duration) (clientRun, error) {
	var run clientRun
	var onceErr, cutErr, bridgeErr error
	started := make(chan time.Time, 1)
	cut := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		run.once, onceErr = l.pingOnce(ctx, count, interval, func(t time.Time) { started <- t })
		close(started)
	})
	t0, ok := <-started
	if !ok {
		wg.Wait()
		return run, onceErr
	}
	wg.Go(func() {
		// Half an interval before ping cutAt: clear of the one before and
		// its reply, whatever the scheduling.
		select {
		case <-ctx.Done():
		case <-time.After(time.Until(t0.Add(time.Duration(cutAt)*interval - interval/2))):
		}
		run.fault = time.Now()
		cutErr = l.CutPublic()
		close(cut)
		run.switched, _ = l.WaitAnswer(ctx, l.Private.Addr, 60*time.Second)
		if bridge == TestBridge && !run.switched.IsZero() {
			bridgeErr = l.enableTestBridge(ctx, c)
		}
	})
	wg.Go(func() {
		run.cached = l.cachedLoop(ctx, t0, count, interval, func() time.Time {
			<-cut
			// A TTL over a minute is not waited for.
			if ttl > time.Minute {
				return time.Time{}
			}
			return run.fault.Add(ttl + 5*time.Second + interval)
		})
	})
	wg.Wait()
	return run, errors.Join(onceErr, cutErr, bridgeErr)
}

// cachedLoop runs the caching client every interval from t0: count pings,
// then on until the standby answers or past until() (zero: stop).
func (l *Lab) cachedLoop(ctx context.Context, t0 time.Time, count int, interval time.Duration, until func() time.Time) []ping {
	var out []ping
	for i := 0; ctx.Err() == nil; i++ {
		if i >= count {
			last := out[len(out)-1]
			if end := until(); last.byStandby || end.IsZero() || time.Now().After(end) {
				return out
			}
		}
		time.Sleep(time.Until(t0.Add(time.Duration(i) * interval)))
		p := []ping{l.pingCached(ctx)}
		l.markStandby(l.Cached, p, func(int) int { return 1 })
		out = append(out, p[0])
	}
	return out
}

// startRun readies a run of the clients: the lab's path for mode opened
// with bridge, the records' TTL set to ttl and the caching client's cache
// flushed. done closes the client and leaves the lab without a bridge.
func (l *Lab) startRun(ctx context.Context, mode Mode, bridge Bridge, ttl time.Duration) (*routeros.Client, *failover.Failover, func(), error) {
	l.bridge = bridge
	c, f, err := l.openPath(ctx, mode)
	if err != nil {
		l.bridge = NoBridge
		return nil, nil, nil, err
	}
	done := func() {
		c.Close()
		l.bridge = NoBridge
	}
	if err := setTTL(ctx, c, ttl); err != nil {
		done()
		return nil, nil, nil, err
	}
	if err := l.clients.flushCache(); err != nil {
		done()
		return nil, nil, nil, err
	}
	return c, f, done, nil
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
	setup := func() error {
		s := &failover.Setup{Service: cfg.Services[0], Primary: cfg.Servers[0], Standby: cfg.Servers[1], Probe: cfg.Probe, RTT: PublicDelay[0]}
		plan, err := s.Plan(ctx, c)
		if err == nil {
			err = plan.Apply(ctx, c)
		}
		return err
	}
	switch mode {
	case Setup:
		err = setup()
	case Failwatch:
		// With the service's bridge, setup writes what the bridge needs on
		// the router (its rules, disabled), as an admin runs it once; the
		// netwatch it adds is held with the paper's, so failwatch alone
		// acts.
		if l.bridge == ServiceBridge {
			err = setup()
		}
		if err == nil {
			_, err = f.HoldNetwatch(ctx)
		}
	}
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	return c, f, nil
}

// ping is one of a client's pings, the address it went to, and whether
// the private server answered it (by its address or through the bridge).
type ping struct {
	monitor.Sample
	to        netip.Addr
	byStandby bool
}

// clientRow reads one client's pings: the paper's row of the first count,
// when the standby first answered it after the switch, and when the
// bridge's rule was applied.
func (l *Lab) clientRow(mode Mode, bridge Bridge, ttl time.Duration, client Client, pings []ping, count int, run clientRun) ClientRow {
	var samples []monitor.Sample
	for _, p := range pings[:min(count, len(pings))] {
		samples = append(samples, p.Sample)
	}
	row := ClientRow{Mode: mode, Bridge: bridge, TTL: ttl, Client: client, Switch: run.switched.Sub(run.fault), Stats: stats(samples)}
	for _, p := range pings {
		if p.OK && p.byStandby && p.At.After(run.fault) {
			row.Back, row.BackOK = max(p.At.Sub(run.switched), 0), true
			break
		}
	}
	row.RuleOn, row.RuleOnOK = l.ruleOn(run.fault)
	return row
}
