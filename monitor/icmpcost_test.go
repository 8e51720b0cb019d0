package monitor

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	probing "github.com/prometheus-community/pro-bing"

	"github.com/failwatch/failwatch/config"
)

// BenchmarkICMPCost compares, side by side in one run, the CPU per probe of
// three ways to probe 100 loopback targets once a second, ten probes each:
// failwatch's shared socket through the real monitor, the pro-bing pinger per
// probe it used before (through the same monitor), and long-lived pro-bing
// pingers (one per target, probing on their own ticker, nothing else). Run
// it with -benchtime 1x: one iteration is 10 s of probing per way.
//
//	go test -run '^$' -bench ICMPCost -benchtime 1x ./monitor
func BenchmarkICMPCost(b *testing.B) {
	const targets, probes = 100, 10
	addrs := make([]netip.Addr, targets)
	for i := range addrs {
		addrs[i] = netip.AddrFrom4([4]byte{127, 0, byte(i / 250), byte(i%250 + 1)})
	}
	icmp, err := NewICMP(config.ICMPPrivileged)
	if err != nil {
		b.Skipf("needs raw ICMP sockets: %v", err)
	}
	defer icmp.Close()
	probe := config.Defaults().Probe
	probe.Interval, probe.Timeout = time.Second, time.Second
	monitorRun := func(prober func(config.Server, config.Check) (Prober, error)) (sent, received int) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		for i, a := range addrs {
			s := config.Server{Name: a.String(), Address: a.String(), Checks: []config.Check{{Kind: config.ICMP}}}
			m, err := NewServer(s, Options{Probe: probe, Count: probes, ICMP: icmp, Prober: prober, Phase: Spread(i, targets, probe.Interval)})
			if err != nil {
				b.Fatal(err)
			}
			wg.Go(func() {
				m.Run(context.Background(), nil)
				st := m.Status().Checks[0].Lifetime
				mu.Lock()
				sent, received = sent+st.Sent, received+st.Received
				mu.Unlock()
			})
		}
		wg.Wait()
		return sent, received
	}
	ways := []struct {
		name string
		run  func() (sent, received int)
	}{
		{"shared-socket", func() (int, int) { return monitorRun(nil) }},
		{"pro-bing-per-probe", func() (int, int) {
			return monitorRun(func(config.Server, config.Check) (Prober, error) { return proBingPerProbe{}, nil })
		}},
		{"pro-bing-long-lived", func() (int, int) { return proBingLongLived(b, addrs, probes, probe.Interval) }},
	}
	for _, w := range ways {
		b.Run(w.name, func(b *testing.B) {
			for b.Loop() {
				before := cpuTime()
				sent, received := w.run()
				used := cpuTime() - before
				b.ReportMetric(float64(used.Microseconds())/float64(sent), "cpu-µs/probe")
				b.ReportMetric(float64(sent), "sent")
				b.ReportMetric(float64(received), "received")
			}
		})
	}
}

// cpuTime is the process's user and system CPU so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// proBingPerProbe is the prober failwatch had: a new pro-bing pinger, with
// its socket and kernel filter, for every probe.
type proBingPerProbe struct{}

func (proBingPerProbe) Probe(ctx context.Context, addr netip.Addr) Sample {
	start := time.Now()
	p := probing.New("")
	p.SetIPAddr(&net.IPAddr{IP: addr.AsSlice()})
	p.SetPrivileged(true)
	p.Count, p.Size, p.Timeout = 1, 56, time.Second
	p.RecordRtts, p.RecordTTLs = false, false
	var got Sample
	p.OnRecv = func(pkt *probing.Packet) { got = Sample{At: start, RTT: pkt.Rtt, OK: true} }
	if err := p.RunWithContext(ctx); err != nil || !got.OK {
		return lost(start, "timeout")
	}
	return got
}

// proBingLongLived runs one pro-bing pinger per target for the whole run,
// started at the target's phase, counting what its callbacks report.
func proBingLongLived(b *testing.B, addrs []netip.Addr, probes int, interval time.Duration) (sent, received int) {
	var s, r atomic.Int64
	var wg sync.WaitGroup
	for i, a := range addrs {
		p := probing.New("")
		p.SetIPAddr(&net.IPAddr{IP: a.AsSlice()})
		p.SetPrivileged(true)
		p.Count, p.Size, p.Interval = probes, 56, interval
		p.Timeout = time.Duration(probes+1) * interval
		p.RecordRtts, p.RecordTTLs = false, false
		p.OnSend = func(*probing.Packet) { s.Add(1) }
		p.OnRecv = func(*probing.Packet) { r.Add(1) }
		wg.Go(func() {
			time.Sleep(Spread(i, len(addrs), interval)) // a wait, not a poll: the target's phase
			if err := p.Run(); err != nil {
				b.Error(err)
			}
		})
	}
	wg.Wait()
	return int(s.Load()), int(r.Load())
}
