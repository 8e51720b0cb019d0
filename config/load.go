package config

import (
	"bytes"
	"errors"
	"fmt"
	gossh "golang.org/x/crypto/ssh"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"gopkg.in/yaml.v3"
)

// ErrNotFound is returned by Find when no config file is in the search path.
var ErrNotFound = errors.New("no config file found")

// SearchPathEnv names the environment variable that, when set, replaces the
// search path: a list of files separated by colons, tried in order (empty:
// none). Tests set it so that a config on the machine is never read.
const SearchPathEnv = "FAILWATCH_CONFIG_PATH"

// SystemPath is the config the .deb installs and its units read.
const SystemPath = "/etc/failwatch/config.yaml"

// SearchPath lists where a config is looked for when -c is not given:
// ./failwatch.yaml, $XDG_CONFIG_HOME/failwatch/config.yaml (by default
// ~/.config), failwatch/config.yaml in each of $XDG_CONFIG_DIRS (by default
// /etc/xdg), then /etc/failwatch/config.yaml; or what $FAILWATCH_CONFIG_PATH
// lists instead.
func SearchPath() []string {
	if list, ok := os.LookupEnv(SearchPathEnv); ok {
		return slices.DeleteFunc(filepath.SplitList(list), func(p string) bool { return p == "" })
	}
	paths := []string{"failwatch.yaml"}
	if dir, err := os.UserConfigDir(); err == nil {
		paths = append(paths, filepath.Join(dir, "failwatch", "config.yaml"))
	}
	dirs := os.Getenv("XDG_CONFIG_DIRS")
	if dirs == "" {
		dirs = "/etc/xdg"
	}
	for _, dir := range filepath.SplitList(dirs) {
		// The XDG base directory spec ignores relative entries.
		if filepath.IsAbs(dir) {
			paths = append(paths, filepath.Join(dir, "failwatch", "config.yaml"))
		}
	}
	return append(paths, SystemPath)
}

// SearchPathDoc is the search path as help and the man page say it.
var SearchPathDoc = []string{"./failwatch.yaml", "$XDG_CONFIG_HOME/failwatch/config.yaml",
	"$XDG_CONFIG_DIRS/failwatch/config.yaml", SystemPath}

// Find returns the first config file of the search path that exists.
func Find() (string, error) {
	paths := SearchPath()
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if len(paths) == 0 {
		return "", fmt.Errorf("%w ($%s is set and empty; give one with -c FILE)", ErrNotFound, SearchPathEnv)
	}
	return "", fmt.Errorf("%w (looked for %s; give one with -c FILE)", ErrNotFound, strings.Join(paths, ", "))
}

// Load reads and validates a config file, the router's password included.
// A validation failure returns Errors, one entry per problem, each with its
// position.
func Load(path string) (*Config, error) {
	return load(path, true)
}

// LoadWithoutPassword reads a config for a command that never logs in to
// the router (report, sim): the password is neither looked up nor warned
// about.
func LoadWithoutPassword(path string) (*Config, error) {
	return load(path, false)
}

func load(path string, password bool) (*Config, error) {
	data, err := readConfigFile(path)
	if err != nil {
		return nil, err
	}
	cfg, err := parse(path, data, password)
	if err != nil {
		return nil, err
	}
	if r := cfg.Router; password && r.Password != "" && r.PasswordEnv == "" && r.PasswordFile == "" {
		if fi, err := os.Stat(path); err == nil {
			if who := readableByOthers(fi); who != "" {
				cfg.Warnings = append(cfg.Warnings, fmt.Sprintf(
					"%s holds a password and is readable by %s (mode %04o): chmod 600 %s, or use router.password_file",
					path, who, fi.Mode().Perm(), path))
			}
		}
	}
	return cfg, nil
}

// ServiceGroup is the group the .deb's units run as: a root-owned secret it
// may read (root:failwatch 0640) is not exposed to anyone else.
const ServiceGroup = "failwatch"

