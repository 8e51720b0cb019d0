package lab

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/failwatch/failwatch/internal/netlab"
)

func newLab(t *testing.T) *Lab {
	t.Helper()
	if err := netlab.Available(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI must run the lab: %v", err)
		}
		t.Skipf("the lab needs network namespaces: %v", err)
	}
	l, err := New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	return l
}

// The short version of the paper's scenarios on real packets: what must hold.
func TestScenariosShort(t *testing.T) {
	l := newLab(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	r1 := l.Scenario1(ctx, 5, 300*time.Millisecond)
	if r1.Stats.Received != 5 || r1.Stats.Avg < 150*time.Millisecond || r1.Stats.Avg > 260*time.Millisecond {
		t.Errorf("scenario 1: %+v (want the public server's ~196 ms)", r1.Stats)
	}
	r3, err := l.Scenario3(ctx, 10, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if r3.Stats.Sent != 10 || r3.Stats.LossPercent() != 0 || r3.Stats.Avg > 20*time.Millisecond {
		t.Errorf("scenario 3: %+v (want 0%% loss at the private server's ~2.7 ms)", r3.Stats)
	}
	r2, err := l.Scenario2(ctx, 15, 2, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if r2.Switch <= 0 || r2.Switch > 12*time.Second || r2.LostInSwitch == 0 {
		t.Errorf("scenario 2: switch %s, %d lost in it, %+v", r2.Switch, r2.LostInSwitch, r2.Stats)
	}
	t.Logf("scenario 2: %d/%d received, switch %s, %d lost during it", r2.Stats.Received, r2.Stats.Sent, r2.Switch, r2.LostInSwitch)
}

// failwatch's detection and policy switch at least 5x faster than the
// paper's netwatch. The fault goes in half an interval after a netwatch
// test: the expected phase of a real outage, so the check does not ride on
// luck either way (docs/BENCHMARKS.md has random phases over several runs).
func TestFailwatchFasterThanPaper(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	paper, err := newLab(t).Measure(ctx, Paper, 1, MidPhase)
	if err != nil {
		t.Fatal(err)
	}
	fw, err := newLab(t).Measure(ctx, Failwatch, 1, MidPhase)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("paper: detect %s, switch %s; failwatch: detect %s, switch %s", paper[0].Detect, paper[0].Switch, fw[0].Detect, fw[0].Switch)
	if fw[0].Switch*5 > paper[0].Switch {
		t.Errorf("failwatch switched in %s, not 5x faster than the paper's %s", fw[0].Switch, paper[0].Switch)
	}
}

// The paper's scenario 2 as clients see it (issue: the paper's table on
// every failover path). With failwatch's probes and policy, a client that
// asks the resolver before each ping loses at most 1 of 20, and fewer than
// on the paper's netwatch; a client that caches the answer for the records'
// 30 s TTL is back within the TTL and 2 s of the switch.
func TestClientsSeeTheSwitch(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	run := func(mode Mode) []ClientRow {
		rows, err := newLab(t).ClientsScenario2(ctx, mode, 30*time.Second, 20, 3, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			t.Logf("%s, %s: %d/%d received, switch %s, back after %s (%v)", r.Mode, r.Client, r.Stats.Received, r.Stats.Sent, r.Switch, r.Back, r.BackOK)
		}
		return rows
	}
	fw, paper := run(Failwatch), run(Paper)
	lost := func(r ClientRow) int { return r.Stats.Sent - r.Stats.Received }
	if lost(fw[0]) > 1 {
		t.Errorf("failwatch's path: the re-resolving client lost %d of %d", lost(fw[0]), fw[0].Stats.Sent)
	}
	if lost(fw[0]) >= lost(paper[0]) {
		t.Errorf("failwatch's path lost %d, the paper's netwatch %d: not fewer", lost(fw[0]), lost(paper[0]))
	}
	if c := fw[1]; !c.BackOK || c.Back > 32*time.Second {
		t.Errorf("the caching client (30s TTL) was back after %s (%v), want within 32s of the switch", c.Back, c.BackOK)
	}
}
