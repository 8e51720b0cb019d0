// Command benchdetect counts false DOWNs and false failovers on the paper's
// public server (196 ms, mdev 4.1 ms, 5% loss) in the lab, for each loss
// model and probe setting, judged plainly (before issue 28) and with the
// state's own timeout and confirmation (after), side by side and at the
// same time. The server never goes down, so every DOWN is a false one.
// With -faults, it times fault to DOWN instead (faults.go).
// scripts/bench-detect runs it; it needs root (namespaces, raw ICMP).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/netlab"
	"github.com/failwatch/failwatch/internal/paper"
	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros/failover"
)

// setting is a probe setting the bench runs.
type setting struct {
	name  string
	probe config.Probe
}

func settings() []setting {
	lab := config.Defaults().Probe
	// The lab's failwatch path, where fault to answer is 0.5 s
	// (internal/lab, watchWithPolicy).
	lab.Interval, lab.Timeout, lab.DownAfter, lab.UpAfter = 100*time.Millisecond, 300*time.Millisecond, 2, 2
	return []setting{{"lab (100ms, timeout 300ms, down 2)", lab}, {"defaults (1s, timeout 1s, down 3)", config.Defaults().Probe}}
}

// model is a loss model, 5% in the long run; rate is the scheduled probes
// a second, which the rate limit is set against. slow, when set, adds
// delay in spells.
type model struct {
	name string
	loss func(seed uint64, rate float64) netlab.Loss
	slow func(seed uint64) netlab.Slowdown
}

var models = []model{
	{name: "independent 5%", loss: func(seed uint64, _ float64) netlab.Loss { return netlab.NewIndependent(0.05, seed) }},
	{name: "Gilbert-Elliott 5% (bad 10% of the time, in spells of 200 ms on average, 50% lost in them)",
		loss: func(seed uint64, _ float64) netlab.Loss {
			return netlab.NewGilbertElliott(1800*time.Millisecond, 200*time.Millisecond, 0, 0.5, seed)
		}},
	{name: "independent 5% + ICMP rate limit at 1.25x the probe rate, bucket 2", loss: func(seed uint64, rate float64) netlab.Loss {
		return netlab.Then(netlab.NewIndependent(0.05, seed), netlab.NewRateLimit(1.25*rate, 2))
	}},
	{name: "independent 5% + slow spells (2% of the time, 1 s on average, 20 to 80 ms more)",
		loss: func(seed uint64, _ float64) netlab.Loss { return netlab.NewIndependent(0.05, seed) },
		slow: func(seed uint64) netlab.Slowdown {
			return netlab.NewSlowSpells(49*time.Second, time.Second, 20*time.Millisecond, 80*time.Millisecond, seed)
		}},
}

// counted counts the echo requests that reach the host (the wire's).
type counted struct {
	netlab.Loss
	n atomic.Int64
}

func (c *counted) Lose(now time.Time) bool {
	c.n.Add(1)
	return c.Loss.Lose(now)
}

// row is one run's outcome.
type row struct {
	sent, received   int
	wire             int64
	downs            int
	defaultFailovers int
	longestDown      time.Duration
}

