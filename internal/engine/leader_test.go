package engine

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/ha"
	"github.com/failwatch/failwatch/internal/ha/hatest"
	"github.com/failwatch/failwatch/internal/paper"
	"github.com/failwatch/failwatch/internal/paper/papersim"
	"github.com/failwatch/failwatch/internal/testkit"
	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/rosim"
	"github.com/failwatch/failwatch/routeros/routerostest"
)

const haTTL = 2 * time.Second

// instance is one failwatch instance of a cluster: its engine, its member,
// its audit log and its servers as its own probes see them.
type instance struct {
	e     *Engine
	m     *ha.Member
	audit string
	sims  map[string]*monitor.Simulated
	// kill ends it abruptly: the etcd client closed (its lease left to
	// expire, nothing more sent), then the engine stopped.
	kill func()
}

// haRig is a paper router in the emulator that instances share.
type haRig struct {
	r        *rosim.Router
	api, dns string
}

func newHARig(t testing.TB) *haRig { return newHARigOn(t, "127.0.0.1") }

// newHARigOn is newHARig with the emulator listening on host's address.
func newHARigOn(t testing.TB, host string) *haRig {
	t.Helper()
	r := rosim.New(rosim.Options{})
	t.Cleanup(r.Close)
	if err := r.SeedPaper(); err != nil {
		t.Fatal(err)
	}
	api, err := r.ListenAndServe(net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	dns, err := r.ServeDNS(net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	// Without the router's own netwatch, which the policy would refuse to
	// fight: the instances alone decide.
	c, _, err := routeros.New(routeros.Options{Address: api.String(), User: "admin", Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	entries, err := c.NetwatchEntries(ctx, paper.PublicAddress, paper.PrivateAddress)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range entries {
		if _, err := c.Run(ctx, "/tool/netwatch/remove", "=.id="+n.ID); err != nil {
			t.Fatal(err)
		}
	}
	return &haRig{r: r, api: api.String(), dns: dns.String()}
}

// start runs an instance named name against etcd at endpoint, its policy
// on.
func (g *haRig) start(t testing.TB, endpoint, name string, quorum int) *instance {
	return g.startWith(t, endpoint, name, quorum, true)
}

// startWith is start with the policy on or off; endpoint "" is no ha:,
// several are separated by commas.
func (g *haRig) startWith(t testing.TB, endpoint, name string, quorum int, auto bool) *instance {
	t.Helper()
	cfg := paper.Config()
	cfg.Router = config.Router{Address: g.api, User: "admin", Timeout: 500 * time.Millisecond}
	cfg.Probe.Interval = 100 * time.Millisecond
	cfg.Services[0].Auto = config.Auto{Enabled: auto, FailAfter: 300 * time.Millisecond, HoldDown: time.Minute, Restore: "manual"}
	cfg.Serve.Users = []config.ServeUser{{Name: "alice", Role: config.RoleOperator}, {Name: "vic", Role: config.RoleViewer}}
	var m *ha.Member
	if endpoint != "" {
		cfg.HA = &config.HA{Endpoints: strings.Split(endpoint, ","), Cluster: "paper", Name: name, LeaseTTL: haTTL, Quorum: quorum, DialTimeout: time.Second}
		hash, err := ha.Hash(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if m, err = ha.New(ha.Options{HA: cfg.HA, Router: g.api, Hash: hash, CallDeadline: cfg.Router.Timeout}); err != nil {
			t.Fatal(err)
		}
	}
	sims := map[string]*monitor.Simulated{"public": papersim.Public(), "private": papersim.Private()}
	in := &instance{m: m, sims: sims, audit: filepath.Join(t.TempDir(), name+".jsonl")}
	var err error
	in.e, _, err = New(cfg, Options{Router: routeros.OptionsFrom(cfg.Router), DNS: g.dns, User: name, AuditLog: in.audit, HA: m,
		Monitor: monitor.Options{Probe: cfg.Probe, Prober: func(s config.Server, _ config.Check) (monitor.Prober, error) {
			return sims[s.Name], nil
		}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { in.e.Run(ctx) })
	var once sync.Once
	in.kill = func() {
		once.Do(func() {
			if m != nil {
				m.Close()
			}
			cancel()
			wg.Wait()
		})
	}
	t.Cleanup(in.kill)
	return in
}

// cluster starts n instances, i1..in.
func (g *haRig) cluster(t testing.TB, endpoint string, n, quorum int) []*instance {
	var all []*instance
	for i := range n {
		all = append(all, g.start(t, endpoint, fmt.Sprintf("i%d", i+1), quorum))
	}
	return all
}

// haCluster starts etcd and n instances (the quorum as given) on one
// emulated router, and waits until one of them acts: it returns etcd, the
// router's rig, the instances and the one acting.
func haCluster(t *testing.T, n, quorum int) (*hatest.Etcd, *haRig, []*instance, *instance) {
	t.Helper()
	etcd := hatest.Start(t)
	g := newHARig(t)
	all := g.cluster(t, etcd.Endpoint(), n, quorum)
	lead := testkit.EventuallyLast(t, 15*time.Second, "one instance acts", func() (*instance, bool) {
		in := actingOne(all)
		return in, in != nil
	})
	return etcd, g, all, lead
}

// actingOne is the one instance whose engine says it acts, nil when none
// or several do.
func actingOne(all []*instance) *instance {
	var who []*instance
	for _, in := range all {
		if s, ok := in.e.HA(); ok && s.Acting {
			who = append(who, in)
		}
	}
	if len(who) != 1 {
		return nil
	}
	return who[0]
}

// failovers counts the audit lines of operations that changed the router,
// over every instance's log.
func failovers(t *testing.T, all []*instance) (n int, ops []string) {
	t.Helper()
	for _, in := range all {
		if _, err := os.Stat(in.audit); err != nil {
			continue
		}
		for _, l := range testkit.JSONLines(t, in.audit) {
			if l["result"] == "changed" || l["result"] == "completed after all" {
				n++
				ops = append(ops, fmt.Sprintf("%v by %v", l["operation"], l["user"]))
			}
		}
	}
	return n, ops
}

// enabledAddresses are the paper name's enabled records on the router.
func enabledAddresses(t testing.TB, g *haRig) []string {
	t.Helper()
	c, _, err := routeros.New(routeros.Options{Address: g.api, User: "admin", Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	on := routerostest.EnabledAddresses(t, c, paper.Name)
	slices.Sort(on)
	return on
}

// The primary fails in every instance's view: exactly one failover in the
// audit logs taken together, whichever instance leads.
func TestHAOneFailoverAcrossInstances(t *testing.T) {
	for _, n := range []int{2, 3} {
		t.Run(fmt.Sprintf("%d instances", n), func(t *testing.T) {
			_, g, all, _ := haCluster(t, n, n)
			for _, in := range all {
				in.sims["public"].SetDown(true)
			}
			testkit.Eventually(t, 15*time.Second, "the name on the standby", func() bool {
				return slices.Equal(enabledAddresses(t, g), []string{paper.PrivateAddress})
			})
			// Once every instance reads the name on the standby and runs no
			// operation, no policy decides a failover again (restore is
			// manual) and every one that ran is audited: a second
			// instance's, were it allowed to act, is among them.
			testkit.Eventually(t, 15*time.Second, "every instance reads the name on the standby, no operation running", func() bool {
				return !slices.ContainsFunc(all, func(in *instance) bool {
					return in.e.State().Active[paper.Name] != "private" || in.e.Busy()
				})
			})
			if got, ops := failovers(t, all); got != 1 {
				t.Errorf("%d changing operations across the audit logs, want 1: %v", got, ops)
			}
		})
	}
}

// With a quorum of two, the primary DOWN in one instance's view only is
// not failed over; once a second view agrees, it is.
func TestHAQuorumOfViews(t *testing.T) {
	_, g, all, lead := haCluster(t, 2, 2)
	lead.sims["public"].SetDown(true)
	sub := lead.e.Subscribe(4096)
	defer sub.Close()
	until(t, sub, func(ev PolicyNote) bool { return ev.Refused && strings.Contains(ev.Text, "quorum needs 2") })
	if got := enabledAddresses(t, g); !slices.Equal(got, []string{paper.PublicAddress}) {
		t.Fatalf("failed over on one view of two: %v", got)
	}
	for _, in := range all {
		in.sims["public"].SetDown(true)
	}
	testkit.Eventually(t, 15*time.Second, "failed over once both views agree", func() bool {
		return slices.Equal(enabledAddresses(t, g), []string{paper.PrivateAddress})
	})
}

// A follower's operator request runs on the leader (audited there, with
// who asked and through which instance); a viewer's is refused by the
// leader's own config.
func TestHAFollowerRequestRunsOnTheLeader(t *testing.T) {
	_, _, all, lead := haCluster(t, 2, 1)
	follower := all[0]
	if follower == lead {
		follower = all[1]
	}
	testkit.Eventually(t, 5*time.Second, "the follower knows the leader", func() bool {
		s, _ := follower.e.HA()
		return s.Role == "follower" && s.Leader == lead.m.Name()
	})
	sub := follower.e.Subscribe(4096)
	defer sub.Close()
	if err := follower.e.Request(Request{Op: OpFailover, By: Requester{User: "vic", Role: Operator}}); err != nil {
		t.Fatal(err)
	}
	until(t, sub, func(ev PolicyNote) bool { return ev.Refused && strings.Contains(ev.Text, "refused by the leader") })
	if err := follower.e.Request(Request{Op: OpFailover, By: Requester{User: "alice", Role: Operator}}); err != nil {
		t.Fatal(err)
	}
	done := until(t, sub, func(ev Done) bool { return true })
	if done.Err != nil || done.Result.To != "private" || !strings.Contains(done.By, "via "+lead.m.Name()) {
		t.Errorf("done on the follower: %+v", done)
	}
	if n, ops := failovers(t, []*instance{lead}); n != 1 || ops[0] != "failover by alice via "+follower.m.Name() {
		t.Errorf("leader's audit: %v", ops)
	}
	if _, err := os.Stat(follower.audit); err == nil {
		t.Errorf("the follower wrote an audit line: %v", testkit.JSONLines(t, follower.audit))
	}
}

// A one-shot command with ha: asks the leader through etcd without
// joining the cluster: the leader runs it and answers with its result.
func TestHAOneShotAsksTheLeader(t *testing.T) {
	etcd, g, all, lead := haCluster(t, 2, 1)
	h := config.HA{Endpoints: []string{etcd.Endpoint()}, Cluster: "paper", Name: "cli", LeaseTTL: haTTL, Quorum: 1, DialTimeout: time.Second}
	opts := ha.Options{HA: &h, Router: g.api, Hash: "one-shot", CallDeadline: 500 * time.Millisecond}
	ctx := context.Background()
	res, err := AskLeader(ctx, opts, Request{Op: OpFailover, By: Requester{User: "alice", Role: Operator}})
	if err != nil || res.To != "private" || res.Outcome != "changed" {
		t.Fatalf("AskLeader = %+v, %v", res, err)
	}
	if _, err := AskLeader(ctx, opts, Request{Op: OpRestore, By: Requester{User: "mallory", Role: Operator}}); err == nil ||
		!strings.Contains(err.Error(), "refused by the leader "+lead.m.Name()) {
		t.Errorf("an unlisted user's restore: %v", err)
	}
	for _, in := range all {
		if len(in.m.Status().Views) != 2 {
			t.Errorf("%s sees %d instances: the one-shot counted as one", in.m.Name(), len(in.m.Status().Views))
		}
	}
}
