package lab

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/failover"
)

// Row is one scenario's result, shaped like the paper's table.
type Row struct {
	Scenario string
	Stats    monitor.Stats
	// Switch is from the fault to the DNS answer changing (scenario 2).
	Switch time.Duration
	// LostInSwitch counts the probes lost between the fault and the switch.
	LostInSwitch int
}

func stats(samples []monitor.Sample) monitor.Stats {
	s := monitor.NewSeries(len(samples))
	for _, x := range samples {
		s.Add(x)
	}
	return s.Window()
}

// Scenario1 pings the name while the public server is up.
func (l *Lab) Scenario1(ctx context.Context, count int, interval time.Duration) Row {
	samples, _ := l.PingName(ctx, count, interval, nil)
	return Row{Scenario: "1: public server, normal", Stats: stats(samples)}
}

// Scenario2 cuts the public server before probe cutAt and lets the router's
// netwatch fail the name over, as the paper did; then it restores the
// public server and waits for netwatch to move the name back.
func (l *Lab) Scenario2(ctx context.Context, count, cutAt int, interval time.Duration) (Row, error) {
	var fault time.Time
	switched := make(chan time.Time, 1)
	samples, _ := l.PingName(ctx, count, interval, func(i int) {
		if i != cutAt {
			return
		}
		fault = time.Now()
		l.CutPublic()
		go func() {
			at, _ := l.WaitAnswer(ctx, l.Private.Addr, 60*time.Second)
			switched <- at
		}()
	})
	row := Row{Scenario: "2: public server taken down, DNS fails over", Stats: stats(samples)}
	at := <-switched
	if at.IsZero() {
		return row, fmt.Errorf("scenario 2: %w", errNotSwitched)
	}
	row.Switch = at.Sub(fault)
	for _, x := range samples {
		if !x.OK && !x.At.Before(fault.Add(-time.Millisecond)) && x.At.Before(at) {
			row.LostInSwitch++
		}
	}
	if err := l.RestorePublic(); err != nil {
		return row, err
	}
	_, err := l.WaitAnswer(ctx, l.Public.Addr, 60*time.Second)
	return row, err
}

// Scenario3 moves the name to the private server by hand, pings it, and
// moves it back.
func (l *Lab) Scenario3(ctx context.Context, count int, interval time.Duration) (Row, error) {
	c, err := l.Client()
	if err != nil {
		return Row{}, err
	}
	defer c.Close()
	f := l.Failover(c)
	if _, err := f.FailoverToStandby(ctx, true); err != nil {
		return Row{}, err
	}
	samples, _ := l.PingName(ctx, count, interval, nil)
	_, err = f.Restore(ctx)
	return Row{Scenario: "3: private server, normal", Stats: stats(samples)}, err
}

// Mode is how the name is failed over.
type Mode string

// The three ways the issue compares.
const (
	// Paper: the paper's netwatch entries (simple, 10s, by print position).
	Paper Mode = "paper netwatch (simple, 10s)"
	// Setup: the entry `failwatch setup` emits (icmp, 10 echoes, 5s, by
	// comment, thresholds above the public server's round trip).
	Setup Mode = "failwatch setup netwatch (icmp x10, 5s)"
	// Failwatch: failwatch's own probes (every 100 ms, 300 ms timeout, DOWN
	// after 2 lost) and its automatic policy, with the router's netwatch held.
	Failwatch Mode = "failwatch probes + auto policy"
)

// Timing is one failover measured.
type Timing struct {
	// Detect is from the fault to the router's netwatch (or failwatch)
	// saying DOWN; Switch to the DNS answer changing.
	Detect, Switch time.Duration
}

// Phase chooses when, after a netwatch test or one of failwatch's probe
// ticks, the fault is injected.
type Phase func(interval time.Duration) time.Duration

// AfterTick injects at once: on failwatch's path, right after a tick whose
// probe still gets through (the cut's nft command takes longer than the
// probe takes to reach the server), the worst phase for fault to DOWN, and
// the lab's only one before issue 28.
func AfterTick(time.Duration) time.Duration { return 0 }

