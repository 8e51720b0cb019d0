package sshserve

import (
	"bufio"
	"bytes"
	"os"
	"strings"

	"charm.land/ssh"
	gossh "golang.org/x/crypto/ssh"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/engine"
)

// user is who a session belongs to: the serve user its key is listed
// under (or anonymous), and that key.
type user struct {
	config.ServeUser
	Key ssh.PublicKey
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

// sessionUser is the session's user, as the auth middleware found it.
func sessionUser(ctx ssh.Context) user {
	u, _ := ctx.Value(userKey{}).(user)
	return u
}

// userOf is the serve user a key belongs to: the first configured user
// listing it, else anonymous when serve.anonymous is viewer. authorized_keys
// files are read every time, so an edit needs no restart.
func (s *Server) userOf(key ssh.PublicKey) (user, bool) {
	for _, u := range s.opts.Serve.Users {
		if userHasKey(u, key) {
			return user{ServeUser: u, Key: key}, true
		}
	}
	if s.opts.Serve.Anonymous == config.RoleViewer {
		return user{ServeUser: config.ServeUser{Name: "anonymous", Role: config.RoleViewer}, Key: key}, true
	}
	return user{}, false
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

// allowKey answers whether a key offered at login may log in; a key
// nobody lists is refused (and logged) unless serve.anonymous is viewer.
// Passwords are never asked for: no handler takes them.
func (s *Server) allowKey(ctx ssh.Context, key ssh.PublicKey) bool {
	if _, ok := s.userOf(key); ok {
		return true
	}
	s.opts.Log.Info("ssh login refused", "login", ctx.User(), "key_type", key.Type(),
		"fingerprint", gossh.FingerprintSHA256(key), "remote", ctx.RemoteAddr().String(), "reason", "key not listed")
	return false
}

// authenticate finds the session's user again from the key the client
// proved it holds: the keys allowKey was asked about may be others (a
// client offers several), and an authorized_keys file may have lost the
// key since. The user goes into the session's context.
func (s *Server) authenticate(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		key := sess.PublicKey()
		var u user
		ok := key != nil
		if ok {
			u, ok = s.userOf(key)
		}
		if !ok {
			s.refuse(sess, "key no longer listed", "failwatch serve: permission denied")
			return
		}
		sess.Context().SetValue(userKey{}, u)
		next(sess)
	}
}
