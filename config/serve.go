package config

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	gossh "golang.org/x/crypto/ssh"
)

// check refuses a listen address that is not host:port, and operator
// slots that would leave viewers no session.
func (s *Serve) check(d *decoder, path string) {
	if s.Listen != "" {
		if _, _, err := net.SplitHostPort(s.Listen); err != nil {
			d.errorf(d.at(path), path+".listen", "%q is not host:port", s.Listen)
		}
	}
	if s.OperatorSlots >= s.MaxSessions {
		switch {
		case d.has(path + ".operator_slots"):
			d.errorf(d.at(path+".operator_slots"), path+".operator_slots", "%d must be fewer than max_sessions (%d), or viewers get no session", s.OperatorSlots, s.MaxSessions)
		case d.has(path + ".max_sessions"):
			d.errorf(d.at(path+".max_sessions"), path+".max_sessions", "%d leaves viewers no session: operator_slots (%d by default) are kept for operators; make it larger or set operator_slots lower", s.MaxSessions, s.OperatorSlots)
		}
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

// check refuses a user without a name, a role or keys, and a key that is
// not an authorized_keys line; it notes where each key is written.
func (u *ServeUser) check(d *decoder, path string) {
	n := d.at(path)
	u.Keys = u.Keys[:0]
	for j, kn := range d.elements(path + ".keys") {
		if !isValue(kn) {
			continue
		}
		if _, _, _, _, err := gossh.ParseAuthorizedKey([]byte(kn.Value)); err != nil {
			d.errorf(kn, fmt.Sprintf("%s.keys[%d]", path, j), "not a public key: want an authorized_keys line such as \"ssh-ed25519 AAAA... alice\"")
			continue
		}
		u.Keys = append(u.Keys, kn.Value)
		u.KeysAt = append(u.KeysAt, fmt.Sprintf("%s:%d:%d", d.file, kn.Line, kn.Column))
	}
	switch {
	case u.Name == "":
		d.errorf(n, path, "a user needs a name (it goes into the audit log)")
	case u.Role == "":
		d.errorf(n, path+".role", "user %s needs a role: viewer or operator", u.Name)
	case len(d.elements(path+".keys")) == 0 && u.AuthorizedKeys == "":
		d.errorf(n, path, "user %s has no keys and no authorized_keys file", u.Name)
	}
}