// readableByOthers says who besides the file's owner may read a file
// holding a password ("" for nobody): other users, or a group other than
// the service's group of a file root owns.
func readableByOthers(fi fs.FileInfo) string {
	perm := fi.Mode().Perm()
	switch {
	case perm&0o007 != 0:
		return "others"
	case perm&0o070 == 0:
		return ""
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	group := "its group"
	if ok {
		if g, err := user.LookupGroupId(strconv.FormatUint(uint64(st.Gid), 10)); err == nil {
			group = "group " + g.Name
			if st.Uid == 0 && g.Name == ServiceGroup && perm&0o030 == 0 {
				return ""
			}
		}
	}
	return group
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlError places a YAML syntax error. The parser's own line is often
// that of the enclosing block, or missing: the line given is the first at
// which the file, read up to it, fails as the whole file does, and the
// column is where that line's text starts.
func yamlError(file string, data []byte, err error) *Error {
	msg := yamlProblem(err)
	e := &Error{File: file, Msg: "yaml: " + msg}
	lines := bytes.SplitAfter(data, []byte("\n"))
	// The shortest failing prefix, by halving: a prefix that holds the
	// problem fails with it.
	lo, hi := 1, len(lines)
	for lo < hi {
		mid := (lo + hi) / 2
		if perr := syntaxError(bytes.Join(lines[:mid], nil)); perr != nil && yamlProblem(perr) == msg {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	if perr := syntaxError(bytes.Join(lines[:lo], nil)); perr != nil && yamlProblem(perr) == msg {
		l := bytes.TrimRight(lines[lo-1], "\r\n")
		e.Line, e.Col = lo, len(l)-len(bytes.TrimLeft(l, " "))+1
	}
	return e
}

// yamlProblem is a YAML error without the parser's "yaml: line N: ".
func yamlProblem(err error) string {
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		return m[2]
	}
	return strings.TrimPrefix(err.Error(), "yaml: ")
}

// syntaxError is the first error reading every YAML document of data.
func syntaxError(data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

// MaxFileSize bounds a config file: a real one is a few KB, and a path
// given by mistake (a log, a disk image) must not be read into memory.
const MaxFileSize = 4 << 20

// readConfigFile reads a regular file of at most MaxFileSize: a FIFO or a
// device would block or never end.
func readConfigFile(path string) ([]byte, error) {
	// Opened without blocking (a FIFO would wait for a writer), then
	// checked on the open file itself.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("read config: %s is not a regular file (%s)", path, fi.Mode().Type())
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("read config: %s is larger than %d MiB: not a failwatch config", path, MaxFileSize>>20)
	}
	return data, nil
}

// Parse validates a config held in memory; file names it in errors.
func Parse(file string, data []byte) (*Config, error) {
	return parse(file, data, true)
}

func parse(file string, data []byte, password bool) (*Config, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil && err != io.EOF {
		return nil, Errors{yamlError(file, data, err)}
	}
	var second yaml.Node
	switch err := dec.Decode(&second); {
	case err == nil:
		return nil, Errors{{File: file, Line: second.Line, Col: second.Column,
			Msg: "a second YAML document (after ---): failwatch reads one; put everything in the first"}}
	case err != io.EOF:
		return nil, Errors{yamlError(file, data, err)}
	}
	d := &decoder{file: file, password: password}
	cfg := Defaults()
	cfg.Path = file
	if len(doc.Content) == 0 {
		return nil, Errors{{File: file, Line: 1, Col: 1, Msg: "the file is empty; see failwatch.example.yaml"}}
	}
	d.config(doc.Content[0], &cfg)
	if len(d.errs) == 0 {
		d.validate(&cfg)
	}
	if len(d.errs) > 0 {
		slices.SortStableFunc(d.errs, func(a, b *Error) int {
			if a.Line != b.Line {
				return a.Line - b.Line
			}
			return a.Col - b.Col
		})
		return nil, d.errs
	}
	cfg.Warnings = append(cfg.Warnings, d.warnings...)
	return &cfg, nil
}

type decoder struct {
	file     string
	errs     Errors
	warnings []string
	// positions of the nodes later checks point at
	serverNodes []serverNodes
	routerNode  *yaml.Node
	// serviceNodes are each service's; listed: they came from services:
	// (a list), not the single service:.
	serviceNodes []serviceNodes
	listed       bool
	passwords    []passwordSource
	// password: look the router's password up (false for commands that
	// never log in).
	password bool
}

type serviceNodes struct {
	node, name, primary, standby *yaml.Node
	records                      map[string]*yaml.Node
	// auto is the service's own auto: decoded once the file's is known,
	// which it starts from.
	auto *yaml.Node
}

type serverNodes struct {
	node, role, address *yaml.Node
}

type passwordSource struct {
	key  string
	node *yaml.Node
}

func (d *decoder) errorf(n *yaml.Node, key, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Line: n.Line, Col: n.Column, Key: key, Msg: fmt.Sprintf(format, args...)})
}

// fields decodes a mapping, calling the handler of each known key and
// reporting unknown and repeated keys.
func (d *decoder) fields(n *yaml.Node, path string, handlers map[string]func(key string, v *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "want a mapping of keys to values, got %s", describe(n))
		return
	}
	known := make([]string, 0, len(handlers))
	for k := range handlers {
		known = append(known, k)
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := join(path, k.Value)
		h, ok := handlers[k.Value]
		switch {
		case !ok:
			msg := fmt.Sprintf("unknown key %q", k.Value)
			if s := suggest(k.Value, known); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			d.errorf(k, key, "%s", msg)
		case seen[k.Value]:
			d.errorf(k, key, "%q is given twice", k.Value)
		default:
			seen[k.Value] = true
			h(key, v)
		}
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	if n.Tag == "!!null" {
		return "nothing"
	}
	return fmt.Sprintf("%q", n.Value)
}

func (d *decoder) scalar(key string, n *yaml.Node) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.errorf(n, key, "want a value, got %s", describe(n))
		return "", false
	}
	return n.Value, true
}

