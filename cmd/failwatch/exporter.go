package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func exporterCommand() *cobra.Command {
	return newCommand("exporter", "", "probe and watch without a screen, serving Prometheus metrics", `
Probe the servers and watch the router without a screen, and serve what is seen
as Prometheus metrics on /metrics: round trips (histogram), loss, jitter, up/down
per check and server, the active server, whether the router answers, its netwatch
status per host, operations and the duration of the last switch. Runs until
Ctrl-C or SIGTERM. Logs on stderr one line per state change, router connect
and disconnect, operation step and policy decision (--log-format text or json).
SIGHUP reloads the config file: problems are logged with their positions and
the running config stays; servers added, removed or changed apply at once (the
others keep their statistics); other changes apply at the next start.
docs/prometheus/ has a scrape config and alert rules.`, func(fs *pflag.FlagSet) runner {
		rf, recordTo, start := daemonFlags(fs, "exporter")
		listen := fs.String("listen", "127.0.0.1:9455", "metrics address")
		return func(_ []string, stdout, stderr io.Writer) int {
			log, o, cfg, ok := start(stderr)
			if !ok {
				return exitUsage
			}
			d, err := liveDashboard(cfg, *recordTo)
			if err != nil {
				o.error(err)
				return exitUnhealthy
			}
			// No screen joins an exporter: statistics without samples.
			d.monitor.Compact = true
			headlessGC()
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			r, err := d.start(ctx, o, *listen, log)
			if err != nil {
				o.error(err)
				return exitUsage
			}
			go watchHangup(ctx, rf, cfg, r.eng, log)
			r.run(ctx, func(ctx context.Context) error {
				<-ctx.Done()
				return nil
			})
			return exitOK
		}
	})
}
