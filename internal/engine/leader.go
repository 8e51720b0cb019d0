package engine

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/failwatch/failwatch/internal/ha"
	"github.com/failwatch/failwatch/routeros/failover"
)

// HAState is the cluster as this instance sees it (ha: configured): who
// leads, this instance's role, whether it acts and why not, and each
// instance's view of each server (internal/ha's Status), with when it was
// taken. Published here once, for every screen, the status and the metrics.
type HAState struct {
	At time.Time
	ha.Status
}

func (HAState) event() {}

// same says two states say the same, whenever they were taken.
func (s HAState) same(o HAState) bool {
	return s.Cluster == o.Cluster && s.Name == o.Name && s.Leader == o.Leader && s.Role == o.Role && s.Acting == o.Acting &&
		s.Why == o.Why && s.Connected == o.Connected && slices.EqualFunc(s.Views, o.Views, func(a, b ha.View) bool {
		return a.Name == b.Name && a.Leader == b.Leader && a.Fresh == b.Fresh && a.SameConfig == b.SameConfig && maps.Equal(a.Verdicts, b.Verdicts)
	})
}

// leader is the engine's side of high availability: nil without ha:, and
// then every method lets everything through as before.
type leader struct {
	m  *ha.Member
	mu sync.Mutex
	// refused is, by service, the policy refusal said last, so each is
	// said once.
	refused map[string]string
	last    HAState
}

func newLeader(m *ha.Member) *leader {
	if m == nil {
		return nil
	}
	return &leader{m: m, refused: map[string]string{}}
}

// fence is what every change an operation sends must pass: nil without
// ha:.
func (l *leader) fence() func() error {
	if l == nil {
		return nil
	}
	return l.m.MaySend
}

// HA is the cluster as this instance sees it now; ok is false without ha:.
func (e *Engine) HA() (s HAState, ok bool) {
	if e.ha == nil {
		return HAState{}, false
	}
	e.ha.mu.Lock()
	defer e.ha.mu.Unlock()
	return e.ha.last, true
}

// runHA runs the member in its cluster, feeds it this instance's views and
// the router's reach, publishes the cluster's state when it changes,
// serves the requests other instances send while this one leads, and, once
// it may send, finishes or undoes what an earlier leader's journal left.
// At the end the member gives its lease back and closes.
func (e *Engine) runHA(ctx context.Context) {
	var wg sync.WaitGroup
	defer e.ha.m.Close()
	wg.Go(func() { e.ha.m.Run(ctx) })
	wg.Go(func() { e.haStatusEvery(ctx) })
	wg.Go(func() { e.serveForwarded(ctx) })
	wg.Go(func() { e.recoverEvery(ctx) })
	wg.Wait()
}

// haStatusEvery publishes the cluster's state at each change, and at
// least twice a second while a time-based reason (a wait, a bound) may be
// changing.
func (e *Engine) haStatusEvery(ctx context.Context) {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		s := e.State()
		verdicts := map[string]string{}
		for name, h := range s.Health {
			verdicts[name] = h.State.String()
		}
		e.ha.m.SetVerdicts(verdicts)
		e.ha.m.SetRouterReachable(s.Router.Connected)
		e.publishHA()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-e.ha.m.Changed():
		}
	}
}

func (e *Engine) publishHA() {
	now := HAState{At: time.Now(), Status: e.ha.m.Status()}
	e.ha.mu.Lock()
	same := now.same(e.ha.last)
	if !same {
		e.ha.last = now
	}
	e.ha.mu.Unlock()
	if !same {
		e.publish(now)
	}
}

// gate is the cluster's say on a policy decision: only an instance that
// may send acts, and a failover on the primary's DOWN only with a quorum
// of the live instances' views. Each refusal is said once.
func (l *leader) gate(service, primary string, d failover.Decision) failover.Decision {
	if l == nil || d.Action == failover.None {
		return d
	}
	// key is what the refusal is about, without the durations its words
	// carry, so that one refusal is said once, not every tick.
	var why, key string
	if err := l.m.MaySend(); err != nil {
		st := l.m.Status()
		why, key = fmt.Sprintf("would %s (%s), but %v", d.Action, d.Reason, err), "fence "+st.Role+" "+st.Leader
	} else if down, need, live := l.m.Quorum(primary); d.Action == failover.ActionFailover && down < need {
		why = fmt.Sprintf("would %s (%s), but %s is DOWN in %d of %d live instances' views and the quorum needs %d", d.Action, d.Reason,
			primary, down, live, need)
		key = fmt.Sprintf("quorum %d %d %d", down, live, need)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if why == "" {
		delete(l.refused, service)
		return d
	}
	if l.refused[service] == key {
		return failover.Decision{}
	}
	l.refused[service] = key
	return failover.Decision{Refused: why}
}
