package config

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	gossh "golang.org/x/crypto/ssh"
	"go.yaml.in/yaml/v3"
)

func (d *decoder) serve(path string, n *yaml.Node, s *Serve) {
	var maxNode, slotsNode *yaml.Node
	d.fields(n, path, map[string]func(string, *yaml.Node){
		"listen":    d.str(&s.Listen),
		"host_key":  d.str(&s.HostKey),
		"anonymous": d.oneOf(&s.Anonymous, "", RoleViewer),
		"max_sessions": func(k string, v *yaml.Node) {
			maxNode = v
			d.integer(&s.MaxSessions, 1, 10000)(k, v)
		},
		"operator_slots": func(k string, v *yaml.Node) {
			slotsNode = v
			d.integer(&s.OperatorSlots, 0, 10000)(k, v)
		},
		"idle_timeout":            d.duration(&s.IdleTimeout),
		"login_grace_time":        d.duration(&s.LoginGraceTime),
		"max_startups":            d.maxStartups(&s.MaxStartups),
		"per_source_max_startups": d.perSourceMaxStartups(&s.PerSourceMaxStartups),
		"users":                   func(k string, v *yaml.Node) { s.Users = d.serveUsers(k, v) },
	})
	if s.Listen != "" {
		if _, _, err := net.SplitHostPort(s.Listen); err != nil {
			d.errorf(n, path+".listen", "%q is not host:port", s.Listen)
		}
	}
	if s.OperatorSlots >= s.MaxSessions {
		switch {
		case slotsNode != nil:
			d.errorf(slotsNode, path+".operator_slots", "%d must be fewer than max_sessions (%d), or viewers get no session", s.OperatorSlots, s.MaxSessions)
		case maxNode != nil:
			d.errorf(maxNode, path+".max_sessions", "%d leaves viewers no session: operator_slots (%d by default) are kept for operators; make it larger or set operator_slots lower", s.MaxSessions, s.OperatorSlots)
		}
	}
}

// maxStartups reads sshd's MaxStartups: start:rate:full, or one number
// (every connection past it refused).
func (d *decoder) maxStartups(dst *MaxStartups) func(string, *yaml.Node) {
	return func(key string, n *yaml.Node) {
		v, ok := d.scalar(key, n)
		if !ok {
			return
		}
		m, err := ParseMaxStartups(v)
		if err != nil {
			d.errorf(n, key, "%v", err)
			return
		}
		*dst = m
	}
}

// ParseMaxStartups reads start:rate:full (e.g. 10:30:100), or one number
// N, which is N:100:N.
func ParseMaxStartups(s string) (MaxStartups, error) {
	parts := strings.Split(s, ":")
	var nums []int
	for _, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return MaxStartups{}, fmt.Errorf("want start:rate:full as sshd's MaxStartups (e.g. 10:30:100), or one number, got %q", s)
		}
		nums = append(nums, n)
	}
	var m MaxStartups
	switch len(nums) {
	case 1:
		m = MaxStartups{Start: nums[0], Rate: 100, Full: nums[0]}
	case 3:
		m = MaxStartups{Start: nums[0], Rate: nums[1], Full: nums[2]}
	default:
		return MaxStartups{}, fmt.Errorf("want start:rate:full as sshd's MaxStartups (e.g. 10:30:100), or one number, got %q", s)
	}
	switch {
	case m.Start < 1:
		return MaxStartups{}, fmt.Errorf("start must be at least 1, got %q", s)
	case m.Rate < 1 || m.Rate > 100:
		return MaxStartups{}, fmt.Errorf("rate is a percentage from 1 to 100, got %d in %q", m.Rate, s)
	case m.Full < m.Start:
		return MaxStartups{}, fmt.Errorf("full (%d) is less than start (%d) in %q", m.Full, m.Start, s)
	}
	return m, nil
}

// perSourceMaxStartups reads a number of connections, or none (0).
func (d *decoder) perSourceMaxStartups(dst *int) func(string, *yaml.Node) {
	count := d.integer(dst, 1, 10000)
	return func(key string, n *yaml.Node) {
		if n.Kind == yaml.ScalarNode && n.Value == "none" {
			*dst = 0
			return
		}
		count(key, n)
	}
}

func (d *decoder) serveUsers(path string, n *yaml.Node) []ServeUser {
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, path, "want a list of users, got %s", describe(n))
		return nil
	}
	var out []ServeUser
	for i, un := range n.Content {
		key := fmt.Sprintf("%s[%d]", path, i)
		var u ServeUser
		listed := false
		d.fields(un, key, map[string]func(string, *yaml.Node){
			"name":            d.str(&u.Name),
			"role":            d.oneOf(&u.Role, RoleViewer, RoleOperator),
			"authorized_keys": d.str(&u.AuthorizedKeys),
			"wall":            d.boolean(&u.Wall),
			"keys": func(k string, v *yaml.Node) {
				if v.Kind != yaml.SequenceNode {
					d.errorf(v, k, "want a list of public keys, got %s", describe(v))
					return
				}
				for j, kn := range v.Content {
					var line string
					d.str(&line)(fmt.Sprintf("%s[%d]", k, j), kn)
					listed = true
					if _, _, _, _, err := gossh.ParseAuthorizedKey([]byte(line)); err != nil {
						d.errorf(kn, fmt.Sprintf("%s[%d]", k, j), "not a public key: want an authorized_keys line such as \"ssh-ed25519 AAAA... alice\"")
						continue
					}
					u.Keys = append(u.Keys, line)
					u.KeysAt = append(u.KeysAt, fmt.Sprintf("%s:%d:%d", d.file, kn.Line, kn.Column))
				}
			},
		})
		switch {
		case u.Name == "":
			d.errorf(un, key, "a user needs a name (it goes into the audit log)")
		case u.Role == "":
			d.errorf(un, key+".role", "user %s needs a role: viewer or operator", u.Name)
		case !listed && u.AuthorizedKeys == "":
			d.errorf(un, key, "user %s has no keys and no authorized_keys file", u.Name)
		}
		out = append(out, u)
	}
	return out
}
