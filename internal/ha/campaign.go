package ha

import (
	"context"
	"fmt"
	"time"

	"go.etcd.io/etcd/client/v3/concurrency"
)

// SetRouterReachable tells the member whether this instance reaches the
// router: a leader that keeps its lease but cannot reach the router for a
// lease TTL resigns, and such an instance does not campaign.
func (m *Member) SetRouterReachable(ok bool) {
	m.mu.Lock()
	was := m.routerDown.IsZero()
	switch {
	case ok:
		m.routerDown = time.Time{}
	case was:
		m.routerDown = time.Now()
	}
	m.mu.Unlock()
	if was != ok {
		m.update(func(*state) {})
	}
}

// ineligible says why this instance may not lead now, "" when it may.
func (m *Member) ineligible() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.routerDown.IsZero() && time.Since(m.routerDown) >= m.ttl {
		return fmt.Sprintf("the router cannot be reached from here (for %s): not leading", time.Since(m.routerDown).Round(time.Second))
	}
	s := &m.st
	if _, ok := s.members[m.Name()]; !ok {
		if s.etcdErr != "" {
			return "reading the cluster: etcd refused: " + s.etcdErr
		}
		return "reading the cluster"
	}
	if l, ok := s.members[s.leader]; ok && s.leader != m.Name() && l.Hash != m.opts.Hash {
		return "config differs from the leader " + s.leader + "'s (servers, services, roles or policy thresholds): never leads while it does"
	}
	if s.leader != "" {
		return ""
	}
	same, all := 0, 0
	var other string
	now := time.Now()
	for name, p := range s.members {
		if name != m.Name() && !m.fresh(p, now) {
			continue
		}
		all++
		if p.Hash == m.opts.Hash {
			same++
		} else {
			other = name
		}
	}
	if 2*same <= all {
		return "config differs from " + other + "'s (servers, services, roles or policy thresholds) and no config is shared by most instances: nobody leads until they agree"
	}
	return ""
}

// campaign runs for leader while this instance may lead, holds the lead
// until deposed, no longer eligible (then it resigns) or the term ends.
func (m *Member) campaign(ctx context.Context, sess *concurrency.Session) {
	e := concurrency.NewElection(sess, m.prefix+"leader/")
	for ctx.Err() == nil {
		if why := m.ineligible(); why != "" {
			m.update(func(s *state) { s.why = why })
			m.waitChange(ctx)
			continue
		}
		m.update(func(s *state) { s.why = "" })
		cctx, cancel := context.WithCancel(ctx)
		go func() {
			for cctx.Err() == nil {
				m.waitChange(cctx)
				if m.ineligible() != "" {
					cancel()
				}
			}
		}()
		err := e.Campaign(cctx, m.Name())
		if err != nil {
			cancel()
			m.waitChange(ctx)
			continue
		}
		won := false
		m.update(func(s *state) {
			// A campaign that wins as its term ends leads nothing.
			if won = ctx.Err() == nil && s.lease == sess.Lease(); won {
				s.elected, s.leaderAt, s.leader, s.why = e, time.Now(), m.Name(), ""
			}
		})
		if !won {
			cancel()
			return
		}
		m.hold(cctx, e)
		cancel()
	}
}

// hold keeps the lead until the poll finds another's key first, this
// instance is no longer eligible (it resigns) or ctx ends.
func (m *Member) hold(ctx context.Context, e *concurrency.Election) {
	for ctx.Err() == nil {
		m.mu.Lock()
		mine := m.st.elected == e
		m.mu.Unlock()
		if !mine {
			return
		}
		if why := m.ineligible(); why != "" {
			m.update(func(s *state) { s.elected, s.leader, s.why = nil, "", why })
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.ttl/2)
			_ = e.Resign(rctx)
			cancel()
			return
		}
		m.waitChange(ctx)
	}
	m.update(func(s *state) {
		if s.elected == e {
			s.elected = nil
		}
	})
}

// waitChange waits for a state change, a quarter TTL or ctx's end.
func (m *Member) waitChange(ctx context.Context) {
	t := time.NewTimer(m.ttl / 4)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-m.Changed():
	case <-t.C:
	}
}
