package failover

import (
	"context"
	"encoding/json"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/paper"
	"github.com/failwatch/failwatch/internal/testkit"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/rosim"
)

// The addresses of the bridge's tests: clients behind the router, and
// failwatch's own address among them.
var (
	lanClient = netip.MustParseAddrPort("192.168.88.10:50000")
	ownAddr   = netip.MustParseAddr("192.168.88.2")
)

// lanBridge is a bridge for the LAN's clients, tcp 80 and 443 and icmp.
func lanBridge(until config.BridgeUntil) config.Bridge {
	return config.Bridge{Mode: config.BridgeNAT, SrcAddresses: []netip.Prefix{netip.MustParsePrefix("192.168.88.0/24")},
		TCP: []int{80, 443}, ICMP: true, Until: until, Margin: time.Minute, Comment: "failwatch bridge " + paper.Name}
}

// hairpinBridge is a bridge, tcp 443, for clients on the standby's own
// subnet: an emulator with hairpinRouter's addresses.
func hairpinBridge() config.Bridge {
	return config.Bridge{Mode: config.BridgeNAT, SrcAddresses: []netip.Prefix{netip.MustParsePrefix("192.10.10.0/24")},
		TCP: []int{443}, Comment: "failwatch bridge " + paper.Name}
}

// hairpinRouter is an emulator whose ether3 is on the standby's subnet.
var hairpinRouter = rosim.Options{Addresses: map[string]netip.Prefix{"ether3": netip.MustParsePrefix("192.10.10.1/24")}}

// bridgeRig is the paper's failover on an emulator started with opts, its
// service's bridge as given and written (disabled) on the router as setup
// writes it: the router, a client, the failover, its steps and its audit.
func bridgeRig(t *testing.T, opts rosim.Options, bridge config.Bridge) (*rosim.Router, *routeros.Client, *Failover, *[]Step, string) {
	t.Helper()
	r, addr := emulator(t, opts)
	c := client(t, addr, "admin", "")
	f, steps, audit := paperFailover(t, c, config.Toggle)
	f.Service.Bridge = bridge
	writeBridge(t, c, f)
	return r, c, f, steps, audit
}

// withBridge configures a failover's service with lanBridge and writes
// its rows (disabled) on the router as setup does.
func withBridge(t *testing.T, c *routeros.Client, f *Failover, until config.BridgeUntil) {
	t.Helper()
	f.Service.Bridge = lanBridge(until)
	writeBridge(t, c, f)
}

func writeBridge(t *testing.T, c *routeros.Client, f *Failover) {
	t.Helper()
	for _, it := range BridgeItems(f.Service, f.Primary, f.Standby, []netip.Addr{ownAddr}) {
		var kv []string
		for _, p := range it.Props {
			kv = append(kv, p[0], p[1])
		}
		if _, err := c.Add(context.Background(), it.Menu, kv...); err != nil {
			t.Fatalf("%s add %v: %v", it.Menu, kv, err)
		}
	}
}

// bridgeRules are a service's bridge rules as the router holds them now,
// in the family's NAT table.
func bridgeRules(t *testing.T, c *routeros.Client, fam routeros.Family, svc config.Service) []BridgeRule {
	t.Helper()
	nat, err := c.NATRules(context.Background(), fam, BridgeComment(svc)+" ")
	if err != nil {
		t.Fatal(err)
	}
	rules, err := ParseBridgeRules(svc.Name, BridgeComment(svc), nat)
	if err != nil {
		t.Fatal(err)
	}
	return rules
}

// track opens a connection through the router and returns where its
// replies come from: the standby's address when the bridge carried it.
func track(t *testing.T, r *rosim.Router, proto string, src netip.AddrPort, port uint16) string {
	t.Helper()
	id, err := r.Track(rosim.Conn{Protocol: proto, Src: src, Dst: netip.AddrPortFrom(netip.MustParseAddr(paper.PublicAddress), port)})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// reply is a tracked connection's reply-src-address as the family's
// connection table prints it, "" when the connection is gone.
func reply(t *testing.T, c *routeros.Client, fam routeros.Family, id string) string {
	t.Helper()
	r, err := c.Run(context.Background(), fam.Menu("connection")+"/print", "=.proplist=reply-src-address", "?.id="+id)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Rows) == 0 {
		return ""
	}
	return r.Rows[0]["reply-src-address"]
}

// replyFrom is the address an IPv4 connection's replies come from, "" when
// it is gone.
func replyFrom(t *testing.T, c *routeros.Client, id string) string {
	t.Helper()
	addr, _, _ := strings.Cut(reply(t, c, routeros.IPv4, id), ":")
	return addr
}

