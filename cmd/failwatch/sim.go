package main

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros/rosim"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func simCommand() *cobra.Command {
	return newCommand("sim", "", "run the RouterOS API emulator alone (seeded with the paper's setup)", `
Run the RouterOS API emulator alone, for tests and for trying clients. It speaks
the real API wire protocol and is seeded with the paper's setup: two static
records for tomtotrading.com (comments "ServerPrivate", disabled, and "Server
Public") and the paper's two netwatch entries. With -c it is seeded from the
config's service and servers instead. Log in as admin with an empty password
unless --user/--password say otherwise.

Netwatch probes are simulated (every host up) and send no packet; --netwatch-icmp
makes them real ICMP echoes, only for addresses you own, such as test namespaces.
Runs until Ctrl-C.`, func(fs *pflag.FlagSet) runner {
		listen := fs.String("listen", "127.0.0.1:8728", "the address API clients connect to (port 0 picks one)")
		dnsAddr := fs.String("dns", "", "also answer DNS over UDP on this address from the enabled static records")
		user := fs.String("user", "admin", "the API user name")
		password := fs.String("password", "", "the API password")
		path := fs.StringP("config", "c", "", "seed from this config FILE's services and servers instead of the paper's setup")
		interval := fs.String("netwatch-interval", "10s", "netwatch interval of entries seeded from -c")
		version := fs.String("routeros-version", "7.18.2 (stable)", "the RouterOS version to be: what it takes and how it answers ("+strings.Join(rosim.ProfileNames(), ", ")+")")
		zone := fs.String("zone", "UTC", "the router's time zone (its clock and log times), e.g. Asia/Jakarta")
		legacy := fs.Bool("legacy-login", false, "use the pre-6.43 challenge login")
		realICMP := fs.Bool("netwatch-icmp", false, "netwatch sends real ICMP echoes and HTTP requests (only to addresses you own)")
		return func(_ []string, stdout, stderr io.Writer) int {
			if err := rosim.CheckVersion(*version); err != nil {
				fmt.Fprintf(stderr, "failwatch sim: --routeros-version: %v\n", err)
				return exitUsage
			}
			loc, err := time.LoadLocation(*zone)
			if err != nil {
				fmt.Fprintf(stderr, "failwatch sim: --zone: %v\n", err)
				return exitUsage
			}
			opts := rosim.Options{Users: map[string]string{*user: *password}, Version: *version, Zone: loc, LegacyLogin: *legacy}
			if *realICMP {
				icmp, err := monitor.NewICMP(config.ICMPAuto)
				if err != nil {
					fmt.Fprintf(stderr, "failwatch sim: %v\n", err)
					return exitUnhealthy
				}
				opts.Probe = func(ctx context.Context, host netip.Addr, _ time.Duration) (time.Duration, bool) {
					s := icmp.Probe(ctx, host)
					return s.RTT, s.OK
				}
				opts.HTTP = rosim.HTTPGet
			}
			r := rosim.New(opts)
			defer r.Close()
			if *path != "" {
				cfg, err := readConfig(*path, plain(stderr), false)
				if err != nil {
					plain(stderr).error(err)
					return exitUsage
				}
				if err := r.SeedConfig(cfg, *interval); err != nil {
					fmt.Fprintf(stderr, "failwatch sim: %v\n", err)
					return exitUsage
				}
			} else if err := r.SeedPaper(); err != nil {
				fmt.Fprintf(stderr, "failwatch sim: %v\n", err)
				return exitUnhealthy
			}
			if err := serveSim(r, *listen, *dnsAddr, *user, stdout); err != nil {
				fmt.Fprintf(stderr, "failwatch sim: %v\n", err)
				return exitUnhealthy
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			<-ctx.Done()
			return exitOK
		}
	})
}

// serveSim serves the emulator's API on listen, and DNS on dnsAddr when
// set, saying on stdout where.
func serveSim(r *rosim.Router, listen, dnsAddr, user string, stdout io.Writer) error {
	addr, err := r.ListenAndServe(listen)
	if err != nil {
		// "listen tcp ADDR: ..." says what failed already.
		return err
	}
	fmt.Fprintf(stdout, "RouterOS API emulator listening on %s (user %s)\n", addr, user)
	if dnsAddr == "" {
		return nil
	}
	daddr, err := r.ServeDNS(dnsAddr)
	if err != nil {
		return fmt.Errorf("dns: %w", err)
	}
	fmt.Fprintf(stdout, "DNS answering from static records on %s/udp\n", daddr)
	return nil
}
