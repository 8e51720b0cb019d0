package engine

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/engine/enginetest"
	"github.com/failwatch/failwatch/internal/paper"
	"github.com/failwatch/failwatch/internal/testkit"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/failover"
	"github.com/failwatch/failwatch/routeros/rosim"
)

// failwatch's own address in these tests, as the kernel would pick it
// towards the primary (the tests send nothing to the primary).
var own = netip.MustParseAddr("192.168.88.2")

// lanBridge is a bridge for the LAN's clients, tcp 443 and icmp.
func lanBridge(svc config.Service) config.Bridge {
	return config.Bridge{Mode: config.BridgeNAT, SrcAddresses: []netip.Prefix{netip.MustParsePrefix("192.168.88.0/24")},
		TCP: []int{443}, ICMP: true, Until: config.UntilRestore, Comment: "failwatch bridge " + svc.Name}
}

// bridgeRig runs an engine on the paper's emulated router with the
// service's bridge as bridge says; seed writes what the router holds
// before the engine starts.
func bridgeRig(t *testing.T, bridge func(config.Service) config.Bridge, seed func(*rosim.Router, *routeros.Client, *failover.Failover)) (*Engine, *rosim.Router, *routeros.Client, string) {
	t.Helper()
	r, api := testkit.Emulator(t, rosim.Options{})
	cfg := enginetest.PaperConfig(api)
	cfg.Services[0].Bridge = bridge(cfg.Services[0])
	c, f := serviceFailover(t, cfg)
	seed(r, c, f)
	audit := filepath.Join(t.TempDir(), "audit.jsonl")
	e, _ := runEngine(t, cfg, enginetest.PaperSims(), Options{User: "tester", AuditLog: audit,
		LocalAddr: func(netip.Addr) (netip.Addr, error) { return own, nil }})
	return e, r, c, audit
}

// serviceFailover is a client of cfg's router, closed when the test ends,
// and the first service's failover through it, as setup's.
func serviceFailover(t *testing.T, cfg *config.Config) (*routeros.Client, *failover.Failover) {
	t.Helper()
	c, _, err := routeros.New(routeros.OptionsFrom(cfg.Router))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, failover.ForService(cfg, cfg.Services[0], c, "setup", nil)
}

// writeRows writes the bridge's rows as setup does, failwatch's own
// address in its exempt list when exemptOwn.
func writeRows(t *testing.T, c *routeros.Client, f *failover.Failover, exemptOwn bool) {
	t.Helper()
	var owns []netip.Addr
	if exemptOwn {
		owns = []netip.Addr{own}
	}
	addItems(t, c, failover.BridgeItems(f.Service, f.Primary, f.Standby, owns))
}

// addItems adds rows to the router, each as its menu and properties say.
func addItems(t *testing.T, c *routeros.Client, items []failover.BridgeItem) {
	t.Helper()
	for _, it := range items {
		var kv []string
		for _, p := range it.Props {
			kv = append(kv, p[0], p[1])
		}
		if _, err := c.Add(context.Background(), it.Menu, kv...); err != nil {
			t.Fatalf("%s add %v: %v", it.Menu, kv, err)
		}
	}
}

// bridgeFacts waits for the service's bridge facts to say what ok wants.
func bridgeFacts(t *testing.T, e *Engine, what string, ok func(*BridgeFacts) bool) *BridgeFacts {
	t.Helper()
	return testkit.EventuallyLast(t, 10*time.Second, what, func() (*BridgeFacts, bool) {
		b := e.State().Facts[paper.Name].Bridge
		return b, b != nil && ok(b)
	})
}

// bridgeRefused waits for the start-up check to refuse the service's
// bridge, and returns the facts saying why.
func bridgeRefused(t *testing.T, e *Engine) *BridgeFacts {
	t.Helper()
	return bridgeFacts(t, e, "the bridge refused", func(b *BridgeFacts) bool { return b.Refused != "" && !strings.HasPrefix(b.Refused, "not checked yet") })
}