// RandomPhase injects at a uniformly random point of the interval, as a
// real outage would.
func RandomPhase(interval time.Duration) time.Duration {
	return time.Duration(rand.Int64N(int64(interval)))
}

// MidPhase injects half an interval after a test: the expected value of a
// random phase, for a check that must not depend on luck.
func MidPhase(interval time.Duration) time.Duration { return interval / 2 }

// Measure prepares the router for the mode and fails over runs times,
// restoring in between.
func (l *Lab) Measure(ctx context.Context, mode Mode, runs int, phase Phase) ([]Timing, error) {
	c, f, err := l.openPath(ctx, mode)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	cfg := l.Config()
	interval := map[Mode]time.Duration{Paper: 10 * time.Second, Setup: 5 * time.Second, Failwatch: 0}[mode]
	var out []Timing
	for range runs {
		t, err := l.measureOnce(ctx, mode, f, cfg, interval, phase)
		if err != nil {
			return out, err
		}
		out = append(out, t)
	}
	return out, nil
}

func (l *Lab) measureOnce(ctx context.Context, mode Mode, f *failover.Failover, cfg *config.Config, interval time.Duration, phase Phase) (Timing, error) {
	var detected chan time.Time
	stop := func() {}
	if mode == Failwatch {
		w := l.watchWithPolicy(ctx, f, cfg)
		detected, stop = w.detected, w.stop
		// Let the probes call the server UP and learn its round trips
		// first: ten ticks, the last at the end of this second (the
		// probes' ticker starts after this sleep does).
		time.Sleep(time.Second + phase(ProbeInterval))
	} else {
		if err := l.afterNetwatchTest(ctx, f.Client); err != nil {
			return Timing{}, err
		}
		time.Sleep(phase(interval))
		detected = make(chan time.Time, 1)
		go func() { detected <- l.pollNetwatchDown(ctx, f.Client) }()
	}
	defer stop()
	fault := time.Now()
	if err := l.CutPublic(); err != nil {
		return Timing{}, err
	}
	at, err := l.WaitAnswer(ctx, l.Private.Addr, 60*time.Second)
	if err != nil {
		return Timing{}, err
	}
	det := <-detected
	t := Timing{Detect: det.Sub(fault), Switch: at.Sub(fault)}
	if err := l.RestorePublic(); err != nil {
		return t, err
	}
	if mode == Failwatch {
		stop()
		if _, err := f.Restore(ctx); err != nil {
			return t, err
		}
		if _, err := f.HoldNetwatch(ctx); err != nil {
			return t, err
		}
	}
	_, err = l.WaitAnswer(ctx, l.Public.Addr, 60*time.Second)
	return t, err
}

// afterNetwatchTest returns right after the router's netwatch finished a
// test of the public host.
func (l *Lab) afterNetwatchTest(ctx context.Context, c *routeros.Client) error {
	tests := func() (string, error) {
		r, err := c.Run(ctx, "/tool/netwatch/print", "=.proplist=done-tests", "?host="+l.Public.Addr.String(), "?disabled=false")
		if err != nil {
			return "", err
		}
		var n string
		for _, row := range r.Rows {
			n += row["done-tests"] + ","
		}
		return n, nil
	}
	before, err := tests()
	if err != nil {
		return err
	}
	for {
		now, err := tests()
		if err != nil {
			return err
		}
		if now != before {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// pollNetwatchDown returns when an enabled netwatch entry of the public host
// says down.
func (l *Lab) pollNetwatchDown(ctx context.Context, c *routeros.Client) time.Time {
	for ctx.Err() == nil {
		nw, err := c.NetwatchEntries(ctx, l.Public.Addr.String())
		if err == nil {
			for _, e := range nw {
				if !e.Disabled && e.Status == "down" {
					return time.Now()
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Time{}
}
