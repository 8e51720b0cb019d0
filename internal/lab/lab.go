package lab

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/dataplane"
	"github.com/failwatch/failwatch/internal/netlab"
	"github.com/failwatch/failwatch/internal/paper"
	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/failover"
	"github.com/failwatch/failwatch/routeros/rosim"
)

// Name is the service name in the lab: the paper's.
const Name = paper.Name

// The paper's round trips, made in user space (the kernel has no netem):
// public about 196 ms (mdev 4.1 ms), private about 2.7 ms (mdev 0.3 ms).
var (
	PublicDelay    = paper.PublicRTT
	PrivateDelay   = paper.PrivateRTT
	errNotSwitched = errors.New("the DNS answer did not change")
)

// Lab is a running lab: a router namespace (Net) forwarding between the
// two servers, two client namespaces, and this namespace (failwatch's
// host, on the router's management link).
type Lab struct {
	Public, Private *netlab.Host
	// Once and Cached are the client namespaces: Once's resolver is the
	// router's DNS, Cached's a caching stub resolver (dnsmasq) in front
	// of it.
	Once, Cached *netlab.Host
	Net          *netlab.Router
	Router       *rosim.Router
	// Plane applies the emulator's NAT rules and connection removals to
	// the router namespace.
	Plane *dataplane.Plane
	// API and DNS are the emulator's loopback addresses.
	API, DNS string
	// ICMP is this namespace's (failwatch's probes, the scenarios'
	// client); routerICMP is the router's own, for its netwatch.
	ICMP, routerICMP *monitor.ICMP
	// PublicWeb and PrivateWeb hold the HTTP status each web server answers.
	PublicWeb, PrivateWeb *atomic.Int32

	cancel  context.CancelFunc
	webs    []*http.Server
	clients *realClients
	// bridge is the run's bridge, which Config gives the service.
	bridge Bridge
}

// The router's interfaces, as the emulator names them: the public server
// on ether1, the private on ether2, the two clients on ether3 and ether4
// (the interface list LAN) and failwatch's host on ether5.
var routerInterfaces = []string{"ether1", "ether2", "ether3", "ether4", "ether5"}

// LAN is the interface list of the clients' interfaces.
const LAN = "LAN"

// New builds the lab with the paper's records and netwatch entries.
func New() (*Lab, error) {
	if err := netlab.Available(); err != nil {
		return nil, err
	}
	if err := dataplane.Available(); err != nil {
		return nil, err
	}
	icmp, err := monitor.NewICMP(config.ICMPAuto)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &Lab{ICMP: icmp, cancel: cancel}
	fail := func(err error) (*Lab, error) {
		l.Close()
		return nil, err
	}
	if l.Net, err = netlab.NewRouter(); err != nil {
		return fail(err)
	}
	for _, h := range []**netlab.Host{&l.Public, &l.Private, &l.Once, &l.Cached} {
		if *h, err = l.Net.AddHost(); err != nil {
			return fail(err)
		}
	}
	if err := l.serveWeb(ctx); err != nil {
		return fail(err)
	}
	if err := l.startRouter(); err != nil {
		return fail(err)
	}
	if l.clients, err = startClients(l); err != nil {
		return fail(err)
	}
	return l, nil
}

// serveWeb starts each server's delayed echo and web server.
func (l *Lab) serveWeb(ctx context.Context) error {
	for _, h := range []struct {
		host  *netlab.Host
		delay [2]time.Duration
		web   **atomic.Int32
	}{{l.Public, PublicDelay, &l.PublicWeb}, {l.Private, PrivateDelay, &l.PrivateWeb}} {
		if err := h.host.DelayEcho(ctx, h.delay[0], h.delay[1]); err != nil {
			return err
		}
		status := &atomic.Int32{}
		status.Store(http.StatusOK)
		*h.web = status
		ln, err := h.host.Listen("tcp", h.host.Addr.String()+":80")
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(int(status.Load()))
		}), ReadHeaderTimeout: 5 * time.Second}
		l.webs = append(l.webs, srv)
		go srv.Serve(ln)
	}
	return nil
}

// startRouter starts the emulator as the router's control plane: its
// netwatch pings from the router namespace, its DNS answers there (port
// 53, for the clients) and on loopback, its API on loopback, and its NAT
// rules and connection removals go to the namespace through the data
// plane. The clients' interfaces are the list LAN.
func (l *Lab) startRouter() error {
	if err := l.Net.In(func() (err error) {
		l.routerICMP, err = monitor.NewICMP(config.ICMPAuto)
		return err
	}); err != nil {
		return fmt.Errorf("the router's netwatch socket: %w", err)
	}
	icmp := l.routerICMP
	l.Router = rosim.New(rosim.Options{Interfaces: routerInterfaces, Probe: func(ctx context.Context, host netip.Addr, _ time.Duration) (time.Duration, bool) {
		s := icmp.Probe(ctx, host)
		return s.RTT, s.OK
	}})
	if err := l.Router.SeedPaperWith(Name, l.Public.Addr.String(), l.Private.Addr.String()); err != nil {
		return err
	}
	api, err := l.Router.ListenAndServe("127.0.0.1:0")
	if err != nil {
		return err
	}
	dns, err := l.Router.ServeDNS("127.0.0.1:0")
	if err != nil {
		return err
	}
	if err := l.Net.In(func() (err error) {
		_, err = l.Router.ServeDNS("0.0.0.0:53")
		return err
	}); err != nil {
		return fmt.Errorf("the router's DNS in its namespace: %w", err)
	}
	l.API, l.DNS = api.String(), dns.String()
	c, err := l.Client()
	if err != nil {
		return err
	}
	defer c.Close()
	for _, words := range [][]string{
		{"/interface/list/add", "=name=" + LAN},
		{"/interface/list/member/add", "=list=" + LAN, "=interface=ether3"},
		{"/interface/list/member/add", "=list=" + LAN, "=interface=ether4"},
	} {
		if _, err := c.Run(context.Background(), words...); err != nil {
			return fmt.Errorf("%s: %w", strings.Join(words, " "), err)
		}
	}
	l.Plane, err = dataplane.Start(dataplane.Options{NS: l.Net.NS, Router: l.Router, Interfaces: l.interfaceMap(), InInterface: l.inInterface})
	return err
}