// bridgeAllowed waits for the start-up check to allow the service's
// bridge.
func bridgeAllowed(t *testing.T, e *Engine) {
	t.Helper()
	testkit.Eventually(t, 10*time.Second, "the start-up check", func() bool {
		e.mu.Lock()
		defer e.mu.Unlock()
		refused, ok := e.bridgeChecks[paper.Name]
		return ok && refused == ""
	})
}

// exemptRig is bridgeRig with lanBridge, its rows written with
// failwatch's own address exempt, once the start-up check allowed it; a
// bridge that failed is tried again at once.
func exemptRig(t *testing.T) (*Engine, *rosim.Router, string) {
	t.Helper()
	e, r, _, audit := bridgeRig(t, lanBridge, func(_ *rosim.Router, c *routeros.Client, f *failover.Failover) { writeRows(t, c, f, true) })
	e.mu.Lock()
	e.bridgeRetryAfter = 0
	e.mu.Unlock()
	bridgeAllowed(t, e)
	return e, r, audit
}

// bridgeRetried waits for the engine's own operation trying the bridge
// again (op) to end well and the bridge to be in state, the records
// unmoved on active.
func bridgeRetried(t *testing.T, e *Engine, sub *Subscription, op, state, active string) {
	t.Helper()
	retry := until(t, sub, func(d Done) bool { return d.Result.Operation == op })
	if retry.Err != nil || retry.By != "bridge" {
		t.Fatalf("retry: %+v", retry)
	}
	bridgeFacts(t, e, "the bridge "+state, func(b *BridgeFacts) bool { return b.State == state })
	if f := e.State().Facts[paper.Name]; f.Active != active {
		t.Errorf("records: %s", f.Active)
	}
}

// addRows adds rows to the router, each its menu then its properties'
// keys and values.
func addRows(t *testing.T, c *routeros.Client, rows [][]string) {
	t.Helper()
	for _, add := range rows {
		if _, err := c.Add(context.Background(), add[0], add[1:]...); err != nil {
			t.Fatal(err)
		}
	}
}

// A bridge whose interface list holds the WAN interface is refused at
// start: said in the facts and the log, and a failover moves the records
// without it.
func TestBridgeRefusedWhenItsListHoldsTheWAN(t *testing.T) {
	e, _, c, _ := bridgeRig(t, func(svc config.Service) config.Bridge {
		b := lanBridge(svc)
		b.SrcAddresses, b.InInterfaceList, b.Exempt = nil, "LAN", []netip.Prefix{netip.PrefixFrom(own, 32)}
		return b
	}, func(r *rosim.Router, c *routeros.Client, f *failover.Failover) {
		addRows(t, c, [][]string{
			{"/interface/list", "name", "LAN"},
			{"/interface/list/member", "list", "LAN", "interface", "ether1"},
			{"/interface/list/member", "list", "LAN", "interface", "ether2"},
			{"/ip/route", "gateway", "203.0.113.1%ether1"},
		})
		writeRows(t, c, f, true)
	})
	sub := e.Subscribe(256)
	defer sub.Close()
	b := bridgeRefused(t, e)
	if !strings.Contains(b.Refused, "holds ether1, the default route's (WAN) interface") || b.State != "off" {
		t.Fatalf("facts %+v", b)
	}
	until(t, sub, func(n PolicyNote) bool { return n.Refused && strings.Contains(n.Text, "bridge refused") })
	if err := e.Request(Request{Op: OpFailover, By: Requester{User: "t", Role: Operator}}); err != nil {
		t.Fatal(err)
	}
	until(t, sub, func(d Done) bool { return d.Result.Outcome == failover.OutcomeChanged })
	nat, _ := c.NATRules(context.Background(), routeros.IPv4, "failwatch bridge ")
	for _, r := range nat {
		if !r.Disabled {
			t.Errorf("a refused bridge's rule was enabled: %+v", r)
		}
	}
}

