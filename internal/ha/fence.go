package ha

import (
	"fmt"
	"time"
)

// Bound is how long after the last answered keep-alive was sent this
// instance may still start sending a change: the lease TTL minus the router
// call deadline and the margin, so that a change started at the last
// moment is over before the lease can expire.
func (m *Member) Bound() time.Duration { return m.ttl - m.opts.CallDeadline - m.opts.Margin }

// settle is how long a new leader waits after winning before it sends: a
// whole lease TTL, more than the bound a deposed leader may still be
// sending within, and more than the time it takes to notice a lost
// election (a poll, TTL/4).
func (m *Member) settle() time.Duration { return m.ttl }

// NotLeaderError is why this instance may not send a change to the router.
type NotLeaderError struct{ Why string }

func (e *NotLeaderError) Error() string { return "not sending to the router: " + e.Why }

// MaySend is nil while this instance leads and its lease surely stands
// long enough for one router call; otherwise why not. Every write to the
// router checks it right before sending.
func (m *Member) MaySend() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if why := m.notSendingLocked(time.Now()); why != "" {
		return &NotLeaderError{Why: why}
	}
	return nil
}

// notSendingLocked says why this instance may not send now, "" when it
// may.
func (m *Member) notSendingLocked(now time.Time) string {
	s := &m.st
	switch {
	case s.closed:
		return "closed"
	case s.lease == 0:
		return "no etcd lease (" + s.why + ")"
	case s.elected == nil && !s.connected:
		return fmt.Sprintf("etcd not answering (last keep-alive answer %s ago): not leading", now.Sub(s.alive).Round(time.Millisecond))
	case s.elected == nil && s.leader != "" && s.why != "":
		return s.leader + " leads; " + s.why
	case s.elected == nil && s.leader != "":
		return s.leader + " leads"
	case s.elected == nil && s.why != "":
		return s.why
	case s.elected == nil:
		return "no leader elected yet"
	}
	if since := now.Sub(s.alive); since >= m.Bound() {
		return fmt.Sprintf("no etcd keep-alive answer for %s, past the %s bound (lease TTL %s less the router call deadline and a margin)",
			since.Round(time.Millisecond), m.Bound(), m.ttl)
	}
	if wait := s.leaderAt.Add(m.settle()).Sub(now); wait > 0 {
		return fmt.Sprintf("leader for %s: waiting %s more before sending, so no earlier leader can still be sending",
			now.Sub(s.leaderAt).Round(time.Millisecond), wait.Round(time.Millisecond))
	}
	return ""
}

// Leading says whether this instance holds the leader key now (whether or
// not it may send yet).
func (m *Member) Leading() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.st.elected != nil
}

// WaitSendable waits until MaySend would say yes or done closes; it says
// whether it may.
func (m *Member) WaitSendable(done <-chan struct{}) bool {
	for {
		if m.MaySend() == nil {
			return true
		}
		t := time.NewTimer(m.ttl / 20)
		select {
		case <-done:
			t.Stop()
			return false
		case <-m.Changed():
		case <-t.C:
		}
		t.Stop()
	}
}
