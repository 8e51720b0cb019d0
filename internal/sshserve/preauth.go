package sshserve

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"sort"
	"sync"
	"syscall"
	"time"

	"charm.land/ssh"
	gossh "golang.org/x/crypto/ssh"

	"github.com/failwatch/failwatch/config"
)

// Before a client has logged in, serve bounds it as sshd does: the
// handshake and authentication have serve.login_grace_time; at most
// serve.max_startups connections wait to authenticate, new ones refused
// at random from its start and all at its full (early random drop); and
// serve.per_source_max_startups of them may come from one address. Once
// logged in, a connection holds a session place (middleware.go) whether
// or not it opens a session, and one with no session open is closed after
// login_grace_time. Connections closed before login are logged in a
// summary per dropSummaryEvery, never one line each.

// Why a connection was closed before it had a session, as logged and in
// the metrics' reason label.
const (
	dropFull      = "max_startups"
	dropRandom    = "max_startups_random"
	dropPerSource = "per_source_max_startups"
	dropGrace     = "login_grace_time"
	dropNoSession = "no_session"
	// Not serve's doing: the client went, or failed, before it logged in.
	closedByClient  = "client_left"
	closedAuth      = "auth_failed"
	closedHandshake = "handshake_failed"
)

// gate admits connections that have not authenticated yet.
type gate struct {
	max       config.MaxStartups
	perSource int
	// random is in [0, 1): the draw of an early random drop.
	random func() float64

	mu       sync.Mutex
	waiting  int
	bySource map[netip.Addr]int
}

func newGate(serve config.Serve) *gate {
	return &gate{max: serve.MaxStartups, perSource: serve.PerSourceMaxStartups, random: rand.Float64, bySource: map[netip.Addr]int{}}
}

// admit counts a new connection from a as waiting, or says why not.
func (g *gate) admit(a netip.Addr) (refused string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case g.waiting >= g.max.Full:
		return dropFull
	case g.perSource > 0 && g.bySource[a] >= g.perSource:
		return dropPerSource
	case g.waiting >= g.max.Start:
		// From rate% at start to 100% at full, linearly.
		p := float64(g.max.Rate) + float64(100-g.max.Rate)*float64(g.waiting-g.max.Start)/float64(g.max.Full-g.max.Start)
		if g.random()*100 < p {
			return dropRandom
		}
	}
	g.waiting++
	g.bySource[a]++
	return ""
}

// leave stops counting a connection from a: it logged in, or it closed.
func (g *gate) leave(a netip.Addr) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.waiting--
	if g.bySource[a]--; g.bySource[a] <= 0 {
		delete(g.bySource, a)
	}
}

// remoteIP is a client's address, an IPv4 one as IPv4.
func remoteIP(a net.Addr) netip.Addr {
	if tcp, ok := a.(*net.TCPAddr); ok {
		return tcp.AddrPort().Addr().Unmap()
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap.Addr().Unmap()
}

// conn is one client's connection, as serve counts it: waiting to
// authenticate, then holding session places, closed when it has no
// session for too long.
type conn struct {
	net.Conn
	s    *Server
	addr netip.Addr

	mu       sync.Mutex
	waiting  bool
	user     user // once logged in
	slot     bool // holds the connection's session place
	sessions int
	// idle closes the connection while it has no session; gen tells a
	// stale firing from the current one.
	idle *time.Timer
	gen  int
	done bool
}

type connKey struct{}

// connOf is the connection a context is of.
func connOf(ctx ssh.Context) *conn {
	c, _ := ctx.Value(connKey{}).(*conn)
	return c
}

// accept is the server's ConnCallback: a connection the gate refuses is
// told so and closed before the handshake.
func (s *Server) accept(ctx ssh.Context, nc net.Conn) net.Conn {
	a := remoteIP(nc.RemoteAddr())
	c := &conn{Conn: nc, s: s, addr: a}
	if !s.taken(c) {
		return nil
	}
	if reason := s.gate.admit(a); reason != "" {
		s.gone(c)
		s.drop(reason, a)
		nc.SetWriteDeadline(time.Now().Add(time.Second))
		io.WriteString(nc, "failwatch serve: too many connections waiting to log in; try again later\r\n")
		return nil
	}
	s.metrics.waiting.Inc()
	c.waiting = true
	ctx.SetValue(connKey{}, c)
	return c
}

// loggedIn moves the connection from waiting to holding a session place
// as u, or says why it may not.
func (c *conn) loggedIn(u user) (refused string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.slot {
		if full := c.s.slots.take(u.Role); full != "" {
			return full
		}
		c.slot = true
	}
	c.user = u
	if c.waiting {
		c.waiting = false
		c.s.gate.leave(c.addr)
		c.s.metrics.waiting.Dec()
	}
	c.idleLocked()
	return ""
}

// idleLocked starts the wait for a session.
func (c *conn) idleLocked() {
	c.gen++
	gen := c.gen
	c.idle = time.AfterFunc(c.s.opts.Serve.LoginGraceTime, func() { c.noSession(gen) })
}

func (c *conn) stopIdleLocked() {
	c.gen++
	if c.idle != nil {
		c.idle.Stop()
	}
}

// noSession closes a connection that had no session for login_grace_time.
func (c *conn) noSession(gen int) {
	c.mu.Lock()
	stale := gen != c.gen || c.sessions > 0 || c.done
	u := c.user
	c.mu.Unlock()
	if stale {
		return
	}
	c.s.metrics.drops.WithLabelValues(dropNoSession).Inc()
	c.s.opts.Log.Info("ssh connection closed", "user", u.Name, "role", u.Role, "fingerprint", gossh.FingerprintSHA256(u.Key),
		"remote", c.RemoteAddr().String(), "reason", fmt.Sprintf("no session for %s (serve.login_grace_time)", c.s.opts.Serve.LoginGraceTime))
	c.Close()
}

// sessionStarts counts a session of the connection: its first session
// takes the place the login took, any other at once one more.
func (c *conn) sessionStarts() (refused string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sessions > 0 {
		if full := c.s.slots.take(c.user.Role); full != "" {
			return full
		}
	}
	c.sessions++
	c.stopIdleLocked()
	return ""
}

func (c *conn) sessionEnds() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sessions--
	if c.sessions > 0 {
		c.s.slots.free()
		return
	}
	if !c.done {
		c.idleLocked()
	}
}