func main() {
	d := flag.Duration("for", 5*time.Minute, "how long each run probes (they run side by side)")
	seed := flag.Uint64("seed", 1, "the loss models' seed")
	nFaults := flag.Int("faults", 0, "instead, time fault to DOWN this many times per setting, without loss")
	flag.Parse()
	if err := netlab.Available(); err != nil {
		fail(err)
	}
	icmp, err := monitor.NewICMP(config.ICMPAuto)
	if err != nil {
		fail(err)
	}
	defer icmp.Close()
	if *nFaults > 0 {
		faults(icmp, *nFaults)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sets := settings()
	// rows[setting][model][0 before, 1 after]
	rows := make([][][2]row, len(sets))
	var wg sync.WaitGroup
	var hosts []*netlab.Host
	defer func() {
		for _, h := range hosts {
			h.Close()
		}
	}()
	// Every host first, then every monitor at once: building a host (ip
	// commands under netlab's lock) while others are probed stalls them.
	var start []func()
	for si, s := range sets {
		rows[si] = make([][2]row, len(models))
		rate := float64(time.Second) / float64(s.probe.Interval)
		for mi, m := range models {
			for vi, plain := range []bool{true, false} {
				// A host and a model each: the two variants share no
				// loss draw and no limiter's tokens.
				loss := &counted{Loss: m.loss(*seed, rate)}
				var slow netlab.Slowdown
				if m.slow != nil {
					slow = m.slow(*seed)
				}
				h, err := netlab.NewHost()
				if err != nil {
					fail(err)
				}
				hosts = append(hosts, h)
				start = append(start, func() {
					if err := h.DelayEchoLossy(ctx, paper.PublicRTT[0], paper.PublicRTT[1], loss, slow); err != nil {
						fail(err)
					}
					wg.Go(func() { watch(ctx, h, icmp, s.probe, plain, loss, &rows[si][mi][vi]) })
				})
			}
		}
	}
	for _, f := range start {
		f()
	}
	time.AfterFunc(*d, cancel)
	wg.Wait()
	table(sets, rows, *d)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "benchdetect:", err)
	os.Exit(1)
}

// watch probes h until ctx ends, counting DOWNs and what two policies would
// have done with them: the lab's (fail over at once) and the defaults'
// (fail_after 30s, hold_down 5m; the admin restoring at once).
func watch(ctx context.Context, h *netlab.Host, icmp *monitor.ICMP, p config.Probe, plain bool, loss *counted, r *row) {
	srv := config.Server{Name: "public", Role: config.Primary, Address: h.Addr.String(), Checks: []config.Check{{Kind: config.ICMP}}}
	m, err := monitor.NewServer(srv, monitor.Options{Probe: p, ICMP: icmp, Plain: plain})
	if err != nil {
		fail(err)
	}
	events := make(chan monitor.Event, 64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.Run(ctx, events)
	}()
	defaults := failover.NewPolicy(config.Defaults().Auto, "public", "private")
	primary := failover.Health{State: monitor.Unknown, Since: time.Now()}
	standby := failover.Health{State: monitor.Up, Since: time.Now()}
	active := "public"
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-done:
			st := m.Status().Checks[0].Lifetime
			r.sent, r.received, r.wire = st.Sent, st.Received, loss.n.Load()
			return
		case ev := <-events:
			if ev.Type != monitor.EventServer {
				continue
			}
			if primary.State == monitor.Down {
				r.longestDown = max(r.longestDown, ev.Transition.At.Sub(primary.Since))
			}
			primary = failover.Health{State: ev.Transition.To, Since: ev.Transition.At}
			if primary.State == monitor.Down {
				r.downs++
			}
		case now := <-tick.C:
			d := defaults.Decide(failover.PolicyInput{Now: now, RouterConnected: true, Active: active, Primary: primary, Standby: standby})
			switch {
			case d.Action == failover.ActionFailover:
				r.defaultFailovers++
				active = "private"
			case active == "private":
				active = "public"
			}
		}
	}
}

func table(sets []setting, rows [][][2]row, d time.Duration) {
	per := float64(time.Hour) / float64(d)
	fmt.Printf("the paper's public server (%s, mdev %s) in the lab for %s, every run side by side; per hour = count x %.3g\n\n",
		paper.PublicRTT[0], paper.PublicRTT[1], d, per)
	fmt.Println("| loss model | probe setting | judged | probes (stats) | loss (stats) | echo requests on the wire | false DOWNs (= false failovers, lab policy) | per hour | false failovers, default policy | longest false DOWN |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|")
	for mi, m := range models {
		for si, s := range sets {
			for vi, v := range []string{"before (plain)", "after"} {
				r := rows[si][mi][vi]
				loss := 0.0
				if r.sent > 0 {
					loss = float64(r.sent-r.received) / float64(r.sent) * 100
				}
				fmt.Printf("| %s | %s | %s | %d | %.2f%% | %d | %d | %.1f | %d | %s |\n", m.name, s.name, v,
					r.sent, loss, r.wire, r.downs, float64(r.downs)*per, r.defaultFailovers, r.longestDown.Round(time.Millisecond))
			}
		}
	}
}
