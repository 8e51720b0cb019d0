package engine

import (
	"strconv"
	"sync"
	"testing"
)

// A subscriber joining while events are published gets the snapshot first,
// then every event published after what the snapshot holds, each once and
// in order: the snapshot is put in order outside the engine's lock, and
// what comes meanwhile waits behind it.
func TestSubscribeSnapshotThenEveryLaterEvent(t *testing.T) {
	e := &Engine{subs: map[*Subscription]struct{}{}, hist: newHistory(), facts: map[string]Facts{}}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			e.publish(PolicyNote{Text: strconv.Itoa(i)})
		}
	})
	defer func() { close(stop); wg.Wait() }()
	note := func(ev Event) int {
		t.Helper()
		n, ok := ev.(PolicyNote)
		if !ok {
			t.Fatalf("event %T, want a policy note", ev)
		}
		i, err := strconv.Atoi(n.Text)
		if err != nil {
			t.Fatal(err)
		}
		return i
	}
	for range 50 {
		s := e.Subscribe(1 << 12)
		snap, ok := (<-s.C()).(Snapshot)
		if !ok {
			t.Fatal("the first event is not the snapshot")
		}
		last := 0
		for _, ev := range snap.Events {
			last = note(ev)
		}
		for range 100 {
			if got := note(<-s.C()); got != last+1 {
				t.Fatalf("after note %d came note %d", last, got)
			}
			last++
		}
		s.Close()
	}
}
