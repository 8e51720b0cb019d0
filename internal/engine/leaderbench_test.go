package engine

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/failwatch/failwatch/internal/ha/hatest"
	"github.com/failwatch/failwatch/internal/testkit"
	"github.com/failwatch/failwatch/routeros/failover"
)

// What etcd adds to an operation: failovers and restores in turn, from the
// request to its Done, on one instance without ha: and one leading a
// cluster of one (its journal written at each step, the fence asked before
// each change), against one etcd member and against three (each write
// agreed by two of them). docs/BENCHMARKS.md.
func BenchmarkHAOperation(b *testing.B) {
	for _, members := range []int{0, 1, 3} {
		name := "ha off"
		if members > 0 {
			name = fmt.Sprintf("ha on, %d-member etcd", members)
		}
		b.Run(name, func(b *testing.B) {
			on := members > 0
			endpoint := ""
			switch members {
			case 1:
				endpoint = hatest.Start(b).Endpoint()
			case 3:
				endpoint = strings.Join(hatest.StartCluster(b, 3).Endpoints(), ",")
			}
			g := newHARig(b)
			in := g.startWith(b, endpoint, "i1", 1, false)
			if on {
				testkit.Eventually(b, 15*time.Second, "i1 acts", func() bool { s, _ := in.e.HA(); return s.Acting })
			}
			sub := in.e.Subscribe(4096)
			defer sub.Close()
			testkit.Eventually(b, 10*time.Second, "the first reading", func() bool { return in.e.State().Active["tomtotrading.com"] != "" })
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				op := OpFailover
				if i%2 == 1 {
					op = OpRestore
				}
				start := time.Now()
				if err := in.e.Request(Request{Op: op, By: Requester{User: "alice", Role: Operator}}); err != nil {
					b.Fatal(err)
				}
				d := until(b, sub, func(Done) bool { return true })
				lat = append(lat, time.Since(start))
				if d.Err != nil || d.Result.Outcome != failover.OutcomeChanged {
					b.Fatalf("%s: %s, %v", op, d.Result.Outcome, d.Err)
				}
			}
			b.StopTimer()
			testkit.ReportLatency(b, lat)
		})
	}
}

// From the leader's death to the next leader's first probe-driven
// decision (its operation's first step), with the tests' 2s lease: the
// lease expires, the next leader waits a TTL, then its policy acts on the
// primary DOWN (fail_after 300ms, one tick a second). docs/BENCHMARKS.md.
func BenchmarkHALeaderDeathToDecision(b *testing.B) {
	lat := make([]time.Duration, 0, b.N)
	for range b.N {
		etcd := hatest.Start(b)
		g := newHARig(b)
		all := g.cluster(b, etcd.Endpoint(), 2, 1)
		testkit.Eventually(b, 15*time.Second, "one instance acts", func() bool { return actingOne(all) != nil })
		lead := actingOne(all)
		next := others(all, lead)[0]
		sub := next.e.Subscribe(4096)
		killed := time.Now()
		go lead.kill()
		next.sims["public"].SetDown(true)
		until(b, sub, func(s Step) bool { return s.Step.Status == failover.StepRunning })
		lat = append(lat, time.Since(killed))
		sub.Close()
		lead.kill()
		next.kill()
		etcd.Stop()
	}
	testkit.ReportLatency(b, lat)
}