// interfaceMap maps the emulator's interfaces to the router namespace's.
func (l *Lab) interfaceMap() map[string]string {
	return map[string]string{"ether1": l.Public.Iface, "ether2": l.Private.Iface, "ether3": l.Once.Iface,
		"ether4": l.Cached.Iface, "ether5": l.Net.Mgmt.Dev}
}

// inInterface is the router's interface a packet from src comes in by.
func (l *Lab) inInterface(src netip.Addr) string {
	for i, h := range []*netlab.Host{l.Public, l.Private, l.Once, l.Cached} {
		if h.Addr == src {
			return routerInterfaces[i]
		}
	}
	if src == l.Net.Mgmt.Gateway {
		return "ether5"
	}
	return ""
}

// Close tears everything down, namespaces included.
func (l *Lab) Close() {
	l.cancel()
	if l.clients != nil {
		l.clients.close()
	}
	if l.Plane != nil {
		l.Plane.Close()
	}
	l.ICMP.Close()
	if l.routerICMP != nil {
		l.routerICMP.Close()
	}
	for _, s := range l.webs {
		s.Close()
	}
	if l.Router != nil {
		l.Router.Close()
	}
	if l.Net != nil {
		l.Net.Close()
	}
}

// Config is the failwatch config for the lab.
func (l *Lab) Config() *config.Config {
	cfg := config.Defaults()
	cfg.Router = config.Router{Address: l.API, User: "admin", Timeout: 5 * time.Second}
	svc := paper.Service()
	svc.DNSServer = l.DNS
	if l.bridge == ServiceBridge {
		svc.Bridge = l.bridgeConfig()
	}
	cfg.Services = []config.Service{svc}
	cfg.Servers = paper.Servers(l.Public.Addr.String(), l.Private.Addr.String())
	return &cfg
}

// Client returns an API client of the lab's router.
func (l *Lab) Client() (*routeros.Client, error) {
	c, _, err := routeros.New(routeros.OptionsFrom(l.Config().Router))
	return c, err
}

// Failover returns the operation code for the lab's servers.
func (l *Lab) Failover(c *routeros.Client) *failover.Failover {
	cfg := l.Config()
	return &failover.Failover{Client: c, Service: cfg.Services[0], Primary: cfg.Servers[0], Standby: cfg.Servers[1], User: "lab"}
}

// CutPublic takes the public server down as the paper's scenario 2 did:
// its web service answers 503, and here its pings are dropped too.
func (l *Lab) CutPublic() error {
	l.PublicWeb.Store(http.StatusServiceUnavailable)
	return l.Public.DropEcho(1)
}

// RestorePublic brings it back.
func (l *Lab) RestorePublic() error {
	l.PublicWeb.Store(http.StatusOK)
	return l.Public.ClearFaults()
}

// Answer is what the lab's resolver answers for the name now.
func (l *Lab) Answer(ctx context.Context) netip.Addr {
	qctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	a := monitor.Query(qctx, l.DNS, Name, "A")
	if len(a.Addrs) == 0 {
		return netip.Addr{}
	}
	return a.Addrs[0]
}

// answerPoll is how often WaitAnswer asks: on failwatch's path the answer
// changes 1 to 3 ms after the DOWN (the policy's reading, the records'
// writes, the cache flush), so a poll every 20 ms (before issue 28) added
// its own 10 ms on average to the switch it timed.
const answerPoll = 5 * time.Millisecond

// WaitAnswer polls the resolver every answerPoll until it answers want, and
// returns when it first did.
func (l *Lab) WaitAnswer(ctx context.Context, want netip.Addr, limit time.Duration) (time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	for {
		if l.Answer(ctx) == want {
			return time.Now(), nil
		}
		select {
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("%w to %s within %s", errNotSwitched, want, limit)
		case <-time.After(answerPoll):
		}
	}
}

// PingName is the paper's client: count pings at interval to whatever the
// service name resolves to at that moment. before is called before each
// probe with its index (to inject a fault during the run). It returns the
// samples and the address each probe went to.
func (l *Lab) PingName(ctx context.Context, count int, interval time.Duration, before func(int)) ([]monitor.Sample, []netip.Addr) {
	s := monitor.NewSeries(count)
	var targets []netip.Addr
	t := time.NewTicker(interval)
	defer t.Stop()
	for i := range count {
		if before != nil {
			before(i)
		}
		addr := l.Answer(ctx)
		targets = append(targets, addr)
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		if addr.IsValid() {
			s.Add(l.ICMP.Probe(pctx, addr))
		} else {
			s.Add(monitor.Sample{At: time.Now(), Err: "name did not resolve"})
		}
		cancel()
		if i < count-1 {
			select {
			case <-ctx.Done():
				return s.Samples(), targets
			case <-t.C:
			}
		}
	}
	return s.Samples(), targets
}
