package config

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"time"
)

// HA is the top-level ha: section: several failwatch instances agreeing
// through etcd, one leader per router acting. Nil in Config means a single
// instance, as before.
type HA struct {
	// Endpoints are etcd's client URLs.
	Endpoints []string `yaml:"endpoints" nonempty:"true" list:"etcd endpoints"`
	// Cluster names the group of instances sharing a router's leadership;
	// Name is this instance's own, unique in the cluster. Both become parts
	// of etcd keys.
	Cluster string `yaml:"cluster"`
	Name    string `yaml:"name"`
	// LeaseTTL is the leader's lease; the leader sends a change only while
	// the time since its last keep-alive answer is below LeaseTTL minus the
	// router call deadline and a margin.
	LeaseTTL time.Duration `yaml:"lease_ttl" default:"10s" min:"2s"`
	// Quorum is how many live instances' views must see a server down
	// before the policy acts on it (1: this instance's own view).
	Quorum int `yaml:"quorum" default:"1" range:"1..1000"`
	// DialTimeout bounds each connection attempt to etcd.
	DialTimeout time.Duration `yaml:"dial_timeout" default:"2s"`
	// TLS as etcd clients take it: a CA to verify the servers, and a client
	// certificate and key.
	CAFile   string `yaml:"ca_file"`
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// User and Password authenticate to etcd (RBAC, a user per instance);
	// the password from a file or the environment, never the config itself.
	User         string `yaml:"user"`
	Password     Secret
	PasswordFile string `yaml:"password_file"`
	PasswordEnv  string `yaml:"password_env"`
}

// etcdKeyPart is what a cluster or instance name may hold: it becomes a
// part of etcd keys, where a "/" would make another key's prefix.
var etcdKeyPart = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// leaseMargin is what the lease must outlast beyond a router call: the
// leader's bound for sending is lease_ttl minus (the call's deadline plus
// a margin), and must be positive. internal/ha's margin is a tenth of the
// lease (at least 200ms), never more than this.
func leaseMargin(ttl time.Duration) time.Duration { return max(time.Second, ttl/10) }

// check refuses what the section's own keys say wrong: endpoints that are
// not URLs of etcd, names that cannot be key parts, half a client
// certificate.
func (h *HA) check(d *decoder, path string) {
	if !d.has(path + ".endpoints") {
		d.errorf(d.at(path), path+".endpoints", "ha needs etcd's endpoints (e.g. [http://127.0.0.1:2379])")
	}
	for i, n := range d.elements(path + ".endpoints") {
		if isValue(n) && !isEndpoint(n.Value) {
			d.errorf(n, fmt.Sprintf("%s.endpoints[%d]", path, i), "%q is not an etcd endpoint: want http:// or https:// and host:port (e.g. http://127.0.0.1:2379)", n.Value)
		}
	}
	for _, k := range []struct{ key, value, what string }{
		{"cluster", h.Cluster, "the cluster's name (the instances sharing a router's leadership)"},
		{"name", h.Name, "this instance's name, unique in the cluster"},
	} {
		switch {
		case !d.has(path + "." + k.key):
			d.errorf(d.at(path), path+"."+k.key, "ha needs %s", k.what)
		case isValue(d.at(path+"."+k.key)) && !etcdKeyPart.MatchString(k.value):
			d.errorf(d.at(path+"."+k.key), path+"."+k.key, "%q may hold only letters, digits, '.', '_' and '-': it becomes part of etcd keys", k.value)
		}
	}
	switch {
	case h.CertFile != "" && h.KeyFile == "":
		d.errorf(d.at(path+".cert_file"), path+".cert_file", "a client certificate needs its key: give key_file too")
	case h.KeyFile != "" && h.CertFile == "":
		d.errorf(d.at(path+".key_file"), path+".key_file", "a client key needs its certificate: give cert_file too")
	}
}

// isEndpoint says whether s is an etcd client URL: http or https, a host
// and a port.
func isEndpoint(s string) bool {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return false
	}
	host, port, err := net.SplitHostPort(u.Host)
	p, perr := strconv.Atoi(port)
	return err == nil && host != "" && perr == nil && p >= 1 && p <= 65535
}

// validateHA checks the ha: section against the router's: the leader's
// fencing bound must be positive. It reads the etcd password and places
// the TLS files relative to the config.
func (d *decoder) validateHA(cfg *Config) {
	h := cfg.HA
	if h == nil {
		return
	}
	if margin := leaseMargin(h.LeaseTTL); h.LeaseTTL <= cfg.Router.Timeout+margin {
		d.errorf(d.at("ha.lease_ttl", "ha"), "ha.lease_ttl",
			"%s must be greater than router.timeout (%s) plus %s: the leader sends a change only while lease_ttl minus (the router call deadline plus a margin) remains, and that must be positive",
			FormatDuration(h.LeaseTTL), FormatDuration(cfg.Router.Timeout), margin)
	}
	for _, f := range []*string{&h.CAFile, &h.CertFile, &h.KeyFile} {
		if *f != "" {
			*f = cfg.resolvePath(*f)
		}
	}
	if d.passwordGivenTwice("ha.password_env", "ha.password_file") {
		return
	}
	if (h.PasswordEnv != "" || h.PasswordFile != "") && h.User == "" {
		key := d.inFileOrder("ha.password_env", "ha.password_file")[0]
		d.errorf(d.at(key), key, "a password needs its etcd user: give ha.user too")
	}
	if d.password {
		h.Password = d.readPassword(cfg, "ha", "the etcd user's password", "", h.PasswordEnv, h.PasswordFile)
	}
}
