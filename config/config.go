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
	Router Router
	// Services are the DNS names that fail over; a file's single
	// "service:" is the one entry.
	Services []Service
	Servers  []Server
	Probe    Probe
	UI       UI
	Auto     Auto
	Serve    Serve
	// HA is nil unless the file has an ha: section.
	HA *HA
	// Warnings are problems that do not stop failwatch, such as a password
	// file that others can read.
	Warnings []string
}

// Router is how to reach the MikroTik router's API.
type Router struct {
	// Address is host:port; the port defaults to 8728, or 8729 with TLS.
	Address  string
	TLS      bool
	CAFile   string
	Insecure bool
	User     string
	// Password is resolved from the file, the environment or a password file.
	Password     Secret
	PasswordEnv  string
	PasswordFile string
	Timeout      time.Duration
}

// Service is a DNS name that fails over, the servers that carry it and how
// the router holds it.
type Service struct {
	Name   string
	Layout Layout
	// Primary and Standby name the servers (servers[].name) the name points
	// at normally and while failed over; one server may carry several
	// services.
	Primary, Standby string
	// Records finds each server's static record of this name (toggle
	// layout), by server name; a server not in it has its own record match
	// (by default, the record with its address).
	Records map[string]RecordMatch
	// Record finds the single record of the rewrite layout.
	Record RecordMatch
	// HoldNetwatch disables the router's netwatch entries for the servers
	// while the name is failed over by hand, so they cannot flip it back.
	HoldNetwatch bool
	// DNSServer is the resolver asked what the name resolves to right now;
	// it defaults to the router's address on port 53.
	DNSServer string
	// AuditLog is the JSON-lines file every operation is appended to.
	AuditLog string
	// Auto is this service's automatic failover; by default the file's
	// top-level auto.
	Auto Auto
	// Bridge is the service's TTL bridge, off unless configured.
	Bridge Bridge
}

// RecordMatch finds a static DNS record by comment or by address, never by its
// print position, which changes when records are added or removed.
type RecordMatch struct {
	Comment string
	Address string
}

// IsZero reports whether no way of finding the record was given.
func (m RecordMatch) IsZero() bool { return m.Comment == "" && m.Address == "" }

// Server is one of the machines the name can point at.
type Server struct {
	Name string
	Role Role
	// Address is an IP address or a host name (re-resolved while running).
	Address string
	// Record finds this server's static record (toggle layout); by default
	// the record whose address is the server's address.
	Record RecordMatch
	Checks []Check
}

// Check is one probe of a server.
type Check struct {
	Kind CheckKind
	// Port is the TCP port of a tcp check.
	Port int
	// URL is fetched by an http check; the connection goes to the server's
	// address, while the Host header and TLS name come from the URL.
	URL string
	// Expect lists the HTTP status codes counted as up.
	Expect StatusRanges
	// Insecure skips TLS verification of an https check.
	Insecure bool
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
	Interval time.Duration // at least MinInterval
	Timeout  time.Duration // at least MinTimeout
	// Window is the number of recent samples statistics are computed over.
	Window int
	// DownAfter consecutive losses make a check DOWN.
	DownAfter int
	// UpAfter consecutive successes make it UP again.
	UpAfter int
	// LossWindow recent samples with DownLossPercent or more lost also make
	// it DOWN: a flaky link that never loses DownAfter in a row.
	LossWindow      int
	DownLossPercent float64
	// ResolveEvery is how often host names are looked up again.
	ResolveEvery time.Duration
	ICMPMode     ICMPMode
}

// Auto is the automatic failover policy. It is off unless enabled.
type Auto struct {
	Enabled bool
	// FailAfter: the active primary must be DOWN this long, with the
	// standby UP, before failing over.
	FailAfter time.Duration
	// HoldDown: no automatic action this long after any switch, by anyone,
	// so a flapping server cannot flap the name.
	HoldDown time.Duration
	// Restore is "manual" (default) or "auto".
	Restore string
	// RestoreAfter: with restore auto, the primary must be UP this long.
	RestoreAfter time.Duration
}

// UI holds the dashboard's display options.
type UI struct {
	Theme    string // auto, dark or light
	ASCII    bool
	NoColor  bool
	ReadOnly bool
	// NoMouse leaves the mouse to the terminal (text selection in tmux or
	// over SSH), for the dashboard and every serve session.
	NoMouse bool
}

// Serve is `failwatch serve`: the dashboard over SSH, one engine for every
// viewer, with a role per public key.
type Serve struct {
	// Listen is the SSH address; default 127.0.0.1:2222.
	Listen string
	// HostKey is the server's key file, made on first start (mode 0600);
	// default in the state directory.
	HostKey string
	// Users are who may log in, each with a role. Passwords are never
	// accepted.
	Users []ServeUser
	// Anonymous is the role of a key no user lists: "" refuses it,
	// "viewer" lets it watch.
	Anonymous string
	// MaxSessions bounds the sessions at once; default 50.
	MaxSessions int
	// IdleTimeout ends a session without a key pressed for that long
	// (never a wall's); default 30m.
	IdleTimeout time.Duration
	// OperatorSlots of MaxSessions only an operator may take, so viewers
	// cannot lock operators out; default 2, fewer than MaxSessions.
	OperatorSlots int
	// LoginGraceTime bounds a connection's handshake and authentication,
	// and how long an authenticated one may stay without a session, as
	// sshd's LoginGraceTime; default 2m.
	LoginGraceTime time.Duration
	// MaxStartups bounds the connections not yet authenticated, with
	// early random drop, as sshd's MaxStartups; default 10:30:100.
	MaxStartups MaxStartups
	// PerSourceMaxStartups bounds them per client address, as sshd's
	// PerSourceMaxStartups; 0 ("none") leaves only MaxStartups; default 10.
	PerSourceMaxStartups int
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
	Name string
	Role string
	// Keys are authorized_keys lines; AuthorizedKeys a file of them.
	Keys           []string
	AuthorizedKeys string
	// KeysAt is where each of Keys is written: file:line:col.
	KeysAt []string
	// Wall gives this user the wall layout.
	Wall bool
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

// Defaults returns the settings used for everything the file leaves out.
func Defaults() Config {
	return Config{
		Router: Router{User: "admin", Timeout: 5 * time.Second},
		Serve: Serve{Listen: "127.0.0.1:2222", MaxSessions: 50, IdleTimeout: 30 * time.Minute, OperatorSlots: 2,
			LoginGraceTime: 2 * time.Minute, MaxStartups: MaxStartups{Start: 10, Rate: 30, Full: 100}, PerSourceMaxStartups: 10},
		Probe: Probe{
			Interval:        time.Second,
			Timeout:         time.Second,
			Window:          120,
			DownAfter:       3,
			UpAfter:         2,
			LossWindow:      20,
			DownLossPercent: 50,
			ResolveEvery:    time.Minute,
			ICMPMode:        ICMPAuto,
		},
		UI:   UI{Theme: "auto"},
		Auto: Auto{FailAfter: 30 * time.Second, HoldDown: 5 * time.Minute, Restore: "manual", RestoreAfter: 5 * time.Minute},
	}
}

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
const (
	MinInterval = 100 * time.Millisecond
	MinTimeout  = 10 * time.Millisecond
)