func (d *decoder) str(dst *string) func(string, *yaml.Node) {
	return func(key string, n *yaml.Node) {
		if v, ok := d.scalar(key, n); ok {
			*dst = v
		}
	}
}

func (d *decoder) boolean(dst *bool) func(string, *yaml.Node) {
	return func(key string, n *yaml.Node) {
		v, ok := d.scalar(key, n)
		if !ok {
			return
		}
		switch strings.ToLower(v) {
		case "true", "yes", "on":
			*dst = true
		case "false", "no", "off":
			*dst = false
		default:
			d.errorf(n, key, "want true or false, got %q", v)
		}
	}
}

func (d *decoder) integer(dst *int, lo, hi int) func(string, *yaml.Node) {
	return func(key string, n *yaml.Node) {
		v, ok := d.scalar(key, n)
		if !ok {
			return
		}
		i, err := strconv.Atoi(v)
		switch {
		case err != nil:
			d.errorf(n, key, "want a whole number, got %q", v)
		case i < lo || i > hi:
			d.errorf(n, key, "%d is outside %d..%d", i, lo, hi)
		default:
			*dst = i
		}
	}
}

func (d *decoder) duration(dst *time.Duration) func(string, *yaml.Node) {
	return d.durationAtLeast(dst, 0)
}

// durationAtLeast reads a duration no shorter than floor.
func (d *decoder) durationAtLeast(dst *time.Duration, floor time.Duration) func(string, *yaml.Node) {
	return func(key string, n *yaml.Node) {
		v, ok := d.scalar(key, n)
		if !ok {
			return
		}
		dur, err := ParseDuration(v)
		switch {
		case err != nil:
			d.errorf(n, key, "%v", err)
		case dur <= 0:
			d.errorf(n, key, "must be greater than zero, got %q", v)
		case dur < floor:
			d.errorf(n, key, "must be at least %s, got %q", floor, v)
		default:
			*dst = dur
		}
	}
}

func (d *decoder) percent(dst *float64) func(string, *yaml.Node) {
	return func(key string, n *yaml.Node) {
		v, ok := d.scalar(key, n)
		if !ok {
			return
		}
		p, err := ParsePercent(v)
		switch {
		case err != nil:
			d.errorf(n, key, "%v", err)
		case p == 0:
			d.errorf(n, key, "must be greater than 0%%")
		default:
			*dst = p
		}
	}
}

