package engine

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/failwatch/failwatch/internal/engine/enginetest"
	"github.com/failwatch/failwatch/internal/testkit"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/rosim"
)

// runEngine runs an engine for cfg until the test ends or stop is called,
// its router's options from cfg, its servers' probes answered by sims
// (enginetest.Monitor) and its audit log in the test's directory unless
// opts names one.
func runEngine(t testing.TB, cfg *config.Config, sims map[string]*monitor.Simulated, opts Options) (e *Engine, stop func()) {
	t.Helper()
	opts.Router, opts.Monitor = routeros.OptionsFrom(cfg.Router), enginetest.Monitor(cfg, sims)
	if opts.AuditLog == "" {
		opts.AuditLog = filepath.Join(t.TempDir(), "audit.jsonl")
	}
	e, _, err := New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	return e, testkit.Run(t, e.Run)
}

// paperEngine runs an engine on the emulator with the paper's setup and
// simulated servers (no packet leaves the process) until the test ends
// or stop is called.
func paperEngine(t *testing.T, readOnly bool) (e *Engine, stop func()) {
	t.Helper()
	e, _, stop = paperRig(t, readOnly)
	return e, stop
}

// paperRig is paperEngine with its emulated router.
func paperRig(t *testing.T, readOnly bool) (*Engine, *rosim.Router, func()) {
	t.Helper()
	r, api := testkit.Emulator(t, rosim.Options{})
	cfg := enginetest.PaperConfig(api)
	e, stop := runEngine(t, cfg, enginetest.PaperSims(), Options{DNS: testkit.DNS(t, r), ReadOnly: readOnly, User: "tester"})
	return e, r, stop
}

// active is the paper's service's active server in a reading, "" in any
// other event.
func active(ev Reading) string {
	if len(ev.Services) == 0 {
		return ""
	}
	return ev.Services[0].Active
}

// onPublic subscribes to e with a queue of n events, closed when the test
// ends, and reads it until a reading has the paper's name on the public
// server.
func onPublic(t *testing.T, e *Engine, n int) *Subscription {
	t.Helper()
	s := e.Subscribe(n)
	t.Cleanup(s.Close)
	until(t, s, func(ev Reading) bool { return active(ev) == "public" })
	return s
}

// until reads a subscription until an event of type T comes for which ok
// says so.
func until[T Event](t testing.TB, s *Subscription, ok func(T) bool) T {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev := <-s.C():
			if ev, is := ev.(T); is && ok(ev) {
				return ev
			}
		case <-timeout:
			t.Fatal("the event never came")
		}
	}
}

