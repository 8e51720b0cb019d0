package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/failover"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func setupCommand() *cobra.Command {
	return newCommand("setup", "", "print (or --apply) a robust netwatch and static DNS configuration", `
Print a RouterOS script that makes the failover robust, for each service (or
those named by --service), each touching only its own records and entries: the
service's static records (existing ones adopted, found by comment or by address, never added
twice) with a short TTL, and one netwatch entry on the primary whose scripts
find the records the same way, never by print position. Only what the
router's version takes is written (6.x: simple netwatch; 7.4 and later:
probe types; 7.13: name, http-codes, startup-delay; 7.17: ignore-initial-*,
never ignore-initial-up=yes). An icmp entry gets thresholds above the
primary's round trip (--rtt), since RouterOS applies thr-avg 100ms even when
unset. The entry is added disabled, checked, then enabled in one line with
the older entries whose scripts switch the records disabled: whichever line a
router stops at, one failover works.

The script is for --routeros VERSION (default 7.18). --apply reads the
router's own version and asks it which netwatch properties it takes (an
optional one it lacks is left out with a note, a needed one refuses before any
change), shows every change with whole values, asks, applies in an order that
never leaves the name without a record nor the router without a failover,
reads back, and on a failure puts back what the router held ("applied k of n,
rolled back"), retrying while the router cannot be reached; what it could not
put back is listed with the command that undoes it.`, func(fs *pflag.FlagSet) runner {
		st := setupRun{rf: addRouterFlags(fs).addServiceFlag(fs)}
		st.apply = fs.Bool("apply", false, "apply over the API instead of printing the script")
		st.yes = fs.Bool("yes", false, "with --apply: do it without asking")
		st.version = fs.String("routeros", "7.18", "the RouterOS version the printed script is for")
		st.rtt = durationFlag(fs, "rtt", 0, "the primary's round trip as the router sees it (e.g. 196ms): icmp thresholds are set above it")
		st.ttl = durationFlag(fs, "ttl", 30*time.Second, "TTL of the static records (the paper's 1d keeps clients on a dead server for a day)")
		st.interval = durationFlag(fs, "interval", 5*time.Second, "netwatch interval")
		st.ignoreDown = fs.Bool("ignore-initial-down", false, "no down-script for a primary already down when the entry starts (7.18+): it then never fails over")
		st.loss = fs.String("loss", "", "the primary's loss when healthy, as failwatch report measures it (e.g. 5%): a test's echoes are checked against it")
		st.jitter = durationFlag(fs, "jitter", 0, "the spread of the primary's round trips, as failwatch report measures it (e.g. 12ms): thresholds are kept above it")
		return st.run
	})
}

// setupRun is one run of `setup` with its flags.
type setupRun struct {
	rf                         routerFlags
	apply, yes, ignoreDown     *bool
	version, loss              *string
	rtt, ttl, interval, jitter *time.Duration
}

