package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/failwatch/failwatch/internal/sshserve"
	"github.com/failwatch/failwatch/tui"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func serveCommand() *cobra.Command {
	return newCommand("serve", "", "one engine, the dashboard served over SSH to many viewers, a role per key", `
One engine (probes, router, policy, audit) served to many viewers: the
dashboard over SSH (ssh -p 2222 host; ssh -t -p 2222 host wall for the wall
layout), one program per session with its own size and colours, all fed by
the same engine, so a NOC wall and two admins cost the servers and the
router one set of probes and sessions. serve.users name who may log in, by
public key, each an operator (fail over, restore, hold) or a viewer (watch
only); other keys are refused unless serve.anonymous is viewer; passwords
never. Keys are read as sshd reads authorized_keys: from= and
expiry-time= hold, restrict and no-pty get no terminal, a line with
command=, environment= or a host name in from= is not loaded (warned of by
line; check says so too), and a key two users list is a viewer. Nothing
but the dashboard is served: no port, agent or X11 forwarding, no sftp, no
command but wall; a window is drawn at most 500x200. Before login, limits
as sshd's: serve.login_grace_time, serve.max_startups (start:rate:full)
and serve.per_source_max_startups. At most serve.max_sessions logged-in
connections, with or without a session, serve.operator_slots of them kept
for operators. Logins, refusals and session ends are logged with the
key's fingerprint and the client's address; connections closed before
login are summed up. Operations are audited with the user and key
fingerprint. The host key is made on first start (serve.host_key); an
existing one must be readable by its owner only. Runs until Ctrl-C or
SIGTERM; an operation under way finishes or rolls back first.`, func(fs *pflag.FlagSet) runner {
		rf := addRouterFlags(fs)
		listen := fs.String("listen", "", "SSH address (default: serve.listen, else 127.0.0.1:2222)")
		metricsAddr := fs.String("metrics", "", "also serve Prometheus metrics on this address")
		recordTo := recordFlag(fs)
		logFormat := logFormatFlag(fs)
		return func(_ []string, stdout, stderr io.Writer) int {
			log, ok := newLog(*logFormat, "serve", stderr)
			if !ok {
				return exitUsage
			}
			o := daemonOut(stderr, "serve", *logFormat, log)
			cfg, ok := rf.load(o)
			if !ok {
				return exitUsage
			}
			// What SIGHUP compares the file with: the config as read, before the
			// defaults filled in below.
			asLoaded := *cfg
			if *listen != "" {
				cfg.Serve.Listen = *listen
			}
			if cfg.Serve.HostKey == "" {
				cfg.Serve.HostKey = filepath.Join(filepath.Dir(defaultAuditLog()), "ssh_host_ed25519")
			}
			if len(cfg.Serve.Users) == 0 && cfg.Serve.Anonymous == "" {
				o.fail("no serve.users and no serve.anonymous: nobody could log in")
				return exitUsage
			}
			d, ok := liveDashboard(cfg, *recordTo, o)
			if !ok {
				return exitUnhealthy
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			d.ui = tui.Options{Services: cfg.Services, Servers: cfg.Servers, RouterAddr: cfg.Router.RouterAddr(), ReadOnly: cfg.UI.ReadOnly,
				ASCII: cfg.UI.ASCII, NoColor: cfg.UI.NoColor, Theme: cfg.UI.Theme}
			if !d.serveMetrics(ctx, *metricsAddr, o) {
				return exitUsage
			}
			eng, ok := d.newEngine(o)
			if !ok {
				return exitUsage
			}
			go watchHangup(ctx, rf, &asLoaded, eng, log)
			stopLog := startLog(eng, log)
			defer stopLog()
			stopRecording, ok := d.startRecorder(eng, o)
			if !ok {
				return exitUsage
			}
			opts := sshserve.Options{Serve: cfg.Serve, Engine: eng, Log: log,
				// The servers now, as reloads left them, not as serve started.
				UI: func() tui.Options {
					ui := d.ui
					ui.Servers = eng.Servers()
					return ui
				}}
			if d.metrics != nil {
				opts.Metrics = d.metrics.Registerer()
			}
			srv, err := sshserve.New(opts)
			if err != nil {
				o.fail(err.Error())
				return exitUnhealthy
			}
			ln, err := net.Listen("tcp", cfg.Serve.Listen)
			if err != nil {
				// "listen tcp ADDR: ..." says what failed already.
				o.fail(err.Error(), "listen", cfg.Serve.Listen)
				return exitUsage
			}
			engineDone := make(chan struct{})
			go func() { eng.Run(ctx); close(engineDone) }()
			if d.metrics != nil {
				go d.metrics.Feed(ctx, eng)
			}
			if o.log != nil {
				o.info("SSH on "+ln.Addr().String(), "ssh", ln.Addr().String())
			} else {
				fmt.Fprintf(stdout, "failwatch serve: SSH on %s\n", ln.Addr())
			}
			if err := srv.Serve(ctx, ln); err != nil {
				o.fail(err.Error())
			}
			stop()
			<-engineDone
			stopRecording()
			if last := eng.LastDone(); last != nil && last.Err != nil {
				o.fail(fmt.Sprintf("last operation: %s: %v", last.Result.Outcome, last.Err))
			}
			return exitOK
		}
	})
}
