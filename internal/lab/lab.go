package lab

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/failwatch/failwatch/config"
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

// Lab is a running lab.
type Lab struct {
	Public, Private *netlab.Host
	Router          *rosim.Router
	// API and DNS are the emulator's loopback addresses.
	API, DNS string
	ICMP     *monitor.ICMP
	// PublicWeb and PrivateWeb hold the HTTP status each web server answers.
	PublicWeb, PrivateWeb *atomic.Int32

	cancel context.CancelFunc
	webs   []*http.Server
}

// New builds the lab with the paper's records and netwatch entries.
func New() (*Lab, error) {
	if err := netlab.Available(); err != nil {
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
	if l.Public, err = netlab.NewHost(); err != nil {
		return fail(err)
	}
	if l.Private, err = netlab.NewHost(); err != nil {
		return fail(err)
	}
	for _, h := range []struct {
		host  *netlab.Host
		delay [2]time.Duration
		web   **atomic.Int32
	}{{l.Public, PublicDelay, &l.PublicWeb}, {l.Private, PrivateDelay, &l.PrivateWeb}} {
		if err := h.host.DelayEcho(ctx, h.delay[0], h.delay[1]); err != nil {
			return fail(err)
		}
		status := &atomic.Int32{}
		status.Store(http.StatusOK)
		*h.web = status
		ln, err := h.host.Listen("tcp", h.host.Addr.String()+":80")
		if err != nil {
			return fail(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(int(status.Load()))
		}), ReadHeaderTimeout: 5 * time.Second}
		l.webs = append(l.webs, srv)
		go srv.Serve(ln)
	}
	l.Router = rosim.New(rosim.Options{Probe: func(ctx context.Context, host netip.Addr, _ time.Duration) (time.Duration, bool) {
		s := icmp.Probe(ctx, host)
		return s.RTT, s.OK
	}})
	if err := l.Router.SeedPaperWith(Name, l.Public.Addr.String(), l.Private.Addr.String()); err != nil {
		return fail(err)
	}
	api, err := l.Router.ListenAndServe("127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	dns, err := l.Router.ServeDNS("127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	l.API, l.DNS = api.String(), dns.String()
	return l, nil
}

// Close tears everything down, namespaces included.
func (l *Lab) Close() {
	l.cancel()
	l.ICMP.Close()
	for _, s := range l.webs {
		s.Close()
	}
	if l.Router != nil {
		l.Router.Close()
	}
	for _, h := range []*netlab.Host{l.Public, l.Private} {
		if h != nil {
			h.Close()
		}
	}
}

// Config is the failwatch config for the lab.
func (l *Lab) Config() *config.Config {
	cfg := config.Defaults()
	cfg.Router = config.Router{Address: l.API, User: "admin", Timeout: 5 * time.Second}
	svc := paper.Service()
	svc.DNSServer = l.DNS
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

// WaitAnswer polls the resolver every 20 ms until it answers want, and
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
		case <-time.After(20 * time.Millisecond):
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
