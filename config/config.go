package config

import (
	"fmt"
	"net"
	"strings"
	"time"
)

// Role says what a server is for in the failover.
type Role string

// The two roles of the paper's setup, and a server that is only watched.
const (
	Primary Role = "primary" // the server the name normally points at
	Standby Role = "standby" // the server the name moves to while the primary is out
	Monitor Role = "monitor" // probed and shown, not part of the failover
)

// Layout is how the router's static DNS records carry the service name.
type Layout string

const (
	// Toggle is the paper's layout: one static record per server for the same
	// name, exactly one of them enabled.
	Toggle Layout = "toggle"
	// Rewrite keeps one record for the name and changes its address, which is
	// atomic on the router.
	Rewrite Layout = "rewrite"
)

// CheckKind is the kind of probe a check runs.
type CheckKind string

// Probe kinds. ICMP sees the host; TCP and HTTP see the service, which is what
// the paper's 503 scenario needs.
const (
	ICMP CheckKind = "icmp"
	TCP  CheckKind = "tcp"
	HTTP CheckKind = "http"
)

// ICMPMode chooses the kind of ICMP socket.
type ICMPMode string

// ICMP socket modes: raw sockets need root or CAP_NET_RAW, datagram ("ping")
// sockets need the user's group inside net.ipv4.ping_group_range.
const (
	ICMPAuto         ICMPMode = "auto"
	ICMPPrivileged   ICMPMode = "privileged"
	ICMPUnprivileged ICMPMode = "unprivileged"
)

// Config is a whole, validated configuration.
type Config struct {
	// Path is the file it was read from, empty when built in code.
	Path   string
	Router Router `yaml:"router"`
	// Services are the DNS names that fail over; a file's single
	// "service:" is the one entry.
	Services []Service `yaml:"services" nonempty:"true"`
	Servers  []Server  `yaml:"servers"`
	Probe    Probe     `yaml:"probe"`
	UI       UI        `yaml:"ui"`
	Auto     Auto      `yaml:"auto"`
	Serve    Serve     `yaml:"serve"`
	// HA is nil unless the file has an ha: section.
	HA *HA `yaml:"ha"`
	// Warnings are problems that do not stop failwatch, such as a password
	// file that others can read.
	Warnings []string
}

// Router is how to reach the MikroTik router's API.
type Router struct {
	// Address is host:port; the port defaults to 8728, or 8729 with TLS.
	Address  string `yaml:"address"`
	TLS      bool   `yaml:"tls"`
	CAFile   string `yaml:"ca_file"`
	Insecure bool   `yaml:"insecure"`
	User     string `yaml:"user" default:"admin"`
	// Password is resolved from the file, the environment or a password file.
	Password     Secret        `yaml:"password"`
	PasswordEnv  string        `yaml:"password_env"`
	PasswordFile string        `yaml:"password_file"`
	Timeout      time.Duration `yaml:"timeout" default:"5s"`
}

// Service is a DNS name that fails over, the servers that carry it and how
// the router holds it.
type Service struct {
	Name   string `yaml:"name"`
	Layout Layout `yaml:"layout" default:"toggle" oneof:"toggle,rewrite"`
	// Primary and Standby name the servers (servers[].name) the name points
	// at normally and while failed over; one server may carry several
	// services. The single service: takes them from the servers' roles.
	Primary string `yaml:"primary,listed"`
	Standby string `yaml:"standby,listed"`
	// Records finds each server's static record of this name (toggle
	// layout), by server name; a server not in it has its own record match
	// (by default, the record with its address).
	Records map[string]RecordMatch `yaml:"records,listed" map:"server names to record matches"`
	// Record finds the single record of the rewrite layout.
	Record RecordMatch `yaml:"record"`
	// HoldNetwatch disables the router's netwatch entries for the servers
	// while the name is failed over by hand, so they cannot flip it back.
	HoldNetwatch bool `yaml:"hold_netwatch"`
	// DNSServer is the resolver asked what the name resolves to right now;
	// it defaults to the router's address on port 53.
	DNSServer string `yaml:"dns_server"`
	// AuditLog is the JSON-lines file every operation is appended to.
	AuditLog string `yaml:"audit_log"`
	// Auto is this service's automatic failover; by default the file's
	// top-level auto, which it starts from (so it is read once that is).
	Auto Auto `yaml:"auto,listed,later"`
	// Bridge is the service's TTL bridge, off unless configured.
	Bridge Bridge `yaml:"bridge"`
}

// RecordMatch finds a static DNS record by comment or by address, never by its
// print position, which changes when records are added or removed.
type RecordMatch struct {
	Comment string `yaml:"comment"`
	Address string `yaml:"address"`
}

// IsZero reports whether no way of finding the record was given.
func (m RecordMatch) IsZero() bool { return m.Comment == "" && m.Address == "" }

