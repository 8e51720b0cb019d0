package failover

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Part is one service's share of an operation over several: its failover
// (with the caller's user, reason and progress) and what to do with it.
type Part struct {
	Failover *Failover
	Do       func(*Failover, context.Context) (Result, error)
}

// Each runs the parts one after the other, each a whole operation of its
// own (verified, rolled back alone, audited). Over several services each
// step is named with its service, each audit line says which operation it
// is part of, a failure stops the rest (those done stay done) and says so,
// and the result is Combine's. One part is that part's result, named.
func Each(ctx context.Context, name string, parts []Part) (Result, error) {
	started := time.Now()
	var results []Result
	var err error
	for i, p := range parts {
		f := *p.Failover
		if len(parts) > 1 {
			label, progress := f.Service.Name+": ", f.Progress
			f.Progress = func(s Step) {
				if progress != nil {
					s.Name = label + s.Name
					progress(s)
				}
			}
			reason := name
			if f.Reason != "" {
				reason += ": " + f.Reason
			}
			f.Reason = reason
		}
		var res Result
		res, err = p.Do(&f, ctx)
		results = append(results, res)
		if err != nil {
			if len(parts) > 1 {
				err = fmt.Errorf("%s: %w", f.Service.Name, err)
				var rest []string
				for _, q := range parts[i+1:] {
					rest = append(rest, q.Failover.Service.Name)
				}
				if len(rest) > 0 {
					err = fmt.Errorf("%w; not attempted: %s", err, strings.Join(rest, ", "))
				}
			}
			break
		}
	}
	if len(parts) == 1 {
		results[0].Operation = name
		return results[0], err
	}
	return Combine(name, started, results), err
}

// Combine is an operation over several services from its parts' results:
// every step (named with its service first) and change, and the outcome of
// the part that ended it (a failure stops the rest), else changed when any
// part changed anything.
func Combine(name string, started time.Time, parts []Result) Result {
	res := Result{Operation: name, Started: started, Outcome: OutcomeAlreadySo, Parts: parts, Changes: []Change{}, Steps: []Step{}}
	var names []string
	for _, p := range parts {
		names = append(names, p.Service)
		for _, st := range p.Steps {
			st.Name = p.Service + ": " + st.Name
			res.Steps = append(res.Steps, st)
		}
		res.Changes = append(res.Changes, p.Changes...)
		for _, n := range p.Notes {
			res.Notes = append(res.Notes, p.Service+": "+n)
		}
		res.Changed = res.Changed || p.Changed
		switch p.Outcome {
		case OutcomeAlreadySo:
		case OutcomeChanged:
			if res.Outcome == OutcomeAlreadySo {
				res.Outcome = OutcomeChanged
			}
		default:
			res.Outcome = p.Outcome
		}
	}
	res.Service = strings.Join(names, ", ")
	res.Took = time.Since(started)
	res.TookMS = ms(res.Took)
	return res
}
