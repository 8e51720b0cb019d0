package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/failwatch/failwatch/internal/ha"
	"github.com/failwatch/failwatch/routeros/failover"
)

// forwardWait bounds how long a follower waits for the leader's answer to
// a request: an operation's steps are each bounded by the router's
// timeout, a handful of them per service.
const forwardWait = 5 * time.Minute

// wireRequest is a request as it travels to the leader through etcd. The
// role is the one the requester had where it asked; the leader decides
// from its own config (roleOf).
type wireRequest struct {
	Op     Op     `json:"op"`
	Target string `json:"target"`
	User   string `json:"user"`
	Key    string `json:"key,omitempty"`
	Role   Role   `json:"role"`
	Name   string `json:"name,omitempty"`
	Reason string `json:"reason,omitempty"`
	Asked  Op     `json:"asked,omitempty"`
	Move   string `json:"move,omitempty"`
	// Via is the instance it was asked of.
	Via string `json:"via"`
}

// wireAnswer is the leader's answer: the operation's result, or why it was
// refused or did not start.
type wireAnswer struct {
	Result *failover.Result `json:"result,omitempty"`
	Error  string           `json:"error,omitempty"`
	Leader string           `json:"leader"`
}

// tookFromWire sets a result's durations (its own, its steps' and its
// parts') from the took_ms it travelled with: Result.Took is not in its
// JSON, so without this a result from the leader says it took no time.
// Steps read theirs back themselves (Step.UnmarshalJSON).
func tookFromWire(r *failover.Result) {
	r.Took = time.Duration(math.Round(r.TookMS*1000)) * time.Microsecond
	for i := range r.Parts {
		tookFromWire(&r.Parts[i])
	}
}

// readAnswer decodes the leader's answer, its result's durations with it.
func readAnswer(b []byte) (wireAnswer, error) {
	var ans wireAnswer
	if err := json.Unmarshal(b, &ans); err != nil {
		return ans, err
	}
	if ans.Result != nil {
		tookFromWire(ans.Result)
	}
	return ans, nil
}

// haRequest takes a request when ha: is configured and this instance must
// not run it itself: a follower sends it to the leader (the answer comes
// back as this instance's Done, or a refused note); a leader that may not
// send yet refuses it saying why. handled is false when the engine runs
// it as before.
func (e *Engine) haRequest(r Request) (err error, handled bool) {
	if e.ha == nil || r.Op == OpResetStats {
		return nil, false
	}
	if e.ha.m.Leading() {
		err := e.ha.m.MaySend()
		return err, err != nil
	}
	body, err := json.Marshal(wireRequest{Op: r.Op, Target: r.Target, User: r.By.User, Key: r.By.Key, Role: r.By.Role, Name: r.Name,
		Reason: r.Reason, Asked: r.Asked, Move: r.Move, Via: e.ha.m.Name()})
	if err != nil {
		return err, true
	}
	e.mu.Lock()
	ctx := e.ctx
	e.mu.Unlock()
	if ctx == nil || ctx.Err() != nil {
		return ErrBusy, true
	}
	e.note(false, fmt.Sprintf("%s's %s sent to the leader (%s)", r.By, orOp(r), e.ha.m.Status().Leader))
	e.ops.Go(func() {
		wctx, cancel := context.WithTimeout(ctx, forwardWait)
		defer cancel()
		a, err := e.ha.m.Submit(wctx, body)
		var ans wireAnswer
		if err == nil {
			ans, err = readAnswer(a)
		}
		switch {
		case err != nil:
			e.note(true, fmt.Sprintf("%s's %s: no answer from the leader: %v", r.By, orOp(r), err))
		case ans.Result == nil:
			e.note(true, fmt.Sprintf("%s's %s refused by the leader %s: %s", r.By, orOp(r), ans.Leader, ans.Error))
		default:
			d := Done{Result: *ans.Result, By: r.By.String() + " via " + ans.Leader}
			if ans.Error != "" {
				d.Err = errors.New(ans.Error)
			}
			e.publish(d)
			e.watcher.Poke()
		}
	})
	return nil, true
}

