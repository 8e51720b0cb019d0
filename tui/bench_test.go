package tui

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/failwatch/failwatch/internal/paper/papersim"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/engine"
	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros"
)

// countingWriter counts the bytes a program writes; with dump set, it
// also writes each write of the measured window there, quoted, a line
// each, to see what the bytes are.
type countingWriter struct {
	n    atomic.Int64
	dump io.Writer
	on   atomic.Bool
}

func (w *countingWriter) Write(p []byte) (int, error) {
	if w.dump != nil && w.on.Load() {
		fmt.Fprintf(w.dump, "%d %q\n", len(p), p)
	}
	w.n.Add(int64(len(p)))
	return len(p), nil
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSteadyState runs the dashboard, the detail chart and the wall
// at 80x24, 120x40 and 200x60 with four servers probed once a second (simulated probers
// through the real monitor), the router read every 2 s and the resolver
// every second, for FAILWATCH_BENCH_SECONDS (default 20) after a 5 s
// warm-up, and reports the bytes written to the terminal per second and the
// CPU used by the whole process as a share of one core. Run with
// -benchtime 1x. FAILWATCH_BENCH_DUMP=dir writes what each view sent in the
// measured window to dir/VIEW-WxH.txt.
func BenchmarkSteadyState(b *testing.B) {
	secs := 20
	if v := os.Getenv("FAILWATCH_BENCH_SECONDS"); v != "" {
		fmt.Sscan(v, &secs)
	}
	for _, view := range []string{"dashboard", "detail", "wall"} {
		for _, size := range [][2]int{{80, 24}, {120, 40}, {200, 60}} {
			b.Run(fmt.Sprintf("%s/%dx%d", view, size[0], size[1]), func(b *testing.B) { steadyState(b, view, size[0], size[1], secs) })
		}
	}
}

func steadyState(b *testing.B, view string, width, height, secs int) {
	for b.Loop() {
		var dump io.Writer
		if dir := os.Getenv("FAILWATCH_BENCH_DUMP"); dir != "" {
			f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s-%dx%d.txt", view, width, height)))
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			dump = f
		}
		bytes, cpu := runSteady(b, view, width, height, secs, dump)
		b.ReportMetric(bytes, "bytes/s")
		b.ReportMetric(cpu, "cpu-%")
	}
}

func runSteady(b *testing.B, view string, width, height, secs int, dump io.Writer) (bytesPerSec, cpuPercent float64) {
	servers := []config.Server{}
	sims := map[string]*monitor.Simulated{}
	for i, p := range []*monitor.Simulated{papersim.Public(), papersim.Private(), papersim.Public(), papersim.Private()} {
		name := fmt.Sprintf("server-%d", i+1)
		role := config.Role("monitor")
		switch i {
		case 0:
			role = config.Primary
		case 1:
			role = config.Standby
		}
		servers = append(servers, config.Server{Name: name, Role: role, Address: fmt.Sprintf("192.0.2.%d", i+1),
			Checks: []config.Check{{Kind: config.ICMP}}})
		sims[name] = p
	}
	out := &countingWriter{dump: dump}
	m := New(Options{Services: []config.Service{{Name: "svc.example", Layout: config.Toggle, Primary: "server-1", Standby: "server-2"}}, Servers: servers,
		RouterAddr: "192.0.2.254:8728", Actions: &recorder{}, Wall: view == "wall", ReadOnly: view == "wall"})
	// Colour on, as a terminal that takes 24-bit colour: the writer is
	// not a terminal, and Bubble Tea would otherwise send no colour.
	p := tea.NewProgram(m, tea.WithOutput(out), tea.WithInput(nil), tea.WithWindowSize(width, height), tea.WithoutSignals(),
		tea.WithColorProfile(colorprofile.TrueColor))
	ctx, cancel := context.WithCancel(context.Background())
	probe := config.Defaults().Probe
	for _, s := range servers {
		mon, err := monitor.NewServer(s, monitor.Options{Probe: probe, Prober: func(s config.Server, _ config.Check) (monitor.Prober, error) {
			return sims[s.Name], nil
		}})
		if err != nil {
			b.Fatal(err)
		}
		events := make(chan monitor.Event, 16)
		go mon.Run(ctx, events)
		go func() {
			for {
				select {
				case ev := <-events:
					p.Send(engine.ServerEvent(ev))
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				p.Send(engine.DNSAnswer{DNSAnswer: monitor.DNSAnswer{At: now, Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.1")}, TTL: 30 * time.Second}})
				if i%2 == 0 {
					p.Send(engine.Reading{RouterState: routeros.RouterState{At: now, Connected: true, Identity: routeros.Identity{Name: "edge", Version: "7.18.2"},
						Records: []routeros.Record{{ID: "*1", Name: "svc.example", Address: "192.0.2.1"}}}})
				}
			}
		}
	}()
	done := make(chan error, 1)
	go func() { _, err := p.Run(); done <- err }()
	if view == "detail" {
		p.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	}
	time.Sleep(5 * time.Second) // a wait, not a poll: the warm-up before the measured window
	out.on.Store(true)
	bytes0, cpu0, t0 := out.n.Load(), cpuTime(), time.Now()
	time.Sleep(time.Duration(secs) * time.Second) // the measured window
	bytes1, cpu1, wall := out.n.Load(), cpuTime(), time.Since(t0)
	p.Quit()
	cancel()
	<-done
	return float64(bytes1-bytes0) / wall.Seconds(), float64(cpu1-cpu0) / float64(wall) * 100
}

// BenchmarkLogBurst sends router log lines, as engine events through
// Forward as the dashboard's wiring does, to a running dashboard (120x40) as fast as it
// takes them, and reports how many it handles a second: the dashboard keeps
// up with a router logging 10,000 lines a second while this stays well
// above that.
func BenchmarkLogBurst(b *testing.B) {
	m := New(Options{Services: []config.Service{{Name: "svc.example", Layout: config.Toggle, Primary: "server-1", Standby: "server-2"}},
		Servers:    []config.Server{{Name: "a", Role: config.Primary, Address: "192.0.2.1"}, {Name: "b", Role: config.Standby, Address: "192.0.2.2"}},
		RouterAddr: "192.0.2.254:8728", Actions: &recorder{}})
	p := tea.NewProgram(m, tea.WithOutput(&countingWriter{}), tea.WithInput(nil), tea.WithWindowSize(120, 40), tea.WithoutSignals())
	done := make(chan error, 1)
	go func() { _, err := p.Run(); done <- err }()
	ctx, cancel := context.WithCancel(context.Background())
	in := make(chan engine.Event, 64)
	// handled counts the lines the dashboard took; caughtUp closes once
	// it reaches want, the lines sent (unknown until the loop ends).
	var handled, want atomic.Int64
	want.Store(math.MaxInt64)
	caughtUp := make(chan struct{})
	var once sync.Once
	check := func() {
		if handled.Load() >= want.Load() {
			once.Do(func() { close(caughtUp) })
		}
	}
	forwarded := make(chan struct{})
	go func() {
		defer close(forwarded)
		Forward(ctx, in, func(msg tea.Msg) {
			switch msg := msg.(type) {
			case LogBatchMsg:
				handled.Add(int64(len(msg)))
			case engine.LogLine:
				handled.Add(1)
			}
			check()
			p.Send(msg)
		})
	}()
	now := time.Now()
	start := time.Now()
	n := 0
	for b.Loop() {
		n++
		in <- engine.LogLine{Kind: routeros.LogLine, At: now, Entry: routeros.LogEntry{ID: fmt.Sprintf("*%X", n), Time: now,
			Topics: []string{"netwatch", "info"}, Message: "event down [ type: simple, host: 192.0.2.1 ]"}}
	}
	want.Store(int64(n))
	check()
	<-caughtUp
	elapsed := time.Since(start)
	cancel()
	<-forwarded
	p.Quit()
	<-done
	b.ReportMetric(float64(n)/elapsed.Seconds(), "lines/s")
}
