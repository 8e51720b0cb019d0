package engine

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/failwatch/failwatch/internal/paper/papersim"
	"github.com/failwatch/failwatch/internal/testkit"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/paper"
	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/rosim"
)

// paperEngine runs an engine on the emulator with the paper's setup and
// simulated servers (no packet leaves the process).
func paperEngine(t *testing.T, readOnly bool) (*Engine, context.CancelFunc, chan struct{}) {
	t.Helper()
	e, _, cancel, done := paperRig(t, readOnly)
	return e, cancel, done
}

// paperRig is paperEngine with its emulated router.
func paperRig(t *testing.T, readOnly bool) (*Engine, *rosim.Router, context.CancelFunc, chan struct{}) {
	t.Helper()
	r := rosim.New(rosim.Options{})
	t.Cleanup(r.Close)
	if err := r.SeedPaper(); err != nil {
		t.Fatal(err)
	}
	api, err := r.ListenAndServe("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dns, err := r.ServeDNS("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := paper.Config()
	cfg.Router = config.Router{Address: api.String(), User: "admin", Timeout: 2 * time.Second}
	cfg.Probe.Interval = 100 * time.Millisecond
	sims := map[string]*monitor.Simulated{"public": papersim.Public(), "private": papersim.Private()}
	e, _, err := New(cfg, Options{Router: routeros.OptionsFrom(cfg.Router), DNS: dns.String(), ReadOnly: readOnly, User: "tester",
		AuditLog: filepath.Join(t.TempDir(), "audit.jsonl"),
		Monitor: monitor.Options{Probe: cfg.Probe, Prober: func(s config.Server, _ config.Check) (monitor.Prober, error) {
			if p, ok := sims[s.Name]; ok {
				return p, nil
			}
			// A server a reload adds answers like the private one.
			return papersim.Private(), nil
		}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return e, r, cancel, done
}

// active is the paper's service's active server in a reading, "" in any
// other event.
func active(ev Reading) string {
	if len(ev.Services) == 0 {
		return ""
	}
	return ev.Services[0].Active
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
	e, _, _ := paperEngine(t, false)
	a := e.Subscribe(256)
	defer a.Close()
	until(t, a, func(ev Reading) bool { return active(ev) == "public" })
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
	e, _, _ := paperEngine(t, false)
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
	e, _, _ := paperEngine(t, true)
	if err := e.Request(Request{Op: OpFailover, By: Requester{User: "mallory", Role: Operator}}); !errors.Is(err, ErrReadOnly) {
		t.Errorf("err %v", err)
	}
}

// Ending the engine while an operation runs: it finishes or rolls back
// before Run returns, and the end is published.
func TestRunWaitsForTheOperation(t *testing.T) {
	e, cancel, done := paperEngine(t, false)
	s := e.Subscribe(256)
	defer s.Close()
	until(t, s, func(ev Reading) bool { return active(ev) == "public" })
	if err := e.Request(Request{Op: OpFailover, By: Requester{User: "alice", Role: Operator}}); err != nil {
		t.Fatal(err)
	}
	cancel()
	<-done
	if last := e.LastDone(); last == nil {
		t.Fatal("Run returned before the operation ended")
	}
}

// A failover by hand while both servers are up is a switch with no fault
// to blame: the engine says so once, for every subscriber.
func TestSwitchEvent(t *testing.T) {
	e, _, _ := paperEngine(t, false)
	s := e.Subscribe(1024)
	defer s.Close()
	until(t, s, func(ev Reading) bool { return active(ev) == "public" })
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