// Server is one of the machines the name can point at.
type Server struct {
	Name string `yaml:"name"`
	Role Role   `yaml:"role" oneof:"primary,standby,monitor"`
	// Address is an IP address or a host name (re-resolved while running).
	Address string `yaml:"address"`
	// Record finds this server's static record (toggle layout); by default
	// the record whose address is the server's address.
	Record RecordMatch `yaml:"record"`
	Checks []Check     `yaml:"checks"`
}

// ProbedBy is the checks the server is probed by: its own, or ICMP alone
// when it has none (the file's default; a Server made in code may have
// none).
func (s Server) ProbedBy() []Check {
	if len(s.Checks) == 0 {
		return []Check{{Kind: ICMP}}
	}
	return s.Checks
}

// Check is one probe of a server.
type Check struct {
	Kind CheckKind `yaml:"type" oneof:"icmp,tcp,http"`
	// Port is the TCP port of a tcp check.
	Port int `yaml:"port" range:"1..65535"`
	// URL is fetched by an http check; the connection goes to the server's
	// address, while the Host header and TLS name come from the URL.
	URL string `yaml:"url"`
	// Expect lists the HTTP status codes counted as up: by default
	// successes and redirects, so a 503 is down.
	Expect StatusRanges `yaml:"expect" default:"200-399"`
	// Insecure skips TLS verification of an https check.
	Insecure bool `yaml:"insecure"`
}

// Label names the check for screens and reports, e.g. "icmp", "tcp/443".
func (c Check) Label() string {
	switch c.Kind {
	case TCP:
		return fmt.Sprintf("tcp/%d", c.Port)
	case HTTP:
		return "http " + c.URL
	}
	return string(c.Kind)
}

// Probe holds the probing and state-machine settings shared by all servers.
type Probe struct {
	// Interval and Timeout have floors (MinInterval, MinTimeout, which
	// their min tags say).
	Interval time.Duration `yaml:"interval" default:"1s" min:"100ms"`
	Timeout  time.Duration `yaml:"timeout" default:"1s" min:"10ms"`
	// Window is the number of recent samples statistics are computed over.
	Window int `yaml:"window" default:"120" range:"2..100000"`
	// DownAfter consecutive losses make a check DOWN.
	DownAfter int `yaml:"down_after" default:"3" range:"1..1000"`
	// UpAfter consecutive successes make it UP again.
	UpAfter int `yaml:"up_after" default:"2" range:"1..1000"`
	// LossWindow recent samples with DownLossPercent or more lost also make
	// it DOWN: a flaky link that never loses DownAfter in a row.
	LossWindow      int     `yaml:"loss_window" default:"20" range:"1..100000"`
	DownLossPercent float64 `yaml:"down_loss_percent" default:"50"`
	// ResolveEvery is how often host names are looked up again.
	ResolveEvery time.Duration `yaml:"resolve_every" default:"1m"`
	ICMPMode     ICMPMode      `yaml:"icmp_mode" default:"auto" oneof:"auto,privileged,unprivileged"`
}

// Auto is the automatic failover policy. It is off unless enabled.
type Auto struct {
	Enabled bool `yaml:"enabled"`
	// FailAfter: the active primary must be DOWN this long, with the
	// standby UP, before failing over.
	FailAfter time.Duration `yaml:"fail_after" default:"30s"`
	// HoldDown: no automatic action this long after any switch, by anyone,
	// so a flapping server cannot flap the name.
	HoldDown time.Duration `yaml:"hold_down" default:"5m"`
	// Restore is "manual" (default) or "auto".
	Restore string `yaml:"restore" default:"manual" oneof:"manual,auto"`
	// RestoreAfter: with restore auto, the primary must be UP this long.
	RestoreAfter time.Duration `yaml:"restore_after" default:"5m"`
}

// UI holds the dashboard's display options.
type UI struct {
	Theme    string `yaml:"theme" default:"auto" oneof:"auto,dark,light"`
	ASCII    bool   `yaml:"ascii"`
	NoColor  bool   `yaml:"no_color"`
	ReadOnly bool   `yaml:"read_only"`
	// NoMouse leaves the mouse to the terminal (text selection in tmux or
	// over SSH), for the dashboard and every serve session.
	NoMouse bool `yaml:"no_mouse"`
}

