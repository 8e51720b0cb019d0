package failover

// The automatic failover policy: fail over when the active primary has been
// down long enough and the standby is up, never sooner than a hold-down
// after any switch, restore by hand or after the primary has been healthy
// for a while, and refuse while the router's own netwatch would fight it.
// It decides; the caller acts.

import (
	"fmt"
	"strings"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros"
)

// Health is a server's state by failwatch's probes and since when.
type Health struct {
	State monitor.State
	Since time.Time
}

// Input is what the policy looks at, once a tick.
type PolicyInput struct {
	Now              time.Time
	RouterConnected  bool
	Active           string // the server the records point at, "" none
	Primary, Standby Health
	// Switching are the router's enabled netwatch entries that switch the
	// records too; held ones are disabled and not in the list.
	Switching []routeros.Netwatch
	// Busy is true while an operation runs.
	Busy bool
}

// Action is what the policy asks for.
type Action string

// Actions.
const (
	None           Action = ""
	ActionFailover Action = "failover"
	ActionRestore  Action = "restore"
)

// Decision is an action with its reason, or a refusal to act and why.
type Decision struct {
	Action Action
	Reason string
	// Refused says why the policy would act but will not; it is reported
	// once per distinct reason, not every tick.
	Refused string
}

// Policy is the automatic policy's state across ticks.
type Policy struct {
	cfg              config.Auto
	primary, standby string
	lastActive       string
	lastSwitch       time.Time
	lastRefusal      string
}

// NewPolicy returns the policy for the servers.
func NewPolicy(cfg config.Auto, primary, standby string) *Policy {
	return &Policy{cfg: cfg, primary: primary, standby: standby}
}

// Decide looks at one tick's input.
func (e *Policy) Decide(in PolicyInput) Decision {
	if !in.RouterConnected || in.Active == "" {
		return Decision{}
	}
	if e.lastActive != "" && in.Active != e.lastActive {
		// Whoever switched (us, another failwatch, netwatch, an admin),
		// the hold-down starts now.
		e.lastSwitch = in.Now
	}
	e.lastActive = in.Active
	if in.Busy || (!e.lastSwitch.IsZero() && in.Now.Sub(e.lastSwitch) < e.cfg.HoldDown) {
		return Decision{}
	}
	var d Decision
	switch {
	case in.Active == e.primary && in.Primary.State == monitor.Down && in.Now.Sub(in.Primary.Since) >= e.cfg.FailAfter:
		if in.Standby.State != monitor.Up {
			return e.refuse(fmt.Sprintf("%s is DOWN but %s is %s: not failing over to it", e.primary, e.standby, in.Standby.State))
		}
		d = Decision{Action: ActionFailover, Reason: fmt.Sprintf("%s DOWN for %s, %s UP", e.primary,
			in.Now.Sub(in.Primary.Since).Round(time.Second), e.standby)}
	case e.cfg.Restore == "auto" && in.Active == e.standby && in.Primary.State == monitor.Up &&
		in.Now.Sub(in.Primary.Since) >= e.cfg.RestoreAfter:
		d = Decision{Action: ActionRestore, Reason: fmt.Sprintf("%s UP for %s", e.primary, in.Now.Sub(in.Primary.Since).Round(time.Second))}
	default:
		e.lastRefusal = ""
		return Decision{}
	}
	if len(in.Switching) > 0 {
		ids := make([]string, len(in.Switching))
		for i, n := range in.Switching {
			ids[i] = n.ID
		}
		return e.refuse(fmt.Sprintf("would %s (%s), but the router's netwatch %s would fight it: hold them (h, or failover --hold) or disable them",
			d.Action, d.Reason, strings.Join(ids, ", ")))
	}
	e.lastRefusal = ""
	return d
}

func (e *Policy) refuse(why string) Decision {
	if why == e.lastRefusal {
		return Decision{}
	}
	e.lastRefusal = why
	return Decision{Refused: why}
}
