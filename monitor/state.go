package monitor

import (
	"fmt"
	"time"
)

// State is whether a check, or a server, is answering.
type State int

// States of a check and of a server. Degraded and Unresolved are only ever a
// server's: some of its checks are down, or its name does not resolve.
const (
	Unknown State = iota
	Up
	Down
	Degraded
	Unresolved
)

func (s State) String() string {
	switch s {
	case Up:
		return "UP"
	case Down:
		return "DOWN"
	case Degraded:
		return "DEGRADED"
	case Unresolved:
		return "UNRESOLVED"
	}
	return "UNKNOWN"
}

// MarshalText writes the state as its name, for JSON.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a state's name back.
func (s *State) UnmarshalText(b []byte) error {
	for st := Unknown; st <= Unresolved; st++ {
		if st.String() == string(b) {
			*s = st
			return nil
		}
	}
	return fmt.Errorf("unknown state %q", b)
}

// Thresholds configure the up/down hysteresis.
type Thresholds struct {
	// DownAfter consecutive losses make a check DOWN.
	DownAfter int
	// UpAfter consecutive replies make it UP.
	UpAfter int
	// LossWindow probes since the last change with DownLossPercent or more
	// of them lost also make it DOWN; a DownLossPercent of 0 turns this off.
	LossWindow      int
	DownLossPercent float64
}

// Hysteresis is the up/down state machine of one check. It changes state
// only after a run of evidence, so a single lost probe on a lossy link (the
// paper's public server loses 5%) does not flap the dashboard.
type Hysteresis struct {
	t          Thresholds
	state      State
	since      time.Time
	consecLost int
	consecOK   int
	// recent holds the outcomes since the last change, at most LossWindow;
	// the loss rule only looks at evidence gathered in the current state.
	recent []bool
	head   int
	lost   int
}

// NewHysteresis returns a machine in the Unknown state.
func NewHysteresis(t Thresholds) *Hysteresis {
	t.DownAfter = max(t.DownAfter, 1)
	t.UpAfter = max(t.UpAfter, 1)
	t.LossWindow = max(t.LossWindow, 1)
	return &Hysteresis{t: t, recent: make([]bool, 0, t.LossWindow)}
}

// State returns the current state and when it began.
func (h *Hysteresis) State() (State, time.Time) { return h.state, h.since }

// Transition is a change of state and why it happened.
type Transition struct {
	From, To State
	At       time.Time
	Reason   string
}

// Observe feeds one scheduled probe's sample and reports the transition it
// caused, if any.
func (h *Hysteresis) Observe(x Sample) (Transition, bool) {
	return h.observe(x, true)
}

// Confirm feeds the sample of a confirmation probe, sent at once after a
// loss: it counts towards the consecutive losses or replies as the probe it
// is, but not in the loss window, which would otherwise count the extra
// probes a lossy spell draws as more loss than the link has.
func (h *Hysteresis) Confirm(x Sample) (Transition, bool) {
	return h.observe(x, false)
}

func (h *Hysteresis) observe(x Sample, scheduled bool) (Transition, bool) {
	if x.OK {
		h.consecOK++
		h.consecLost = 0
	} else {
		h.consecLost++
		h.consecOK = 0
	}
	if scheduled {
		h.remember(!x.OK)
	}

	switch {
	case h.state != Down && h.consecLost >= h.t.DownAfter:
		return h.change(Down, x.At, fmt.Sprintf("%d consecutive probes lost (%s)", h.consecLost, x.Err)), true
	case h.state != Down && h.t.DownLossPercent > 0 && len(h.recent) == h.t.LossWindow &&
		float64(h.lost)*100 >= h.t.DownLossPercent*float64(h.t.LossWindow):
		return h.change(Down, x.At, fmt.Sprintf("%d of the last %d probes lost (%.0f%%, limit %g%%)",
			h.lost, h.t.LossWindow, float64(h.lost)*100/float64(h.t.LossWindow), h.t.DownLossPercent)), true
	case h.state != Up && h.consecOK >= h.t.UpAfter:
		return h.change(Up, x.At, fmt.Sprintf("%d consecutive replies", h.consecOK)), true
	}
	return Transition{}, false
}

func (h *Hysteresis) remember(lost bool) {
	if len(h.recent) < h.t.LossWindow {
		h.recent = append(h.recent, lost)
	} else {
		if h.recent[h.head] {
			h.lost--
		}
		h.recent[h.head] = lost
		h.head = (h.head + 1) % h.t.LossWindow
	}
	if lost {
		h.lost++
	}
}

func (h *Hysteresis) change(to State, at time.Time, reason string) Transition {
	tr := Transition{From: h.state, To: to, At: at, Reason: reason}
	h.state, h.since = to, at
	// Evidence gathered before the change does not count towards the next
	// one: a success that completed a loss-rule DOWN is not the first of
	// the replies that bring the check back UP.
	h.recent, h.head, h.lost = h.recent[:0], 0, 0
	h.consecOK, h.consecLost = 0, 0
	return tr
}

// ServerState combines the states of a server's checks: UP when all are up,
// DOWN when all are down, DEGRADED when they disagree (ICMP answers while
// HTTP says 503: the paper's scenario 2), UNKNOWN until every check has a
// state.
func ServerState(checks []State) State {
	var up, down int
	for _, s := range checks {
		switch s {
		case Up:
			up++
		case Down:
			down++
		}
	}
	switch {
	case len(checks) == 0:
		return Unknown
	case up == len(checks):
		return Up
	case down == len(checks):
		return Down
	case down > 0:
		return Degraded
	}
	return Unknown
}