// failwatch's own address among the clients and not exempt: refused. On
// the router's exempt list: allowed, and the probe-loop guard holds with
// the bridge on and the primary dead: a probe from failwatch's address to
// the primary is not carried while a client's connection is, so the
// probes keep seeing the dead primary down and the policy cannot restore
// and fail over in a loop.
func TestBridgeOwnAddressAndProbeLoopGuard(t *testing.T) {
	t.Run("not exempt", func(t *testing.T) {
		e, _, _, _ := bridgeRig(t, lanBridge, func(_ *rosim.Router, c *routeros.Client, f *failover.Failover) { writeRows(t, c, f, false) })
		b := bridgeRefused(t, e)
		if !strings.Contains(b.Refused, "192.168.88.2") || !strings.Contains(b.Refused, "not exempt") {
			t.Errorf("refused %q", b.Refused)
		}
	})
	t.Run("in bridge.exempt but not on the router", func(t *testing.T) {
		// The admin added failwatch's address to the config and did not run
		// setup: only the router's list exempts anyone.
		e, _, _, _ := bridgeRig(t, func(svc config.Service) config.Bridge {
			b := lanBridge(svc)
			b.Exempt = []netip.Prefix{netip.PrefixFrom(own, 32)}
			return b
		}, func(_ *rosim.Router, c *routeros.Client, f *failover.Failover) {
			before := *f
			before.Service.Bridge.Exempt = nil
			writeRows(t, c, &before, false)
		})
		b := bridgeRefused(t, e)
		if !strings.Contains(b.Refused, "not exempt") || !strings.Contains(b.Refused, "run failwatch setup") {
			t.Errorf("refused %q", b.Refused)
		}
	})
	t.Run("exempt", func(t *testing.T) {
		e, r, c, _ := bridgeRig(t, lanBridge, func(_ *rosim.Router, c *routeros.Client, f *failover.Failover) { writeRows(t, c, f, true) })
		sub := e.Subscribe(256)
		defer sub.Close()
		bridgeAllowed(t, e)
		if err := e.Request(Request{Op: OpFailover, By: Requester{User: "t", Role: Operator}}); err != nil {
			t.Fatal(err)
		}
		until(t, sub, func(d Done) bool { return d.Result.Outcome == failover.OutcomeChanged })
		probe := trackTo(t, r, c, netip.AddrPortFrom(own, 40000))
		client := trackTo(t, r, c, netip.MustParseAddrPort("192.168.88.10:50000"))
		if probe != paper.PublicAddress || client != paper.PrivateAddress {
			t.Errorf("with the bridge on, the probe is answered by %s (want the primary), the client by %s (want the standby)", probe, client)
		}
		b := bridgeFacts(t, e, "the bridge on, carrying the client", func(b *BridgeFacts) bool { return b.State == "on" && b.Connections == 1 })
		if b.Since.IsZero() || b.From != paper.PublicAddress || b.To != paper.PrivateAddress || b.Scope != "192.168.88.0/24 (tcp 443; icmp)" {
			t.Errorf("facts %+v", b)
		}
	})
}

// trackTo opens a tcp connection to the primary's 443 and says who answers.
func trackTo(t *testing.T, r *rosim.Router, c *routeros.Client, src netip.AddrPort) string {
	t.Helper()
	id, err := r.Track(rosim.Conn{Protocol: "tcp", Src: src, Dst: netip.MustParseAddrPort(paper.PublicAddress + ":443")})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := c.Run(context.Background(), "/ip/firewall/connection/print", "?.id="+id)
	if err != nil || len(rep.Rows) != 1 {
		t.Fatalf("%v, %v", rep, err)
	}
	return routeros.ConnectionFrom(rep.Rows[0]).ReplySrc.Addr().String()
}

