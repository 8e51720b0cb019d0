package monitor

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// DNSAnswer is what a resolver answered for the service name: what clients
// are actually told right now.
type DNSAnswer struct {
	Server string
	Name   string
	Addrs  []netip.Addr
	// TTL is the smallest TTL of the answers: how long clients may keep
	// the old address after a switch.
	TTL   time.Duration
	RCode string
	RTT   time.Duration
	At    time.Time
	Err   error
}

// Query asks server (host:port, UDP) for the A records of name, or its
// AAAA records when typ is "AAAA" (an IPv6 pair of servers).
func Query(ctx context.Context, server, name, typ string) DNSAnswer {
	qtype := dnsmessage.TypeA
	if typ == "AAAA" {
		qtype = dnsmessage.TypeAAAA
	}
	ans := DNSAnswer{Server: server, Name: name, At: time.Now()}
	qname, err := dnsmessage.NewName(strings.TrimSuffix(name, ".") + ".")
	if err != nil {
		ans.Err = fmt.Errorf("dns name %q: %w", name, err)
		return ans
	}
	id := uint16(rand.Uint32())
	msg := dnsmessage.Message{
		Header:    dnsmessage.Header{ID: id, RecursionDesired: true},
		Questions: []dnsmessage.Question{{Name: qname, Type: qtype, Class: dnsmessage.ClassINET}},
	}
	query, err := msg.Pack()
	if err != nil {
		ans.Err = err
		return ans
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "udp", server)
	if err != nil {
		ans.Err = fmt.Errorf("dns %s: %w", server, err)
		return ans
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	if _, err := conn.Write(query); err != nil {
		ans.Err = fmt.Errorf("dns %s: %w", server, err)
		return ans
	}
	buf := make([]byte, 1500)
	for {
		n, err := conn.Read(buf)
		if err != nil {
			ans.Err = fmt.Errorf("dns %s: no answer: %w", server, err)
			return ans
		}
		var resp dnsmessage.Message
		if err := resp.Unpack(buf[:n]); err != nil || resp.Header.ID != id || !resp.Header.Response {
			continue
		}
		ans.RTT = time.Since(ans.At)
		ans.RCode = strings.TrimPrefix(resp.Header.RCode.String(), "RCode")
		for _, rr := range resp.Answers {
			var addr netip.Addr
			switch body := rr.Body.(type) {
			case *dnsmessage.AResource:
				addr = netip.AddrFrom4(body.A)
			case *dnsmessage.AAAAResource:
				addr = netip.AddrFrom16(body.AAAA)
			default:
				continue
			}
			ans.Addrs = append(ans.Addrs, addr)
			ttl := time.Duration(rr.Header.TTL) * time.Second
			if len(ans.Addrs) == 1 || ttl < ans.TTL {
				ans.TTL = ttl
			}
		}
		if resp.Header.RCode != dnsmessage.RCodeSuccess {
			ans.Err = fmt.Errorf("dns %s answered %s for %s", server, ans.RCode, name)
		}
		return ans
	}
}
