package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/ssh"
	"charm.land/wish/v2"
	"charm.land/wish/v2/bubbletea"
	gossh "golang.org/x/crypto/ssh"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/engine"
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
never. Operations are audited with the user and key fingerprint. The host key is made on first start
(serve.host_key). Runs until Ctrl-C or SIGTERM; an operation under way
finishes or rolls back first.`, func(fs *pflag.FlagSet) runner {
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
			cfg, ok := rf.load(stderr)
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
				fmt.Fprintln(stderr, "failwatch serve: no serve.users and no serve.anonymous: nobody could log in")
				return exitUsage
			}
			d, ok := liveDashboard(cfg, *recordTo, "failwatch serve", stderr)
			if !ok {
				return exitUnhealthy
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			d.ui = tui.Options{Services: cfg.Services, Servers: cfg.Servers, RouterAddr: cfg.Router.RouterAddr(), ReadOnly: cfg.UI.ReadOnly,
				ASCII: cfg.UI.ASCII, NoColor: cfg.UI.NoColor, Theme: cfg.UI.Theme}
			if !d.serveMetrics(ctx, *metricsAddr, stderr) {
				return exitUsage
			}
			eng, ok := d.newEngine(stderr)
			if !ok {
				return exitUsage
			}
			go watchHangup(ctx, rf, &asLoaded, eng, log)
			stopLog := startLog(eng, log)
			defer stopLog()
			stopRecording, ok := d.startRecorder(eng, stderr)
			if !ok {
				return exitUsage
			}
			if err := os.MkdirAll(filepath.Dir(cfg.Serve.HostKey), 0o700); err != nil {
				fmt.Fprintf(stderr, "failwatch serve: host key: %v\n", err)
				return exitUnhealthy
			}
			sv := &sshServer{eng: eng, ui: d.ui, serve: cfg.Serve}
			srv, err := wish.NewServer(
				wish.WithHostKeyPath(cfg.Serve.HostKey),
				wish.WithPublicKeyAuth(sv.auth),
				// Run last to first: a session needs a terminal, then a free place.
				wish.WithMiddleware(bubbletea.MiddlewareWithProgramHandler(sv.program), sv.limit, needTerminal),
			)
			if err != nil {
				fmt.Fprintf(stderr, "failwatch serve: %v\n", err)
				return exitUnhealthy
			}
			ln, err := net.Listen("tcp", cfg.Serve.Listen)
			if err != nil {
				fmt.Fprintf(stderr, "failwatch serve: listen: %v\n", err)
				return exitUsage
			}
			engineDone := make(chan struct{})
			go func() { eng.Run(ctx); close(engineDone) }()
			if d.metrics != nil {
				go feedMetrics(ctx, eng, d.metrics)
			}
			fmt.Fprintf(stdout, "failwatch serve: SSH on %s\n", ln.Addr())
			served := make(chan error, 1)
			go func() { served <- srv.Serve(ln) }()
			select {
			case <-ctx.Done():
			case err := <-served:
				if err != nil && !errors.Is(err, ssh.ErrServerClosed) {
					fmt.Fprintf(stderr, "failwatch serve: %v\n", err)
				}
			}
			stop()
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			srv.Shutdown(sctx)
			<-engineDone
			stopRecording()
			if last := eng.LastDone(); last != nil && last.Err != nil {
				fmt.Fprintf(stderr, "failwatch serve: last operation: %s: %v\n", last.Result.Outcome, last.Err)
			}
			return exitOK
		}
	})
}

// sshServer serves the dashboard to SSH sessions, all on one engine.
type sshServer struct {
	eng   *engine.Engine
	ui    tui.Options
	serve config.Serve

	mu       sync.Mutex
	sessions int
}

type userKey struct{}

// auth lets in the keys of the configured users, remembering whose each
// is; authorized_keys files are read at every login, so an edit needs no
// restart. A key nobody lists is refused, or watches when serve.anonymous
// is viewer.
func (sv *sshServer) auth(ctx ssh.Context, key ssh.PublicKey) bool {
	for _, u := range sv.serve.Users {
		if userHasKey(u, key) {
			ctx.SetValue(userKey{}, u)
			return true
		}
	}
	if sv.serve.Anonymous == config.RoleViewer {
		ctx.SetValue(userKey{}, config.ServeUser{Name: "anonymous", Role: config.RoleViewer})
		return true
	}
	return false
}

func userHasKey(u config.ServeUser, key ssh.PublicKey) bool {
	lines := u.Keys
	if u.AuthorizedKeys != "" {
		if data, err := os.ReadFile(u.AuthorizedKeys); err == nil {
			sc := bufio.NewScanner(bytes.NewReader(data))
			for sc.Scan() {
				lines = append(lines, sc.Text())
			}
		}
	}
	for _, line := range lines {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		listed, _, _, _, err := gossh.ParseAuthorizedKey([]byte(line))
		if err == nil && ssh.KeysEqual(listed, key) {
			return true
		}
	}
	return false
}

// needTerminal refuses a session without a PTY, saying how to connect.
func needTerminal(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		pty, _, ok := sess.Pty()
		if !ok {
			wish.Println(sess, "failwatch serve shows a dashboard and needs a terminal: ssh -t")
			sess.Exit(1)
			return
		}
		if pty.Term == "dumb" {
			wish.Println(sess, "failwatch serve: TERM=dumb cannot draw the dashboard")
			sess.Exit(1)
			return
		}
		next(sess)
	}
}

// limit keeps the sessions at serve.max_sessions.
func (sv *sshServer) limit(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		sv.mu.Lock()
		full := sv.sessions >= sv.serve.MaxSessions
		if !full {
			sv.sessions++
		}
		sv.mu.Unlock()
		if full {
			wish.Println(sess, fmt.Sprintf("failwatch serve: all %d sessions are taken; try again later", sv.serve.MaxSessions))
			sess.Exit(1)
			return
		}
		defer func() {
			sv.mu.Lock()
			sv.sessions--
			sv.mu.Unlock()
		}()
		next(sess)
	}
}

// program is one session's dashboard: the same TUI as the local one, on
// its own subscription, read-only unless the user is an operator, the wall
// layout for a wall user or "ssh -t host wall". A session idle (no key) for
// serve.idle_timeout ends, unless it is a wall.
func (sv *sshServer) program(sess ssh.Session) *tea.Program {
	u, _ := sess.Context().Value(userKey{}).(config.ServeUser)
	ui := sv.ui
	// The servers now, as reloads left them, not as serve started.
	ui.Servers = sv.eng.Servers()
	ui.ReadOnly = ui.ReadOnly || u.Role != config.RoleOperator
	ui.Wall = u.Wall || slices.Equal(sess.Command(), []string{"wall"})
	who := engine.Requester{User: "ssh:" + u.Name, Role: engine.Viewer}
	if k := sess.PublicKey(); k != nil {
		who.Key = gossh.FingerprintSHA256(k)
	}
	if !ui.ReadOnly {
		who.Role = engine.Operator
	}
	act := &actions{eng: sv.eng, who: who, readOnly: ui.ReadOnly}
	ui.Actions = act
	var lastKey atomic.Int64
	lastKey.Store(time.Now().UnixNano())
	noteKeys := tea.WithFilter(func(_ tea.Model, msg tea.Msg) tea.Msg {
		if _, ok := msg.(tea.KeyPressMsg); ok {
			lastKey.Store(time.Now().UnixNano())
		}
		return msg
	})
	// The process's signals are the server's, not each session's.
	p := tea.NewProgram(tui.New(ui), append(bubbletea.MakeOptions(sess), tea.WithoutSignalHandler(), noteKeys)...)
	act.send = p.Send
	sub, _ := sv.eng.Subscribe(4096)
	go func() {
		tui.Forward(sess.Context(), sub.C(), p.Send)
		sub.Close()
	}()
	if !ui.Wall && sv.serve.IdleTimeout > 0 {
		go func() {
			t := time.NewTicker(min(sv.serve.IdleTimeout/4, time.Minute))
			defer t.Stop()
			for {
				select {
				case <-sess.Context().Done():
					return
				case <-t.C:
					if time.Since(time.Unix(0, lastKey.Load())) > sv.serve.IdleTimeout {
						p.Quit()
						return
					}
				}
			}
		}()
	}
	return p
}
