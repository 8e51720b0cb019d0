package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/failwatch/failwatch/config"
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
		rf, recordTo, start := daemonFlags(fs, "serve")
		listen := fs.String("listen", "", "SSH address (default: serve.listen, else 127.0.0.1:2222)")
		metricsAddr := fs.String("metrics", "", "also serve Prometheus metrics on this address")
		return func(_ []string, stdout, stderr io.Writer) int {
			log, o, cfg, ok := start(stderr)
			if !ok {
				return exitUsage
			}
			// What SIGHUP compares the file with: the config as read, before the
			// defaults filled in below.
			asLoaded := *cfg
			if err := serveDefaults(cfg, *listen); err != nil {
				o.error(err)
				return exitUsage
			}
			d, err := liveDashboard(cfg, *recordTo)
			if err != nil {
				o.error(err)
				return exitUnhealthy
			}
			d.ui = tui.Options{Services: cfg.Services, Servers: cfg.Servers, RouterAddr: cfg.Router.RouterAddr(), ReadOnly: cfg.UI.ReadOnly,
				ASCII: cfg.UI.ASCII, NoColor: cfg.UI.NoColor, Theme: cfg.UI.Theme, NoMouse: cfg.UI.NoMouse}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			r, err := d.start(ctx, o, *metricsAddr, log)
			if err != nil {
				o.error(err)
				return exitUsage
			}
			go watchHangup(ctx, rf, &asLoaded, r.eng, log)
			return d.serve(ctx, r, o, log, stdout)
		}
	})
}

// serveDefaults fills in serve's listen address (--listen over the
// config's) and host key, and refuses a config nobody could log in with.
func serveDefaults(cfg *config.Config, listen string) error {
	if listen != "" {
		cfg.Serve.Listen = listen
	}
	if cfg.Serve.HostKey == "" {
		cfg.Serve.HostKey = filepath.Join(filepath.Dir(defaultAuditLog()), "ssh_host_ed25519")
	}
	if len(cfg.Serve.Users) == 0 && cfg.Serve.Anonymous == "" {
		return errors.New("no serve.users and no serve.anonymous: nobody could log in")
	}
	return nil
}

// serve hands the engine's run to the SSH server, listening on serve.listen,
// until ctx ends; an operation under way finishes or rolls back first.
func (d *dashboard) serve(ctx context.Context, r *engineRun, o out, log *slog.Logger, stdout io.Writer) int {
	opts := sshserve.Options{Serve: d.cfg.Serve, Engine: r.eng, Log: log,
		// The servers now, as reloads left them, not as serve started.
		UI: func() tui.Options {
			ui := d.ui
			ui.Servers = r.eng.Servers()
			return ui
		}}
	if d.metrics != nil {
		opts.Metrics = d.metrics.Registerer()
	}
	srv, err := sshserve.New(opts)
	if err != nil {
		r.stop()
		o.fail(err.Error())
		return exitUnhealthy
	}
	ln, err := net.Listen("tcp", d.cfg.Serve.Listen)
	if err != nil {
		r.stop()
		// "listen tcp ADDR: ..." says what failed already.
		o.fail(err.Error(), "listen", d.cfg.Serve.Listen)
		return exitUsage
	}
	r.run(ctx, func(ctx context.Context) error {
		if o.log != nil {
			o.info("SSH on "+ln.Addr().String(), "ssh", ln.Addr().String())
		} else {
			fmt.Fprintf(stdout, "failwatch serve: SSH on %s\n", ln.Addr())
		}
		if err := srv.Serve(ctx, ln); err != nil {
			o.fail(err.Error())
		}
		return nil
	})
	if last := r.eng.LastDone(); last != nil && last.Err != nil {
		o.fail(fmt.Sprintf("last operation: %s: %v", last.Result.Outcome, last.Err))
	}
	return exitOK
}