func orOp(r Request) string {
	if r.Name != "" {
		return r.Name
	}
	return string(r.Op)
}

// roleOf is a requester's role by this (the leader's) config: a
// serve.users entry's role, else the role of an unlisted key; never more
// than the role the requester had where it asked.
func (e *Engine) roleOf(w wireRequest) Role {
	role := Role(e.cfg.Serve.Anonymous)
	for _, u := range e.cfg.Serve.Users {
		if u.Name == w.User {
			role = Role(u.Role)
		}
	}
	if w.Role != Operator {
		return orRole(w.Role)
	}
	return orRole(role)
}

// serveForwarded runs the requests other instances send while this one
// leads, each answered with its result or why it did not run.
func (e *Engine) serveForwarded(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case in := <-e.ha.m.Requests():
			ans := e.runForwarded(ctx, in)
			ans.Leader = e.ha.m.Name()
			if b, err := json.Marshal(ans); err == nil {
				_ = e.ha.m.Answer(ctx, in.ID, b)
			}
		}
	}
}

// runForwarded runs one forwarded request, as this instance's own with the
// requester's role by its config, and waits for its end.
func (e *Engine) runForwarded(ctx context.Context, in ha.Incoming) wireAnswer {
	var w wireRequest
	if err := json.Unmarshal(in.Body, &w); err != nil {
		return wireAnswer{Error: "request unreadable: " + err.Error()}
	}
	sub := e.Subscribe(64)
	defer sub.Close()
	by := Requester{User: w.User + " via " + w.Via, Key: w.Key, Role: e.roleOf(w)}
	if err := e.Request(Request{Op: w.Op, Target: w.Target, By: by, Name: w.Name, Reason: w.Reason, Asked: w.Asked, Move: w.Move}); err != nil {
		return wireAnswer{Error: err.Error()}
	}
	timeout := time.After(forwardWait)
	for {
		select {
		case <-ctx.Done():
			return wireAnswer{Error: "the leader is stopping"}
		case <-timeout:
			return wireAnswer{Error: "the operation did not end within " + forwardWait.String()}
		case ev, ok := <-sub.C():
			if !ok {
				return wireAnswer{Error: "the leader's subscription ended"}
			}
			if d, ok := ev.(Done); ok && d.By == by.String() {
				ans := wireAnswer{Result: &d.Result}
				if d.Err != nil {
					ans.Error = d.Err.Error()
				}
				return ans
			}
		}
	}
}

// AskLeader sends one operation to the cluster's leader from outside it
// (a one-shot command with ha:) and waits for its result: the leader runs
// it as its own, with the role its config gives the user.
func AskLeader(ctx context.Context, opts ha.Options, r Request) (failover.Result, error) {
	body, err := json.Marshal(wireRequest{Op: r.Op, Target: r.Target, User: r.By.User, Key: r.By.Key, Role: r.By.Role, Name: r.Name,
		Reason: r.Reason, Via: opts.HA.Name + " (one-shot)"})
	if err != nil {
		return failover.Result{}, err
	}
	wctx, cancel := context.WithTimeout(ctx, forwardWait)
	defer cancel()
	a, err := ha.Ask(wctx, opts, body)
	if err != nil {
		return failover.Result{}, fmt.Errorf("no answer from the leader: %w", err)
	}
	ans, err := readAnswer(a)
	if err != nil {
		return failover.Result{}, fmt.Errorf("the leader's answer: %w", err)
	}
	if ans.Result == nil {
		return failover.Result{}, fmt.Errorf("refused by the leader %s: %s", ans.Leader, ans.Error)
	}
	if ans.Error != "" {
		return *ans.Result, errors.New(ans.Error)
	}
	return *ans.Result, nil
}
