package failover

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/paper"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/rosim"
)

// natRule is the id of the service's bridge rule of a kind.
func natRule(t *testing.T, c *routeros.Client, f *Failover, kind string) string {
	t.Helper()
	nat, err := c.NATRules(context.Background(), routeros.IPv4, BridgeComment(f.Service)+" "+kind)
	if err != nil || len(nat) != 1 {
		t.Fatalf("rule %s: %v %v", kind, nat, err)
	}
	return nat[0].ID
}

// The bridge is never turned on when its rules would carry failwatch's own
// probes or more than setup wrote: the exemption missing, standing after a
// rule that carries, or changed; a carrying rule with a matcher taken
// away or added. The records move all the same, and failwatch's own probe
// of the primary still reaches the primary.
func TestBridgeRefusesRulesNotAsWritten(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, why string
		edit      func(t *testing.T, c *routeros.Client, f *Failover)
	}{
		{"exemption removed", "is missing", func(t *testing.T, c *routeros.Client, f *Failover) {
			if err := c.Remove(ctx, "/ip/firewall/nat", natRule(t, c, f, BridgeExempt)); err != nil {
				t.Fatal(err)
			}
		}},
		{"exemption after the carrying rules", "stands after", func(t *testing.T, c *routeros.Client, f *Failover) {
			// What a second setup run wrote before place-before: the
			// exemption removed, then added again at the end.
			if err := c.Remove(ctx, "/ip/firewall/nat", natRule(t, c, f, BridgeExempt)); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Add(ctx, "/ip/firewall/nat", "chain", "dstnat", "action", "accept", "dst-address", paper.PublicAddress,
				"src-address-list", ExemptList(f.Service), "disabled", "yes", "comment", BridgeComment(f.Service)+" exempt"); err != nil {
				t.Fatal(err)
			}
		}},
		{"exemption for another list", "src-address-list", func(t *testing.T, c *routeros.Client, f *Failover) {
			if err := c.Set(ctx, "/ip/firewall/nat", natRule(t, c, f, BridgeExempt), "src-address-list", "nobody"); err != nil {
				t.Fatal(err)
			}
		}},
		{"carrying every port", "protocol", func(t *testing.T, c *routeros.Client, f *Failover) {
			if err := c.Set(ctx, "/ip/firewall/nat", natRule(t, c, f, BridgeTCP), "dst-port", "", "protocol", ""); err != nil {
				t.Fatal(err)
			}
		}},
		{"carrying every source", "src-address-list", func(t *testing.T, c *routeros.Client, f *Failover) {
			if err := c.Set(ctx, "/ip/firewall/nat", natRule(t, c, f, BridgeTCP), "src-address-list", ""); err != nil {
				t.Fatal(err)
			}
		}},
		{"a matcher setup does not write", "out-interface", func(t *testing.T, c *routeros.Client, f *Failover) {
			if err := c.Set(ctx, "/ip/firewall/nat", natRule(t, c, f, BridgeICMP), "out-interface", "ether2"); err != nil {
				t.Fatal(err)
			}
		}},
		{"a protocol not configured", "udp", func(t *testing.T, c *routeros.Client, f *Failover) {
			if _, err := c.Add(ctx, "/ip/firewall/nat", "chain", "dstnat", "action", "dst-nat", "dst-address", paper.PublicAddress,
				"to-addresses", paper.PrivateAddress, "protocol", "udp", "disabled", "yes", "comment", BridgeComment(f.Service)+" udp"); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, c, f, _, _ := bridgeRig(t, rosim.Options{}, lanBridge(config.UntilRestore))
			tc.edit(t, c, f)
			res, err := f.FailoverToStandby(ctx, false)
			if err != nil || res.Outcome != OutcomeChanged || !slices.Equal(enabled(t, c), []string{paper.PrivateAddress}) {
				t.Fatalf("records: %s, %v", res.Outcome, err)
			}
			if got := bridgeState(t, c, f); got != BridgeOff {
				t.Errorf("bridge %s, want off", got)
			}
			if !slices.ContainsFunc(res.Notes, func(n string) bool { return strings.Contains(n, tc.why) }) {
				t.Errorf("notes %v, want one saying %q", res.Notes, tc.why)
			}
			if got := replyFrom(t, c, track(t, r, "tcp", netip.AddrPortFrom(ownAddr, 40000), 443)); got != paper.PublicAddress {
				t.Errorf("failwatch's own probe answered by %s", got)
			}
		})
	}
}