func (st setupRun) run(_ []string, stdout, stderr io.Writer) int {
	cfg, setups, err := st.setups(stderr)
	if err != nil {
		plain(stderr).error(err)
		return exitUsage
	}
	if !*st.apply {
		caps, err := failover.CapsOf(*st.version)
		if err != nil {
			fmt.Fprintf(stderr, "failwatch setup: --routeros: %v\n", err)
			return exitUsage
		}
		for _, s := range setups {
			if err := s.BridgeSupported(caps); err != nil {
				fmt.Fprintf(stderr, "failwatch setup: %v\n", err)
				return exitUsage
			}
		}
		for i, s := range setups {
			if i > 0 {
				fmt.Fprintln(stdout)
			}
			fmt.Fprint(stdout, s.Script(caps))
		}
		return exitOK
	}
	client, warnings, err := routeros.New(routeros.OptionsFrom(cfg.Router))
	if err != nil {
		fmt.Fprintf(stderr, "failwatch setup: %v\n", err)
		return exitUsage
	}
	defer client.Close()
	for _, w := range warnings {
		fmt.Fprintf(stderr, "failwatch: warning: %s\n", w)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return st.applySetups(ctx, cfg, client, setups, stdout, stderr)
}

// setups reads the config (with --apply, as for the router) and makes the
// setup of each chosen service from the flags.
func (st setupRun) setups(stderr io.Writer) (*config.Config, []*failover.Setup, error) {
	var cfg *config.Config
	var err error
	if *st.apply {
		cfg, err = st.rf.load(plain(stderr))
	} else {
		cfg, err = loadConfig(*st.rf.path, stderr)
		if err == nil && len(cfg.Services) == 0 {
			err = said("setup", errors.New("the config needs a service"))
		}
	}
	if err != nil {
		return nil, nil, err
	}
	chosen, err := st.rf.chosen(cfg)
	if err != nil {
		return nil, nil, err
	}
	lossShare := 0.0
	if *st.loss != "" {
		pct, err := config.ParsePercent(*st.loss)
		if err != nil || pct < 0 || pct >= 100 {
			return nil, nil, said("setup", fmt.Errorf("--loss %q: a share of echoes lost such as 5%%", *st.loss))
		}
		lossShare = pct / 100
	}
	var setups []*failover.Setup
	for _, svc := range chosen {
		primary, standby := cfg.Pair(svc)
		setups = append(setups, &failover.Setup{Service: svc, Primary: primary, Standby: standby, Probe: cfg.Probe,
			TTL: *st.ttl, Interval: *st.interval, RTT: *st.rtt, IgnoreInitialDown: *st.ignoreDown,
			Jitter: *st.jitter, Loss: lossShare,
			Siblings: failover.Siblings(cfg, svc), Own: ownAddrs(svc, primary)})
	}
	return cfg, setups, nil
}

// applySetups plans every service's setup first, so that nothing changes
// unless all can be done safely, shows the plans, asks, and applies them.
func (st setupRun) applySetups(ctx context.Context, cfg *config.Config, client *routeros.Client, setups []*failover.Setup, stdout, stderr io.Writer) int {
	var plans []*failover.Plan
	changes := 0
	for _, s := range setups {
		plan, err := s.Plan(ctx, client)
		if err != nil {
			fmt.Fprintf(stderr, "failwatch setup: %s: %v\n", s.Service.Name, err)
			return exitUnhealthy
		}
		plans = append(plans, plan)
		changes += len(plan.Steps)
		if len(setups) > 1 {
			fmt.Fprintf(stdout, "%s:\n", s.Service.Name)
		}
		for _, n := range plan.Notes {
			fmt.Fprintln(stdout, wrap("# "+n, 100, "# "))
		}
		for _, step := range plan.Steps {
			fmt.Fprintln(stdout, wrap(step.Say, 100, "    "))
		}
	}
	version := plans[0].Caps.Version
	if changes == 0 {
		fmt.Fprintf(stdout, "%s (RouterOS %s) already has this setup: nothing to change\n", cfg.Router.RouterAddr(), version)
		return exitOK
	}
	if code := confirm(fmt.Sprintf("Apply %d change(s) to %s (RouterOS %s)", changes, cfg.Router.RouterAddr(), version), *st.yes, os.Stdin, stderr); code != exitOK {
		return code
	}
	for i, plan := range plans {
		if err := plan.Apply(ctx, client); err != nil {
			fmt.Fprintf(stderr, "failwatch setup: %s: %v\n", setups[i].Service.Name, err)
			if i > 0 {
				fmt.Fprintf(stderr, "failwatch setup: the services before it are set up and stay so\n")
			}
			return exitUnhealthy
		}
	}
	fmt.Fprintf(stdout, "applied %d change(s) and read them back: the router has the setup\n", changes)
	return exitOK
}

// wrap breaks a long line at spaces (a long script is never cut short),
// starting each further line with indent.
func wrap(s string, width int, indent string) string {
	var b strings.Builder
	line := 0
	for i, w := range strings.Split(s, " ") {
		if i > 0 && line+1+len(w) > width {
			b.WriteString("\n" + indent)
			line = len(indent)
		} else if i > 0 {
			b.WriteByte(' ')
			line++
		}
		b.WriteString(w)
		line += len(w)
	}
	return b.String()
}

// ownAddrs is failwatch's own source address towards a bridged service's
// primary, which its bridge always exempts: the kernel's choice from this
// machine (setup is run where failwatch runs); none without a bridge, or
// when the kernel has no route to the primary.
func ownAddrs(svc config.Service, primary config.Server) []netip.Addr {
	a, err := netip.ParseAddr(primary.Address)
	if !svc.Bridge.On() || err != nil {
		return nil
	}
	own, err := routeros.LocalAddr(a)
	if err != nil {
		return nil
	}
	return []netip.Addr{own}
}
