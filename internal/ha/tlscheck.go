package ha

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/url"
	"strings"
	"time"
)

// tlsRefusal says why etcd's endpoints refuse this instance's TLS, "" when
// one of them accepts it (or no TLS is configured). etcd's client only says
// "context deadline exceeded" when the handshake fails, so after a failed
// grant this asks each endpoint once, bounded by ctx: the server's own
// alert ("tls: certificate required") is what the admin needs. With TLS
// 1.3 a missing client certificate is refused after the handshake, so it
// reads once: a server that waits for the client's first bytes accepted it.
func tlsRefusal(ctx context.Context, cfg *tls.Config, endpoints []string) string {
	if cfg == nil {
		return ""
	}
	var refused []string
	for _, ep := range endpoints {
		host := ep
		if u, err := url.Parse(ep); err == nil && u.Host != "" {
			host = u.Host
		}
		err := handshake(ctx, cfg, host)
		if err == nil {
			return ""
		}
		refused = append(refused, "TLS to "+host+": "+err.Error())
	}
	return strings.Join(refused, "; ")
}

// handshake dials host with cfg and reads once, briefly.
func handshake(ctx context.Context, cfg *tls.Config, host string) error {
	d := tls.Dialer{Config: cfg.Clone()}
	c, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return err
	}
	defer c.Close()
	wait := 300 * time.Millisecond
	if dl, ok := ctx.Deadline(); ok {
		wait = min(wait, time.Until(dl))
	}
	_ = c.SetReadDeadline(time.Now().Add(wait))
	_, err = c.Read(make([]byte, 1))
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return nil
	}
	return err
}