// One engine, several subscribers: each sees the same operation step by
// step; a second operation while one runs is refused; a subscriber that
// joins late starts from a snapshot with the whole picture.
func TestSubscribersShareOneEngine(t *testing.T) {
	e, _ := paperEngine(t, false)
	a := onPublic(t, e, 256)
	b := e.Subscribe(256)
	defer b.Close()

	if err := e.Request(Request{Op: OpFailoverHold, By: Requester{User: "alice", Role: Operator}}); err != nil {
		t.Fatal(err)
	}
	if err := e.Request(Request{Op: OpRestore, By: Requester{User: "bob", Role: Operator}}); !errors.Is(err, ErrBusy) {
		t.Errorf("a second operation while one runs: %v", err)
	}
	for _, s := range []*Subscription{a, b} {
		done := until(t, s, func(Done) bool { return true })
		if done.Err != nil || done.Result.To != "private" {
			t.Errorf("done: %+v", done)
		}
	}
	held := until(t, a, func(ev Reading) bool { return active(ev) == "private" && ev.Held })
	// The router panel's facts come with the reading: each record's server,
	// and which netwatch entries failwatch holds.
	owners := map[string]bool{}
	for _, r := range held.Records {
		owners[held.Services[0].Owners[r.ID]] = true
	}
	if !owners["public"] || !owners["private"] || len(held.HeldEntries) == 0 || !held.Services[0].Held {
		t.Errorf("owners %v, held entries %v", held.Services[0].Owners, held.HeldEntries)
	}
	for _, n := range held.Netwatch {
		if held.HeldEntries[n.ID] != n.Disabled {
			t.Errorf("netwatch %s disabled %v, held %v", n.ID, n.Disabled, held.HeldEntries[n.ID])
		}
	}

	testkit.Eventually(t, 5*time.Second, "the probes called the public server", func() bool {
		return e.State().Health["public"].State != monitor.Unknown
	})
	late := e.Subscribe(16)
	defer late.Close()
	snap, ok := (<-late.C()).(Snapshot)
	if !ok {
		t.Fatal("a subscription does not start with a snapshot")
	}
	var reading *Reading
	var switched, publicState, samples bool
	for _, ev := range snap.Events {
		switch ev := ev.(type) {
		case Reading:
			reading = &ev
		case Switch:
			switched = switched || (ev.From == "public" && ev.To == "private" && ev.Cause.Who == "alice")
		case ServerEvent:
			publicState = publicState || (ev.Server == "public" && ev.Type == monitor.EventServer && ev.Transition.To != monitor.Unknown)
			samples = samples || ev.Type == monitor.EventSample
		}
	}
	if reading == nil || active(*reading) != "private" || !reading.Held || !switched || !publicState || !samples {
		t.Errorf("late snapshot: reading %+v, switch %v, public's state %v, samples %v", reading, switched, publicState, samples)
	}
	if len(snap.Facts) != 1 || !snap.Facts[0].Defined() || snap.Facts[0].Active != "private" {
		t.Errorf("late snapshot's facts: %+v", snap.Facts)
	}
}

// A subscriber that never reads does not slow the engine or the others,
// and is told what it missed when it reads again.
func TestSlowSubscriberDropsAndIsTold(t *testing.T) {
	e, _ := paperEngine(t, false)
	slow := e.Subscribe(4)
	defer slow.Close()
	fast := e.Subscribe(256)
	defer fast.Close()
	// The fast one keeps receiving while the slow one's queue is full.
	for range 30 {
		until(t, fast, func(ServerEvent) bool { return true })
	}
	dropped := 0
	for len(slow.C()) > 0 {
		<-slow.C()
	}
	ev := <-slow.C()
	if d, ok := ev.(Dropped); ok {
		dropped = int(d)
	}
	if dropped == 0 {
		t.Errorf("first event after the backlog: %+v, want a count of the dropped", ev)
	}
}

// A read-only engine refuses every operation and runs no policy.
func TestReadOnlyRefuses(t *testing.T) {
	e, _ := paperEngine(t, true)
	if err := e.Request(Request{Op: OpFailover, By: Requester{User: "mallory", Role: Operator}}); !errors.Is(err, ErrReadOnly) {
		t.Errorf("err %v", err)
	}
}

// Ending the engine while an operation runs: it finishes or rolls back
// before Run returns, and the end is published.
func TestRunWaitsForTheOperation(t *testing.T) {
	e, stop := paperEngine(t, false)
	onPublic(t, e, 256)
	if err := e.Request(Request{Op: OpFailover, By: Requester{User: "alice", Role: Operator}}); err != nil {
		t.Fatal(err)
	}
	stop()
	if last := e.LastDone(); last == nil {
		t.Fatal("Run returned before the operation ended")
	}
}

// A failover by hand while both servers are up is a switch with no fault
// to blame: the engine says so once, for every subscriber.
func TestSwitchEvent(t *testing.T) {
	e, _ := paperEngine(t, false)
	s := onPublic(t, e, 1024)
	testkit.EventuallyLast(t, 5*time.Second, "the probes called the public server UP", func() (monitor.State, bool) {
		st := e.State().Health["public"].State
		return st, st == monitor.Up
	})
	if err := e.Request(Request{Op: OpFailover, By: Requester{User: "alice", Role: Operator}}); err != nil {
		t.Fatal(err)
	}
	sw := until(t, s, func(Switch) bool { return true })
	if sw.From != "public" || sw.To != "private" || sw.Fault {
		t.Errorf("switch %+v, want public to private without a fault", sw)
	}
}
