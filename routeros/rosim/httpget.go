package rosim

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// HTTPProbe makes one netwatch http-get (or https-get) test of host:port
// and returns the status code and the time to it.
type HTTPProbe func(ctx context.Context, host netip.Addr, port int, https bool) (status int, took time.Duration, err error)

// HTTPGet is netwatch's http-get as the manual describes it: a GET of "/"
// to the address, with no Host header and no path of the admin's choosing,
// so a server with name-based virtual hosts answers with its default one,
// not the service. HTTP/1.0, which needs no Host; HTTPS without SNI and
// without checking the certificate, as there is no name to check it for.
func HTTPGet(ctx context.Context, host netip.Addr, port int, https bool) (int, time.Duration, error) {
	start := time.Now()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", netip.AddrPortFrom(host, uint16(port)).String())
	if err != nil {
		return 0, 0, err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	if https {
		tc := tls.Client(conn, &tls.Config{InsecureSkipVerify: true})
		if err := tc.HandshakeContext(ctx); err != nil {
			return 0, 0, err
		}
		conn = tc
	}
	if _, err := conn.Write([]byte("GET / HTTP/1.0\r\n\r\n")); err != nil {
		return 0, 0, err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return 0, 0, err
	}
	fields := strings.Fields(line)
	if len(fields) < 2 || !strings.HasPrefix(fields[0], "HTTP/") {
		return 0, 0, fmt.Errorf("not an HTTP reply: %q", line)
	}
	status, err := strconv.Atoi(fields[1])
	if err != nil {
		return 0, 0, fmt.Errorf("not an HTTP status: %q", line)
	}
	return status, time.Since(start), nil
}

// httpTest runs an http-get/https-get entry's test: the status must be in
// http-codes (100-299 by default)
// and come within thr-http-time (10s by default).
func (nt netwatchTest) httpTest(ctx context.Context) testResult {
	ctx, cancel := context.WithTimeout(ctx, nt.wall(nt.timeout))
	defer cancel()
	status, took, err := nt.http(ctx, nt.host, nt.port, nt.typ == "https-get")
	res := testResult{sent: 1}
	if err != nil {
		return res
	}
	res.received, res.avg, res.min, res.max = 1, took, took, took
	res.up = nt.codes.contains(status) && took <= nt.thrHTTP
	return res
}

// simulatedHTTP answers 200 from the simulated probe's view of the host:
// the default when no real HTTP is asked for.
func simulatedHTTP(p Probe) HTTPProbe {
	return func(ctx context.Context, host netip.Addr, _ int, _ bool) (int, time.Duration, error) {
		rtt, ok := p(ctx, host, time.Minute)
		if !ok {
			return 0, 0, fmt.Errorf("no answer")
		}
		return 200, 2 * rtt, nil
	}
}

// codeRanges is an http-codes list: "200-299,301".
type codeRanges [][2]int

func parseCodes(s string) codeRanges {
	var out codeRanges
	for part := range strings.SplitSeq(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err1 := strconv.Atoi(lo)
		b := a
		var err2 error
		if isRange {
			b, err2 = strconv.Atoi(hi)
		}
		if err1 == nil && err2 == nil {
			out = append(out, [2]int{a, b})
		}
	}
	return out
}

func (c codeRanges) contains(code int) bool {
	if len(c) == 0 {
		return true
	}
	for _, r := range c {
		if code >= r[0] && code <= r[1] {
			return true
		}
	}
	return false
}
