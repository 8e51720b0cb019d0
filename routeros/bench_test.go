package routeros

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/routeros/rosim"
)

// reportLatency adds the median and p95 of the measured latencies.
func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2])/1e6, "median-ms")
	b.ReportMetric(float64(lat[(len(lat)*95+99)/100-1])/1e6, "p95-ms")
}

// One failover or restore against the emulator on loopback, from the request
// to the verified switch (read state, enable, disable, flush, read back).
func BenchmarkFailover(b *testing.B) {
	r := rosim.New(rosim.Options{})
	defer r.Close()
	r.SeedPaper()
	addr, _ := r.ListenAndServe("127.0.0.1:0")
	c, _, _ := New(Options{Address: addr.String(), User: "admin", Timeout: 5 * time.Second})
	defer c.Close()
	f := &Failover{Client: c, Service: config.Service{Name: rosim.PaperName, Layout: config.Toggle},
		Primary: config.Server{Name: "public", Address: rosim.PaperPublic, Record: config.RecordMatch{Comment: "Server Public"}},
		Standby: config.Server{Name: "private", Address: rosim.PaperPrivate, Record: config.RecordMatch{Comment: "ServerPrivate"}}}
	ctx := context.Background()
	if _, err := c.Identity(ctx); err != nil {
		b.Fatal(err)
	}
	lat := make([]time.Duration, 0, b.N)
	i := 0
	for b.Loop() {
		start := time.Now()
		var err error
		if i%2 == 0 {
			_, err = f.FailoverToStandby(ctx, false)
		} else {
			_, err = f.Restore(ctx)
		}
		lat = append(lat, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		i++
	}
	reportLatency(b, lat)
}

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
	reportLatency(b, lat)
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