// setup --apply run again after the exemption was removed puts it back
// before the rules that carry (place-before), and one that stands after
// them is written again before them and the misplaced one removed: a
// failover then turns the bridge on, and failwatch's own probe stays on
// the primary.
func TestSetupPutsTheExemptionFirst(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		edit func(t *testing.T, c *routeros.Client, id string)
	}{
		{"removed", func(t *testing.T, c *routeros.Client, id string) {
			if err := c.Remove(ctx, "/ip/firewall/nat", id); err != nil {
				t.Fatal(err)
			}
		}},
		{"after the carrying rules", func(t *testing.T, c *routeros.Client, id string) {
			r, err := c.Run(ctx, "/ip/firewall/nat/print", "?.id="+id)
			if err != nil || len(r.Rows) != 1 {
				t.Fatal(r, err)
			}
			if err := c.Remove(ctx, "/ip/firewall/nat", id); err != nil {
				t.Fatal(err)
			}
			var kv []string
			for _, k := range []string{"chain", "action", "dst-address", "src-address-list", "disabled", "comment"} {
				kv = append(kv, k, r.Rows[0][k])
			}
			if _, err := c.Add(ctx, "/ip/firewall/nat", kv...); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, addr := emulator(t, rosim.Options{})
			c := client(t, addr, "admin", "")
			s := bridgedSetup()
			applySetup(t, s, c)
			tc.edit(t, c, natRule(t, c, &Failover{Service: s.Service}, BridgeExempt))
			applySetup(t, s, c)
			f, _, _ := paperFailover(t, c, config.Toggle)
			f.Service.Bridge = s.Service.Bridge
			rules := bridgeRules(t, c, routeros.IPv4, f.Service)
			if len(rules) == 0 || rules[0].Kind != BridgeExempt || len(rules) != 3 {
				t.Fatalf("rules after setup: %+v", rules)
			}
			if _, err := f.FailoverToStandby(ctx, false); err != nil {
				t.Fatal(err)
			}
			if got := bridgeState(t, c, f); got != BridgeOn {
				t.Errorf("bridge %s after the failover", got)
			}
			if got := replyFrom(t, c, track(t, r, "tcp", netip.AddrPortFrom(ownAddr, 40000), 443)); got != paper.PublicAddress {
				t.Errorf("failwatch's own probe answered by %s", got)
			}
		})
	}
}

// The summary says the bridge is on only when the step that turns it on
// succeeded: a turn refused half way (the exemption enabled, the rule that
// carries refused) changed a rule, yet the bridge is not on.
func TestBridgeSummaryFromTheStep(t *testing.T) {
	r, _, f, _, _ := bridgeRig(t, rosim.Options{}, lanBridge(config.UntilRestore))
	r.Inject("/ip/firewall/nat/set", 1, rosim.Fault{Kind: rosim.FaultTrap, Message: "failure: out of memory"})
	res, err := f.FailoverToStandby(context.Background(), false)
	if err != nil || res.Outcome != OutcomeChanged {
		t.Fatalf("%s, %v", res.Outcome, err)
	}
	if !slices.ContainsFunc(res.Changes, func(ch Change) bool { return ch.Kind == "nat" && ch.Status == "changed" }) {
		t.Fatalf("no rule changed before the refusal: %+v", res.Changes)
	}
	if got, want := res.Summary(), "tomtotrading.com now points at private; bridge not turned on (see notes)"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
}

// The cap on the connections a failover removes counts only the ones to
// remove: failwatch's own, opened first and more than the cap, do not
// fill it in place of the client's, which is removed.
func TestBridgeConnectionCapCountsClientsOnly(t *testing.T) {
	r, c, f, _, _ := bridgeRig(t, rosim.Options{}, lanBridge(config.UntilRestore))
	for i := range BridgeMaxConnections + 10 {
		track(t, r, "tcp", netip.AddrPortFrom(ownAddr, uint16(20000+i)), 443)
	}
	client := track(t, r, "tcp", lanClient, 443)
	res, err := f.FailoverToStandby(context.Background(), false)
	if err != nil || res.Outcome != OutcomeChanged {
		t.Fatalf("%s, %v", res.Outcome, err)
	}
	if got := replyFrom(t, c, client); got != "" {
		t.Errorf("the client's connection from before is still there, answered by %s: %s", got, res.Summary())
	}
	if !strings.HasSuffix(res.Summary(), "bridge on, 1 tracked connection(s) removed") {
		t.Errorf("summary %q", res.Summary())
	}
}

