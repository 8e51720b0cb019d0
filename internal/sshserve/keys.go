package sshserve

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/failwatch/failwatch/config"
)

// serve.users' keys are read as sshd reads an authorized_keys file
// (sshd(8), AUTHORIZED_KEYS FILE FORMAT): a line is options, key type,
// key and comment; option names are case-insensitive and a value is
// quoted. Enforced here: from= (addresses, CIDRs and wildcards over the
// address, any of them negated with !; a host name would need reverse
// DNS and refuses its key) and expiry-time=. restrict and no-pty keep a
// key from a terminal, so from the dashboard, until a later pty gives it
// back. The forwarding and rc options are accepted as they are: nothing
// is forwarded and no rc is run for anyone. Any other option (command=,
// environment=, principals=, cert-authority, permitopen=, tunnel=, the
// FIDO ones, or one sshd does not know) asks for something serve does
// not do: its key is refused, with a warning naming the line and the
// option, and the other keys load.

// listing is one line of a user's keys that loaded: the key, where it is
// written, and what its options ask.
type listing struct {
	user    int // the index of its user in serve.users
	key     gossh.PublicKey
	at      string        // file:line, or file:line:col in the config
	from    []addrPattern // nil: any address
	expires time.Time     // zero: never
	noPty   bool          // restrict or no-pty, not undone by pty
	fp      string        // the key's SHA256 fingerprint
	blob    []byte        // the key as the wire carries it
	// notLoaded says why a line with a key in it was not loaded.
	notLoaded string
}

// addrPattern is one pattern of a from= list: a network (an address is
// one of its own size) or a wildcard over the address's text.
type addrPattern struct {
	negated bool
	network netip.Prefix
	glob    string
}

func (p addrPattern) matches(a netip.Addr) bool {
	if p.glob != "" {
		ok, _ := path.Match(p.glob, a.String())
		return ok
	}
	return p.network.Contains(a)
}

// admits says whether a from= list lets a client at a log in: some
// pattern matches it and no negated one does.
func admits(from []addrPattern, a netip.Addr) bool {
	if from == nil {
		return true
	}
	ok := false
	for _, p := range from {
		if p.matches(a) {
			if p.negated {
				return false
			}
			ok = true
		}
	}
	return ok
}

// mootOptions are accepted and change nothing: failwatch serve forwards
// nothing and runs no rc file for any key.
var mootOptions = map[string]bool{
	"no-port-forwarding": true, "port-forwarding": true,
	"no-agent-forwarding": true, "agent-forwarding": true,
	"no-x11-forwarding": true, "x11-forwarding": true,
	"no-user-rc": true, "user-rc": true,
}

// unsupported say why an option sshd knows refuses its key here.
var unsupported = map[string]string{
	"command":        "failwatch serve runs only the dashboard, never a forced command",
	"environment":    "failwatch serve sets no environment",
	"principals":     "certificate authorities are not supported",
	"cert-authority": "certificate authorities are not supported",
}

// parseListing reads one authorized_keys line; an error names what in it
// refuses the key, and the listing then has the key when the line has
// one.
func parseListing(line string) (listing, error) {
	key, _, opts, _, err := gossh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		return listing{}, errors.New("not an authorized_keys line (options, key type, key, comment)")
	}
	l, err := parseOptions(opts)
	l.key, l.fp, l.blob = key, gossh.FingerprintSHA256(key), key.Marshal()
	return l, err
}

// parseOptions reads a line's options.
func parseOptions(opts []string) (listing, error) {
	var l listing
	expirySet := false
	for _, opt := range opts {
		name, raw, hasValue := strings.Cut(opt, "=")
		lower := strings.ToLower(name)
		switch {
		case mootOptions[lower] && !hasValue:
		case lower == "restrict" && !hasValue, lower == "no-pty" && !hasValue:
			l.noPty = true
		case lower == "pty" && !hasValue:
			l.noPty = false
		case lower == "from" && hasValue:
			if l.from != nil {
				return listing{}, errors.New("option from= is given twice")
			}
			v, err := dequote(name, raw)
			if err != nil {
				return listing{}, err
			}
			if l.from, err = parseFrom(v); err != nil {
				return listing{}, err
			}
		case lower == "expiry-time" && hasValue:
			v, err := dequote(name, raw)
			if err != nil {
				return listing{}, err
			}
			t, err := parseExpiry(v)
			if err != nil {
				return listing{}, err
			}
			// Given twice, the earlier time holds, as in sshd.
			if !expirySet || t.Before(l.expires) {
				l.expires = t
			}
			expirySet = true
		case unsupported[lower] != "":
			return listing{}, fmt.Errorf("option %s is not supported: %s", name, unsupported[lower])
		default:
			return listing{}, fmt.Errorf("option %s is not one failwatch serve enforces", name)
		}
	}
	return l, nil
}