func bridgeState(t *testing.T, c *routeros.Client, f *Failover) BridgeState {
	t.Helper()
	return StateOf(bridgeRules(t, c, routeros.IPv4, f.Service))
}

// A failover turns the bridge on after the records moved: a client's new
// connection to the dead primary's port reaches the standby, and its
// connection opened before is removed so that it reopens through the
// rule; failwatch's own probe and an admin's ssh are not carried. A
// restore turns it off and leaves the bridged connections to drain.
func TestBridgeFailoverAndRestore(t *testing.T) {
	r, c, f, steps, audit := bridgeRig(t, rosim.Options{}, lanBridge(config.UntilRestore))
	ctx := context.Background()
	before := track(t, r, "tcp", lanClient, 443)
	probe := track(t, r, "tcp", netip.AddrPortFrom(ownAddr, 40000), 443)
	ssh := track(t, r, "tcp", netip.MustParseAddrPort("192.168.88.11:50001"), 22)

	res, err := f.FailoverToStandby(ctx, false)
	if err != nil || res.Outcome != OutcomeChanged {
		t.Fatalf("failover: %s, %v", res.Outcome, err)
	}
	if got := stepNames(*steps, StepOK); !slices.Contains(got, "bridge: enable rules") || !slices.Contains(got, "bridge: remove tracked connections") {
		t.Errorf("steps ok: %v", got)
	}
	if bridgeState(t, c, f) != BridgeOn {
		t.Fatalf("bridge %s after the failover", bridgeState(t, c, f))
	}
	if got, want := res.Summary(), "tomtotrading.com now points at private; bridge on, 1 tracked connection(s) removed"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
	if replyFrom(t, c, before) != "" || replyFrom(t, c, probe) != paper.PublicAddress || replyFrom(t, c, ssh) != paper.PublicAddress {
		t.Errorf("connections after: client's %q (want removed), probe's %q, ssh's %q (want kept)", replyFrom(t, c, before), replyFrom(t, c, probe), replyFrom(t, c, ssh))
	}
	if !slices.ContainsFunc(res.Changes, func(ch Change) bool { return ch.Kind == "connection" && ch.ID == before && ch.Status == "changed" }) {
		t.Errorf("the removal is not among the changes: %+v", res.Changes)
	}
	bridged := track(t, r, "tcp", lanClient, 443)
	for id, want := range map[string]string{
		bridged: paper.PrivateAddress,
		track(t, r, "tcp", netip.AddrPortFrom(ownAddr, 40001), 443):            paper.PublicAddress, // the probe-loop guard
		track(t, r, "tcp", netip.MustParseAddrPort("192.168.88.11:50002"), 22): paper.PublicAddress,
		track(t, r, "icmp", netip.AddrPortFrom(lanClient.Addr(), 0), 0):        paper.PrivateAddress,
		track(t, r, "tcp", netip.MustParseAddrPort("203.0.113.9:50003"), 443):  paper.PublicAddress, // not a client
	} {
		if got := replyFrom(t, c, id); got != want {
			t.Errorf("connection %s answered by %s, want %s", id, got, want)
		}
	}

	res, err = f.Restore(ctx)
	if err != nil || res.Outcome != OutcomeChanged {
		t.Fatalf("restore: %s, %v", res.Outcome, err)
	}
	if bridgeState(t, c, f) != BridgeOff || !strings.HasSuffix(res.Summary(), "; bridge off") {
		t.Errorf("bridge %s after the restore: %s", bridgeState(t, c, f), res.Summary())
	}
	if replyFrom(t, c, bridged) != paper.PrivateAddress {
		t.Errorf("the bridged connection did not stay to drain")
	}
	if got := replyFrom(t, c, track(t, r, "tcp", lanClient, 80)); got != paper.PublicAddress {
		t.Errorf("after restore a new connection is answered by %s", got)
	}
	lines := testkit.JSONLines(t, audit)
	if len(lines) != 2 || !strings.Contains(toJSON(t, lines[0]["steps"]), "bridge: enable rules") || !strings.Contains(toJSON(t, lines[1]["steps"]), "bridge: disable rules") {
		t.Errorf("audit: %v", lines)
	}
}

