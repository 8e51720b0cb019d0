package ha_test

import (
	"strings"
	"testing"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/ha"
	"github.com/failwatch/failwatch/internal/ha/hatest"
	"github.com/failwatch/failwatch/internal/testkit"
)

// Against three etcd members (one cluster shared by the subtests, each in
// a failwatch cluster of its own): a partition of the leader from all
// three closes its fence within the bound and another leads; one etcd
// member stopped, the leader keeps its lease through the other two and
// never stops acting; etcd's own leader stopped, never two act.
func TestThreeEtcdMembers(t *testing.T) {
	t.Parallel()
	c := hatest.StartCluster(t, 3)
	in := func(cluster, name string, endpoints []string) *config.HA {
		return &config.HA{Endpoints: endpoints, Cluster: cluster, Name: name, LeaseTTL: ttl, Quorum: 1, DialTimeout: time.Second}
	}
	t.Run("partition of the leader", func(t *testing.T) {
		var proxied []string
		var proxies []*hatest.Proxy
		for _, e := range c.Members {
			p := hatest.NewProxy(t, e.Addr())
			proxies, proxied = append(proxies, p), append(proxied, p.Endpoint())
		}
		a, _, b := pair(t, in("partition", "a", proxied), in("partition", "b", c.Endpoints()))
		cutOff(t, a, b, func() {
			for _, p := range proxies {
				p.Cut()
			}
		})
	})
	// A member that is not etcd's leader: nothing waits on an election of
	// etcd's own, and the leader never stops acting.
	t.Run("one etcd member stopped", func(t *testing.T) {
		a, _, b := pair(t, in("member-stopped", "a", c.Endpoints()), in("member-stopped", "b", c.Endpoints()))
		leader, _ := c.Leader(t)
		stop := (leader + 1) % len(c.Members)
		c.Members[stop].Stop()
		defer c.Members[stop].Restart()
		watched := time.Now()
		for time.Since(watched) < 3*ttl {
			if err := a.MaySend(); err != nil {
				t.Fatalf("a stopped acting %s after one of three etcd members stopped: %v", time.Since(watched).Round(time.Millisecond), err)
			}
			if s := b.Status(); s.Leader != "a" || s.Role != "follower" {
				t.Fatalf("b after one etcd member stopped: %+v", s)
			}
			select {
			case <-a.Changed():
			case <-time.After(ttl / 10):
			}
		}
	})
	// etcd's own leader: its election (500ms here) and the forwarding of
	// keep-alives to the new leader can hold answers past the fence's
	// bound, and with this short a TTL past the TTL itself, when the
	// failwatch leader gives its term up. Whatever happens, never do two
	// instances act at once, and one acts again within the bound of a
	// leader's death.
	t.Run("etcd's leader stopped", func(t *testing.T) {
		leader := -1
		testkit.Eventually(t, 10*time.Second, "the three etcd members answer, one leads", func() bool {
			l, n := c.Leader(t)
			leader = l
			return l >= 0 && n == len(c.Members)
		})
		a, _, b := pair(t, in("etcd-leader-stopped", "a", c.Endpoints()), in("etcd-leader-stopped", "b", c.Endpoints()))
		stopped := time.Now()
		c.Members[leader].Stop()
		var none time.Duration
		for last := time.Now(); time.Since(stopped) < 4*ttl; {
			switch n := countActing(a, b); {
			case n > 1:
				t.Fatalf("a and b both may send %s after etcd's leader stopped", time.Since(stopped).Round(time.Millisecond))
			case n == 0:
				none += time.Since(last)
			}
			last = time.Now()
			select {
			case <-a.Changed():
			case <-b.Changed():
			case <-time.After(ttl / 20):
			}
		}
		var who string
		testkit.Eventually(t, 2*ttl, "one acts after etcd's leader stopped", func() bool { who = acting(a, b); return who != "" })
		t.Logf("etcd's leader stopped: nobody acted for about %s, then %s", none.Round(10*time.Millisecond), who)
	})
}

// countActing is how many of ms may send now.
func countActing(ms ...*ha.Member) int {
	n := 0
	for _, m := range ms {
		if m.MaySend() == nil {
			n++
		}
	}
	return n
}

// etcd with TLS on its client port and client certificates required: an
// instance with the CA, its certificate and key joins and leads; one with
// only the CA is refused, and says why in etcd's and TLS's words.
func TestEtcdWithClientCertificates(t *testing.T) {
	t.Parallel()
	e, f := hatest.StartTLS(t)
	with := &config.HA{Endpoints: []string{e.Endpoint()}, Cluster: "tls", Name: "a", LeaseTTL: ttl, Quorum: 1, DialTimeout: time.Second,
		CAFile: f.CA, CertFile: f.ClientCert, KeyFile: f.ClientKey}
	a, _ := memberOf(t, with, "h1")
	testkit.Eventually(t, 10*time.Second, "a leads and may send over TLS", func() bool { return a.MaySend() == nil })
	without := *with
	without.Name, without.CertFile, without.KeyFile = "b", "", ""
	b, _ := memberOf(t, &without, "h1")
	testkit.Eventually(t, 4*ttl, "b says etcd refused it for its missing certificate", func() bool {
		why := b.Status().Why
		return strings.Contains(why, "TLS to "+e.Addr()) && strings.Contains(why, "certificate")
	})
	if b.Leading() || b.MaySend() == nil {
		t.Error("b, without a client certificate, leads or may send")
	}
	if len(a.Status().Views) != 1 {
		t.Errorf("a sees %+v: b joined without a certificate", a.Status().Views)
	}
	t.Logf("without a client certificate: %s", b.Status().Why)
}
