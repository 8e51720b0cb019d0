package routeros

import (
	"context"
	"testing"
	"time"

	"github.com/failwatch/failwatch/internal/paper"
	"github.com/failwatch/failwatch/internal/testkit"
	"github.com/failwatch/failwatch/routeros/rosim"
)

// A burst of log pokes (10,000 in 1.5 s) makes at most one reading a second;
// an operation's poke makes one at once.
func TestWatcherCoalescesLogPokes(t *testing.T) {
	_, c := adminClient(t, rosim.Options{})
	w := NewWatcher(c, []string{paper.Name}, []string{paper.PublicAddress}, time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	states := make(chan RouterState, 100)
	go w.Run(ctx, states)
	<-states
	start := time.Now()
	var lastPoke time.Time
	for i := range 10_000 {
		lastPoke = time.Now()
		w.PokeSoon()
		if i%100 == 0 {
			time.Sleep(15 * time.Millisecond) // the burst spread over 1.5 s: pacing, not a wait
		}
	}
	burst := time.Since(start)
	// A poke is never lost, so the burst's readings end with the first
	// one started after the last poke (only one started in the instant
	// between lastPoke and the poke itself could leave one more, which
	// would then go uncounted: the bound is never tighter than it was).
	readings := 0
	testkit.Receive(t, states, MinGap+5*time.Second, "a reading after the burst's last poke", func(st RouterState) bool {
		readings++
		return st.At.After(lastPoke)
	})
	// One reading per started second of the burst and the wait after it.
	if most := int((burst+MinGap)/MinGap) + 1; readings < 1 || readings > most {
		t.Errorf("%d readings for a %s burst of 10,000 pokes, want 1 to %d", readings, burst.Round(time.Millisecond), most)
	}
	for len(states) > 0 {
		<-states
	}
	w.Poke()
	select {
	case <-states:
	case <-time.After(MinGap / 2):
		t.Error("an operation's poke waited")
	}
}

// One reading takes the records of every name asked for, in one call, and
// no other name's.
func TestWatcherReadsEveryNameAtOnce(t *testing.T) {
	r, api, _ := testkit.ServicesEmulator(t, testkit.ThreeServices)
	c := client(t, api, "admin", "")
	before := r.Calls()["/ip/dns/static/print"]
	st := NewWatcher(c, []string{"www.example.test", "mail.example.test"}, nil, time.Minute).Read(context.Background())
	if st.Err != nil {
		t.Fatal(st.Err)
	}
	names := map[string]int{}
	for _, rec := range st.Records {
		names[rec.Name]++
	}
	if len(st.Records) != 4 || names["www.example.test"] != 2 || names["mail.example.test"] != 2 {
		t.Errorf("records: %+v", st.Records)
	}
	if n := r.Calls()["/ip/dns/static/print"] - before; n != 1 {
		t.Errorf("%d calls for two names", n)
	}
}
