package sshserve

import (
	"fmt"
	"sync"
	"time"

	"charm.land/ssh"
	"charm.land/wish/v2"
	gossh "golang.org/x/crypto/ssh"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/safetext"
)

// How a session ended, as logged and in the metrics' how label.
const (
	endClient   = "client_closed"
	endQuit     = "quit"
	endIdle     = "idle_timeout"
	endLimit    = "limit"
	endRefused  = "refused"
	endShutdown = "server_shutdown"
)

// ending is how a session ended: the first cause to say so.
type ending struct {
	mu  sync.Mutex
	how string
}

func (e *ending) set(how string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.how == "" {
		e.how = how
	}
}

func (e *ending) get() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.how
}

// tracked is a session with the record of how it ends, which the
// middleware after logSessions fill in.
type tracked struct {
	ssh.Session
	end *ending
}

// endingOf is where a session's end is told; a session logSessions did
// not see has one nobody reads.
func endingOf(sess ssh.Session) *ending {
	if t, ok := sess.(tracked); ok {
		return t.end
	}
	return &ending{}
}

// logSessions logs each session's start, and its end with how long it
// lasted and how it ended.
func (s *Server) logSessions(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		u := sessionUser(sess.Context())
		pty, _, _ := sess.Pty()
		attrs := []any{"user", u.Name, "role", u.Role, "fingerprint", gossh.FingerprintSHA256(u.Key),
			"remote", sess.RemoteAddr().String(), "term", safetext.Line(pty.Term), "command", safetext.Line(sess.RawCommand())}
		start := time.Now()
		s.opts.Log.Info("ssh session start", append(attrs, "width", pty.Window.Width, "height", pty.Window.Height)...)
		end := &ending{}
		defer func() {
			end.set(endClient)
			how := end.get()
			s.metrics.sessionEnds.WithLabelValues(how).Inc()
			s.opts.Log.Info("ssh session end", append(attrs, "how", how, "duration", time.Since(start).Round(time.Millisecond))...)
		}()
		next(tracked{Session: sess, end: end})
	}
}

// needTerminal refuses a session without a PTY, saying how to connect, or
// why its key gets none.
func (s *Server) needTerminal(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		pty, _, ok := sess.Pty()
		switch {
		case !ok && sessionUser(sess.Context()).noPty:
			s.refuse(sess, endRefused, refusedTerminal, "restrict or no-pty key",
				"failwatch serve: this key's authorized_keys line says restrict or no-pty, so it gets no terminal, and the dashboard needs one")
		case !ok:
			s.refuse(sess, endRefused, refusedTerminal, "no terminal", "failwatch serve shows a dashboard and needs a terminal: ssh -t")
		case pty.Term == "dumb":
			s.refuse(sess, endRefused, refusedTerminal, "TERM=dumb", "failwatch serve: TERM=dumb cannot draw the dashboard")
		default:
			next(sess)
		}
	}
}

// refusePty is the server's PtyCallback: a key whose line says restrict
// or no-pty gets no terminal.
func (s *Server) refusePty(ctx ssh.Context, _ ssh.Pty) bool {
	u := sessionUser(ctx)
	if !u.noPty {
		return true
	}
	s.refusedRequest(ctx, "pty-req", "reason", "restrict or no-pty at "+u.at)
	return false
}

// refuse ends a session before its dashboard starts, telling the client
// why and logging the reason.
func (s *Server) refuse(sess ssh.Session, how, label, reason, told string) {
	endingOf(sess).set(how)
	s.metrics.refusals.WithLabelValues(label).Inc()
	s.opts.Log.Info("ssh session refused", "user", sessionUser(sess.Context()).Name, "remote", sess.RemoteAddr().String(), "reason", reason)
	wish.Println(sess, told)
	sess.Exit(1)
}

// slots are the session places: serve.max_sessions, of which
// serve.operator_slots only operators take. A logged-in connection holds
// one, with or without a session, and each session past its first
// another.
type slots struct {
	max, forOperators int

	mu   sync.Mutex
	used int
}

// take takes a place for role, or says why there is none.
func (sl *slots) take(role string) (full string) {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	limit := sl.max
	if role != config.RoleOperator {
		limit -= sl.forOperators
	}
	if sl.used < limit {
		sl.used++
		return ""
	}
	if limit < sl.max {
		return fmt.Sprintf("all %d sessions viewers may have are taken (%d more are kept for operators)", limit, sl.forOperators)
	}
	return fmt.Sprintf("all %d sessions are taken", sl.max)
}

func (sl *slots) free() {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	sl.used--
}

// limit gives a session a place: the one its connection took at login,
// or, for a second session at once on one connection, another.
func (s *Server) limit(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		c := connOf(sess.Context())
		if full := c.sessionStarts(); full != "" {
			s.refuse(sess, endLimit, refusedFull, full, "failwatch serve: "+full+"; try again later")
			return
		}
		defer c.sessionEnds()
		role := sessionUser(sess.Context()).Role
		s.metrics.sessions.WithLabelValues(role).Inc()
		defer s.metrics.sessions.WithLabelValues(role).Dec()
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