// Serve is `failwatch serve`: the dashboard over SSH, one engine for every
// viewer, with a role per public key.
type Serve struct {
	// Listen is the SSH address.
	Listen string `yaml:"listen" default:"127.0.0.1:2222"`
	// HostKey is the server's key file, made on first start (mode 0600);
	// default in the state directory.
	HostKey string `yaml:"host_key"`
	// Users are who may log in, each with a role. Passwords are never
	// accepted.
	Users []ServeUser `yaml:"users"`
	// Anonymous is the role of a key no user lists: "" refuses it,
	// "viewer" lets it watch.
	Anonymous string `yaml:"anonymous" oneof:",viewer"`
	// MaxSessions bounds the sessions at once.
	MaxSessions int `yaml:"max_sessions" default:"50" range:"1..10000"`
	// IdleTimeout ends a session without a key pressed for that long
	// (never a wall's).
	IdleTimeout time.Duration `yaml:"idle_timeout" default:"30m"`
	// OperatorSlots of MaxSessions only an operator may take, so viewers
	// cannot lock operators out; fewer than MaxSessions.
	OperatorSlots int `yaml:"operator_slots" default:"2" range:"0..10000"`
	// LoginGraceTime bounds a connection's handshake and authentication,
	// and how long an authenticated one may stay without a session, as
	// sshd's LoginGraceTime.
	LoginGraceTime time.Duration `yaml:"login_grace_time" default:"2m"`
	// MaxStartups bounds the connections not yet authenticated, with
	// early random drop, as sshd's MaxStartups.
	MaxStartups MaxStartups `yaml:"max_startups" default:"10:30:100"`
	// PerSourceMaxStartups bounds them per client address, as sshd's
	// PerSourceMaxStartups; 0 ("none") leaves only MaxStartups.
	PerSourceMaxStartups int `yaml:"per_source_max_startups" default:"10" range:"1..10000" none:"0"`
}

// MaxStartups is sshd's start:rate:full: from Start connections waiting
// to authenticate, a new one is refused with a probability of Rate
// percent, rising linearly to 100% at Full.
type MaxStartups struct {
	Start, Rate, Full int
}

// String is the setting as written: start:rate:full.
func (m MaxStartups) String() string { return fmt.Sprintf("%d:%d:%d", m.Start, m.Rate, m.Full) }

// Roles of a serve user.
const (
	RoleViewer   = "viewer"   // watches: what --read-only shows
	RoleOperator = "operator" // fails over, restores, holds and releases
)

// ServeUser is one person (or wall) allowed to log in.
type ServeUser struct {
	Name string `yaml:"name"`
	Role string `yaml:"role" oneof:"viewer,operator"`
	// Keys are authorized_keys lines; AuthorizedKeys a file of them.
	Keys           []string `yaml:"keys" list:"public keys"`
	AuthorizedKeys string   `yaml:"authorized_keys"`
	// KeysAt is where each of Keys is written: file:line:col.
	KeysAt []string
	// Wall gives this user the wall layout.
	Wall bool `yaml:"wall"`
}

// Secret is a password. It never prints itself.
type Secret string

// String hides the secret from %s and %v.
func (Secret) String() string { return "********" }

// GoString hides the secret from %#v.
func (Secret) GoString() string { return `"********"` }

// MarshalText hides the secret from encoders.
func (Secret) MarshalText() ([]byte, error) { return []byte("********"), nil }

// Reveal returns the password itself, for the one place that sends it.
func (s Secret) Reveal() string { return string(s) }

// RouterAddr returns the router address with the API port filled in.
func (r Router) RouterAddr() string {
	if r.Address == "" {
		return ""
	}
	if _, _, err := net.SplitHostPort(r.Address); err == nil {
		return r.Address
	}
	port := "8728"
	if r.TLS {
		port = "8729"
	}
	return net.JoinHostPort(strings.Trim(r.Address, "[]"), port)
}

// Server returns the server with the given name, if there is one.
func (c *Config) Server(name string) (Server, bool) {
	for _, s := range c.Servers {
		if s.Name == name {
			return s, true
		}
	}
	return Server{}, false
}

// Resolver is the resolver to ask what the service's name resolves to:
// its own dns_server, else def (the router's DNS, or the one a command
// was given).
func (s Service) Resolver(def string) string {
	if s.DNSServer != "" {
		return s.DNSServer
	}
	return def
}

// Pair returns the primary and the standby of svc, each with the match of
// its record of this service's name.
func (c *Config) Pair(svc Service) (primary, standby Server) {
	primary, _ = c.Server(svc.Primary)
	standby, _ = c.Server(svc.Standby)
	return svc.carrier(primary), svc.carrier(standby)
}

// carrier is s as a carrier of svc: its record is found by the service's
// match for it when there is one.
func (svc Service) carrier(s Server) Server {
	if m, ok := svc.Records[s.Name]; ok {
		s.Record = m
	}
	return s
}

// Carries reports whether svc is carried by the named server.
func (svc Service) Carries(server string) bool {
	return svc.Primary == server || svc.Standby == server
}

// Service returns the service with the given name, if there is one.
func (c *Config) Service(name string) (Service, bool) {
	for _, s := range c.Services {
		if s.Name == name {
			return s, true
		}
	}
	return Service{}, false
}

// Floors of the probe settings: below them a probe measures its own
// scheduling, not the server, and a config typo turns into a flood.
var (
	MinInterval = fieldNamed[Probe]("interval").min
	MinTimeout  = fieldNamed[Probe]("timeout").min
)
