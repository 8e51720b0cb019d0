package sshserve

import (
	"errors"
	"net/netip"
	"slices"
	"time"

	"charm.land/ssh"
	gossh "golang.org/x/crypto/ssh"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/engine"
	"github.com/failwatch/failwatch/internal/safetext"
)

// user is who a session belongs to: the serve user its key is listed
// under (or anonymous), and that key.
type user struct {
	config.ServeUser
	Key ssh.PublicKey
	// at is the line that let the key in ("" for anonymous); noPty, that
	// the line keeps it from a terminal.
	at    string
	noPty bool
	// alsoListedFor are the other users listing the key: it is then a
	// viewer, whatever they are.
	alsoListedFor []string
}

// requester is the user as operations and the audit log name them: "ssh:"
// and the user's name, the key's SHA256 fingerprint, and the role (a
// viewer, whatever the config says, when the session is read-only).
func (u user) requester(readOnly bool) engine.Requester {
	r := engine.Requester{User: "ssh:" + u.Name, Key: gossh.FingerprintSHA256(u.Key), Role: engine.Viewer}
	if !readOnly && u.Role == config.RoleOperator {
		r.Role = engine.Operator
	}
	return r
}

type userKey struct{}

// sessionUser is the session's user, as the login found it.
func sessionUser(ctx ssh.Context) user {
	u, _ := ctx.Value(userKey{}).(user)
	return u
}

// refusal is why a key may not log in: the metrics' label and the log's
// words.
type refusal struct {
	label, reason string
}

// userOf is the serve user a key logs in as from addr: the user whose
// listing of it admits addr now, else anonymous when serve.anonymous is
// viewer and nobody lists the key. A key listed for two users is a
// viewer, named as the first of them that is one.
func (s *Server) userOf(key ssh.PublicKey, addr netip.Addr) (user, *refusal) {
	admitted, refused := s.keys.lookup(key, addr, time.Now())
	if len(admitted) == 0 {
		switch {
		case refused != nil:
			return user{}, refused
		case s.opts.Serve.Anonymous == config.RoleViewer:
			return user{ServeUser: config.ServeUser{Name: "anonymous", Role: config.RoleViewer}, Key: key}, nil
		}
		return user{}, &refusal{refusedKey, "key not listed"}
	}
	users := s.opts.Serve.Users
	chosen := admitted[0]
	var names []string
	for _, l := range admitted {
		if !slices.Contains(names, users[l.user].Name) {
			names = append(names, users[l.user].Name)
		}
	}
	u := user{ServeUser: users[chosen.user], Key: key}
	if len(names) > 1 {
		for _, l := range admitted {
			if users[l.user].Role == config.RoleViewer {
				chosen = l
				break
			}
		}
		u.ServeUser = users[chosen.user]
		u.Role = config.RoleViewer
		u.alsoListedFor = slices.DeleteFunc(names, func(n string) bool { return n == u.Name })
	}
	u.at, u.noPty = chosen.at, chosen.noPty
	return u, nil
}

// allowKey answers whether a key offered at login may log in; a key
// refused is logged. Passwords are never asked for: no handler takes
// them.
func (s *Server) allowKey(ctx ssh.Context, key ssh.PublicKey) bool {
	_, r := s.userOf(key, remoteIP(ctx.RemoteAddr()))
	if r == nil {
		return true
	}
	s.refuseKey(ctx.User(), ctx.RemoteAddr().String(), key, *r)
	return false
}

func (s *Server) refuseKey(login, remote string, key ssh.PublicKey, r refusal) {
	s.metrics.refusals.WithLabelValues(r.label).Inc()
	s.opts.Log.Info("ssh login refused", "login", safetext.Line(login), "key_type", key.Type(),
		"fingerprint", gossh.FingerprintSHA256(key), "remote", remote, "reason", r.reason)
}

// errRefused refuses a login whose key was refused once the client had
// proved it holds it.
var errRefused = errors.New("login refused")

// loginConfig is the server's ServerConfigCallback: a login is accepted
// once the client has proved it holds the key (allowKey is also asked of
// keys a client merely offers), when the key still logs in (an
// authorized_keys file may have lost it since) and a session place is
// free for its role; the client is told when none is. The user goes into
// the connection's context.
func (s *Server) loginConfig(ctx ssh.Context) *gossh.ServerConfig {
	return &gossh.ServerConfig{
		VerifiedPublicKeyCallback: func(meta gossh.ConnMetadata, key gossh.PublicKey, perms *gossh.Permissions, _ string) (*gossh.Permissions, error) {
			remote := meta.RemoteAddr().String()
			c := connOf(ctx)
			u, r := s.userOf(key, c.addr)
			if r != nil {
				s.refuseKey(meta.User(), remote, key, *r)
				return nil, errRefused
			}
			if full := c.loggedIn(u); full != "" {
				s.refuseKey(meta.User(), remote, key, refusal{refusedFull, full})
				return nil, &gossh.BannerError{Err: errRefused, Message: "failwatch serve: " + full + "; try again later\n"}
			}
			ctx.SetValue(userKey{}, u)
			s.metrics.logins.WithLabelValues(u.Role).Inc()
			attrs := []any{"user", u.Name, "role", u.Role, "login", safetext.Line(meta.User()), "key_type", key.Type(),
				"fingerprint", gossh.FingerprintSHA256(key), "remote", remote}
			if u.at != "" {
				attrs = append(attrs, "key_at", u.at)
			}
			if len(u.alsoListedFor) > 0 {
				attrs = append(attrs, "also_listed_for", u.alsoListedFor)
			}
			s.opts.Log.Info("ssh login accepted", attrs...)
			return perms, nil
		},
	}
}
