package engine

import (
	"errors"
	"strings"
	"testing"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/paper"
	"github.com/failwatch/failwatch/routeros"
)

// A question states the move y makes, from the facts: when the name is
// already on the target, "already on" and what is left (the hold), or
// nothing; unknown facts ask nothing.
func TestQuestionsFromTheFacts(t *testing.T) {
	svc := config.Service{Name: "www.example.test", Primary: "public", Standby: "private"}
	services := []config.Service{svc}
	known := func(active string, held bool) map[string]Facts {
		return map[string]Facts{svc.Name: {Service: svc.Name, State: FactKnown, Active: active, Enabled: 1, Held: held}}
	}
	for _, c := range []struct {
		name        string
		op          Op
		facts       map[string]Facts
		do          Op
		move, empty string
	}{
		{"fail over from public", OpFailoverHold, known("public", false), OpFailoverHold,
			"Fail over www.example.test from public to private, holding the router's netwatch so it cannot move it back", ""},
		{"fail over, already on private, not held", OpFailoverHold, known("private", false), OpHold,
			"www.example.test is already on private: hold the router's netwatch so it cannot move it back", ""},
		{"fail over, already on private and held", OpFailoverHold, known("private", true), OpFailoverHold, "",
			"www.example.test is already on private: nothing to do"},
		{"fail over without hold, already on private", OpFailover, known("private", false), OpFailover, "",
			"www.example.test is already on private: nothing to do"},
		{"restore from private", OpRestore, known("private", true), OpRestore,
			"Restore www.example.test from private to public and release netwatch", ""},
		{"restore, already on public, held", OpRestore, known("public", true), OpRelease,
			"www.example.test is already on public: release the router's netwatch (it may move the name again)", ""},
		{"restore, already on public", OpRestore, known("public", false), OpRestore, "", "www.example.test is already on public: nothing to do"},
		{"fail over from no single server", OpFailover, map[string]Facts{svc.Name: {State: FactKnown, Enabled: 2, Records: make([]routeros.Record, 2)}},
			OpFailover, "Fail over www.example.test from no single server to private", ""},
		{"unknown facts ask nothing", OpFailover, map[string]Facts{svc.Name: {State: FactUnknown, Why: "no reading yet"}}, OpFailover, "",
			"nothing done: where www.example.test points is unknown (no reading yet)"},
		{"unreadable facts ask nothing", OpRestore, map[string]Facts{svc.Name: {State: FactUnreadable, Why: "unreadable: *1 disabled"}}, OpRestore, "",
			"nothing done: where www.example.test points is unreadable: *1 disabled"},
		{"hold when held", OpHold, known("public", true), OpHold, "", "the router's netwatch is already held: nothing to do"},
		{"back to primaries skips what was not read", OpPrimaries, map[string]Facts{svc.Name: {State: FactStale, Active: "private"}}, OpPrimaries, "",
			"every service is on its primary: nothing to restore; left alone, not read: www.example.test"},
	} {
		q := Ask(c.op, "", services, c.facts)
		if q.Move != c.move || q.Nothing != c.empty || (c.move != "" && q.Op != c.do) {
			t.Errorf("%s: %s %q nothing %q, want %s %q nothing %q", c.name, q.Op, q.Move, q.Nothing, c.do, c.move, c.empty)
		}
	}
}

// A confirmation names the question it answers: a y that reaches the
// engine after the facts changed the move is refused, saying the move
// now; the same question asked again is carried out.
func TestConfirmationForAnotherMoveIsRefused(t *testing.T) {
	e, _ := paperEngine(t, false)
	sub := onPublic(t, e, 4096)
	alice := Requester{User: "alice", Role: Operator}
	e.mu.Lock()
	q := Ask(OpFailoverHold, "", e.cfg.Services, e.facts)
	e.mu.Unlock()
	if !strings.HasPrefix(q.Move, "Fail over "+paper.Name+" from public to private") {
		t.Fatalf("the question: %+v", q)
	}
	stale := Request{Op: q.Op, By: alice, Asked: q.Asked, Move: "Fail over " + paper.Name + " from private to public"}
	err := e.Request(stale)
	if !errors.Is(err, ErrQuestionChanged) || !strings.Contains(err.Error(), "y would now fail over "+paper.Name+" from public to private") {
		t.Errorf("a confirmation of another move: %v", err)
	}
	if e.Busy() {
		t.Error("the refused confirmation started an operation")
	}
	if err := e.Request(Request{Op: q.Op, By: alice, Asked: q.Asked, Move: q.Move}); err != nil {
		t.Errorf("the question's own answer: %v", err)
	}
	until(t, sub, func(d Done) bool { return d.Result.To == "private" })
}
