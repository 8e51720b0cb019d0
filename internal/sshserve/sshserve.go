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
	"sync"
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
	Subscribe(buffer int) *engine.Subscription
	Request(engine.Request) error
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
	// ends, and no connection is taken any more.
	stopping chan struct{}

	// conns are the connections taken, from their acceptance to their
	// close; drained is closed once, after stopping, there are none.
	connsMu     sync.Mutex
	conns       map[*conn]bool
	drained     chan struct{}
	drainedOnce sync.Once
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
		metrics: m, drops: &dropLog{log: opts.Log, every: dropSummaryEvery}, stopping: make(chan struct{}),
		conns: map[*conn]bool{}, drained: make(chan struct{})}
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
// gives the connections shutdownGrace to close before it cuts them. It
// returns once every connection is closed. (charm.land/ssh's own Shutdown
// counts a connection only once its login is done, so one whose login
// ends as it waits is counted after it has stopped counting: serve counts
// its connections from their acceptance.)
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	served := make(chan error, 1)
	go func() { served <- s.srv.Serve(ln) }()
	var err error
	select {
	case <-ctx.Done():
	case err = <-served:
	}
	s.connsMu.Lock()
	close(s.stopping)
	s.drainedLocked()
	s.connsMu.Unlock()
	ln.Close()
	if err == nil {
		// What Serve says of the listener closed here is not a failure.
		<-served
	}
	select {
	case <-s.drained:
	case <-time.After(shutdownGrace):
	}
	s.srv.Close()
	s.connsMu.Lock()
	left := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		left = append(left, c)
	}
	s.connsMu.Unlock()
	for _, c := range left {
		c.Conn.Close()
	}
	<-s.drained
	return err
}

// taken counts a connection, unless the server is stopping.
func (s *Server) taken(c *conn) bool {
	s.connsMu.Lock()
	defer s.connsMu.Unlock()
	select {
	case <-s.stopping:
		return false
	default:
	}
	s.conns[c] = true
	return true
}

// gone stops counting a connection.
func (s *Server) gone(c *conn) {
	s.connsMu.Lock()
	defer s.connsMu.Unlock()
	delete(s.conns, c)
	s.drainedLocked()
}

// drainedLocked says there are no connections, once stopping.
func (s *Server) drainedLocked() {
	select {
	case <-s.stopping:
		if len(s.conns) == 0 {
			s.drainedOnce.Do(func() { close(s.drained) })
		}
	default:
	}
}
