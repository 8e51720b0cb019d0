package rosim

import (
	"errors"
	"net"
	"net/netip"
	"strings"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/failwatch/failwatch/config"
)

// ServeDNS answers DNS queries on a UDP address from the enabled static
// records, with their TTLs, as the router's resolver does for names it holds.
// It forwards nothing: any other name gets SERVFAIL. It returns the bound
// address and serves until the router is closed.
func (r *Router) ServeDNS(addr string) (net.Addr, error) {
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, err
	}
	r.conns.Add(1)
	go func() {
		defer r.conns.Done()
		<-r.ctx.Done()
		pc.Close()
	}()
	r.conns.Add(1)
	go func() {
		defer r.conns.Done()
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				continue
			}
			r.mu.Lock()
			r.dnsQueries++
			r.mu.Unlock()
			if resp := r.answer(buf[:n]); resp != nil {
				pc.WriteTo(resp, from)
			}
		}
	}()
	return pc.LocalAddr(), nil
}

// DNSQueries counts the packets the DNS server was sent, for tests and
// benchmarks of how often a client asks.
func (r *Router) DNSQueries() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dnsQueries
}

// answer builds the reply to one query, or nil for a packet not worth one.
func (r *Router) answer(query []byte) []byte {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil || h.Response {
		return nil
	}
	q, err := p.Question()
	if err != nil {
		return nil
	}
	resp := dnsmessage.Message{
		Header:    dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired, RecursionAvailable: true},
		Questions: []dnsmessage.Question{q},
	}
	name := strings.TrimSuffix(strings.ToLower(q.Name.String()), ".")
	r.mu.Lock()
	known := false
	for _, row := range r.static.rows {
		if !strings.EqualFold(row["name"], name) {
			continue
		}
		known = true
		if row["disabled"] == "true" {
			continue
		}
		addr, err := netip.ParseAddr(row["address"])
		if err != nil {
			continue
		}
		ttl, _ := config.ParseDuration(row["ttl"])
		rh := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: uint32(ttl.Seconds())}
		switch {
		case q.Type == dnsmessage.TypeA && addr.Is4():
			rh.Type = dnsmessage.TypeA
			resp.Answers = append(resp.Answers, dnsmessage.Resource{Header: rh, Body: &dnsmessage.AResource{A: addr.As4()}})
		case q.Type == dnsmessage.TypeAAAA && addr.Is6():
			rh.Type = dnsmessage.TypeAAAA
			resp.Answers = append(resp.Answers, dnsmessage.Resource{Header: rh, Body: &dnsmessage.AAAAResource{AAAA: addr.As16()}})
		}
	}
	r.mu.Unlock()
	if !known {
		resp.Header.RCode = dnsmessage.RCodeServerFailure
		resp.Header.Authoritative = false
	}
	out, err := resp.Pack()
	if err != nil {
		return nil
	}
	return out
}
