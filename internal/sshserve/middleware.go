package sshserve

import (
	"errors"
	"fmt"
	"time"

	"charm.land/ssh"
	"charm.land/wish/v2"
	gossh "golang.org/x/crypto/ssh"

	"github.com/failwatch/failwatch/config"
)

// errKeyNotListed refuses a login whose key no serve user lists.
var errKeyNotListed = errors.New("key not listed in serve.users")

// logLogins logs a login once the client has proved it holds the key,
// which is when it is accepted: allowKey is also asked about keys a client
// merely offers. A key an authorized_keys file lost since it was offered
// is refused.
func (s *Server) logLogins(ssh.Context) *gossh.ServerConfig {
	return &gossh.ServerConfig{
		VerifiedPublicKeyCallback: func(conn gossh.ConnMetadata, key gossh.PublicKey, perms *gossh.Permissions, _ string) (*gossh.Permissions, error) {
			u, ok := s.userOf(key)
			if !ok {
				s.opts.Log.Info("ssh login refused", "login", conn.User(), "key_type", key.Type(),
					"fingerprint", gossh.FingerprintSHA256(key), "remote", conn.RemoteAddr().String(), "reason", "key no longer listed")
				return nil, errKeyNotListed
			}
			s.opts.Log.Info("ssh login accepted", "user", u.Name, "role", u.Role, "login", conn.User(), "key_type", key.Type(),
				"fingerprint", gossh.FingerprintSHA256(key), "remote", conn.RemoteAddr().String())
			return perms, nil
		},
	}
}

// logSessions logs each session's start and its end with how long it
// lasted, whatever ended it.
func (s *Server) logSessions(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		u := sessionUser(sess.Context())
		pty, _, _ := sess.Pty()
		attrs := []any{"user", u.Name, "role", u.Role, "fingerprint", gossh.FingerprintSHA256(u.Key),
			"remote", sess.RemoteAddr().String(), "term", pty.Term, "command", sess.RawCommand()}
		start := time.Now()
		s.opts.Log.Info("ssh session start", append(attrs, "width", pty.Window.Width, "height", pty.Window.Height)...)
		defer func() {
			s.opts.Log.Info("ssh session end", append(attrs, "duration", time.Since(start).Round(time.Millisecond))...)
		}()
		next(sess)
	}
}

// needTerminal refuses a session without a PTY, saying how to connect.
func (s *Server) needTerminal(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		pty, _, ok := sess.Pty()
		switch {
		case !ok:
			s.refuse(sess, "no terminal", "failwatch serve shows a dashboard and needs a terminal: ssh -t")
		case pty.Term == "dumb":
			s.refuse(sess, "TERM=dumb", "failwatch serve: TERM=dumb cannot draw the dashboard")
		default:
			next(sess)
		}
	}
}

// refuse ends a session before its dashboard starts, telling the client
// why and logging the reason.
func (s *Server) refuse(sess ssh.Session, reason, told string) {
	s.opts.Log.Info("ssh session refused", "remote", sess.RemoteAddr().String(), "reason", reason)
	wish.Println(sess, told)
	sess.Exit(1)
}

// limit keeps the sessions at serve.max_sessions.
func (s *Server) limit(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		s.mu.Lock()
		full := s.sessions >= s.opts.Serve.MaxSessions
		if !full {
			s.sessions++
		}
		s.mu.Unlock()
		if full {
			n := s.opts.Serve.MaxSessions
			s.refuse(sess, fmt.Sprintf("all %d sessions are taken", n), fmt.Sprintf("failwatch serve: all %d sessions are taken; try again later", n))
			return
		}
		defer func() {
			s.mu.Lock()
			s.sessions--
			s.mu.Unlock()
		}()
		next(sess)
	}
}

type readOnlyKey struct{}

// roles makes a session read-only unless its user is an operator.
func roles(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		u := sessionUser(sess.Context())
		sess.Context().SetValue(readOnlyKey{}, u.Role != config.RoleOperator)
		next(sess)
	}
}

// readOnly says whether the session may change nothing; a session the
// roles middleware did not see may not.
func readOnly(ctx ssh.Context) bool {
	ro, ok := ctx.Value(readOnlyKey{}).(bool)
	return ro || !ok
}
