package failover

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/routeros"
)

// HoldMark is appended to the comment of a netwatch entry failwatch has
// disabled, so a later restore, from any machine, knows what to release.
const HoldMark = " [held by failwatch]"

// Failover moves the service name between the primary and the standby.
type Failover struct {
	Client  *routeros.Client
	Service config.Service
	Primary config.Server
	Standby config.Server
	// User is who asked, for the audit log.
	User string
	// Reason is why, for the audit log (set by the automatic policy).
	Reason string
	// Audit receives every operation; nil keeps none.
	Audit *Audit
	// Progress is told each step as it starts and ends; it must not block.
	Progress func(Step)
	// Fence, when set, is asked right before every change is sent (the
	// operation's, a rollback's, a retry's): an error stops the operation
	// at once, with nothing more sent, not even a rollback (internal/ha:
	// an instance that is not surely the leader must not write).
	Fence func() error
	// Siblings are the other services' names on the router: a netwatch
	// entry of these servers whose scripts name a sibling and not this
	// service is the sibling's, and a hold or release leaves it alone.
	Siblings []string
}

// FailoverToStandby points the name at the standby. With hold, the router's
// netwatch entries for the servers are disabled first so they cannot move
// the name back during maintenance.
//
// Every operation outlives ctx: when ctx ends (a quit, a signal) no further
// change is started, the one under way is awaited (each call is bounded by
// the router timeout), and what was changed is rolled back, read back and
// audited before it returns.
//
// Once the records are verified on the standby, the service's bridge, if
// configured, is turned on: best-effort, never a reason to roll back (see
// bridge).
//
// Without hold, when the router's own netwatch entries that switch the
// records are enabled, the result's Notes warn that their next up event
// may move the name back, and how to prevent it.
func (f *Failover) FailoverToStandby(ctx context.Context, hold bool) (Result, error) {
	return f.operation(ctx, "failover", f.Standby.Name, func(o *op) error {
		if err := o.switchName(f.Standby, f.Primary, hold, false); err != nil {
			return err
		}
		if !hold {
			o.warnSwitching()
		}
		o.bridge(true)
		return nil
	})
}

// warnSwitching notes the enabled netwatch entries that switch the records:
// the router's own failover, which moves the name back to the primary at
// its next up event unless held. A reading that fails is said too: the
// failover is done either way.
func (o *op) warnSwitching() {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(o.caller), o.f.Client.Timeout())
	defer cancel()
	entries, err := o.netwatch(ctx)
	if err != nil {
		o.res.Notes = append(o.res.Notes, fmt.Sprintf("netwatch could not be read (%v): if the router's own entries switch the records, "+
			"their next up event may move %s back to %s; hold netwatch (failover --hold) to keep it on %s", err, o.f.Service.Name, o.f.Primary.Name, o.f.Standby.Name))
		return
	}
	var ids []string
	for _, e := range Switching(entries) {
		ids = append(ids, fmt.Sprintf("%s (%s)", e.ID, e.Host))
	}
	if len(ids) == 0 {
		return
	}
	o.res.Notes = append(o.res.Notes, fmt.Sprintf("the router's netwatch entries %s are enabled and switch the records: their next up event "+
		"may move %s back to %s; hold netwatch (failover --hold) to keep it on %s", strings.Join(ids, ", "), o.f.Service.Name, o.f.Primary.Name, o.f.Standby.Name))
}

// Restore points the name back at the primary and releases held netwatch
// entries; then the service's bridge, if any, is turned off (see bridge).
func (f *Failover) Restore(ctx context.Context) (Result, error) {
	return f.operation(ctx, "restore", f.Primary.Name, func(o *op) error {
		if err := o.switchName(f.Primary, f.Standby, false, true); err != nil {
			return err
		}
		o.bridge(false)
		return nil
	})
}

// HoldNetwatch disables the servers' netwatch entries without moving the
// name, so it stays where it is during maintenance.
func (f *Failover) HoldNetwatch(ctx context.Context) (Result, error) {
	return f.operation(ctx, "hold", "", func(o *op) error {
		return o.step("hold netwatch", o.hold)
	})
}

// ReleaseNetwatch re-enables the entries a hold disabled.
func (f *Failover) ReleaseNetwatch(ctx context.Context) (Result, error) {
	return f.operation(ctx, "release", "", func(o *op) error {
		return o.step("release netwatch", o.release)
	})
}

// Held reports whether any of the entries is held by failwatch.
func Held(entries []routeros.Netwatch) bool {
	return slices.ContainsFunc(entries, HeldEntry)
}

// HeldEntry reports whether failwatch holds this entry (its comment carries
// the hold mark); a disabled entry without it is off for another reason.
func HeldEntry(e routeros.Netwatch) bool { return strings.HasSuffix(e.Comment, HoldMark) }
