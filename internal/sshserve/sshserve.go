package sshserve

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	osuser "os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"charm.land/ssh"
	"charm.land/wish/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/engine"
	"github.com/failwatch/failwatch/tui"
)

// Engine is what sessions need of the engine: its events, and requests
// for operations made in a session's name.
type Engine interface {
	Subscribe(buffer int) (*engine.Subscription, engine.Snapshot)
	Request(engine.Request) error
	ResetStats()
}

// Options are what a Server serves, to whom.
type Options struct {
	// Serve is the config's serve section: users and their keys, the
	// anonymous role, the session places, the idle timeout, the limits
	// before login, the host key. A setting left zero is its default.
	Serve  config.Serve
	Engine Engine
	// UI gives the dashboard's options as they stand when a session
	// starts (the servers as reloads left them); the session sets its
	// own role, layout and actions on top.
	UI func() tui.Options
	// Log gets every login, refusal, session start and end, and the
	// summaries of connections closed before login.
	Log *slog.Logger
	// Metrics, when set, takes the SSH series (failwatch_ssh_*).
	Metrics prometheus.Registerer
}

// Server is the SSH server of failwatch serve.
type Server struct {
	opts    Options
	srv     *ssh.Server
	keys    *keyring
	gate    *gate
	slots   *slots
	metrics *metrics
	drops   *dropLog
	// stopping is closed when Serve stops: each dashboard says so and
	// ends.
	stopping chan struct{}
}

// shutdownGrace is how long a stopping server lets connections end by
// themselves before it cuts them.
const shutdownGrace = 5 * time.Second

// dropSummaryEvery is how often connections closed before login are
// summed up in the log, when there are any.
const dropSummaryEvery = 10 * time.Second

// New builds the server. An existing host key must be its owner's alone,
// as sshd requires; a missing one is made (mode 0600, in a directory only
// its owner reads). Problems with serve.users' keys are logged as
// warnings: a key that does not load is refused, and the others load.
func New(opts Options) (*Server, error) {
	defaults := config.Defaults().Serve
	sv := &opts.Serve
	if sv.MaxSessions == 0 {
		sv.MaxSessions = defaults.MaxSessions
	}
	if sv.LoginGraceTime == 0 {
		sv.LoginGraceTime = defaults.LoginGraceTime
	}
	if sv.MaxStartups == (config.MaxStartups{}) {
		sv.MaxStartups = defaults.MaxStartups
	}
	if err := checkHostKey(sv.HostKey); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(sv.HostKey), 0o700); err != nil {
		return nil, fmt.Errorf("host key: %w", err)
	}
	m, err := newMetrics(opts.Metrics)
	if err != nil {
		return nil, fmt.Errorf("ssh metrics: %w", err)
	}
	s := &Server{opts: opts, gate: newGate(*sv), slots: &slots{max: sv.MaxSessions, forOperators: sv.OperatorSlots},
		metrics: m, drops: &dropLog{log: opts.Log, every: dropSummaryEvery}, stopping: make(chan struct{})}
	s.keys = newKeyring(sv.Users, func(p problem) {
		if p.twoUsers {
			opts.Log.Warn("ssh key listed for two users", "at", p.at, "problem", p.msg+": it logs in as a viewer until one user lists it")
			return
		}
		opts.Log.Warn("ssh key not loaded", "at", p.at, "problem", p.msg)
	})
	srv, err := wish.NewServer(
		wish.WithHostKeyPath(sv.HostKey),
		wish.WithPublicKeyAuth(s.allowKey),
		func(srv *ssh.Server) error {
			srv.ServerConfigCallback = s.loginConfig
			srv.ConnCallback = s.accept
			srv.ConnectionFailedCallback = s.failed
			srv.HandshakeTimeout = sv.LoginGraceTime
			srv.PtyCallback = s.refusePty
			return nil
		},
		s.refuseRequests,
		// Run last to first: the log of the session, a terminal, a free
		// place, the role, and the dashboard.
		wish.WithMiddleware(
			s.dashboard,
			roles,
			s.limit,
			s.needTerminal,
			s.logSessions,
		),
	)
	if err != nil {
		return nil, err
	}
	s.srv = srv
	return s, nil
}

// checkHostKey refuses a host key others may read, in sshd's words, or
// one another user owns.
func checkHostKey(path string) error {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("host key: %w", err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("host key %s: permissions %04o are too open: a private key must be readable by its owner only (chmod 600 %s)", path, perm, path)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if ok && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("host key %s is owned by %s, not by %s, whom failwatch serve runs as (chown %s %s)",
			path, userName(int(st.Uid)), userName(os.Geteuid()), userName(os.Geteuid()), path)
	}
	return nil
}

// userName is a uid's user name, or the uid when it has none.
func userName(uid int) string {
	if u, err := osuser.LookupId(strconv.Itoa(uid)); err == nil {
		return u.Username
	}
	return "uid " + strconv.Itoa(uid)
}

// Serve serves SSH on ln until ctx ends or the listener fails; then it
// stops taking connections, ends every dashboard (each told why), and
// gives the connections shutdownGrace to close before it cuts them.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	served := make(chan error, 1)
	go func() { served <- s.srv.Serve(ln) }()
	var err error
	select {
	case <-ctx.Done():
	case err = <-served:
		if errors.Is(err, ssh.ErrServerClosed) {
			err = nil
		}
	}
	close(s.stopping)
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if s.srv.Shutdown(sctx) != nil {
		s.srv.Close()
	}
	return err
}
