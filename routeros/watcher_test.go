package routeros

import (
	"context"
	"slices"
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

// A reading takes the netwatch entries of every host asked for, in one
// call with a word per host and one more, and no other host's: with one
// host, two, and more than the router has entries for.
func TestWatcherReadsEveryHostsNetwatch(t *testing.T) {
	r, c := adminClient(t, rosim.Options{})
	ctx := context.Background()
	hosts := []string{"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5"}
	for _, h := range hosts[:4] {
		if _, err := c.Run(ctx, "/tool/netwatch/add", "=host="+h, "=disabled=yes", "=comment=entry of "+h); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		hosts, want []string
	}{
		{hosts[:1], hosts[:1]},
		{hosts[1:3], hosts[1:3]},
		{hosts, hosts[:4]},
		{[]string{paper.PublicAddress, hosts[3]}, []string{paper.PublicAddress, paper.PublicAddress, hosts[3]}},
	} {
		w := NewWatcher(c, []string{paper.Name}, nil, time.Minute)
		w.SetHosts(tc.hosts)
		if n := len(w.netwatch); n != 2+len(tc.hosts)+min(1, len(tc.hosts)-1) {
			t.Errorf("%v: %d words %q", tc.hosts, n, w.netwatch)
		}
		before := r.Calls()["/tool/netwatch/print"]
		st := w.Read(ctx)
		if st.Err != nil {
			t.Fatal(st.Err)
		}
		var got []string
		for _, n := range st.Netwatch {
			if n.Unreadable != "" || !n.Disabled != (n.Host == paper.PublicAddress) {
				t.Errorf("%v: entry %+v", tc.hosts, n)
			}
			if n.Host != paper.PublicAddress && n.Comment != "entry of "+n.Host {
				t.Errorf("%v: entry %+v", tc.hosts, n)
			}
			got = append(got, n.Host)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("hosts %v: read the entries of %v, want %v", tc.hosts, got, tc.want)
		}
		if n := r.Calls()["/tool/netwatch/print"] - before; n != 1 {
			t.Errorf("%v: %d calls", tc.hosts, n)
		}
	}
}
