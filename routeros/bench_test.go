package routeros

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/failwatch/failwatch/internal/testkit"
	"github.com/failwatch/failwatch/routeros/rosim"
)

// benchFollow measures from a line appended in the emulator to the event
// reaching each of n followers.
func benchFollow(b *testing.B, n int) {
	r := rosim.New(rosim.Options{})
	defer r.Close()
	addr, _ := r.ListenAndServe("127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	chans := make([]chan LogEvent, n)
	var wg sync.WaitGroup
	for i := range chans {
		chans[i] = make(chan LogEvent, 16)
		f := &LogFollower{Opts: Options{Address: addr.String(), User: "admin", Timeout: 5 * time.Second},
			Keep: func(LogEntry) bool { return true }}
		wg.Go(func() { f.Run(ctx, chans[i]) })
	}
	for _, ch := range chans {
		for ev := range ch {
			if ev.Kind == LogConnected {
				break
			}
		}
	}
	lat := make([]time.Duration, 0, b.N*n)
	for b.Loop() {
		start := time.Now()
		r.Log("netwatch,info", "event down [ type: simple, host: 104.247.193.168 ]")
		for _, ch := range chans {
			for ev := range ch {
				if ev.Kind == LogLine {
					lat = append(lat, time.Since(start))
					break
				}
				if ev.Kind == LogGap {
					b.Fatalf("gap: %s", ev.Reason)
				}
			}
		}
	}
	b.StopTimer()
	testkit.ReportLatency(b, lat)
	cancel()
	for _, ch := range chans {
		go func() {
			for range ch {
			}
		}()
	}
	wg.Wait()
}

func BenchmarkLogLineToEvent(b *testing.B)    { benchFollow(b, 1) }
func BenchmarkLogFiftyFollowers(b *testing.B) { benchFollow(b, 50) }