// dequote is an option's value: written in double quotes, a quote inside
// escaped with a backslash.
func dequote(name, raw string) (string, error) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", fmt.Errorf("option %s needs its value in double quotes", name)
	}
	return strings.ReplaceAll(raw[1:len(raw)-1], `\"`, `"`), nil
}

// parseFrom reads a from= pattern list.
func parseFrom(list string) ([]addrPattern, error) {
	var out []addrPattern
	for _, pat := range strings.Split(list, ",") {
		p := addrPattern{negated: strings.HasPrefix(pat, "!")}
		pat = strings.TrimPrefix(pat, "!")
		if pat == "" {
			return nil, errors.New("option from= has an empty pattern")
		}
		if strings.Contains(pat, "/") {
			network, err := netip.ParsePrefix(pat)
			if err != nil {
				return nil, fmt.Errorf("from= pattern %q is not address/masklen", pat)
			}
			if network != network.Masked() {
				return nil, fmt.Errorf("from= pattern %q has address bits set past /%d (the network is %s)", pat, network.Bits(), network.Masked())
			}
			p.network = network
		} else if a, err := netip.ParseAddr(pat); err == nil {
			a = a.Unmap().WithZone("")
			p.network = netip.PrefixFrom(a, a.BitLen())
		} else if addressGlob(pat) {
			p.glob = pat
		} else {
			return nil, fmt.Errorf("from= pattern %q is a host name: failwatch serve does not look clients up in DNS; give addresses or address/masklen", pat)
		}
		out = append(out, p)
	}
	return out, nil
}

// addressGlob says whether a pattern is a wildcard over an address's text
// (10.0.0.*, fe80::?): digits, dots, and for IPv6 hex digits and colons,
// with a * or ?.
func addressGlob(p string) bool {
	if !strings.ContainsAny(p, "*?") {
		return false
	}
	allowed := "0123456789.*?"
	if strings.Contains(p, ":") {
		allowed += "abcdefABCDEF:"
	}
	return strings.Trim(p, allowed) == ""
}

// parseExpiry reads an expiry-time: YYYYMMDD or YYYYMMDDHHMM[SS], in the
// system's time zone, or UTC with a Z after it.
func parseExpiry(v string) (time.Time, error) {
	loc, s := time.Local, v
	if rest, ok := strings.CutSuffix(strings.ToUpper(v), "Z"); ok {
		loc, s = time.UTC, rest
	}
	layouts := map[int]string{8: "20060102", 12: "200601021504", 14: "20060102150405"}
	layout, ok := layouts[len(s)]
	if !ok {
		return time.Time{}, fmt.Errorf("expiry-time %q is neither YYYYMMDD[Z] nor YYYYMMDDHHMM[SS][Z]", v)
	}
	t, err := time.ParseInLocation(layout, s, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("expiry-time %q is not a date: %v", v, err)
	}
	return t, nil
}

// problem is a line of serve.users' keys that does not load as written,
// an authorized_keys file that cannot be read, or a key two users list.
type problem struct {
	at       string // file:line, file:line:col, or the file
	msg      string
	twoUsers bool
}

func (p problem) String() string { return p.at + ": " + p.msg }

// keyFile is what a user's authorized_keys file held when last read.
type keyFile struct {
	read     bool
	data     []byte
	err      string
	listings []listing
	rejected []listing // lines with a key that did not load
}

// keyring is serve.users' keys: those written in the config, read once,
// and each user's authorized_keys file, read again at every login, so an
// edit needs no restart. What does not load is told to warn once each
// time it is read anew.
type keyring struct {
	users    []config.ServeUser
	inline   []listing
	rejected []listing // inline keys that did not load
	warn     func(problem)

	mu    sync.Mutex
	files []keyFile // by user
	// told: the keys two users list have been warned of since the
	// files were last read anew.
	told bool
}

func newKeyring(users []config.ServeUser, warn func(problem)) *keyring {
	k := &keyring{users: users, warn: warn, files: make([]keyFile, len(users))}
	for i, u := range users {
		for j, line := range u.Keys {
			at := fmt.Sprintf("serve.users[%d].keys[%d]", i, j)
			if j < len(u.KeysAt) {
				at = u.KeysAt[j] + ": " + at
			}
			l, err := parseListing(line)
			l.user, l.at = i, at
			if err != nil {
				warn(problem{at: at, msg: err.Error() + "; the key is not loaded"})
				if l.blob != nil {
					l.notLoaded = err.Error()
					k.rejected = append(k.rejected, l)
				}
				continue
			}
			k.inline = append(k.inline, l)
		}
	}
	k.all()
	return k
}

