package ha

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/failwatch/failwatch/internal/safetext"
)

// maxValue bounds what is read from a key another instance wrote.
const maxValue = 64 << 10

// maxMembers bounds how many instances' keys are read.
const maxMembers = 64

// published is an instance's key under its lease: its config hash and its
// view of each server (UP, DOWN, ... as its probes say); Seq changes at
// every publication, so a reader sees it is fresh without trusting clocks.
type published struct {
	Name     string            `json:"name"`
	Hash     string            `json:"hash"`
	Seq      uint64            `json:"seq"`
	Verdicts map[string]string `json:"verdicts"`
}

// peer is an instance as this one last read it.
type peer struct {
	published
	// seen is when this instance last saw Seq change, on its own clock.
	seen time.Time
}

// SetVerdicts is this instance's view of each server, by name, published
// at once and then with every renewal.
func (m *Member) SetVerdicts(v map[string]string) {
	m.mu.Lock()
	same := maps.Equal(m.verdicts, v)
	m.verdicts = maps.Clone(v)
	m.mu.Unlock()
	if !same {
		m.update(func(*state) {})
	}
}

// publishEvery writes this instance's key under the lease a few times a
// TTL and whenever its verdicts change.
func (m *Member) publishEvery(ctx context.Context, lease clientv3.LeaseID) {
	var seq uint64
	for {
		m.mu.Lock()
		seq++
		p := published{Name: m.Name(), Hash: m.opts.Hash, Seq: seq, Verdicts: maps.Clone(m.verdicts)}
		changed := m.changed
		m.mu.Unlock()
		if b, err := json.Marshal(p); err == nil {
			pctx, cancel := context.WithTimeout(ctx, m.ttl/3)
			_, err := m.cli.Put(pctx, m.prefix+"members/"+m.Name(), string(b), clientv3.WithLease(lease))
			cancel()
			m.etcdRefused(err)
		}
		t := time.NewTimer(m.ttl / 3)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		case <-changed:
			t.Stop()
		}
	}
}

// pollEvery reads the members' keys and the leader a few times a TTL.
func (m *Member) pollEvery(ctx context.Context) {
	t := time.NewTicker(m.ttl / 4)
	defer t.Stop()
	for {
		m.poll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (m *Member) poll(ctx context.Context) {
	pctx, cancel := context.WithTimeout(ctx, m.ttl/3)
	defer cancel()
	resp, err := m.cli.Get(pctx, m.prefix+"members/", clientv3.WithPrefix(), clientv3.WithLimit(maxMembers))
	if m.etcdRefused(err) {
		return
	}
	lead, err := m.cli.Get(pctx, m.prefix+"leader/", clientv3.WithFirstCreate()...)
	if m.etcdRefused(err) {
		return
	}
	now := time.Now()
	m.update(func(s *state) {
		seen := map[string]*peer{}
		for _, kv := range resp.Kvs {
			var p published
			if len(kv.Value) > maxValue || json.Unmarshal(kv.Value, &p) != nil || p.Name == "" || safetext.Line(p.Name) != p.Name ||
				len(p.Verdicts) > maxMembers*16 {
				continue
			}
			q := &peer{published: p, seen: now}
			if old, ok := s.members[p.Name]; ok && old.Seq == p.Seq {
				q.seen = old.seen
			}
			seen[p.Name] = q
		}
		s.members = seen
		s.leader = ""
		if len(lead.Kvs) > 0 && len(lead.Kvs[0].Value) <= maxValue {
			s.leader = string(lead.Kvs[0].Value)
			// Another's key first in line: whatever this instance thought,
			// it no longer leads.
			if s.elected != nil && string(lead.Kvs[0].Key) != s.elected.Key() {
				s.elected, s.why = nil, "deposed: "+s.leader+" holds the leader key"
			}
		}
	})
}

// etcdRefused keeps why etcd refused a publication or a reading (a
// permission it lacks, etcd unreachable), cleared by one that succeeds; it
// says whether err is one.
func (m *Member) etcdRefused(err error) bool {
	text := ""
	if err != nil {
		text = err.Error()
	}
	m.mu.Lock()
	same := m.st.etcdErr == text
	m.mu.Unlock()
	if !same {
		m.update(func(s *state) { s.etcdErr = text })
	}
	return err != nil
}

// fresh says whether a peer's key changed recently enough to count: within
// a lease TTL (three publications).
func (m *Member) fresh(p *peer, now time.Time) bool { return now.Sub(p.seen) < m.ttl+m.ttl/2 }

// Quorum says whether server is DOWN in enough live instances' views to
// act on: need is the config's quorum, or every live instance when fewer
// are live (one live instance decides alone).
func (m *Member) Quorum(server string) (down, need, live int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	for name, p := range m.st.members {
		if name == m.Name() {
			continue
		}
		if m.fresh(p, now) {
			live++
			if p.Verdicts[server] == "DOWN" {
				down++
			}
		}
	}
	if m.st.lease != 0 {
		live++
		if m.verdicts[server] == "DOWN" {
			down++
		}
	}
	return down, min(max(m.opts.HA.Quorum, 1), live), live
}

// View is one instance's view as this one knows it.
type View struct {
	Name string
	// Leader marks the instance holding the leader key.
	Leader bool
	// Fresh says its key changed within a TTL; only fresh views count.
	Fresh bool
	// SameConfig says its config hash is this instance's.
	SameConfig bool
	// Verdicts are its servers' states, by name.
	Verdicts map[string]string
}

// Status is the cluster as this instance sees it.
type Status struct {
	Cluster, Name string
	// Leader is the instance holding the leader key, "" when none is known.
	Leader string
	// Role is this instance's: leader, follower, or "none" without a lease.
	Role string
	// Acting says this instance may send changes now; Why says why not.
	Acting bool
	Why    string
	// Connected says etcd answered its last keep-alive.
	Connected bool
	Views     []View
}

// Status is what this instance knows of its cluster now.
func (m *Member) Status() Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	s := &m.st
	st := Status{Cluster: m.opts.HA.Cluster, Name: m.Name(), Leader: s.leader, Connected: s.connected, Role: "follower"}
	switch {
	case s.lease == 0:
		st.Role = "none"
	case s.elected != nil:
		st.Role, st.Leader = "leader", m.Name()
	}
	st.Why = m.notSendingLocked(now)
	st.Acting = st.Why == ""
	for name, p := range s.members {
		st.Views = append(st.Views, View{Name: name, Leader: name == st.Leader, Fresh: name == m.Name() || m.fresh(p, now),
			SameConfig: p.Hash == m.opts.Hash, Verdicts: p.Verdicts})
	}
	slices.SortFunc(st.Views, func(a, b View) int { return strings.Compare(a.Name, b.Name) })
	return st
}
