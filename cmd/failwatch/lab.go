package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/failwatch/failwatch/internal/lab"
)

// runLab is the hidden `failwatch lab`: the paper's measurements on real
// packets in network namespaces (root only). docs/BENCHMARKS.md quotes it.
func runLab(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("lab", "[--runs N] [--count N]", `
Build the lab (two namespace hosts with the paper's round trips made in user
space, the emulator with real-ICMP netwatch and its DNS responder), run the
paper's three scenarios with a client that pings the service name, then time
the failover, fault to DNS answer changed, for the paper's netwatch, the netwatch
failwatch setup emits, and failwatch's own probes with its policy, each --runs
times with the fault at a random point of the netwatch interval. Needs root.`, stderr)
	runs := fs.Int("runs", 5, "failovers per mode")
	count := fs.Int("count", 20, "pings per scenario (the paper's 20)")
	if _, code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	l, err := lab.New()
	if err != nil {
		fmt.Fprintf(stderr, "failwatch lab: %v\n", err)
		return exitUnhealthy
	}
	fmt.Fprintf(stdout, "lab: public %s (simulated ~196 ms), private %s (~2.7 ms), router API %s, DNS %s\n\n",
		l.Public.Addr, l.Private.Addr, l.API, l.DNS)
	fmt.Fprintf(stdout, "| scenario | sent | received | loss | min ms | avg ms | max ms | mdev ms |\n|---|---|---|---|---|---|---|---|\n")
	row := func(r lab.Row) {
		s := r.Stats
		fmt.Fprintf(stdout, "| %s | %d | %d | %.0f%% | %s | %s | %s | %s |\n", r.Scenario, s.Sent, s.Received, s.LossPercent(),
			msText(s.Min), msText(s.Avg), msText(s.Max), msText(s.Mdev))
	}
	row(l.Scenario1(ctx, *count, time.Second))
	r2, err := l.Scenario2(ctx, *count, 3, time.Second)
	row(r2)
	if err != nil {
		fmt.Fprintf(stderr, "failwatch lab: %v\n", err)
	}
	r3, err := l.Scenario3(ctx, *count, time.Second)
	row(r3)
	l.Close()
	if err != nil {
		fmt.Fprintf(stderr, "failwatch lab: %v\n", err)
	}
	fmt.Fprintf(stdout, "\nscenario 2: switch %s after the fault, %d of the client's pings lost during it\n\n",
		r2.Switch.Round(time.Millisecond), r2.LostInSwitch)

	fmt.Fprintf(stdout, "| mode | runs | switch median | min | max | detection median | min | max |\n|---|---|---|---|---|---|---|---|\n")
	for _, mode := range []lab.Mode{lab.Paper, lab.Setup, lab.Failwatch} {
		l, err := lab.New()
		if err != nil {
			fmt.Fprintf(stderr, "failwatch lab: %v\n", err)
			return exitUnhealthy
		}
		timings, err := l.Measure(ctx, mode, *runs, lab.RandomPhase)
		l.Close()
		if err != nil {
			fmt.Fprintf(stderr, "failwatch lab: %s: %v\n", mode, err)
			return exitUnhealthy
		}
		var sw, det []time.Duration
		for _, t := range timings {
			sw, det = append(sw, t.Switch), append(det, t.Detect)
		}
		fmt.Fprintf(stdout, "| %s | %d | %s | %s | %s | %s | %s | %s |\n", mode, len(timings), median(sw), slices.Min(sw).Round(time.Millisecond),
			slices.Max(sw).Round(time.Millisecond), median(det), slices.Min(det).Round(time.Millisecond), slices.Max(det).Round(time.Millisecond))
	}
	return exitOK
}

func msText(d time.Duration) string { return fmt.Sprintf("%.3f", float64(d)/1e6) }

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2].Round(time.Millisecond)
}
