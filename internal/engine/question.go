package engine

import (
	"errors"
	"fmt"
	"strings"

	"github.com/failwatch/failwatch/config"
)

// Question is what an operation asked now would do, from the facts: the
// one place a confirmation's words come from, for every screen, and what
// the engine checks again when the answer comes. Never a question whose
// move differs from what y does: y requests Op on Target, and the engine
// refuses it if the same question, asked again from its facts then, says
// another move.
type Question struct {
	// Asked is the operation the key asked for; Op is what y requests
	// (the name already on the target with hold asked: only the hold).
	Asked, Op Op
	Target    string
	// Move is the move in the admin's words, without the question mark.
	Move string
	// Nothing, when set, is why there is nothing to do (already there, or
	// the facts do not say where the name is): there is no question.
	Nothing string
	// Targets are the servers names would move to, for a screen to warn
	// when one is not UP.
	Targets []string
}

// ErrQuestionChanged is a confirmation that reached the engine after the
// facts changed the question it answered; the error is a *ChangedError.
var ErrQuestionChanged = errors.New("the question changed")

// ChangedError says what the question is now.
type ChangedError struct{ Now Question }

func (e *ChangedError) Error() string {
	if e.Now.Nothing != "" {
		return "the facts changed since the question: " + e.Now.Nothing
	}
	return "the facts changed since the question: y would now " + lowerFirst(e.Now.Move) + "; ask again"
}

func (e *ChangedError) Is(err error) bool { return err == ErrQuestionChanged }

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// Ask is the question for op on target (a service, "" when there is only
// one; a server for OpEvacuate) from services' facts by name: pure, so a
// screen and the engine ask it alike.
func Ask(op Op, target string, services []config.Service, facts map[string]Facts) Question {
	q := Question{Asked: op, Op: op, Target: target}
	switch op {
	case OpEvacuate:
		return evacuate(q, services, facts)
	case OpPrimaries:
		return primaries(q, services, facts)
	}
	svc, ok := findService(services, target)
	if !ok {
		q.Nothing = fmt.Sprintf("no service is named %q", target)
		return q
	}
	f := facts[svc.Name]
	name, primary, standby := svc.Name, svc.Primary, svc.Standby
	named := func(text string) string {
		if len(services) > 1 {
			return name + ": " + text
		}
		return text
	}
	if f.State != FactKnown {
		// Nothing is moved on facts the engine does not have.
		q.Nothing = fmt.Sprintf("nothing done: where %s points is %s", name, f.Where(nil))
		return q
	}
	switch op {
	case OpFailover, OpFailoverHold:
		hold := op == OpFailoverHold
		switch {
		case f.Active == standby && hold && !f.Held:
			q.Op = OpHold
			q.Move = fmt.Sprintf("%s is already on %s: hold the router's netwatch so it cannot move it back", name, standby)
		case f.Active == standby:
			q.Nothing = fmt.Sprintf("%s is already on %s: nothing to do", name, standby)
		default:
			q.Move = fmt.Sprintf("Fail over %s from %s to %s", name, f.Where(nil), standby)
			if hold {
				q.Move += ", holding the router's netwatch so it cannot move it back"
			}
			q.Targets = []string{standby}
		}
	case OpRestore:
		switch {
		case f.Active == primary && f.Held:
			q.Op = OpRelease
			q.Move = fmt.Sprintf("%s is already on %s: release the router's netwatch (it may move the name again)", name, primary)
		case f.Active == primary:
			q.Nothing = fmt.Sprintf("%s is already on %s: nothing to do", name, primary)
		default:
			q.Move = fmt.Sprintf("Restore %s from %s to %s and release netwatch", name, f.Where(nil), primary)
			q.Targets = []string{primary}
		}
	case OpHold:
		if f.Held {
			q.Nothing = named("the router's netwatch is already held: nothing to do")
		} else {
			q.Move = named("Hold the router's netwatch entries (the name stays where it is)")
		}
	case OpRelease:
		if !f.Held {
			q.Nothing = named("the router's netwatch is not held: nothing to do")
		} else {
			q.Move = named("Release the router's netwatch entries (they may move the name again)")
		}
	default:
		q.Nothing = fmt.Sprintf("unknown operation %q", op)
	}
	return q
}

// evacuate is the question for every service off the server target:
// those whose fresh facts say they are on it.
func evacuate(q Question, services []config.Service, facts map[string]Facts) Question {
	var moves, unknown []string
	for _, svc := range services {
		f := facts[svc.Name]
		if f.State != FactKnown {
			unknown = append(unknown, svc.Name)
			continue
		}
		if f.Active != q.Target {
			continue
		}
		to := svc.Standby
		if q.Target == svc.Standby {
			to = svc.Primary
		}
		moves = append(moves, fmt.Sprintf("%s to %s", svc.Name, to))
		q.Targets = append(q.Targets, to)
	}
	if len(moves) == 0 {
		q.Nothing = "no service's records point at " + q.Target + ": nothing to move" + leftAlone(unknown)
		return q
	}
	q.Move = fmt.Sprintf("Move every service off %s: %s", q.Target, strings.Join(moves, ", ")) + leftAlone(unknown)
	return q
}

// primaries is the question for every service back on its primary: those
// whose fresh facts say they are elsewhere.
func primaries(q Question, services []config.Service, facts map[string]Facts) Question {
	var moves, unknown []string
	for _, svc := range services {
		f := facts[svc.Name]
		switch {
		case f.State != FactKnown:
			unknown = append(unknown, svc.Name)
		case f.Active != svc.Primary:
			moves = append(moves, fmt.Sprintf("%s to %s", svc.Name, svc.Primary))
			q.Targets = append(q.Targets, svc.Primary)
		}
	}
	if len(moves) == 0 {
		q.Nothing = "every service is on its primary: nothing to restore" + leftAlone(unknown)
		return q
	}
	q.Move = "Restore every service to its primary and release netwatch: " + strings.Join(moves, ", ") + leftAlone(unknown)
	return q
}

// leftAlone says which services a move over several leaves alone because
// their facts are not known.
func leftAlone(unknown []string) string {
	if len(unknown) == 0 {
		return ""
	}
	return "; left alone, not read: " + strings.Join(unknown, ", ")
}

// findService is the service of that name; "" is the only one.
func findService(services []config.Service, name string) (config.Service, bool) {
	if name == "" && len(services) == 1 {
		return services[0], true
	}
	for _, s := range services {
		if s.Name == name {
			return s, true
		}
	}
	return config.Service{}, false
}
