package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/netlab"
	"github.com/failwatch/failwatch/internal/paper"
	"github.com/failwatch/failwatch/monitor"
)

// faults times fault to DOWN on the paper's public server without loss:
// for each setting, runs times, a plain monitor and one with the state's
// timeout and confirmation probe one host side by side, past 3 x MinRTTs
// replies, then every echo request is dropped (nft, as the lab cuts the
// server) at a random point of the probe interval.
func faults(icmp *monitor.ICMP, runs int) {
	fmt.Printf("fault to DOWN, the paper's public server without loss, %d runs per setting, both judged side by side\n\n", runs)
	fmt.Println("| probe setting | judged | median | min | max | runs again: a DOWN before the fault | runs with a burst before the fault |")
	fmt.Println("|---|---|---|---|---|---|---|")
	for _, s := range settings() {
		var took [2][]time.Duration
		var early [2]int
		bursts := 0
		for len(took[0]) < runs {
			t, burst, err := faultOnce(icmp, s.probe)
			var fd falseDown
			switch {
			case errors.As(err, &fd):
				// A run with a DOWN before the fault is run again, and
				// counted.
				early[fd]++
				if early[0]+early[1] > 3*runs {
					fail(err)
				}
				continue
			case err != nil:
				fail(err)
			}
			took[0], took[1] = append(took[0], t[0]), append(took[1], t[1])
			if burst {
				bursts++
			}
		}
		for vi, v := range []string{"before (plain)", "after"} {
			d := took[vi]
			slices.Sort(d)
			ms := func(x time.Duration) time.Duration { return x.Round(time.Millisecond) }
			fmt.Printf("| %s | %s | %s | %s | %s | %d | %d |\n", s.name, v, ms(d[len(d)/2]), ms(d[0]), ms(d[len(d)-1]), early[vi], vi*bursts)
		}
	}
}

// falseDown is a DOWN before the fault, of the plain monitor (0) or the
// other (1).
type falseDown int

func (f falseDown) Error() string { return "DOWN before the fault, on a server without loss" }

// faultOnce returns fault to DOWN for the plain monitor and the other, and
// whether the other sent confirmation probes before the fault (echo
// requests on the wire beyond the two monitors' scheduled ones): a late
// reply drew a burst, and the next within BurstEvery probes is not sent.
func faultOnce(icmp *monitor.ICMP, p config.Probe) ([2]time.Duration, bool, error) {
	var out [2]time.Duration
	wire := &counted{Loss: netlab.NewIndependent(0, 1)}
	h, err := netlab.NewHost()
	if err != nil {
		return out, false, err
	}
	defer h.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute+30*p.Interval)
	defer cancel()
	if err := h.DelayEchoLossy(ctx, paper.PublicRTT[0], paper.PublicRTT[1], wire, nil); err != nil {
		return out, false, err
	}
	srv := config.Server{Name: "public", Address: h.Addr.String(), Checks: []config.Check{{Kind: config.ICMP}}}
	downs := [2]chan time.Time{make(chan time.Time, 1), make(chan time.Time, 1)}
	var monitors [2]*monitor.Server
	for vi, plain := range []bool{true, false} {
		m, err := monitor.NewServer(srv, monitor.Options{Probe: p, ICMP: icmp, Plain: plain})
		if err != nil {
			return out, false, err
		}
		monitors[vi] = m
		events := make(chan monitor.Event, 64)
		go m.Run(ctx, events)
		go func() {
			for ev := range events {
				if ev.Type == monitor.EventServer && ev.Transition.To == monitor.Down {
					select {
					case downs[vi] <- ev.Time:
					default:
					}
				}
			}
		}()
	}
	// Past 3 x MinRTTs replies, at a random point of the interval.
	time.Sleep(time.Duration(3*monitor.MinRTTs)*p.Interval + time.Duration(time.Now().UnixNano()%int64(p.Interval)))
	fault := time.Now()
	if err := h.DropEcho(1); err != nil {
		return out, false, err
	}
	// The statistics count a probe once it is answered or timed out: up
	// to timeout/interval a monitor are on the wire and not yet counted.
	inFlight := 2 * int((p.Timeout+p.Interval-1)/p.Interval)
	burst := wire.n.Load() > int64(monitors[0].Status().Checks[0].Lifetime.Sent+monitors[1].Status().Checks[0].Lifetime.Sent+inFlight)
	for vi := range downs {
		select {
		case at := <-downs[vi]:
			if at.Before(fault) {
				return out, burst, falseDown(vi)
			}
			out[vi] = at.Sub(fault)
		case <-ctx.Done():
			return out, burst, fmt.Errorf("no DOWN within %s of the fault", time.Minute)
		}
	}
	return out, burst, nil
}