// A ttl bridge found on past its end time, as after a restart, is turned
// off by the engine, audited as "end bridge", the records unmoved.
func TestBridgeEndedWhenDueAfterRestart(t *testing.T) {
	e, _, c, audit := bridgeRig(t, func(svc config.Service) config.Bridge {
		b := lanBridge(svc)
		b.Until, b.Exempt = config.UntilTTL, []netip.Prefix{netip.PrefixFrom(own, 32)}
		return b
	}, func(_ *rosim.Router, c *routeros.Client, f *failover.Failover) {
		writeRows(t, c, f, true)
		ctx := context.Background()
		nat, _ := c.NATRules(ctx, routeros.IPv4, failover.BridgeComment(f.Service)+" ")
		for _, r := range nat {
			comment := r.Comment
			if !strings.HasSuffix(comment, " exempt") {
				comment += " until 2026-01-01T00:00:00Z"
			}
			if err := c.Set(ctx, "/ip/firewall/nat", r.ID, "disabled", "no", "comment", comment); err != nil {
				t.Fatal(err)
			}
		}
	})
	bridgeFacts(t, e, "the bridge off", func(b *BridgeFacts) bool { return b.State == "off" })
	nat, _ := c.NATRules(context.Background(), routeros.IPv4, "failwatch bridge ")
	for _, r := range nat {
		if !r.Disabled || strings.Contains(r.Comment, "until") {
			t.Errorf("after the end: %+v", r)
		}
	}
	if f := e.State().Facts[paper.Name]; f.Active != "public" {
		t.Errorf("records moved: %s", f.Active)
	}
	testkit.Eventually(t, 5*time.Second, "the audit line", func() bool {
		b, err := os.ReadFile(audit)
		return err == nil && strings.Count(string(b), "\n") == 1 && strings.Contains(string(b), `"operation":"end bridge"`)
	})
}

// The kernel's source address towards a loopback address is found without
// a packet sent (a UDP socket's connect).
func TestKernelLocalAddr(t *testing.T) {
	got, err := routeros.LocalAddr(netip.MustParseAddr("127.0.0.2"))
	if err != nil || !got.IsLoopback() {
		t.Fatalf("%s, %v", got, err)
	}
}

// A bridge the router refused to turn on with the failover is tried again
// by the engine, the records unmoved, and comes on.
func TestBridgeRetriedAfterAFailure(t *testing.T) {
	e, r, audit := exemptRig(t)
	r.Inject("/ip/firewall/nat/set", 0, rosim.Fault{Kind: rosim.FaultTrap, Message: "failure: item is locked"})
	sub := e.Subscribe(256)
	defer sub.Close()
	if err := e.Request(Request{Op: OpFailover, By: Requester{User: "t", Role: Operator}}); err != nil {
		t.Fatal(err)
	}
	first := until(t, sub, func(d Done) bool { return d.Result.Service == paper.Name })
	if first.Err != nil || first.Result.Outcome != failover.OutcomeChanged || !strings.Contains(strings.Join(first.Result.Notes, " "), "turning the bridge on failed") {
		t.Fatalf("first: %s %v %v", first.Result.Outcome, first.Err, first.Result.Notes)
	}
	bridgeRetried(t, e, sub, "bridge retry", "on", "private")
	b, _ := os.ReadFile(audit)
	if strings.Count(string(b), "\n") != 2 || !strings.Contains(string(b), `"user":"bridge","operation":"failover"`) || !strings.Contains(string(b), "trying again (1 of 3)") {
		t.Errorf("audit:\n%s", b)
	}
}

// A bridge the router refused to turn off with the restore is turned off
// by the engine, the records unmoved (on the primary): a bridge left on
// would carry the clients of a primary that is back to the standby.
func TestBridgeOffRetriedAfterAFailure(t *testing.T) {
	e, r, _ := exemptRig(t)
	sub := e.Subscribe(256)
	defer sub.Close()
	if err := e.Request(Request{Op: OpFailover, By: Requester{User: "t", Role: Operator}}); err != nil {
		t.Fatal(err)
	}
	until(t, sub, func(d Done) bool { return d.Result.Service == paper.Name })
	bridgeFacts(t, e, "the bridge on", func(b *BridgeFacts) bool { return b.State == "on" })
	r.Inject("/ip/firewall/nat/set", 0, rosim.Fault{Kind: rosim.FaultTrap, Message: "failure: item is locked"})
	if err := e.Request(Request{Op: OpRestore, By: Requester{User: "t", Role: Operator}}); err != nil {
		t.Fatal(err)
	}
	restore := until(t, sub, func(d Done) bool { return d.Result.Operation == "restore" })
	if restore.Err != nil || !strings.Contains(strings.Join(restore.Result.Notes, " "), "turning the bridge off failed") {
		t.Fatalf("restore: %s %v %v", restore.Result.Outcome, restore.Err, restore.Result.Notes)
	}
	bridgeRetried(t, e, sub, "bridge off retry", "off", "public")
}

