package ha_test

import (
	"strings"
	"testing"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/ha/hatest"
	"github.com/failwatch/failwatch/internal/testkit"
)

// Against three etcd members (one cluster shared by the subtests, each in
// a failwatch cluster of its own): a partition of the leader from all
// three closes its fence within the bound and another leads; one etcd
// member stopped, the leader keeps its lease through the other two and
// never stops acting.
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
		a, _ := memberOf(t, in("partition", "a", proxied), "h1")
		testkit.Eventually(t, 10*time.Second, "a leads and may send", func() bool { return a.MaySend() == nil })
		b, _ := memberOf(t, in("partition", "b", c.Endpoints()), "h1")
		testkit.Eventually(t, 5*time.Second, "b follows a", func() bool { return b.Status().Leader == "a" })
		cut := time.Now()
		for _, p := range proxies {
			p.Cut()
		}
		testkit.Eventually(t, ttl, "a stops sending", func() bool { return a.MaySend() != nil })
		if took := time.Since(cut); took > a.Bound()+ttl/6+200*time.Millisecond {
			t.Errorf("a stopped sending %s after the cut; the bound is %s after its last keep-alive", took, a.Bound())
		}
		testkit.Eventually(t, 4*ttl, "b leads and may send", func() bool { return b.MaySend() == nil })
		if a.MaySend() == nil {
			t.Error("the partitioned a may still send")
		}
	})
	t.Run("one etcd member stopped", func(t *testing.T) {
		a, _ := memberOf(t, in("member-stopped", "a", c.Endpoints()), "h1")
		testkit.Eventually(t, 10*time.Second, "a leads and may send", func() bool { return a.MaySend() == nil })
		b, _ := memberOf(t, in("member-stopped", "b", c.Endpoints()), "h1")
		testkit.Eventually(t, 5*time.Second, "b follows a", func() bool { return b.Status().Leader == "a" })
		// The first endpoint is where both clients are likeliest to be
		// connected: stopping it makes them move to the other two.
		c.Members[0].Stop()
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
