package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/routeros"
)

func runSetup(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("setup", "[-c FILE] [--apply [--yes]] [--ttl D] [--interval D]", `
Print a RouterOS script that makes the failover robust: static records for the
service name found by comment with a short TTL, and one netwatch entry on the
primary whose scripts find the records by comment (never by print position),
with thresholds from the config (an http-get probe when the primary has an HTTP
check, else icmp with packet-count and thr-loss-percent) and ignore-initial-* so
a reboot does not flip the name. Older entries that would fight it are disabled.
Running it again changes what differs and adds nothing twice.

--apply shows the difference against the router, asks, applies it over the API
and reads it back to verify.`, stderr)
	rf := addRouterFlags(fs)
	apply := fs.Bool("apply", false, "apply over the API instead of printing the script")
	yes := fs.Bool("yes", false, "with --apply: do it without asking")
	ttl := fs.String("ttl", "30s", "TTL of the static records (the paper's 1d keeps clients on a dead server for a day)")
	interval := fs.String("interval", "5s", "netwatch interval")
	if _, code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	var cfg *config.Config
	var ok bool
	if *apply {
		cfg, ok = rf.load(stderr)
	} else {
		cfg, ok = loadConfig(*rf.path, stderr)
		if ok && cfg.Service.Name == "" {
			fmt.Fprintln(stderr, "failwatch setup: the config needs service.name")
			ok = false
		}
	}
	if !ok {
		return exitUsage
	}
	ttlD, err1 := config.ParseDuration(*ttl)
	intD, err2 := config.ParseDuration(*interval)
	if err1 != nil || err2 != nil || ttlD <= 0 || intD <= 0 {
		fmt.Fprintf(stderr, "failwatch setup: --ttl %q and --interval %q must be durations such as 30s\n", *ttl, *interval)
		return exitUsage
	}
	primary, _ := cfg.Server(config.Primary)
	standby, _ := cfg.Server(config.Standby)
	s := &routeros.Setup{Service: cfg.Service, Primary: primary, Standby: standby, Probe: cfg.Probe, TTL: ttlD, Interval: intD}
	if !*apply {
		fmt.Fprint(stdout, s.Script())
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
	changes, err := s.Plan(ctx, client)
	if err != nil {
		fmt.Fprintf(stderr, "failwatch setup: %v\n", err)
		return exitUnhealthy
	}
	if len(changes) == 0 {
		fmt.Fprintf(stdout, "%s already has this setup: nothing to change\n", cfg.Router.RouterAddr())
		return exitOK
	}
	for _, ch := range changes {
		fmt.Fprintln(stdout, ch.Say)
	}
	if !confirm(fmt.Sprintf("Apply %d change(s) to %s", len(changes), cfg.Router.RouterAddr()), *yes, os.Stdin, stderr) {
		return exitUsage
	}
	if err := s.Apply(ctx, client, changes); err != nil {
		fmt.Fprintf(stderr, "failwatch setup: %v\n", err)
		return exitUnhealthy
	}
	fmt.Fprintf(stdout, "applied %d change(s) and read them back: the router has the setup\n", len(changes))
	return exitOK
}