func (d *decoder) oneOf(dst *string, choices ...string) func(string, *yaml.Node) {
	return func(key string, n *yaml.Node) {
		v, ok := d.scalar(key, n)
		if !ok {
			return
		}
		if !slices.Contains(choices, v) {
			d.errorf(n, key, "%q is not one of %s", v, strings.Join(choices, ", "))
			return
		}
		*dst = v
	}
}

func (d *decoder) config(root *yaml.Node, cfg *Config) {
	d.fields(root, "", map[string]func(string, *yaml.Node){
		"router": func(key string, n *yaml.Node) { d.routerNode = n; d.router(key, n, &cfg.Router) },
		"service": func(key string, n *yaml.Node) {
			if d.listed {
				d.errorf(n, key, "give service: (one) or services: (a list), not both")
				return
			}
			svc := Service{Layout: Toggle}
			d.serviceNodes = append(d.serviceNodes, d.service(key, n, &svc, false))
			cfg.Services = append(cfg.Services, svc)
		},
		"services": func(key string, n *yaml.Node) { d.services(key, n, cfg) },
		"servers":  func(key string, n *yaml.Node) { d.servers(key, n, cfg) },
		"probe":    func(key string, n *yaml.Node) { d.probe(key, n, &cfg.Probe) },
		"ui":       func(key string, n *yaml.Node) { d.ui(key, n, &cfg.UI) },
		"auto":     func(key string, n *yaml.Node) { d.auto(key, n, &cfg.Auto) },
		"serve":    func(key string, n *yaml.Node) { d.serve(key, n, &cfg.Serve) },
		"unedited": func(key string, n *yaml.Node) {
			d.errorf(n, key, "edit %s first: its router, service and servers are the example's; then delete this line", d.file)
		},
	})
}

// services decodes the list form: each service names the servers that
// carry it.
func (d *decoder) services(path string, n *yaml.Node, cfg *Config) {
	if len(cfg.Services) > 0 {
		d.errorf(n, path, "give service: (one) or services: (a list), not both")
		return
	}
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		d.errorf(n, path, "want a list of services, got %s", describe(n))
		return
	}
	d.listed = true
	for i, sn := range n.Content {
		svc := Service{Layout: Toggle}
		d.serviceNodes = append(d.serviceNodes, d.service(fmt.Sprintf("%s[%d]", path, i), sn, &svc, true))
		cfg.Services = append(cfg.Services, svc)
	}
}

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

func (d *decoder) router(path string, n *yaml.Node, r *Router) {
	var password string
	d.fields(n, path, map[string]func(string, *yaml.Node){
		"address":  d.str(&r.Address),
		"tls":      d.boolean(&r.TLS),
		"ca_file":  d.str(&r.CAFile),
		"insecure": d.boolean(&r.Insecure),
		"user":     d.str(&r.User),
		"password": func(key string, v *yaml.Node) {
			d.str(&password)(key, v)
			d.passwords = append(d.passwords, passwordSource{key, v})
		},
		"password_env": func(key string, v *yaml.Node) {
			d.str(&r.PasswordEnv)(key, v)
			d.passwords = append(d.passwords, passwordSource{key, v})
		},
		"password_file": func(key string, v *yaml.Node) {
			d.str(&r.PasswordFile)(key, v)
			d.passwords = append(d.passwords, passwordSource{key, v})
		},
		"timeout": d.duration(&r.Timeout),
	})
	r.Password = Secret(password)
}

