package engine

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/failwatch/failwatch/internal/ha/hatest"
	"github.com/failwatch/failwatch/internal/paper"
	"github.com/failwatch/failwatch/internal/testkit"
	"github.com/failwatch/failwatch/routeros/rosim"
)

// others are the instances but one.
func others(all []*instance, but *instance) []*instance {
	return slices.DeleteFunc(slices.Clone(all), func(in *instance) bool { return in == but })
}

// The leader dies between "enable the standby's record" and "disable the
// primary's" (its etcd client closed as the second change arrives, its
// lease left to expire, nothing more sent: no rollback). Another instance
// leads within the bound, finds the journal and the router's two enabled
// records, and finishes the failover: exactly one enabled record.
func TestHALeaderKilledMidOperation(t *testing.T) {
	_, g, all, lead := haCluster(t, 3, 1)
	rest := others(all, lead)
	// Before the lease can expire and another instance leads, nobody may
	// change the router: the standby's record enabled, the primary's not
	// disabled, no rollback. The first record change after the kill says
	// whether, as it arrives, the fence lets any survivor send.
	killedAt, fenced := make(chan time.Time, 1), make(chan bool, 1)
	g.r.Inject("/ip/dns/static/set", 1, rosim.Fault{Kind: rosim.FaultTrap, Message: "killed", Before: func() {
		killedAt <- time.Now()
		lead.m.Close()
		g.r.Inject("/ip/dns/static/set", 0, rosim.Fault{Kind: rosim.FaultSlow, Before: func() {
			fenced <- slices.ContainsFunc(rest, func(in *instance) bool { return in.m.MaySend() == nil })
		}})
	}})
	for _, in := range all {
		in.sims["public"].SetDown(true)
	}
	killed := testkit.Receive(t, killedAt, 15*time.Second, "the leader killed mid-operation", func(time.Time) bool { return true })
	if got := enabledAddresses(t, g); len(got) != 2 {
		t.Fatalf("after the kill the router has %v enabled: want both", got)
	}
	lead.kill()
	next := testkit.EventuallyLast(t, 4*haTTL, "another instance acts", func() (*instance, bool) {
		in := actingOne(rest)
		return in, in != nil
	})
	t.Logf("%s acts %s after the leader's death", next.m.Name(), time.Since(killed).Round(time.Millisecond))
	testkit.Eventually(t, 10*time.Second, "exactly one enabled record, the standby's", func() bool {
		return slices.Equal(enabledAddresses(t, g), []string{paper.PrivateAddress})
	})
	if !testkit.Receive(t, fenced, time.Second, "the record change that finished the failover", func(bool) bool { return true }) {
		t.Error("a record changed after the kill while no survivor could send: before the dead leader's lease expired")
	}
	testkit.Eventually(t, 5*time.Second, "the journal closed", func() bool {
		j, err := next.m.ReadJournal(context.Background())
		return err == nil && j == nil
	})
	_, ops := failovers(t, rest)
	if len(ops) != 1 || ops[0] != "failover by ha" {
		t.Errorf("the survivors' changing operations: %v, want the one that finished the failover", ops)
	}
}

// etcd stops: within a lease TTL no instance acts and every instance's
// state says why; the primary's failure changes nothing until etcd is back.
func TestHAEtcdStoppedNobodyActs(t *testing.T) {
	etcd, g, all, _ := haCluster(t, 2, 1)
	etcd.Stop()
	stopped := time.Now()
	testkit.Eventually(t, haTTL, "no instance acts", func() bool {
		for _, in := range all {
			if s, _ := in.e.HA(); s.Acting {
				return false
			}
		}
		return true
	})
	t.Logf("no instance acts %s after etcd stopped", time.Since(stopped).Round(time.Millisecond))
	var subs []*Subscription
	for _, in := range all {
		sub := in.e.Subscribe(4096)
		defer sub.Close()
		subs = append(subs, sub)
		in.sims["public"].SetDown(true)
	}
	testkit.Eventually(t, 2*haTTL, "every instance says etcd is why", func() bool {
		for _, in := range all {
			if s, _ := in.e.HA(); !strings.Contains(s.Why, "etcd") {
				return false
			}
		}
		return true
	})
	// Every instance's policy decides to fail over (fail_after is 300ms)
	// and the fence refuses it: the name must not have moved.
	for _, sub := range subs {
		until(t, sub, func(n PolicyNote) bool {
			return n.Refused && strings.HasPrefix(n.Text, "would failover") && strings.Contains(n.Text, "etcd")
		})
	}
	if got := enabledAddresses(t, g); !slices.Equal(got, []string{paper.PublicAddress}) {
		t.Fatalf("with etcd stopped the name moved: %v", got)
	}
	etcd.Restart()
	testkit.Eventually(t, 20*time.Second, "failed over once etcd is back", func() bool {
		return slices.Equal(enabledAddresses(t, g), []string{paper.PrivateAddress})
	})
}

// The leader alone is cut off from etcd (a TCP proxy the test controls on
// loopback): it stops acting within the lease TTL; another leads.
func TestHAPartitionedLeaderStops(t *testing.T) {
	etcd := hatest.Start(t)
	p := hatest.NewProxy(t, etcd.Addr())
	g := newHARig(t)
	cut := g.start(t, p.Endpoint(), "i1", 1)
	testkit.Eventually(t, 15*time.Second, "i1 acts", func() bool { s, _ := cut.e.HA(); return s.Acting })
	rest := []*instance{g.start(t, etcd.Endpoint(), "i2", 1), g.start(t, etcd.Endpoint(), "i3", 1)}
	testkit.Eventually(t, 10*time.Second, "i2 and i3 follow i1", func() bool {
		for _, in := range rest {
			if s, _ := in.e.HA(); s.Leader != "i1" {
				return false
			}
		}
		return true
	})
	p.Cut()
	at := time.Now()
	testkit.Eventually(t, haTTL, "i1 stops acting", func() bool { s, _ := cut.e.HA(); return !s.Acting && cut.m.MaySend() != nil })
	t.Logf("i1 stopped acting %s after the cut", time.Since(at).Round(time.Millisecond))
	testkit.Eventually(t, 4*haTTL, "another acts", func() bool { return actingOne(rest) != nil })
	if s, _ := cut.e.HA(); s.Acting {
		t.Error("the cut-off i1 acts too")
	}
}
