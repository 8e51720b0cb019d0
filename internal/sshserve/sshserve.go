package sshserve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"charm.land/ssh"
	"charm.land/wish/v2"

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
	// anonymous role, the session cap, the idle timeout, the host key.
	Serve  config.Serve
	Engine Engine
	// UI gives the dashboard's options as they stand when a session
	// starts (the servers as reloads left them); the session sets its
	// own role, layout and actions on top.
	UI func() tui.Options
	// Log gets every login, refusal and session end.
	Log *slog.Logger
}

// Server is the SSH server of failwatch serve.
type Server struct {
	opts Options
	srv  *ssh.Server

	mu       sync.Mutex
	sessions int
}

// shutdownGrace is how long a stopping server lets sessions end by
// themselves before it cuts them.
const shutdownGrace = 5 * time.Second

// New builds the server; the host key is made on first start (mode 0600,
// in a directory only its owner reads).
func New(opts Options) (*Server, error) {
	if err := os.MkdirAll(filepath.Dir(opts.Serve.HostKey), 0o700); err != nil {
		return nil, fmt.Errorf("host key: %w", err)
	}
	s := &Server{opts: opts}
	srv, err := wish.NewServer(
		wish.WithHostKeyPath(opts.Serve.HostKey),
		wish.WithPublicKeyAuth(s.allowKey),
		func(srv *ssh.Server) error {
			srv.ServerConfigCallback = s.logLogins
			return nil
		},
		s.refuseRequests,
		// Run last to first: who the key is, then the log of the session,
		// a terminal, a free place, the role, and the dashboard.
		wish.WithMiddleware(
			s.dashboard,
			roles,
			s.limit,
			s.needTerminal,
			s.logSessions,
			s.authenticate,
		),
	)
	if err != nil {
		return nil, err
	}
	s.srv = srv
	return s, nil
}

// Serve serves SSH on ln until ctx ends or the listener fails; then it
// stops taking connections and gives the sessions shutdownGrace to end
// before it cuts them.
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
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if s.srv.Shutdown(sctx) != nil {
		s.srv.Close()
	}
	return err
}