// service decodes one service; listed, it also names its servers, their
// records and its own auto settings.
func (d *decoder) service(path string, n *yaml.Node, s *Service, listed bool) serviceNodes {
	nodes := serviceNodes{node: n}
	layout := string(s.Layout)
	handlers := map[string]func(string, *yaml.Node){
		"name":          func(k string, v *yaml.Node) { nodes.name = v; d.str(&s.Name)(k, v) },
		"layout":        d.oneOf(&layout, string(Toggle), string(Rewrite)),
		"record":        func(key string, v *yaml.Node) { d.record(key, v, &s.Record) },
		"hold_netwatch": d.boolean(&s.HoldNetwatch),
		"dns_server":    d.str(&s.DNSServer),
		"audit_log":     d.str(&s.AuditLog),
	}
	if listed {
		handlers["primary"] = func(k string, v *yaml.Node) { nodes.primary = v; d.str(&s.Primary)(k, v) }
		handlers["standby"] = func(k string, v *yaml.Node) { nodes.standby = v; d.str(&s.Standby)(k, v) }
		handlers["auto"] = func(_ string, v *yaml.Node) { nodes.auto = v }
		handlers["records"] = func(k string, v *yaml.Node) {
			if v.Kind != yaml.MappingNode {
				d.errorf(v, k, "want a mapping of server names to record matches, got %s", describe(v))
				return
			}
			s.Records, nodes.records = map[string]RecordMatch{}, map[string]*yaml.Node{}
			for i := 0; i+1 < len(v.Content); i += 2 {
				name, m := v.Content[i].Value, RecordMatch{}
				d.record(join(k, name), v.Content[i+1], &m)
				s.Records[name], nodes.records[name] = m, v.Content[i]
			}
		}
	}
	d.fields(n, path, handlers)
	s.Layout = Layout(layout)
	return nodes
}

func (d *decoder) record(path string, n *yaml.Node, m *RecordMatch) {
	d.fields(n, path, map[string]func(string, *yaml.Node){
		"comment": d.str(&m.Comment),
		"address": d.str(&m.Address),
	})
}

func (d *decoder) servers(path string, n *yaml.Node, cfg *Config) {
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, path, "want a list of servers, got %s", describe(n))
		return
	}
	for i, sn := range n.Content {
		key := fmt.Sprintf("%s[%d]", path, i)
		var s Server
		var role string
		nodes := serverNodes{node: sn}
		d.fields(sn, key, map[string]func(string, *yaml.Node){
			"name": d.str(&s.Name),
			"role": func(k string, v *yaml.Node) {
				nodes.role = v
				d.oneOf(&role, string(Primary), string(Standby), "monitor")(k, v)
			},
			"address": func(k string, v *yaml.Node) { nodes.address = v; d.str(&s.Address)(k, v) },
			"record":  func(k string, v *yaml.Node) { d.record(k, v, &s.Record) },
			"checks":  func(k string, v *yaml.Node) { s.Checks = d.checks(k, v) },
		})
		s.Role = Role(role)
		cfg.Servers = append(cfg.Servers, s)
		d.serverNodes = append(d.serverNodes, nodes)
	}
}

func (d *decoder) checks(path string, n *yaml.Node) []Check {
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, path, "want a list of checks, got %s", describe(n))
		return nil
	}
	var out []Check
	for i, cn := range n.Content {
		key := fmt.Sprintf("%s[%d]", path, i)
		c := Check{Expect: DefaultExpect}
		var kind string
		var kindNode *yaml.Node
		d.fields(cn, key, map[string]func(string, *yaml.Node){
			"type": func(k string, v *yaml.Node) {
				kindNode = v
				d.oneOf(&kind, string(ICMP), string(TCP), string(HTTP))(k, v)
			},
			"port": d.integer(&c.Port, 1, 65535),
			"url":  d.str(&c.URL),
			"expect": func(k string, v *yaml.Node) {
				s, ok := d.scalar(k, v)
				if !ok {
					return
				}
				rs, err := ParseStatusRanges(s)
				if err != nil {
					d.errorf(v, k, "%v", err)
					return
				}
				c.Expect = rs
			},
			"insecure": d.boolean(&c.Insecure),
		})
		c.Kind = CheckKind(kind)
		switch {
		case kindNode == nil && cn.Kind == yaml.MappingNode:
			d.errorf(cn, key, "a check needs a type (icmp, tcp or http)")
		case c.Kind == TCP && c.Port == 0:
			d.errorf(cn, key, "a tcp check needs a port")
		case c.Kind == HTTP:
			d.checkURL(cn, key, c.URL)
		}
		out = append(out, c)
	}
	return out
}