// A ttl bridge turned on without an end time (by setup's netwatch scripts,
// failwatch not running) is given one, first seen on plus the records' TTL
// plus the margin, and turned off then.
func TestBridgeWithoutAnEndTimeGetsOne(t *testing.T) {
	e, _, c, _ := bridgeRig(t, func(svc config.Service) config.Bridge {
		b := lanBridge(svc)
		b.Until, b.Margin = config.UntilTTL, time.Second
		return b
	}, func(_ *rosim.Router, c *routeros.Client, f *failover.Failover) {
		writeRows(t, c, f, true)
		ctx := context.Background()
		recs, err := c.StaticRecords(ctx, paper.Name)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if err := c.Set(ctx, "/ip/dns/static", r.ID, "ttl", "1s"); err != nil {
				t.Fatal(err)
			}
		}
		nat, _ := c.NATRules(ctx, routeros.IPv4, failover.BridgeComment(f.Service)+" ")
		for _, r := range nat {
			if err := c.Set(ctx, "/ip/firewall/nat", r.ID, "disabled", "no"); err != nil {
				t.Fatal(err)
			}
		}
	})
	start := time.Now()
	on := bridgeFacts(t, e, "the bridge on with an end time", func(b *BridgeFacts) bool { return b.State == "on" && !b.Until.IsZero() })
	if on.Until.Before(start.Add(2*time.Second-100*time.Millisecond)) || on.Until.After(time.Now().Add(2*time.Second)) {
		t.Errorf("until %s, want first seen + 1s TTL + 1s margin (started %s)", on.Until, start)
	}
	bridgeFacts(t, e, "the bridge off", func(b *BridgeFacts) bool { return b.State == "off" })
	nat, _ := c.NATRules(context.Background(), routeros.IPv4, "failwatch bridge ")
	for _, r := range nat {
		if !r.Disabled {
			t.Errorf("after the end: %+v", r)
		}
	}
}

// failwatch's own address in the exempt list only by an entry that runs
// out is not exempt: the start-up check refuses the bridge.
func TestBridgeTimedExemptionIsNoExemption(t *testing.T) {
	e, _, _, _ := bridgeRig(t, lanBridge, func(_ *rosim.Router, c *routeros.Client, f *failover.Failover) {
		writeRows(t, c, f, false)
		if _, err := c.Add(context.Background(), "/ip/firewall/address-list", "list", failover.ExemptList(f.Service), "address", own.String(), "timeout", "1d"); err != nil {
			t.Fatal(err)
		}
	})
	b := bridgeRefused(t, e)
	if !strings.Contains(b.Refused, "not exempt") {
		t.Errorf("refused %q", b.Refused)
	}
}

// A default route that does not say its interface leaves the WAN untold,
// even when another default route names its own: the bridge is refused,
// not allowed on the strength of the one that could be told.
func TestBridgeRefusedWhenAWANCannotBeTold(t *testing.T) {
	e, _, _, _ := bridgeRig(t, func(svc config.Service) config.Bridge {
		b := lanBridge(svc)
		b.SrcAddresses, b.InInterfaceList = nil, "LAN"
		return b
	}, func(r *rosim.Router, c *routeros.Client, f *failover.Failover) {
		addRows(t, c, [][]string{
			{"/interface/list", "name", "LAN"},
			{"/interface/list/member", "list", "LAN", "interface", "ether2"},
			{"/ip/route", "gateway", "203.0.113.1%ether1"},
			{"/ip/route", "gateway", "198.51.100.1"},
		})
		writeRows(t, c, f, true)
	})
	b := bridgeRefused(t, e)
	if !strings.Contains(b.Refused, "198.51.100.1") || !strings.Contains(b.Refused, "cannot tell the WAN interface") {
		t.Errorf("refused %q", b.Refused)
	}
}