// ttl mode: the rules carry their end time, the records' TTL plus the
// margin after the switch; a restore takes it away.
func TestBridgeTTLMode(t *testing.T) {
	_, c, f, _, _ := bridgeRig(t, rosim.Options{}, lanBridge(config.UntilTTL))
	start := time.Now()
	if _, err := f.FailoverToStandby(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	rules := bridgeRules(t, c, routeros.IPv4, f.Service)
	until := UntilOf(rules)
	// The paper's records keep RouterOS's default TTL, 1d.
	lo, hi := start.Add(24*time.Hour+time.Minute-time.Second), time.Now().Add(24*time.Hour+time.Minute)
	if until.Before(lo) || until.After(hi) {
		t.Fatalf("until %s, want between %s and %s", until, lo, hi)
	}
	for _, r := range rules {
		if r.Carries() != strings.Contains(r.Comment, " until ") {
			t.Errorf("rule %q", r.Comment)
		}
	}
	if _, err := f.Restore(context.Background()); err != nil {
		t.Fatal(err)
	}
	nat, _ := c.NATRules(context.Background(), routeros.IPv4, BridgeComment(f.Service)+" ")
	for _, r := range nat {
		if strings.Contains(r.Comment, "until") || !r.Disabled {
			t.Errorf("after restore: %+v", r)
		}
	}
}

// Without its rules on the router the failover says so and goes on.
func TestBridgeMissingGoesOn(t *testing.T) {
	_, addr := emulator(t, rosim.Options{})
	c := client(t, addr, "admin", "")
	f, steps, _ := paperFailover(t, c, config.Toggle)
	f.Service.Bridge = config.Bridge{Mode: config.BridgeNAT, TCP: []int{443}, InInterfaceList: "LAN"}
	res, err := f.FailoverToStandby(context.Background(), false)
	if err != nil || res.Outcome != OutcomeChanged || !slices.Equal(enabled(t, c), []string{paper.PrivateAddress}) {
		t.Fatalf("%s, %v", res.Outcome, err)
	}
	if !slices.Contains(stepNames(*steps, StepSkipped), "bridge: read rules") ||
		!slices.ContainsFunc(res.Notes, func(n string) bool { return strings.Contains(n, "missing") && strings.Contains(n, "setup") }) {
		t.Errorf("steps skipped %v, notes %v", stepNames(*steps, StepSkipped), res.Notes)
	}
}

// A NAT rule or a connection row the client cannot read blocks the bridge
// step, not the records: nothing is sent to the table it could not read.
func TestBridgeUnreadableBlocksBridgeOnly(t *testing.T) {
	for _, tc := range []struct{ name, menu, key, value string }{
		{"nat", "/ip/firewall/nat", "disabled", "maybe"},
		{"connection", "/ip/firewall/connection", "dst-address", "104.247.193.168"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, c, f, steps, _ := bridgeRig(t, rosim.Options{}, lanBridge(config.UntilRestore))
			conn := track(t, r, "tcp", lanClient, 443)
			id := conn
			if tc.menu == "/ip/firewall/nat" {
				nat, _ := c.NATRules(context.Background(), routeros.IPv4, BridgeComment(f.Service)+" ")
				id = nat[len(nat)-1].ID
			}
			r.Misprint(tc.menu, id, tc.key, tc.value)
			setup := len(r.Applied())
			res, err := f.FailoverToStandby(context.Background(), false)
			if err != nil || res.Outcome != OutcomeChanged || !slices.Equal(enabled(t, c), []string{paper.PrivateAddress}) {
				t.Fatalf("records: %s, %v", res.Outcome, err)
			}
			failed := stepNames(*steps, StepFailed)
			if len(failed) != 1 || !strings.HasPrefix(failed[0], "bridge: ") {
				t.Errorf("failed steps %v", failed)
			}
			sent := r.Applied()[setup:]
			if tc.name == "nat" && slices.ContainsFunc(sent, func(s string) bool { return strings.HasPrefix(s, "/ip/firewall/nat/") }) {
				t.Errorf("a NAT change sent on an unreadable reading: %v", sent)
			}
			if slices.ContainsFunc(sent, func(s string) bool { return strings.HasPrefix(s, "/ip/firewall/connection/") }) {
				t.Errorf("a connection removed on an unreadable reading: %v", sent)
			}
			if !slices.ContainsFunc(res.Notes, func(n string) bool {
				return strings.Contains(n, "unreadable") && strings.Contains(n, "stay on private")
			}) {
				t.Errorf("notes %v", res.Notes)
			}
		})
	}
}

// A rule that carries another pair is not enabled.
func TestBridgeRefusesAnotherPairsRule(t *testing.T) {
	_, c, f, _, _ := bridgeRig(t, rosim.Options{}, lanBridge(config.UntilRestore))
	nat, _ := c.NATRules(context.Background(), routeros.IPv4, BridgeComment(f.Service)+" tcp")
	if err := c.Set(context.Background(), "/ip/firewall/nat", nat[0].ID, "to-addresses", "192.10.10.99"); err != nil {
		t.Fatal(err)
	}
	res, err := f.FailoverToStandby(context.Background(), false)
	if err != nil || !slices.Equal(enabled(t, c), []string{paper.PrivateAddress}) {
		t.Fatal(err)
	}
	if bridgeState(t, c, f) != BridgeOff || !slices.ContainsFunc(res.Notes, func(n string) bool { return strings.Contains(n, "192.10.10.99") }) {
		t.Errorf("bridge %s, notes %v", bridgeState(t, c, f), res.Notes)
	}
}

func toJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A ttl-mode bridge past its end is turned off alone, records unmoved.
func TestEndBridge(t *testing.T) {
	_, c, f, _, audit := bridgeRig(t, rosim.Options{}, lanBridge(config.UntilTTL))
	ctx := context.Background()
	if _, err := f.FailoverToStandby(ctx, false); err != nil {
		t.Fatal(err)
	}
	res, err := f.EndBridge(ctx)
	if err != nil || res.Outcome != OutcomeChanged || res.Summary() != "bridge off" {
		t.Fatalf("%s, %v: %s", res.Outcome, err, res.Summary())
	}
	if bridgeState(t, c, f) != BridgeOff || !slices.Equal(enabled(t, c), []string{paper.PrivateAddress}) {
		t.Errorf("bridge %s, records %v", bridgeState(t, c, f), enabled(t, c))
	}
	res, _ = f.EndBridge(ctx)
	if res.Outcome != OutcomeAlreadySo || res.Summary() != "the bridge is already off: nothing changed" {
		t.Errorf("again: %s: %s", res.Outcome, res.Summary())
	}
	if lines := testkit.JSONLines(t, audit); len(lines) != 3 || lines[1]["operation"] != "end bridge" {
		t.Errorf("audit %v", lines)
	}
}

// Clients on the standby's own subnet: the bridge has the manual's hairpin
// masquerade, turned on with it, so the standby answers them through the
// router (the connection's source is the router's own address on that
// subnet); restore turns it off after the rules that carry.
func TestBridgeHairpin(t *testing.T) {
	r, c, f, _, _ := bridgeRig(t, hairpinRouter, hairpinBridge())
	rules := bridgeRules(t, c, routeros.IPv4, f.Service)
	if kinds := func() (k []string) {
		for _, r := range rules {
			k = append(k, r.Kind)
		}
		return k
	}(); !slices.Equal(kinds, []string{BridgeExempt, BridgeTCP, hairpinKind(BridgeTCP)}) {
		t.Fatalf("rules %v", kinds)
	}
	if _, err := f.FailoverToStandby(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	nat, _ := c.NATRules(context.Background(), routeros.IPv4, BridgeComment(f.Service)+" hairpin")
	if len(nat) != 1 || nat[0].Disabled || nat[0].Chain != "srcnat" || nat[0].Action != "masquerade" || nat[0].DstAddress != paper.PrivateAddress ||
		nat[0].Protocol != "tcp" || nat[0].DstPort != "443" {
		t.Errorf("hairpin after the failover: %+v", nat)
	}
	id := track(t, r, "tcp", netip.MustParseAddrPort("192.10.10.20:50000"), 443)
	rows, err := c.Run(context.Background(), "/ip/firewall/connection/print", "=.proplist=reply-src-address,reply-dst-address,srcnat", "?.id="+id)
	if err != nil || len(rows.Rows) != 1 {
		t.Fatalf("the hairpin's connection: %v %v", rows, err)
	}
	// The standby answers the router (192.10.10.1), which answers the
	// client: a reply straight from the standby would be dropped.
	if got := rows.Rows[0]; got["reply-src-address"] != paper.PrivateAddress+":443" || got["reply-dst-address"] != "192.10.10.1:50000" || got["srcnat"] != "true" {
		t.Errorf("a client on the standby's subnet: %v", got)
	}
	other := track(t, r, "tcp", netip.MustParseAddrPort("192.168.88.10:50001"), 443)
	if rows, _ := c.Run(context.Background(), "/ip/firewall/connection/print", "=.proplist=reply-dst-address,srcnat", "?.id="+other); len(rows.Rows) != 1 ||
		rows.Rows[0]["srcnat"] != "false" || rows.Rows[0]["reply-dst-address"] != "192.168.88.10:50001" {
		t.Errorf("a client off the standby's subnet was masqueraded: %v", rows.Rows)
	}
	res, err := f.Restore(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, ch := range res.Changes {
		if ch.Kind == "nat" {
			order = append(order, ch.What)
		}
	}
	if !slices.Equal(order, []string{"disable tcp", "disable exempt", "disable hairpin-tcp"}) {
		t.Errorf("restore's order %v: the carrying rule first", order)
	}
}