func (d *decoder) checkURL(n *yaml.Node, key, raw string) {
	if raw == "" {
		d.errorf(n, key, "an http check needs a url")
		return
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		d.errorf(n, key+".url", "%q is not an http:// or https:// URL with a host", raw)
	}
}

func (d *decoder) probe(path string, n *yaml.Node, p *Probe) {
	mode := string(p.ICMPMode)
	d.fields(n, path, map[string]func(string, *yaml.Node){
		"interval":          d.durationAtLeast(&p.Interval, MinInterval),
		"timeout":           d.durationAtLeast(&p.Timeout, MinTimeout),
		"window":            d.integer(&p.Window, 2, 100000),
		"down_after":        d.integer(&p.DownAfter, 1, 1000),
		"up_after":          d.integer(&p.UpAfter, 1, 1000),
		"loss_window":       d.integer(&p.LossWindow, 1, 100000),
		"down_loss_percent": d.percent(&p.DownLossPercent),
		"resolve_every":     d.duration(&p.ResolveEvery),
		"icmp_mode":         d.oneOf(&mode, string(ICMPAuto), string(ICMPPrivileged), string(ICMPUnprivileged)),
	})
	p.ICMPMode = ICMPMode(mode)
	if p.LossWindow > p.Window {
		d.errorf(n, path+".loss_window", "loss_window (%d) is larger than window (%d)", p.LossWindow, p.Window)
	}
}

func (d *decoder) ui(path string, n *yaml.Node, u *UI) {
	d.fields(n, path, map[string]func(string, *yaml.Node){
		"theme":     d.oneOf(&u.Theme, "auto", "dark", "light"),
		"ascii":     d.boolean(&u.ASCII),
		"no_color":  d.boolean(&u.NoColor),
		"read_only": d.boolean(&u.ReadOnly),
	})
}

func (d *decoder) auto(path string, n *yaml.Node, a *Auto) {
	d.fields(n, path, map[string]func(string, *yaml.Node){
		"enabled":       d.boolean(&a.Enabled),
		"fail_after":    d.duration(&a.FailAfter),
		"hold_down":     d.duration(&a.HoldDown),
		"restore":       d.oneOf(&a.Restore, "manual", "auto"),
		"restore_after": d.duration(&a.RestoreAfter),
	})
}

// validate checks what spans several keys, once every key has decoded.
func (d *decoder) validate(cfg *Config) {
	d.validateRouter(cfg)
	d.validateServers(cfg)
	if cfg.Router.CAFile != "" {
		cfg.Router.CAFile = cfg.resolvePath(cfg.Router.CAFile)
	}
	d.validateServices(cfg)
}

