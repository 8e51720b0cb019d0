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
	"syscall"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/ssh"
	"charm.land/wish/v2"
	"charm.land/wish/v2/activeterm"
	"charm.land/wish/v2/bubbletea"
	gossh "golang.org/x/crypto/ssh"

	"github.com/failwatch/failwatch/internal/engine"
	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/tui"
)

func runServe(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("serve", "[-c FILE] [--router ADDR] [--listen ADDR] [--metrics ADDR]", `
One engine (probes, router, policy, audit) served to many viewers: the
dashboard over SSH (ssh -p 2222 host), one program per session with its own
size and colours, all fed by the same engine, so a NOC wall and two admins
cost the servers and the router one set of probes and sessions. A public key
listed in serve.operators may fail over, restore and hold; one in
serve.viewers only watches; any other is refused. Operations are audited with
the SSH user and key fingerprint. The host key is made on first start
(serve.host_key). Runs until Ctrl-C or SIGTERM; an operation under way
finishes or rolls back first.`, stderr)
	rf := addRouterFlags(fs)
	listen := fs.String("listen", "", "SSH `address` (default: serve.listen, else 127.0.0.1:2222)")
	metricsAddr := fs.String("metrics", "", "also serve Prometheus metrics on this `address`")
	if _, code, ok := parseFlags(fs, args, stdout); !ok {
		return code
	}
	cfg, ok := rf.load(stderr)
	if !ok {
		return exitUsage
	}
	if *listen != "" {
		cfg.Serve.Listen = *listen
	}
	if cfg.Serve.Listen == "" {
		cfg.Serve.Listen = "127.0.0.1:2222"
	}
	if cfg.Serve.HostKey == "" {
		cfg.Serve.HostKey = filepath.Join(filepath.Dir(defaultAuditLog()), "ssh_host_ed25519")
	}
	if cfg.Serve.Operators == "" && cfg.Serve.Viewers == "" {
		fmt.Fprintln(stderr, "failwatch serve: no serve.operators or serve.viewers authorized_keys file: nobody could log in")
		return exitUsage
	}
	icmp, err := monitor.NewICMP(cfg.Probe.ICMPMode)
	if err != nil {
		fmt.Fprintf(stderr, "failwatch serve: %v\n", err)
		return exitUnhealthy
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	d := &dashboard{cfg: cfg, router: routeros.OptionsFrom(cfg.Router), dns: dnsServer(cfg), auditLog: auditPath(cfg),
		monitor: monitor.Options{Probe: cfg.Probe, ICMP: icmp}}
	d.ui = tui.Options{Service: cfg.Service, Servers: cfg.Servers, RouterAddr: cfg.Router.RouterAddr(), ReadOnly: cfg.UI.ReadOnly,
		ASCII: cfg.UI.ASCII, NoColor: cfg.UI.NoColor, Theme: cfg.UI.Theme}
	if !d.serveMetrics(ctx, *metricsAddr, stderr) {
		return exitUsage
	}
	eng, ok := d.newEngine(stderr, stderr)
	if !ok {
		return exitUsage
	}
	if err := os.MkdirAll(filepath.Dir(cfg.Serve.HostKey), 0o700); err != nil {
		fmt.Fprintf(stderr, "failwatch serve: host key: %v\n", err)
		return exitUnhealthy
	}
	sv := &sshServer{eng: eng, ui: d.ui, operators: cfg.Serve.Operators, viewers: cfg.Serve.Viewers}
	srv, err := wish.NewServer(
		wish.WithHostKeyPath(cfg.Serve.HostKey),
		wish.WithPublicKeyAuth(sv.auth),
		wish.WithMiddleware(bubbletea.MiddlewareWithProgramHandler(sv.program), activeterm.Middleware()),
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
	if last := eng.LastDone(); last != nil && last.Err != nil {
		fmt.Fprintf(stderr, "failwatch serve: last operation: %s: %v\n", last.Result.Outcome, last.Err)
	}
	return exitOK
}

// sshServer serves the dashboard to SSH sessions, all on one engine.
type sshServer struct {
	eng                *engine.Engine
	ui                 tui.Options
	operators, viewers string
	ctx                context.Context
}

type roleKey struct{}

// Roles of a session's key.
const (
	roleOperator = "operator"
	roleViewer   = "viewer"
)

// auth lets in the keys of the two files, remembering which role each
// has; the files are read at every login, so an edit needs no restart.
func (sv *sshServer) auth(ctx ssh.Context, key ssh.PublicKey) bool {
	for _, f := range []struct{ path, role string }{{sv.operators, roleOperator}, {sv.viewers, roleViewer}} {
		if f.path != "" && keyListed(f.path, key) {
			ctx.SetValue(roleKey{}, f.role)
			return true
		}
	}
	return false
}

// keyListed says whether an authorized_keys file lists key.
func keyListed(path string, key ssh.PublicKey) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		listed, _, _, _, err := gossh.ParseAuthorizedKey(line)
		if err == nil && ssh.KeysEqual(listed, key) {
			return true
		}
	}
	return false
}

// program is one session's dashboard: the same TUI as the local one, on
// its own subscription, read-only unless the key is an operator's.
func (sv *sshServer) program(sess ssh.Session) *tea.Program {
	role, _ := sess.Context().Value(roleKey{}).(string)
	ui := sv.ui
	ui.ReadOnly = ui.ReadOnly || role != roleOperator
	who := "ssh:" + sess.User()
	if k := sess.PublicKey(); k != nil {
		who += " " + gossh.FingerprintSHA256(k)
	}
	act := &actions{eng: sv.eng, user: who, readOnly: ui.ReadOnly}
	ui.Actions = act
	// The process's signals are the server's, not each session's.
	p := tea.NewProgram(tui.New(ui), append(bubbletea.MakeOptions(sess), tea.WithoutSignalHandler())...)
	act.send = p.Send
	sub, _ := sv.eng.Subscribe(4096)
	go func() {
		tui.Forward(sess.Context(), sub.C(), p.Send)
		sub.Close()
	}()
	return p
}
