package rosim

import (
	"time"
)

// Absent, as a Misprint value, leaves the property out of the print.
const Absent = "\x00absent"

// Misprint makes every print of one item of a menu show key as value (or
// leave it out, with Absent), while the item itself is unchanged and takes
// changes as before: a router whose print a client cannot read (a boolean
// "maybe", an empty one, no .id, an address that is not one), for tests of
// what a client does with a reading it cannot trust.
func (r *Router) Misprint(menu, id, key, value string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.misprints == nil {
		r.misprints = map[string]map[string]map[string]string{}
	}
	if r.misprints[menu] == nil {
		r.misprints[menu] = map[string]map[string]string{}
	}
	if r.misprints[menu][id] == nil {
		r.misprints[menu][id] = map[string]string{}
	}
	r.misprints[menu][id][key] = value
}

// FaultKind is how an injected fault hits a command.
type FaultKind int

// Kinds of injected faults. Only FaultTrap leaves the router unchanged: the
// others apply the command first, as a router whose reply is lost on the way
// back would, so a client cannot tell from the error whether it happened.
const (
	// FaultTrap refuses the command with a general-failure !trap.
	FaultTrap FaultKind = iota
	// FaultDrop applies the command, then hangs up without a reply.
	FaultDrop
	// FaultFatal applies the command, then sends !fatal and hangs up.
	FaultFatal
	// FaultLate applies the command and replies only after Delay.
	FaultLate
	// FaultSlow waits Delay before applying the command and replying.
	FaultSlow
)

// Fault is one injected fault.
type Fault struct {
	Kind FaultKind
	// Message is the !trap's or the !fatal's text.
	Message string
	Delay   time.Duration
	// Before, when set, is called as the command arrives, before anything
	// else: a test's hook to act while the command is in flight.
	Before func()
}

type armedFault struct {
	skip int
	Fault
}

// Inject arms a fault for one call of command, after letting skip calls of
// it through: fault injection for tests of what a client does when the
// router refuses, or its reply is lost, halfway through an operation.
func (r *Router) Inject(command string, skip int, f Fault) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.faults == nil {
		r.faults = map[string]*armedFault{}
	}
	r.faults[command] = &armedFault{skip, f}
}

// ForgetComments makes a menu's set take a comment without keeping it, as
// a router that lost a change would: for tests that what is written is
// read back.
func (r *Router) ForgetComments(menu string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.forget == nil {
		r.forget = map[string]bool{}
	}
	r.forget[menu] = true
}

// takeFault returns the fault armed for this call of command, if any.
func (r *Router) takeFault(command string) *Fault {
	r.mu.Lock()
	defer r.mu.Unlock()
	f := r.faults[command]
	if f == nil {
		return nil
	}
	if f.skip > 0 {
		f.skip--
		return nil
	}
	delete(r.faults, command)
	return &f.Fault
}

// misprinted is a row as print shows it, with the menu's misprints.
func (r *Router) misprinted(menu string, row row) row {
	m := r.misprints[menu][row[".id"]]
	if m == nil {
		return row
	}
	out := cloneRow(row)
	for k, v := range m {
		if v == Absent {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// Outage makes the router unreachable for d: every API session is hung up
// and a new one is closed as soon as it connects, as a router behind a
// link that is down would be; its state is kept.
func (r *Router) Outage(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.downUntil = time.Now().Add(d)
	for c := range r.sessions {
		c.Close()
	}
}

// unreachable says whether an outage is on.
func (r *Router) unreachable() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return time.Now().Before(r.downUntil)
}