// validateServices checks each service against the servers, and the
// services against each other: a name (and so its records) claimed twice,
// a server that is missing, or one that carries nothing.
func (d *decoder) validateServices(cfg *Config) {
	names := map[string]int{}
	carried := map[string]bool{}
	for i := range cfg.Services {
		svc, nodes := &cfg.Services[i], d.serviceNodes[i]
		key := "service"
		if d.listed {
			key = fmt.Sprintf("services[%d]", i)
		}
		if svc.AuditLog != "" {
			svc.AuditLog = cfg.resolvePath(svc.AuditLog)
		}
		svc.Auto = cfg.Auto
		if nodes.auto != nil {
			d.auto(key+".auto", nodes.auto, &svc.Auto)
		}
		if !d.listed {
			// The single service: its servers are the primary and the
			// standby by role.
			for _, s := range cfg.Servers {
				switch s.Role {
				case Primary:
					svc.Primary = s.Name
				case Standby:
					svc.Standby = s.Name
				}
			}
		}
		at := func(n *yaml.Node) *yaml.Node {
			if n != nil {
				return n
			}
			return nodes.node
		}
		switch j, dup := names[svc.Name]; {
		case svc.Name == "":
			d.errorf(nodes.node, key+".name", "the service needs a name (the DNS name that fails over)")
		case dup:
			d.errorf(at(nodes.name), key+".name", "%s is also services[%d]: its records would be claimed by two services", svc.Name, j)
		}
		names[svc.Name] = i
		if svc.Layout == Rewrite && svc.Record.IsZero() {
			d.errorf(nodes.node, key+".record", "the rewrite layout needs the record's comment or address")
		}
		if !d.listed {
			continue
		}
		for _, role := range []struct {
			name string
			node *yaml.Node
			what string
		}{{svc.Primary, nodes.primary, "primary"}, {svc.Standby, nodes.standby, "standby"}} {
			switch _, ok := cfg.Server(role.name); {
			case role.name == "":
				d.errorf(nodes.node, key+"."+role.what, "%s needs a %s: a server name from servers:", svc.Name, role.what)
			case !ok:
				d.errorf(role.node, key+"."+role.what, "no server is named %q in servers:", role.name)
			}
			carried[role.name] = true
		}
		if svc.Primary != "" && svc.Primary == svc.Standby {
			d.errorf(nodes.standby, key+".standby", "%s is also the primary: a name cannot fail over to the server it is on", svc.Standby)
		}
		for name, n := range nodes.records {
			if !svc.Carries(name) {
				d.errorf(n, key+".records."+name, "%s does not carry %s (its primary is %s, its standby %s)", name, svc.Name, svc.Primary, svc.Standby)
			}
		}
	}
	if !d.listed {
		return
	}
	for i := range cfg.Services {
		svc, nodes := cfg.Services[i], d.serviceNodes[i]
		if svc.Layout != Toggle {
			continue
		}
		key := fmt.Sprintf("services[%d]", i)
		primary, standby := cfg.Pair(svc)
		for _, s := range []Server{primary, standby} {
			if s.Name != "" && s.Record.IsZero() {
				d.errorf(nodes.node, key, "%s's address %s is a host name: say how to find its static record of %s (records.%s.comment or .address)", s.Name, s.Address, svc.Name, s.Name)
			}
		}
		if primary.Name != "" && standby.Name != "" && primary.Name != standby.Name && !primary.Record.IsZero() && primary.Record == standby.Record {
			d.errorf(nodes.node, key+".records", "%s and %s would claim one record of %s (%+v): give each its own", primary.Name, standby.Name, svc.Name, primary.Record)
		}
	}
	for i := range cfg.Servers {
		s := &cfg.Servers[i]
		switch {
		case s.Role == Monitor:
		case !carried[s.Name]:
			d.errorf(d.serverNodes[i].node, fmt.Sprintf("servers[%d]", i),
				"%s carries no service: name it as a service's primary or standby, or give it role: monitor", s.Name)
		default:
			// Its role for screens and reports: primary of any service
			// makes it a primary.
			s.Role = Standby
			for _, svc := range cfg.Services {
				if svc.Primary == s.Name {
					s.Role = Primary
				}
			}
		}
	}
}

func (d *decoder) validateRouter(cfg *Config) {
	r := &cfg.Router
	if len(d.passwords) > 1 {
		second := d.passwords[1]
		d.errorf(second.node, second.key, "the password is given twice (%s and %s): keep one", d.passwords[0].key, second.key)
		return
	}
	if r.Address != "" {
		host := r.Address
		if h, port, err := net.SplitHostPort(r.Address); err == nil {
			host = h
			if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
				d.errorf(d.routerNode, "router.address", "bad port %q in %q", port, r.Address)
			}
		}
		if host == "" {
			d.errorf(d.routerNode, "router.address", "no host in %q", r.Address)
		}
	} else if d.routerNode != nil {
		d.errorf(d.routerNode, "router.address", "the router needs an address (host or host:port)")
	}
	if r.Insecure && !r.TLS {
		d.errorf(d.routerNode, "router.insecure", "insecure only applies with tls: true")
	}
	if !d.password {
		return
	}
	if r.PasswordEnv != "" {
		if v, ok := os.LookupEnv(r.PasswordEnv); ok {
			r.Password = Secret(v)
		} else {
			d.warnings = append(d.warnings, fmt.Sprintf("router.password_env: %s is not set; logging in with an empty password", r.PasswordEnv))
		}
	}
	if r.PasswordFile != "" {
		d.readPasswordFile(cfg)
	}
}

