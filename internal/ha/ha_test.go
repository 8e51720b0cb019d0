package ha_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/ha"
	"github.com/failwatch/failwatch/internal/ha/hatest"
	"github.com/failwatch/failwatch/internal/testkit"
)

const ttl = 2 * time.Second

// member runs one instance against endpoint until the test ends or its
// stop is called (an abrupt end: the client closed, the lease left to
// expire).
func member(t *testing.T, endpoint, name, hash string, quorum int) (*ha.Member, func()) {
	t.Helper()
	return memberOf(t, haAt(endpoint, name, quorum), hash)
}

// haAt is the ha section of an instance named name against endpoint.
func haAt(endpoint, name string, quorum int) *config.HA {
	return &config.HA{Endpoints: []string{endpoint}, Cluster: "test", Name: name, LeaseTTL: ttl, Quorum: quorum, DialTimeout: time.Second}
}

// memberOf is member with the whole ha section given: several endpoints,
// TLS.
func memberOf(t *testing.T, h *config.HA, hash string) (*ha.Member, func()) {
	t.Helper()
	m, err := ha.New(ha.Options{HA: h, Router: "127.0.0.1:8728", Hash: hash, CallDeadline: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { m.Run(ctx) })
	var once sync.Once
	stop := func() {
		once.Do(func() {
			// Closing the client first: the term's revoke cannot reach etcd,
			// as after a kill -9.
			m.Close()
			cancel()
			wg.Wait()
		})
	}
	t.Cleanup(stop)
	return m, stop
}

// pair starts a (named "a") and waits until it leads and may send, then
// starts b and waits until it follows a: one failwatch cluster, a leading
// and acting, b following. stopA ends a as a kill would.
func pair(t *testing.T, haA, haB *config.HA) (a *ha.Member, stopA func(), b *ha.Member) {
	t.Helper()
	a, stopA = memberOf(t, haA, "h1")
	testkit.Eventually(t, 10*time.Second, "a leads and may send", func() bool { return a.MaySend() == nil })
	b, _ = memberOf(t, haB, "h1")
	testkit.Eventually(t, 15*time.Second, "b follows a", func() bool { return b.Status().Leader == "a" })
	return a, stopA, b
}

// leading starts a against endpoint and waits until it leads.
func leading(t *testing.T, endpoint string) *ha.Member {
	t.Helper()
	a, _ := member(t, endpoint, "a", "h1", 1)
	testkit.Eventually(t, 10*time.Second, "a leads", a.Leading)
	return a
}

// cutOff cuts the leader a off etcd with cut: a stops sending within its
// bound after its last keep-alive, and b leads and may send.
func cutOff(t *testing.T, a, b *ha.Member, cut func()) {
	t.Helper()
	start := time.Now()
	cut()
	testkit.Eventually(t, ttl, "a stops sending", func() bool { return a.MaySend() != nil })
	if took := time.Since(start); took > a.Bound()+ttl/6+200*time.Millisecond {
		t.Errorf("a stopped sending %s after the cut; the bound is %s after its last keep-alive", took, a.Bound())
	}
	testkit.Eventually(t, 4*ttl, "b leads and may send", func() bool { return b.MaySend() == nil })
	if a.MaySend() == nil {
		t.Error("the partitioned a may still send")
	}
}

// acting is the one member that may send, "" when none or several do.
func acting(ms ...*ha.Member) string {
	var who []string
	for _, m := range ms {
		if m.MaySend() == nil {
			who = append(who, m.Name())
		}
	}
	if len(who) != 1 {
		return ""
	}
	return who[0]
}

func TestOneLeaderAndItsFence(t *testing.T) {
	t.Parallel()
	e := hatest.Start(t)
	a, _ := member(t, e.Endpoint(), "a", "h1", 1)
	b, _ := member(t, e.Endpoint(), "b", "h1", 1)
	testkit.Eventually(t, 10*time.Second, "a leader elected", func() bool { return a.Leading() != b.Leading() })
	leader, follower := a, b
	if b.Leading() {
		leader, follower = b, a
	}
	// Won, but waiting out the settle time before its first change.
	if err := leader.MaySend(); err == nil || !strings.Contains(err.Error(), "waiting") {
		t.Errorf("a new leader's fence right after winning = %v, want a wait", err)
	}
	testkit.Eventually(t, 2*ttl, "the leader may send", func() bool { return leader.MaySend() == nil })
	var nl *ha.NotLeaderError
	if err := follower.MaySend(); !errors.As(err, &nl) || !strings.Contains(err.Error(), leader.Name()+" leads") {
		t.Errorf("follower's fence = %v, want %q leads", err, leader.Name())
	}
	st := follower.Status()
	if st.Role != "follower" || st.Leader != leader.Name() || st.Acting || len(st.Views) != 2 {
		t.Errorf("follower's status = %+v", st)
	}
	if st := leader.Status(); st.Role != "leader" || !st.Acting || st.Why != "" {
		t.Errorf("leader's status = %+v", st)
	}
}

func TestLeaderKilledAnotherLeadsWithinTheBound(t *testing.T) {
	t.Parallel()
	e := hatest.Start(t)
	_, stopA, b := pair(t, haAt(e.Endpoint(), "a", 1), haAt(e.Endpoint(), "b", 1))
	killed := time.Now()
	stopA()
	// The lease expires within a TTL (and etcd's own check), then b waits
	// a TTL before sending: three TTLs with slack for a loaded machine.
	testkit.Eventually(t, 4*ttl, "b leads and may send", func() bool { return b.MaySend() == nil })
	if took := time.Since(killed); took < ttl {
		t.Errorf("b sent %s after a's death: before a's lease could expire", took)
	}
}

func TestDifferentConfigNeverLeads(t *testing.T) {
	t.Parallel()
	e := hatest.Start(t)
	a := leading(t, e.Endpoint())
	b, _ := member(t, e.Endpoint(), "b", "other", 1)
	testkit.Eventually(t, 15*time.Second, "b says why it does not lead", func() bool {
		return strings.Contains(b.Status().Why, "config differs from the leader a's")
	})
	if b.Leading() {
		t.Error("b, with another config, leads")
	}
	for _, v := range a.Status().Views {
		if v.Name == "b" && v.SameConfig {
			t.Errorf("a sees b's config as its own: %+v", v)
		}
	}
}

func TestPartitionStopsTheLeaderWithinTheBound(t *testing.T) {
	t.Parallel()
	e := hatest.Start(t)
	p := hatest.NewProxy(t, e.Addr())
	a, _, b := pair(t, haAt(p.Endpoint(), "a", 1), haAt(e.Endpoint(), "b", 1))
	cutOff(t, a, b, p.Cut)
	p.Heal()
	testkit.Eventually(t, 4*ttl, "a back, following b", func() bool { return a.Status().Leader == "b" && a.Status().Role == "follower" })
}

func TestEtcdStoppedNobodyActs(t *testing.T) {
	t.Parallel()
	e := hatest.Start(t)
	a, _ := member(t, e.Endpoint(), "a", "h1", 1)
	b, _ := member(t, e.Endpoint(), "b", "h1", 1)
	testkit.Eventually(t, 10*time.Second, "one acts", func() bool { return acting(a, b) != "" })
	e.Stop()
	testkit.Eventually(t, ttl, "nobody acts", func() bool { return a.MaySend() != nil && b.MaySend() != nil })
	testkit.Eventually(t, 2*ttl, "both say etcd is unreachable", func() bool {
		return strings.Contains(a.Status().Why, "etcd") && strings.Contains(b.Status().Why, "etcd")
	})
	e.Restart()
	testkit.Eventually(t, 6*ttl, "one acts again", func() bool { return acting(a, b) != "" })
}

func TestQuorumOfFreshViews(t *testing.T) {
	t.Parallel()
	e := hatest.Start(t)
	a, _ := member(t, e.Endpoint(), "a", "h1", 2)
	b, stopB := member(t, e.Endpoint(), "b", "h1", 2)
	a.SetVerdicts(map[string]string{"public": "DOWN"})
	b.SetVerdicts(map[string]string{"public": "UP"})
	quorum := func(down, need, live int) func() bool {
		return func() bool {
			d, n, l := a.Quorum("public")
			return d == down && n == need && l == live
		}
	}
	testkit.Eventually(t, 15*time.Second, "1 of 2 needed down, 2 live", quorum(1, 2, 2))
	b.SetVerdicts(map[string]string{"public": "DOWN"})
	testkit.Eventually(t, 15*time.Second, "2 of 2 down", quorum(2, 2, 2))
	b.SetVerdicts(map[string]string{"public": "UP"})
	testkit.Eventually(t, 15*time.Second, "back to 1 of 2", quorum(1, 2, 2))
	stopB()
	// b's key goes with its lease: a alone decides.
	testkit.Eventually(t, 4*ttl, "a alone decides", quorum(1, 1, 1))
}

func TestRequestReachesTheLeader(t *testing.T) {
	t.Parallel()
	e := hatest.Start(t)
	a := leading(t, e.Endpoint())
	b, _ := member(t, e.Endpoint(), "b", "h1", 1)
	testkit.Eventually(t, 15*time.Second, "b has a lease", func() bool { return b.Status().Role == "follower" })
	go func() {
		for in := range a.Requests() {
			_ = a.Answer(context.Background(), in.ID, append([]byte("done: "), in.Body...))
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, err := b.Submit(ctx, []byte("failover"))
	if err != nil || string(got) != "done: failover" {
		t.Fatalf("Submit = %q, %v", got, err)
	}
}

func TestJournalIsFencedOnTheLeaderKey(t *testing.T) {
	t.Parallel()
	e := hatest.Start(t)
	a, stopA, b := pair(t, haAt(e.Endpoint(), "a", 1), haAt(e.Endpoint(), "b", 1))
	ctx := context.Background()
	j := ha.Journal{Op: "failover", Service: "www", From: "public", To: "private", Steps: []ha.JournalStep{{Name: "enable private record", Status: "ok"}}}
	if err := b.WriteJournal(ctx, j); err == nil {
		t.Error("a follower wrote the journal")
	}
	if err := a.WriteJournal(ctx, j); err != nil {
		t.Fatal(err)
	}
	stopA()
	// The journal outlives the leader's lease, for the next leader.
	testkit.Eventually(t, 4*ttl, "b may send", func() bool { return b.MaySend() == nil })
	got, err := b.ReadJournal(ctx)
	if err != nil || got == nil || got.Leader != "a" || got.To != "private" || len(got.Steps) != 1 {
		t.Fatalf("journal after a's death = %+v, %v", got, err)
	}
	if err := b.CloseJournal(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := b.ReadJournal(ctx); got != nil || err != nil {
		t.Errorf("closed journal = %+v, %v", got, err)
	}
}
