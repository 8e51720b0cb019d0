package engine

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/paper"
	"github.com/failwatch/failwatch/internal/testkit"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/failover"
	"github.com/failwatch/failwatch/routeros/rosim"
)

// withBridge is the engine's config with the service's bridge as b.
func withBridge(e *Engine, b config.Bridge) *config.Config {
	next := *e.Config()
	next.Services = slices.Clone(next.Services)
	next.Services[0].Bridge = b
	return &next
}

// A reload that changes a bridge takes effect at once: a bridge refused
// at start for failwatch's own address is checked again and allowed once
// the new config exempts it, and then carries on a failover; a bridge on
// at the router is not changed by a reload (failwatch would lose the rules
// that carry clients) and is named; once it is off, a reload that removes
// it leaves the readings without it.
func TestReloadAppliesABridge(t *testing.T) {
	e, _, c, _ := bridgeRig(t, lanBridge, func(_ *rosim.Router, c *routeros.Client, f *failover.Failover) { writeRows(t, c, f, false) })
	sub := e.Subscribe(1024)
	defer sub.Close()
	refused := func(b *BridgeFacts) bool { return b.Refused != "" && !strings.HasPrefix(b.Refused, "not checked yet") }
	bridgeFacts(t, e, "the bridge refused at start", refused)

	exempted := lanBridge(e.Config().Services[0])
	exempted.Exempt = []netip.Prefix{netip.PrefixFrom(own, 32)}
	// The admin runs setup after the edit: only the router's list exempts.
	if _, err := c.Add(context.Background(), "/ip/firewall/address-list", "list", failover.ExemptList(e.Config().Services[0]), "address", own.String()); err != nil {
		t.Fatal(err)
	}
	res, err := e.Reload(withBridge(e, exempted))
	if err != nil || !slices.Equal(res.Bridges, []string{paper.Name}) || len(res.NeedsRestart) != 0 || !res.Applied() {
		t.Fatalf("reload: %+v %v", res, err)
	}
	testkit.Eventually(t, 10*time.Second, "the reloaded bridge's check", func() bool {
		e.mu.Lock()
		defer e.mu.Unlock()
		r, ok := e.bridgeChecks[paper.Name]
		return ok && r == ""
	})
	bridgeFacts(t, e, "the bridge allowed", func(b *BridgeFacts) bool { return b.Refused == "" && b.State == "off" })
	if res, err := e.Reload(withBridge(e, exempted)); err != nil || res.Applied() || len(res.NeedsRestart) != 0 {
		t.Errorf("the same bridge again: %+v %v", res, err)
	}

	if err := e.Request(Request{Op: OpFailover, By: Requester{User: "t", Role: Operator}}); err != nil {
		t.Fatal(err)
	}
	until(t, sub, func(d Done) bool { return d.Result.Outcome == failover.OutcomeChanged })
	bridgeFacts(t, e, "the reloaded bridge on", func(b *BridgeFacts) bool { return b.State == "on" })

	res, err = e.Reload(withBridge(e, config.Bridge{}))
	if err != nil || res.Applied() || len(res.NeedsRestart) != 1 || !strings.Contains(res.NeedsRestart[0], "on at the router now") {
		t.Fatalf("reload with the bridge on: %+v %v", res, err)
	}
	if err := e.Request(Request{Op: OpRestore, By: Requester{User: "t", Role: Operator}}); err != nil {
		t.Fatal(err)
	}
	until(t, sub, func(d Done) bool { return d.Result.Operation == string(OpRestore) })
	bridgeFacts(t, e, "the bridge off after the restore", func(b *BridgeFacts) bool { return b.State == "off" })
	res, err = e.Reload(withBridge(e, config.Bridge{}))
	if err != nil || !slices.Equal(res.Bridges, []string{paper.Name}) {
		t.Fatalf("reload removing the bridge: %+v %v", res, err)
	}
	testkit.Eventually(t, 10*time.Second, "a reading without the bridge", func() bool {
		f := e.State().Facts[paper.Name]
		return f.Bridge == nil && f.State == FactKnown
	})
}

// A bridge changes at a reload only when a reading says it is off (or
// missing) at the router, or when the service had none.
func TestBridgeHeld(t *testing.T) {
	svc := &service{cfg: config.Service{Name: "www"}}
	svc.cfg.Bridge = lanBridge(svc.cfg)
	for _, tc := range []struct {
		name    string
		bridge  bool
		facts   *BridgeFacts
		changed bool
		want    string
	}{
		{"off", true, &BridgeFacts{State: "off"}, false, ""},
		{"missing", true, &BridgeFacts{State: "missing"}, false, ""},
		{"on", true, &BridgeFacts{State: "on"}, false, "on at the router now"},
		{"partial", true, &BridgeFacts{State: "partial"}, false, "on at the router now"},
		{"unknown", true, &BridgeFacts{State: "unknown", Why: "timeout"}, false, "not known to be off"},
		{"unreadable", true, &BridgeFacts{State: "unreadable"}, false, "not known to be off"},
		{"no reading yet", true, nil, false, "not known to be off"},
		{"none configured", false, nil, false, ""},
		{"its pair changed", false, nil, true, "its servers changed too"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := &Engine{facts: map[string]Facts{"www": {Bridge: tc.facts}}, bridges: map[string]config.Bridge{}}
			if !tc.bridge {
				e.bridges["www"] = config.Bridge{}
			}
			if got := e.bridgeHeld(svc, tc.changed); !strings.HasPrefix(got, tc.want) || (tc.want == "") != (got == "") {
				t.Errorf("held %q, want %q", got, tc.want)
			}
		})
	}
}