// Close gives back what the connection held.
func (c *conn) Close() error {
	c.mu.Lock()
	if !c.done {
		c.done = true
		c.stopIdleLocked()
		if c.waiting {
			c.s.gate.leave(c.addr)
			c.s.metrics.waiting.Dec()
		}
		if c.slot {
			c.s.slots.free()
		}
		defer c.s.gone(c)
	}
	c.mu.Unlock()
	return c.Conn.Close()
}

// failed is the server's ConnectionFailedCallback: the handshake or the
// login did not complete.
func (s *Server) failed(nc net.Conn, err error) {
	a := remoteIP(nc.RemoteAddr())
	var authErr *gossh.ServerAuthError
	var netErr net.Error
	switch {
	case errors.As(err, &netErr) && netErr.Timeout():
		s.drop(dropGrace, a)
	case errors.As(err, &authErr):
		s.drop(closedAuth, a)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET), errors.Is(err, os.ErrClosed):
		s.drop(closedByClient, a)
	default:
		s.drop(closedHandshake, a)
	}
}

// drop counts a connection closed before login, in the metrics when serve
// closed it, and in the next summary.
func (s *Server) drop(reason string, a netip.Addr) {
	switch reason {
	case dropFull, dropRandom, dropPerSource, dropGrace:
		s.metrics.drops.WithLabelValues(reason).Inc()
	}
	s.drops.add(reason, a)
}

// dropLog sums up connections closed before login: one line per period
// with a count per reason and the busiest address, however many there
// were.
type dropLog struct {
	log   *slog.Logger
	every time.Duration

	mu       sync.Mutex
	since    time.Time
	reasons  map[string]int
	bySource map[netip.Addr]int
	others   int // connections from addresses past the first maxSources
}

// maxSources bounds the addresses one summary tells apart.
const maxSources = 10000

func (d *dropLog) add(reason string, a netip.Addr) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.reasons == nil {
		d.since = time.Now()
		d.reasons, d.bySource = map[string]int{}, map[netip.Addr]int{}
		time.AfterFunc(d.every, d.flush)
	}
	d.reasons[reason]++
	if _, ok := d.bySource[a]; ok || len(d.bySource) < maxSources {
		d.bySource[a]++
	} else {
		d.others++
	}
}

func (d *dropLog) flush() {
	d.mu.Lock()
	reasons, bySource, others, since := d.reasons, d.bySource, d.others, d.since
	d.reasons, d.bySource, d.others = nil, nil, 0
	d.mu.Unlock()
	total := 0
	names := make([]string, 0, len(reasons))
	for r, n := range reasons {
		total += n
		names = append(names, r)
	}
	sort.Strings(names)
	attrs := []any{"count", total, "over", time.Since(since).Round(time.Second)}
	for _, r := range names {
		attrs = append(attrs, r, reasons[r])
	}
	var busiest netip.Addr
	for a, n := range bySource {
		if n > bySource[busiest] || (n == bySource[busiest] && a.Less(busiest)) {
			busiest = a
		}
	}
	attrs = append(attrs, "sources", len(bySource), "busiest", busiest.String(), "busiest_count", bySource[busiest])
	if others > 0 {
		attrs = append(attrs, "from_further_sources", others)
	}
	d.log.Info("ssh connections closed before login", attrs...)
}
