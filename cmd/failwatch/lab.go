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
Build the lab (a router namespace forwarding between two server namespaces,
with the paper's round trips made in user space, and two client namespaces;
the emulator as the router's control plane: real-ICMP netwatch from the
router, its DNS responder, its NAT applied to the namespace), run the
paper's three scenarios with a client that pings the service name, then time
the failover, fault to DNS answer changed, for the paper's netwatch, the netwatch
failwatch setup emits, and failwatch's own probes with its policy, each --runs
times with the fault at a random point of the netwatch interval (failwatch's
path: right after a probe tick, or with --fault-phase random at a random
point of its probe interval; --modes picks the paths). Then the
paper's scenario 2 on each of those paths as two real clients see it, side by
side, in their own namespaces behind a router namespace whose NAT is the
emulator's: iputils ping resolving the name once through the router's DNS,
and ping resolving it every second through dnsmasq, which caches it for the
records' TTL (the paper's 1d, and setup's 30s); each without a bridge, with
the service's bridge as the path applies it, and with the dst-nat rule
enabled by the test itself at the switch; and with the service's bridge,
failwatch's engine itself (its probes, policy and operations) failing over.
Needs root, nft, conntrack and dnsmasq.`, func(fs *pflag.FlagSet) runner {
		runs := fs.Int("runs", 5, "failovers per mode")
		modes := fs.String("modes", "paper,setup,failwatch", "the timing part's paths: paper (its netwatch), setup (setup's netwatch), failwatch (its probes and policy)")
		phase := fs.String("fault-phase", "tick", "the timing part's fault on failwatch's path: tick (right after a probe tick, the worst phase) or random (a random point of the probe interval)")
		count := fs.Int("count", 20, "pings per scenario (the paper's 20)")
		parts := fs.String("parts", "scenarios,timing,clients", "which parts to run")
		bridges := fs.String("bridges", "none,service,test", "the clients part's bridges: none, service (the service's configured bridge, as the path applies it), test (the rule enabled by the test at the switch)")
		return func(_ []string, stdout, stderr io.Writer) int {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			want := func(part string) bool { return slices.Contains(strings.Split(*parts, ","), part) }
			var err error
			if want("scenarios") {
				err = labScenarios(ctx, *count, stdout, stderr)
			}
			if err == nil && want("timing") {
				err = labTiming(ctx, *runs, *modes, *phase, stdout)
			}
			if err == nil && want("clients") {
				err = labClients(ctx, *runs, *count, *bridges, stdout)
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

// labModes and labPhases are the --modes and --fault-phase names.
var (
	labModes  = map[string]lab.Mode{"paper": lab.Paper, "setup": lab.Setup, "failwatch": lab.Failwatch}
	labPhases = map[string]lab.Phase{"tick": lab.AfterTick, "random": lab.RandomPhase}
)

// labTiming times the failover on each path; the netwatch paths' faults
// come at a random point of their interval, failwatch's at phase's.
func labTiming(ctx context.Context, runs int, modes, phase string, stdout io.Writer) error {
	fwPhase, ok := labPhases[phase]
	if !ok {
		return fmt.Errorf("--fault-phase: %q is neither tick nor random", phase)
	}
	paths, err := labNames("--modes", modes, labModes, "paper, setup, failwatch")
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "failwatch's path: the fault %s\n\n", map[string]string{
		"tick": "right after a probe tick", "random": "at a random point of the probe interval"}[phase])
	fmt.Fprintf(stdout, "| mode | runs | switch median | min | max | detection median | min | max |\n|---|---|---|---|---|---|---|---|\n")
	for _, mode := range paths {
		l, err := lab.New()
		if err != nil {
			return err
		}
		p := lab.RandomPhase
		if mode == lab.Failwatch {
			p = fwPhase
		}
		timings, err := l.Measure(ctx, mode, runs, p)
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

// labNames reads a flag's comma-separated list of names, each one of
// known's (listed in words by names for the error).
func labNames[T any](flag, list string, known map[string]T, names string) ([]T, error) {
	var out []T
	for name := range strings.SplitSeq(list, ",") {
		v, ok := known[name]
		if !ok {
			return nil, fmt.Errorf("%s: %q is none of %s", flag, name, names)
		}
		out = append(out, v)
	}
	return out, nil
}

// labBridges are the --bridges names.
var labBridges = map[string]lab.Bridge{"none": lab.NoBridge, "service": lab.ServiceBridge, "test": lab.TestBridge}

// labClients runs scenario 2 on every path, bridge and TTL, runs times,
// and prints the paper's row per client: medians, with the spread of what
// was received.
func labClients(ctx context.Context, runs, count int, bridges string, stdout io.Writer) error {
	variants, err := labNames("--bridges", bridges, labBridges, "none, service, test")
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "scenario 2 as clients see it: %d pings at 1s, the public server cut before ping 4; medians of %d run(s)\n\n", count, runs)
	fmt.Fprintf(stdout, "| path | bridge | TTL | client | sent | received (min-max) | loss | min ms | avg ms | max ms | mdev ms | fault to answer | fault to bridge rule | client back after the switch |\n")
	fmt.Fprintf(stdout, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, mode := range []lab.Mode{lab.Paper, lab.Setup, lab.Failwatch, lab.Engine} {
		for _, bridge := range variants {
			if mode == lab.Engine && bridge != lab.ServiceBridge {
				continue // failwatch's engine runs with the service's own bridge only
			}
			for _, ttl := range []time.Duration{24 * time.Hour, 30 * time.Second} {
				byClient, err := labClientRuns(ctx, mode, bridge, ttl, runs, count)
				if err != nil {
					return err
				}
				for _, client := range []lab.Client{lab.ResolveOnce, lab.Caching} {
					fmt.Fprintln(stdout, clientLine(byClient[client]))
				}
			}
		}
	}
	return nil
}

// labClientRuns runs one row's scenario runs times, each in a new lab.
func labClientRuns(ctx context.Context, mode lab.Mode, bridge lab.Bridge, ttl time.Duration, runs, count int) (map[lab.Client][]lab.ClientRow, error) {
	byClient := map[lab.Client][]lab.ClientRow{}
	for range runs {
		l, err := lab.New()
		if err != nil {
			return nil, err
		}
		var rows []lab.ClientRow
		if mode == lab.Engine {
			rows, err = l.EngineClients(ctx, ttl, count, 3, time.Second)
		} else {
			rows, err = l.ClientsScenario2(ctx, mode, bridge, ttl, count, 3, time.Second)
		}
		l.Close()
		if err != nil {
			return nil, fmt.Errorf("%s, %s, TTL %s: %w", mode, bridge, ttl, err)
		}
		for _, r := range rows {
			byClient[r.Client] = append(byClient[r.Client], r)
		}
	}
	return byClient, nil
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
	var back, rule []time.Duration
	for _, r := range rows {
		received, losses = append(received, r.Stats.Received), append(losses, r.Stats.LossPercent())
		if r.BackOK {
			back = append(back, r.Back)
		}
		if r.RuleOnOK {
			rule = append(rule, r.RuleOn)
		}
	}
	slices.Sort(received)
	slices.Sort(losses)
	r := rows[0]
	return fmt.Sprintf("| %s | %s | %s | %s | %d | %d (%d-%d) | %.0f%% | %s | %s | %s | %s | %s | %s | %s |", r.Mode, r.Bridge, config.FormatDuration(r.TTL), r.Client, r.Stats.Sent,
		received[len(received)/2], received[0], received[len(received)-1], losses[len(losses)/2],
		msText(pick(func(r lab.ClientRow) time.Duration { return r.Stats.Min })), msText(pick(func(r lab.ClientRow) time.Duration { return r.Stats.Avg })),
		msText(pick(func(r lab.ClientRow) time.Duration { return r.Stats.Max })), msText(pick(func(r lab.ClientRow) time.Duration { return r.Stats.Mdev })),
		pick(func(r lab.ClientRow) time.Duration { return r.Switch }).Round(time.Millisecond),
		ofRuns(rule, len(rows), "no rule applied"), ofRuns(back, len(rows), "not within the run (the TTL)"))
}

// ofRuns is the median of what every run had, or says how many had none.
func ofRuns(ds []time.Duration, runs int, none string) string {
	switch {
	case len(ds) == runs:
		return median(ds).Round(time.Millisecond).String()
	case len(ds) == 0:
		return none
	}
	return fmt.Sprintf("%s in %d of %d runs (median of those)", median(ds).Round(time.Millisecond), len(ds), runs)
}

func msText(d time.Duration) string { return fmt.Sprintf("%.3f", float64(d)/1e6) }

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