// A rule read back with another comment than sent (a ttl-mode end time the
// router did not keep) is said as a comment, not as its disabled flag.
func TestBridgeReadBackSaysTheComment(t *testing.T) {
	r, _, f, steps, _ := bridgeRig(t, rosim.Options{}, lanBridge(config.UntilTTL))
	r.ForgetComments("/ip/firewall/nat")
	if _, err := f.FailoverToStandby(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(*steps, func(s Step) bool { return s.Name == "bridge: enable rules" && s.Status != StepRunning })
	if i < 0 || (*steps)[i].Status != StepFailed || !strings.Contains((*steps)[i].Detail, "comment is") || strings.Contains((*steps)[i].Detail, "disabled=") {
		t.Errorf("steps %+v", *steps)
	}
}

// ttl mode: a failover again (the engine's retry, or an operator's) keeps
// the end time the switch gave the rules, not now plus the TTL.
func TestBridgeTTLKeptFromTheSwitch(t *testing.T) {
	_, c, f, _, _ := bridgeRig(t, rosim.Options{}, lanBridge(config.UntilTTL))
	ctx := context.Background()
	if _, err := f.FailoverToStandby(ctx, false); err != nil {
		t.Fatal(err)
	}
	// The switch was an hour ago: its rules carry the end time it gave.
	switched := time.Now().Add(-time.Hour + 24*time.Hour + time.Minute).UTC().Truncate(time.Second)
	for _, r := range bridgeRules(t, c, routeros.IPv4, f.Service) {
		if r.Carries() {
			if err := c.Set(ctx, "/ip/firewall/nat", r.ID, "comment", r.comment(BridgeComment(f.Service), switched)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := f.FailoverToStandby(ctx, false); err != nil {
		t.Fatal(err)
	}
	rules := bridgeRules(t, c, routeros.IPv4, f.Service)
	if got := UntilOf(rules); !got.Equal(switched) || StateOf(rules) != BridgeOn {
		t.Errorf("until %s (%s), want %s kept from the switch", got, StateOf(rules), switched)
	}
}

// The printed script run again after the exemption was removed puts it
// back before the rules that carry, on every version.
func TestSetupScriptPutsTheExemptionFirst(t *testing.T) {
	ctx := context.Background()
	for _, version := range versions {
		t.Run(version, func(t *testing.T) {
			r, c := versionRouter(t, version)
			caps, err := CapsOf(version)
			if err != nil {
				t.Fatal(err)
			}
			s := bridgedSetup()
			if err := r.Import(s.Script(caps)); err != nil {
				t.Fatal(err)
			}
			if err := c.Remove(ctx, "/ip/firewall/nat", natRule(t, c, &Failover{Service: s.Service}, BridgeExempt)); err != nil {
				t.Fatal(err)
			}
			if err := r.Import(s.Script(caps)); err != nil {
				t.Fatal(err)
			}
			var kinds []string
			for _, r := range bridgeRules(t, c, routeros.IPv4, s.Service) {
				kinds = append(kinds, r.Kind)
			}
			if !slices.Equal(kinds, []string{BridgeExempt, BridgeTCP, BridgeICMP}) {
				t.Errorf("rules after the second run: %v", kinds)
			}
		})
	}
}

// The hairpin masquerades only what the bridge carries: a client on the
// standby's subnet reaching the standby directly on another port keeps its
// own address; the every-port hairpin an earlier setup wrote is not turned
// on with the bridge.
func TestBridgeHairpinOnlyForTheCarriedPorts(t *testing.T) {
	r, c, f, _, _ := bridgeRig(t, hairpinRouter, hairpinBridge())
	ctx := context.Background()
	legacy, err := c.Add(ctx, "/ip/firewall/nat", "chain", "srcnat", "action", "masquerade", "dst-address", paper.PrivateAddress,
		"src-address-list", ClientsList(f.Service), "disabled", "yes", "comment", BridgeComment(f.Service)+" "+BridgeHairpin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.FailoverToStandby(ctx, false); err != nil || bridgeState(t, c, f) != BridgeOn {
		t.Fatalf("%v, bridge %s", err, bridgeState(t, c, f))
	}
	id, err := r.Track(rosim.Conn{Protocol: "tcp", Src: netip.MustParseAddrPort("192.10.10.20:50000"), Dst: netip.MustParseAddrPort(paper.PrivateAddress + ":22"),
		InInterface: "ether3"})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := c.Run(ctx, "/ip/firewall/connection/print", "=.proplist=srcnat", "?.id="+id)
	if err != nil || len(rows.Rows) != 1 || rows.Rows[0]["srcnat"] != "false" {
		t.Errorf("ssh to the standby from its subnet: %v %v", rows.Rows, err)
	}
	nat, _ := c.NATRules(ctx, routeros.IPv4, BridgeComment(f.Service)+" "+BridgeHairpin)
	for _, n := range nat {
		if n.ID == legacy && !n.Disabled {
			t.Errorf("the every-port hairpin was turned on: %+v", n)
		}
	}
}