// all is every listing that loads now, and the lines with a key that do
// not; a file read anew, the keys two users list are told again.
func (k *keyring) all() (out, rejected []listing) {
	k.mu.Lock()
	defer k.mu.Unlock()
	out, rejected = slices.Clone(k.inline), slices.Clone(k.rejected)
	changed := false
	for i, u := range k.users {
		if u.AuthorizedKeys == "" {
			continue
		}
		changed = k.reread(i, u.AuthorizedKeys) || changed
		out = append(out, k.files[i].listings...)
		rejected = append(rejected, k.files[i].rejected...)
	}
	if changed || !k.told {
		k.told = true
		for _, p := range twoUsers(k.users, out) {
			k.warn(p)
		}
	}
	return out, rejected
}

// reread reads user i's authorized_keys file, and says whether it changed
// since it was last read.
func (k *keyring) reread(i int, file string) bool {
	f := &k.files[i]
	data, err := os.ReadFile(file)
	if err != nil {
		if f.read && f.err == err.Error() {
			return false
		}
		*f = keyFile{read: true, err: err.Error()}
		k.warn(problem{at: file, msg: fmt.Sprintf("authorized_keys of %s: %v", k.users[i].Name, err)})
		return true
	}
	if f.read && f.err == "" && bytes.Equal(f.data, data) {
		return false
	}
	*f = keyFile{read: true, data: data}
	for n, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		at := fmt.Sprintf("%s:%d", file, n+1)
		l, err := parseListing(line)
		l.user, l.at = i, at
		if err != nil {
			k.warn(problem{at: at, msg: err.Error() + "; the key is not loaded"})
			if l.blob != nil {
				l.notLoaded = err.Error()
				f.rejected = append(f.rejected, l)
			}
			continue
		}
		f.listings = append(f.listings, l)
	}
	return true
}

// twoUsers is a problem for each key listed for more than one user.
func twoUsers(users []config.ServeUser, all []listing) []problem {
	var out []problem
	seen := map[string]bool{}
	for i, l := range all {
		if seen[string(l.blob)] {
			continue
		}
		seen[string(l.blob)] = true
		for _, m := range all[i+1:] {
			if m.user != l.user && bytes.Equal(m.blob, l.blob) {
				out = append(out, problem{at: m.at, twoUsers: true, msg: fmt.Sprintf(
					"key %s is listed for %s (%s) and for %s", l.fp, users[l.user].Name, l.at, users[m.user].Name)})
				break
			}
		}
	}
	return out
}

// lookup is the listings of key that let a client at addr in now, and
// when it is listed but none does, why.
func (k *keyring) lookup(key gossh.PublicKey, addr netip.Addr, now time.Time) (admitted []listing, refused *refusal) {
	blob := key.Marshal()
	all, rejected := k.all()
	for _, l := range rejected {
		if bytes.Equal(l.blob, blob) {
			refused = &refusal{refusedOptions, fmt.Sprintf("its line %s is not loaded: %s", l.at, l.notLoaded)}
		}
	}
	for _, l := range all {
		if !bytes.Equal(l.blob, blob) {
			continue
		}
		switch {
		case !l.expires.IsZero() && !now.Before(l.expires):
			refused = &refusal{refusedExpired, fmt.Sprintf("key expired at %s (%s)", l.expires.Format(time.RFC3339), l.at)}
		case !admits(l.from, addr):
			refused = &refusal{refusedFrom, fmt.Sprintf("from= does not admit %s (%s)", addr, l.at)}
		default:
			admitted = append(admitted, l)
		}
	}
	return admitted, refused
}

// KeyProblem is what `failwatch check` says of serve.users' keys: a line
// that does not load as written or a file that cannot be read (a warning:
// serve refuses that key and loads the others), or a key two users list
// (an error: serve would let it in as a viewer only).
type KeyProblem struct {
	Msg   string
	Error bool
}

// CheckKeys reads serve.users' keys and authorized_keys files as serve
// would, and says what does not load.
func CheckKeys(serve config.Serve) []KeyProblem {
	var out []KeyProblem
	newKeyring(serve.Users, func(p problem) {
		if p.twoUsers {
			out = append(out, KeyProblem{Msg: p.String() + ": list it for one user", Error: true})
			return
		}
		out = append(out, KeyProblem{Msg: p.String()})
	})
	return out
}
