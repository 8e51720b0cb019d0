package routeros

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	ros "github.com/go-routeros/routeros/v3"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/safetext"
)

// Options say how to reach and log in to a router.
type Options struct {
	// Address is host:port.
	Address  string
	TLS      bool
	CAFile   string
	Insecure bool
	User     string
	Password config.Secret
	// Timeout bounds dialing, logging in and each call; default 5s.
	Timeout time.Duration
	// MaxReplyRows and MaxReplyBytes bound one call's reply; defaults
	// DefaultMaxReplyRows and DefaultMaxReplyBytes.
	MaxReplyRows  int
	MaxReplyBytes int
}

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.MaxReplyRows <= 0 {
		o.MaxReplyRows = DefaultMaxReplyRows
	}
	if o.MaxReplyBytes <= 0 {
		o.MaxReplyBytes = DefaultMaxReplyBytes
	}
	return o
}

// OptionsFrom takes the router settings of a config.
func OptionsFrom(r config.Router) Options {
	return Options{
		Address: r.RouterAddr(), TLS: r.TLS, CAFile: r.CAFile, Insecure: r.Insecure,
		User: r.User, Password: r.Password, Timeout: r.Timeout,
	}
}

// TrapError is a router's !trap: the command failed, the connection is fine.
type TrapError struct {
	Command  string
	Category string
	Message  string
}

func (e *TrapError) Error() string { return fmt.Sprintf("router: %s: %s", e.Command, e.Message) }

// FatalError is a router's !fatal: it hung up, saying why.
type FatalError struct{ Reason string }

func (e *FatalError) Error() string { return "router closed the session: " + e.Reason }

// LoginError is a refused login, with the router's own message.
type LoginError struct {
	User    string
	Message string
}

func (e *LoginError) Error() string {
	return fmt.Sprintf("router refused login for user %q: %s", e.User, e.Message)
}

// Reply is what a command returned: its !re rows and the attributes of its
// !done (such as =ret= of an add).
type Reply struct {
	Rows []map[string]string
	Done map[string]string
}

// Client is one command connection to a router. Calls are serialised; it
// reconnects on the next call after any connection error, waiting out a
// backoff between failed dials.
type Client struct {
	opts Options
	tls  *tls.Config

	mu       sync.Mutex
	conn     net.Conn
	api      *ros.Client
	dialErr  error
	nextDial time.Time
	backoff  time.Duration
	// connects counts successful logins, so callers can tell a reconnect.
	connects int
	link     Link
}

// LinkState is how the command connection stands.
type LinkState int

// Link states, as the dashboard's header names them.
const (
	// LinkUnknown: nothing has been tried yet.
	LinkUnknown LinkState = iota
	// LinkUp: the last call got its reply.
	LinkUp
	// LinkReconnecting: the connection dropped; the next call redials.
	LinkReconnecting
	// LinkUnreachable: a dial or login failed.
	LinkUnreachable
)

func (s LinkState) String() string {
	return [...]string{"unknown", "connected", "reconnecting", "unreachable"}[s]
}

// Link is the connection's state, since when, and the error that put it
// there.
type Link struct {
	State LinkState
	Since time.Time
	Err   error
}

// Link says how the connection stands.
func (c *Client) Link() Link {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.link
}

// setLink moves to a state, keeping the time it was first entered.
func (c *Client) setLink(s LinkState, err error) {
	if c.link.State != s {
		c.link.Since = time.Now()
	}
	c.link.State, c.link.Err = s, err
}

// Backoff bounds between failed dials.
const (
	minBackoff = 500 * time.Millisecond
	maxBackoff = 30 * time.Second
)

// New checks the options and prepares a client; it does not dial. The
// returned warnings (such as an insecure TLS setting) are for the user.
func New(opts Options) (*Client, []string, error) {
	if opts.Address == "" {
		return nil, nil, errors.New("no router address (router.address in the config, or --router)")
	}
	opts = opts.withDefaults()
	tlsConf, warnings, err := newTLSConfig(opts)
	if err != nil {
		return nil, nil, err
	}
	return &Client{opts: opts, tls: tlsConf}, warnings, nil
}

