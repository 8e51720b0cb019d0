package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/lab"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// runLab is the hidden `failwatch lab`: the paper's measurements on real
// packets in network namespaces (root only). docs/BENCHMARKS.md quotes it.
func labCommand() *cobra.Command {
	return newCommand("lab", "", "the paper's network on real packets, for the docs' measurements (root)", `
Build the lab (two namespace hosts with the paper's round trips made in user
space, the emulator with real-ICMP netwatch and its DNS responder), run the
paper's three scenarios with a client that pings the service name, then time
the failover, fault to DNS answer changed, for the paper's netwatch, the netwatch
failwatch setup emits, and failwatch's own probes with its policy, each --runs
times with the fault at a random point of the netwatch interval. Then the
paper's scenario 2 on each of those paths as two clients see it, side by side:
one that asks the resolver before every ping, one that caches the answer for
the records' TTL (the paper's 1d, and setup's 30s). Needs root.`, func(fs *pflag.FlagSet) runner {
		runs := fs.Int("runs", 5, "failovers per mode")
		count := fs.Int("count", 20, "pings per scenario (the paper's 20)")
		parts := fs.String("parts", "scenarios,timing,clients", "which parts to run")
		return func(_ []string, stdout, stderr io.Writer) int {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			want := func(part string) bool { return slices.Contains(strings.Split(*parts, ","), part) }
			var err error
			if want("scenarios") {
				err = labScenarios(ctx, *count, stdout, stderr)
			}
			if err == nil && want("timing") {
				err = labTiming(ctx, *runs, stdout)
			}
			if err == nil && want("clients") {
				err = labClients(ctx, *runs, *count, stdout)
			}
			if err != nil {
				fmt.Fprintf(stderr, "failwatch lab: %v\n", err)
				return exitUnhealthy
			}
			return exitOK
		}
	})
}

// labScenarios prints the paper's three scenarios; a scenario that went
// wrong is said on stderr and the others go on.
func labScenarios(ctx context.Context, count int, stdout, stderr io.Writer) error {
	l, err := lab.New()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "lab: public %s (simulated ~196 ms), private %s (~2.7 ms), router API %s, DNS %s\n\n",
		l.Public.Addr, l.Private.Addr, l.API, l.DNS)
	fmt.Fprintf(stdout, "| scenario | sent | received | loss | min ms | avg ms | max ms | mdev ms |\n|---|---|---|---|---|---|---|---|\n")
	row := func(r lab.Row) {
		s := r.Stats
		fmt.Fprintf(stdout, "| %s | %d | %d | %.0f%% | %s | %s | %s | %s |\n", r.Scenario, s.Sent, s.Received, s.LossPercent(),
			msText(s.Min), msText(s.Avg), msText(s.Max), msText(s.Mdev))
	}
	row(l.Scenario1(ctx, count, time.Second))
	r2, err := l.Scenario2(ctx, count, 3, time.Second)
	row(r2)
	if err != nil {
		fmt.Fprintf(stderr, "failwatch lab: %v\n", err)
	}
	r3, err := l.Scenario3(ctx, count, time.Second)
	row(r3)
	l.Close()
	if err != nil {
		fmt.Fprintf(stderr, "failwatch lab: %v\n", err)
	}
	fmt.Fprintf(stdout, "\nscenario 2: switch %s after the fault, %d of the client's pings lost during it\n\n",
		r2.Switch.Round(time.Millisecond), r2.LostInSwitch)
	return nil
}

// labTiming times the failover on each path.
func labTiming(ctx context.Context, runs int, stdout io.Writer) error {
	fmt.Fprintf(stdout, "| mode | runs | switch median | min | max | detection median | min | max |\n|---|---|---|---|---|---|---|---|\n")
	for _, mode := range []lab.Mode{lab.Paper, lab.Setup, lab.Failwatch} {
		l, err := lab.New()
		if err != nil {
			return err
		}
		timings, err := l.Measure(ctx, mode, runs, lab.RandomPhase)
		l.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", mode, err)
		}
		var sw, det []time.Duration
		for _, t := range timings {
			sw, det = append(sw, t.Switch), append(det, t.Detect)
		}
		ms := func(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
		fmt.Fprintf(stdout, "| %s | %d | %s | %s | %s | %s | %s | %s |\n", mode, len(timings), ms(median(sw)), ms(slices.Min(sw)),
			ms(slices.Max(sw)), ms(median(det)), ms(slices.Min(det)), ms(slices.Max(det)))
	}
	fmt.Fprintln(stdout)
	return nil
}

// labClients runs scenario 2 on every path and TTL, runs times, and prints
// the paper's row per client: medians, with the spread of what was received.
func labClients(ctx context.Context, runs, count int, stdout io.Writer) error {
	fmt.Fprintf(stdout, "scenario 2 as clients see it: %d pings at 1s, the public server cut before ping 4; medians of %d run(s)\n\n", count, runs)
	fmt.Fprintf(stdout, "| path | TTL | client | sent | received (min-max) | loss | min ms | avg ms | max ms | mdev ms | fault to answer | client back after the switch |\n")
	fmt.Fprintf(stdout, "|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, mode := range []lab.Mode{lab.Paper, lab.Setup, lab.Failwatch} {
		for _, ttl := range []time.Duration{24 * time.Hour, 30 * time.Second} {
			byClient := map[lab.Client][]lab.ClientRow{}
			for range runs {
				l, err := lab.New()
				if err != nil {
					return err
				}
				rows, err := l.ClientsScenario2(ctx, mode, ttl, count, 3, time.Second)
				l.Close()
				if err != nil {
					return fmt.Errorf("%s, TTL %s: %w", mode, ttl, err)
				}
				for _, r := range rows {
					byClient[r.Client] = append(byClient[r.Client], r)
				}
			}
			for _, client := range []lab.Client{lab.Resolving, lab.Caching} {
				fmt.Fprintln(stdout, clientLine(byClient[client]))
			}
		}
	}
	return nil
}

// clientLine is one table row: the medians of the runs.
func clientLine(rows []lab.ClientRow) string {
	pick := func(f func(lab.ClientRow) time.Duration) time.Duration {
		var ds []time.Duration
		for _, r := range rows {
			ds = append(ds, f(r))
		}
		return median(ds)
	}
	var received []int
	var losses []float64
	var back []time.Duration
	for _, r := range rows {
		received, losses = append(received, r.Stats.Received), append(losses, r.Stats.LossPercent())
		if r.BackOK {
			back = append(back, r.Back)
		}
	}
	slices.Sort(received)
	slices.Sort(losses)
	backText := "not within the run (the TTL)"
	if len(back) == len(rows) {
		backText = median(back).Round(time.Millisecond).String()
	}
	r := rows[0]
	return fmt.Sprintf("| %s | %s | %s | %d | %d (%d-%d) | %.0f%% | %s | %s | %s | %s | %s | %s |", r.Mode, config.FormatDuration(r.TTL), r.Client, r.Stats.Sent,
		received[len(received)/2], received[0], received[len(received)-1], losses[len(losses)/2],
		msText(pick(func(r lab.ClientRow) time.Duration { return r.Stats.Min })), msText(pick(func(r lab.ClientRow) time.Duration { return r.Stats.Avg })),
		msText(pick(func(r lab.ClientRow) time.Duration { return r.Stats.Max })), msText(pick(func(r lab.ClientRow) time.Duration { return r.Stats.Mdev })),
		pick(func(r lab.ClientRow) time.Duration { return r.Switch }).Round(time.Millisecond), backText)
}

func msText(d time.Duration) string { return fmt.Sprintf("%.3f", float64(d)/1e6) }

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
