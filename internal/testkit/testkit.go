package testkit

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/failwatch/failwatch/routeros/rosim"
)

// Emulator starts a router seeded with the paper's setup on loopback and
// stops it when the test ends; it returns the router and its API address.
func Emulator(t testing.TB, opts rosim.Options) (*rosim.Router, string) {
	t.Helper()
	r := rosim.New(opts)
	if err := r.SeedPaper(); err != nil {
		r.Close()
		t.Fatal(err)
	}
	return r, Start(t, r)
}

// Start serves a router's API on loopback and closes the router when the
// test ends; it returns the API address.
func Start(t testing.TB, r *rosim.Router) string {
	t.Helper()
	t.Cleanup(r.Close)
	addr, err := r.ListenAndServe("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return addr.String()
}

// Hangup drops every API session of an emulator, as a network outage
// would, and returns once the router has closed them all: from then on a
// client's kept connection is dead, so its next call sees the drop.
func Hangup(t testing.TB, r *rosim.Router) {
	t.Helper()
	r.DropConnections()
	Eventually(t, 2*time.Second, "the router closed every API session", func() bool { return r.Sessions() == 0 })
}

// Record is one name's pair of static records on an emulator: the
// primary's address enabled, the standby's disabled.
type Record struct{ Name, Primary, Standby string }

// ServicesEmulator starts a router holding the records of several names
// (no netwatch) with its API and DNS on loopback, stopped when the test
// ends; it returns the router and the two addresses.
func ServicesEmulator(t testing.TB, records []Record) (r *rosim.Router, api, dns string) {
	t.Helper()
	r = rosim.New(rosim.Options{})
	var script strings.Builder
	script.WriteString("/ip dns static\n")
	for _, rec := range records {
		fmt.Fprintf(&script, "add name=%s address=%s ttl=30s\n", rec.Name, rec.Primary)
		fmt.Fprintf(&script, "add name=%s address=%s ttl=30s disabled=yes\n", rec.Name, rec.Standby)
	}
	if err := r.Import(script.String()); err != nil {
		r.Close()
		t.Fatal(err)
	}
	api = Start(t, r)
	dnsAddr, err := r.ServeDNS("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return r, api, dnsAddr.String()
}

// ThreeServices are three names over three servers, core (192.0.2.1)
// carrying www and api as their primary, edge (.2) mail and api's standby,
// backup (.3) the standby of www and mail.
var ThreeServices = []Record{
	{"www.example.test", "192.0.2.1", "192.0.2.3"},
	{"api.example.test", "192.0.2.1", "192.0.2.2"},
	{"mail.example.test", "192.0.2.2", "192.0.2.3"},
}

// ReportLatency adds the median and p95 of measured latencies to a
// benchmark's figures.
func ReportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2])/1e6, "median-ms")
	b.ReportMetric(float64(lat[(len(lat)*95+99)/100-1])/1e6, "p95-ms")
}

// LookupA asks a DNS server (host:port, UDP) for a name's A records; an
// error comes back as the one answer "error: ...".
func LookupA(t testing.TB, server, name string) []string {
	t.Helper()
	res := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return new(net.Dialer).DialContext(ctx, "udp", server)
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	addrs, err := res.LookupNetIP(ctx, "ip4", name)
	if err != nil {
		return []string{"error: " + err.Error()}
	}
	out := make([]string, len(addrs))
	for i, a := range addrs {
		out[i] = a.String()
	}
	return out
}

// Serve listens on a loopback port and hands each connection to handle in
// a goroutine of its own; a connection handle leaves open stays open (a
// peer that never answers) until the test ends, when the listener and
// every connection are closed.
func Serve(t testing.TB, handle func(net.Conn)) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go handle(c)
		}
	}()
	return ln
}

// AcceptTCP listens on a loopback port that accepts every connection and
// closes it at once: a TCP check's "open port". Closing the listener early
// turns it into a refused one; it is closed when the test ends anyway.
func AcceptTCP(t testing.TB) net.Listener {
	t.Helper()
	return Serve(t, func(c net.Conn) { c.Close() })
}