// newTLSConfig builds the API-SSL settings, nil for the plain API.
func newTLSConfig(opts Options) (*tls.Config, []string, error) {
	if !opts.TLS {
		return nil, nil, nil
	}
	host, _, _ := net.SplitHostPort(opts.Address)
	conf := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	var warnings []string
	if opts.CAFile != "" {
		pem, err := os.ReadFile(opts.CAFile)
		if err != nil {
			return nil, nil, fmt.Errorf("router CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, nil, fmt.Errorf("router CA file %s holds no PEM certificate", opts.CAFile)
		}
		conf.RootCAs = pool
	}
	if opts.Insecure {
		conf.InsecureSkipVerify = true
		warnings = append(warnings, "router TLS certificate is not verified (insecure: true): anyone on the path can read the password")
	}
	return conf, warnings, nil
}

// Connects counts the logins so far; a rise means the client reconnected.
func (c *Client) Connects() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.connects
}

// Timeout is how long one call may take.
func (c *Client) Timeout() time.Duration { return c.opts.Timeout }

// Close hangs up.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.drop()
	return nil
}

func (c *Client) drop() {
	if c.api != nil {
		c.api.Close()
	}
	if c.conn != nil {
		c.conn.Close()
	}
	c.api, c.conn = nil, nil
}

// Run sends one command and waits for its reply, within the context's
// deadline and the client's timeout, whichever comes first. A read (print)
// that fails on a connection kept from an earlier call is tried once more
// on a fresh one: the router may have dropped an idle session, and a read
// changes nothing. A change is never resent here: whether it was applied
// is for the caller to read back.
func (c *Client) Run(ctx context.Context, words ...string) (*Reply, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	kept := c.api != nil
	reply, err := c.attempt(ctx, words)
	if err != nil && kept && isRead(words[0]) && ctx.Err() == nil && !IsTrap(err) {
		reply, err = c.attempt(ctx, words)
	}
	return reply, err
}

func (c *Client) attempt(ctx context.Context, words []string) (*Reply, error) {
	if err := c.ensure(ctx); err != nil {
		return nil, err
	}
	reply, err := c.call(ctx, words)
	if err != nil {
		if !IsTrap(err) {
			c.drop()
			c.setLink(LinkReconnecting, err)
		}
		return nil, err
	}
	c.setLink(LinkUp, nil)
	return reply, nil
}

// IsTrap says whether err is a router's !trap: it refused, and nothing was
// applied. Any other error leaves the outcome of a change unknown.
func IsTrap(err error) bool {
	var trap *TrapError
	return errors.As(err, &trap)
}

// isRead reports whether a command only reads.
func isRead(cmd string) bool {
	return strings.HasSuffix(cmd, "/print") || strings.HasSuffix(cmd, "/getall")
}

// ensure dials and logs in when there is no connection, unless the last
// dial failed less than a backoff ago.
func (c *Client) ensure(ctx context.Context) error {
	if c.api != nil {
		return nil
	}
	if wait := time.Until(c.nextDial); wait > 0 {
		return fmt.Errorf("%w (retrying in %s)", c.dialErr, wait.Round(100*time.Millisecond))
	}
	conn, api, err := dial(ctx, c.opts, c.tls)
	if err != nil && ctx.Err() != nil {
		// The caller gave up; the router did not fail, so no backoff.
		return fmt.Errorf("router %s: %w", c.opts.Address, ctx.Err())
	}
	if err != nil {
		c.backoff = min(max(c.backoff*2, minBackoff), maxBackoff)
		c.dialErr, c.nextDial = err, time.Now().Add(c.backoff)
		c.setLink(LinkUnreachable, err)
		return err
	}
	c.conn, c.api, c.backoff, c.dialErr = conn, api, 0, nil
	c.connects++
	c.setLink(LinkUp, nil)
	return nil
}

