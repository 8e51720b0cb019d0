package monitor

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"syscall"
	"time"

	"github.com/failwatch/failwatch/config"
)

// TCPProber times a TCP handshake to the server's port: it sees a stopped
// service that still answers pings.
type TCPProber struct{ Port uint16 }

// Probe connects and closes at once.
func (p TCPProber) Probe(ctx context.Context, addr netip.Addr) Sample {
	start := time.Now()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", netip.AddrPortFrom(addr, p.Port).String())
	if err != nil {
		return lost(start, "%s", dialReason(err))
	}
	rtt := time.Since(start)
	conn.Close()
	return Sample{At: start, RTT: rtt, OK: true}
}

// dialReason shortens a dial error to what an admin needs on a card.
func dialReason(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.EHOSTUNREACH):
		return "host unreachable"
	case errors.Is(err, syscall.ENETUNREACH):
		return "network unreachable"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	return err.Error()
}

// HTTPProber fetches a URL from one server. The connection goes to the
// server's own address while the Host header and the TLS name come from the
// URL: asking the service name through DNS would test whichever server the
// name points at right now, not this one.
type HTTPProber struct {
	url    *url.URL
	port   string
	expect config.StatusRanges
	client *http.Client
}

type dialAddrKey struct{}

// dialTarget is what a probe tells its transport's dialer: where to dial,
// and the probe's context, which the dial must not outlive.
type dialTarget struct {
	ctx  context.Context
	addr netip.Addr
}

// NewHTTPProber builds a prober for rawURL that counts the expect statuses
// as up.
func NewHTTPProber(rawURL string, expect config.StatusRanges, insecure bool) (*HTTPProber, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("http check: %q is not an http:// or https:// URL", rawURL)
	}
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	if len(expect) == 0 {
		expect = config.DefaultExpect
	}
	p := &HTTPProber{url: u, port: port, expect: expect}
	var d net.Dialer
	transport := &http.Transport{
		// A fresh connection per probe: a kept-alive one would hide a
		// server that no longer accepts connections.
		DisableKeepAlives: true,
		// The transport dials on a context cut loose from the request's
		// (so a later request could use the connection): against a server
		// that drops SYNs the dial would go on for minutes after the probe
		// gave up, a socket and a goroutine per probe. Dial on the probe's
		// own context, carried as a value, so the dial ends with the probe.
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			probe, _ := ctx.Value(dialAddrKey{}).(dialTarget)
			return d.DialContext(probe.ctx, network, net.JoinHostPort(probe.addr.String(), p.port))
		},
		TLSClientConfig: &tls.Config{ServerName: u.Hostname(), InsecureSkipVerify: insecure},
	}
	p.client = &http.Client{
		Transport: transport,
		// A redirect's status is the answer; following it could leave the server.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return p, nil
}

// Probe sends a GET and times it to the response headers.
func (p *HTTPProber) Probe(ctx context.Context, addr netip.Addr) Sample {
	start := time.Now()
	ctx = context.WithValue(ctx, dialAddrKey{}, dialTarget{ctx: ctx, addr: addr})
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url.String(), nil)
	if err != nil {
		return lost(start, "%v", err)
	}
	req.Header.Set("User-Agent", "failwatch")
	resp, err := p.client.Do(req)
	if err != nil {
		return lost(start, "%s", dialReason(err))
	}
	rtt := time.Since(start)
	// Drain a little so the server sees a clean close; the body is not used.
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	resp.Body.Close()
	if !p.expect.Contains(resp.StatusCode) {
		return Sample{At: start, RTT: rtt, Err: "HTTP " + strconv.Itoa(resp.StatusCode) + " " + http.StatusText(resp.StatusCode)}
	}
	return Sample{At: start, RTT: rtt, OK: true}
}