func (d *decoder) readPasswordFile(cfg *Config) {
	r := &cfg.Router
	path := cfg.resolvePath(r.PasswordFile)
	src := d.passwords[0]
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			d.errorf(src.node, src.key, "password file %s does not exist: write the router's password into it, readable by its owner only (or root:%s 0640)", path, ServiceGroup)
		} else {
			d.errorf(src.node, src.key, "read password file: %v", err)
		}
		return
	}
	r.Password = Secret(strings.TrimRight(string(data), "\r\n"))
	if fi, err := os.Stat(path); err == nil {
		if who := readableByOthers(fi); who != "" {
			d.warnings = append(d.warnings, fmt.Sprintf(
				"password file %s is readable by %s (mode %04o): chmod 600 %s, or chown root:%s and chmod 640 for the units",
				path, who, fi.Mode().Perm(), path, ServiceGroup))
		}
	}
}

func (d *decoder) validateServers(cfg *Config) {
	if len(cfg.Servers) == 0 {
		d.errs = append(d.errs, &Error{File: d.file, Line: 1, Col: 1, Key: "servers",
			Msg: "no servers: list the primary and the standby"})
		return
	}
	roles := map[Role]int{}
	names := map[string]int{}
	addrs := map[string]int{}
	for i := range cfg.Servers {
		s := &cfg.Servers[i]
		nodes := d.serverNodes[i]
		key := fmt.Sprintf("servers[%d]", i)
		if s.Name == "" {
			s.Name = s.Address
		}
		if j, dup := names[s.Name]; dup && s.Name != "" {
			d.errorf(nodes.node, key+".name", "name %q is also used by servers[%d]", s.Name, j)
		}
		names[s.Name] = i
		if s.Address == "" {
			d.errorf(nodes.node, key+".address", "the server needs an address (IP or host name)")
		} else {
			norm := normalizeHost(s.Address)
			if j, dup := addrs[norm]; dup {
				d.errorf(nodes.address, key+".address", "address %s is also servers[%d]'s: two servers with one address cannot fail over", s.Address, j)
			}
			addrs[norm] = i
		}
		switch j, dup := roles[s.Role]; {
		case d.listed && s.Role != "" && s.Role != Monitor:
			d.errorf(nodes.role, key+".role", "with services:, a server's role comes from the services that name it; only monitor may be given")
		case d.listed:
		case s.Role == "":
			d.errorf(nodes.node, key+".role", "the server needs a role (primary, standby or monitor)")
		case dup && s.Role != Monitor:
			d.errorf(nodes.role, key+".role", "servers[%d] is already the %s", j, s.Role)
		}
		roles[s.Role] = i
		if len(s.Checks) == 0 {
			s.Checks = []Check{{Kind: ICMP}}
		}
		if s.Record.IsZero() && net.ParseIP(s.Address) != nil {
			s.Record.Address = s.Address
		}
		if !d.listed && len(cfg.Services) > 0 && cfg.Services[0].Layout == Toggle && s.Role != Monitor && s.Record.IsZero() && s.Address != "" {
			d.errorf(nodes.node, key+".record", "%s is a host name: say how to find its static record (record.comment or record.address)", s.Address)
		}
	}
	if d.listed {
		return
	}
	for _, role := range []Role{Primary, Standby} {
		if _, ok := roles[role]; !ok {
			d.errs = append(d.errs, &Error{File: d.file, Line: d.serverNodes[0].node.Line, Col: d.serverNodes[0].node.Column,
				Key: "servers", Msg: fmt.Sprintf("no server has role %s", role)})
		}
	}
}

func normalizeHost(h string) string {
	if ip := net.ParseIP(h); ip != nil {
		return ip.String()
	}
	return strings.ToLower(strings.TrimSuffix(h, "."))
}

// resolvePath expands a leading ~/ and reads a relative path as relative to
// the config file, which is where its author was looking.
func (c *Config) resolvePath(p string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
	}
	if !filepath.IsAbs(p) && c.Path != "" {
		return filepath.Join(filepath.Dir(c.Path), p)
	}
	return p
}