// dial connects and logs in, classifying failures in the admin's terms.
func dial(ctx context.Context, opts Options, tlsConf *tls.Config) (*replyConn, *ros.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	var conn net.Conn
	var err error
	if tlsConf != nil {
		conn, err = (&tls.Dialer{Config: tlsConf}).DialContext(ctx, "tcp", opts.Address)
	} else {
		conn, err = new(net.Dialer).DialContext(ctx, "tcp", opts.Address)
	}
	if err != nil {
		return nil, nil, dialError(opts, err)
	}
	rc := newReplyConn(conn, opts)
	api, err := ros.NewClient(rc)
	if err != nil {
		rc.Close()
		return nil, nil, fmt.Errorf("router %s: %w", opts.Address, err)
	}
	api.SetLogHandler(slog.DiscardHandler)
	stop := deadline(ctx, rc, opts.Timeout)
	err = api.Login(opts.User, opts.Password.Reveal())
	stop()
	if err != nil {
		api.Close()
		rc.Close()
		var dev *ros.DeviceError
		if errors.As(err, &dev) && dev.Sentence.Word == "!trap" {
			return nil, nil, &LoginError{User: opts.User, Message: safetext.Line(dev.Sentence.Map["message"])}
		}
		return nil, nil, fmt.Errorf("router %s: login: %w", opts.Address, callError(err))
	}
	return rc, api, nil
}

func dialError(opts Options, err error) error {
	var cert *tls.CertificateVerificationError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("router %s refused the connection: is the API service enabled on that port? (/ip service print)", opts.Address)
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return fmt.Errorf("router %s did not answer within %s", opts.Address, opts.Timeout)
	case errors.As(err, &cert):
		return fmt.Errorf("router %s: its TLS certificate is not trusted (%v): give router.ca_file, or insecure: true to skip the check", opts.Address, cert.Err)
	case opts.TLS && strings.Contains(err.Error(), "handshake failure"):
		return fmt.Errorf("router %s: TLS handshake failed: a router without a certificate offers API-SSL only with anonymous Diffie-Hellman, which Go's TLS does not support; "+
			"add a certificate on the router (/certificate add name=api common-name=router; /certificate sign api; /ip service set api-ssl certificate=api)", opts.Address)
	case opts.TLS:
		return fmt.Errorf("router %s: TLS: %w", opts.Address, err)
	}
	return fmt.Errorf("router %s: %w", opts.Address, err)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// deadline puts the earlier of ctx's deadline and now+timeout on conn, and
// expires it at once if ctx is cancelled; stop clears it.
func deadline(ctx context.Context, conn net.Conn, timeout time.Duration) (stop func()) {
	d := time.Now().Add(timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(d) {
		d = dl
	}
	conn.SetDeadline(d)
	undo := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	return func() {
		undo()
		conn.SetDeadline(time.Time{})
	}
}

func (c *Client) call(ctx context.Context, words []string) (*Reply, error) {
	stop := deadline(ctx, c.conn, c.opts.Timeout)
	r, err := c.api.RunArgs(words)
	stop()
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("router %s: %s: %w", c.opts.Address, words[0], ctx.Err())
		}
		var dev *ros.DeviceError
		if errors.As(err, &dev) && dev.Sentence.Word == "!trap" {
			return nil, &TrapError{Command: words[0], Category: safetext.Line(dev.Sentence.Map["category"]), Message: safetext.Line(dev.Sentence.Map["message"])}
		}
		return nil, fmt.Errorf("router %s: %s: %w", c.opts.Address, words[0], callError(err))
	}
	out := &Reply{Done: map[string]string{}}
	for _, s := range r.Re {
		out.Rows = append(out.Rows, cleanRow(s.Map))
	}
	if r.Done != nil {
		out.Done = cleanRow(r.Done.Map)
	}
	return out, nil
}

// cleanRow strips control characters from what the router sent, keeping
// the line breaks and tabs that scripts have: nothing a router sends
// reaches a terminal with an escape sequence in it. One-line fields are
// stripped of line breaks too where they are read (recordFrom and others).
func cleanRow(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[safetext.Line(k)] = safetext.Block(v)
	}
	return out
}

// callError turns library errors into ours.
func callError(err error) error {
	var dev *ros.DeviceError
	if errors.As(err, &dev) && dev.Sentence.Word == "!fatal" {
		return &FatalError{Reason: safetext.Line(dev.Sentence.Map["message"])}
	}
	if isTimeout(err) {
		return errors.New("no reply in time")
	}
	if errors.Is(err, ErrReplyTooLarge) {
		return err
	}
	// The library's own errors can quote what the router sent.
	return cleanError{err}
}

// cleanError shows an error without the control characters a router may
// have put in it, keeping it for errors.Is.
type cleanError struct{ err error }

func (e cleanError) Error() string { return safetext.Line(e.err.Error()) }
func (e cleanError) Unwrap() error { return e.err }
