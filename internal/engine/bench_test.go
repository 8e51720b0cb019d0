package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/engine/enginetest"
	"github.com/failwatch/failwatch/internal/testkit"
	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros"
)

// BenchmarkServices runs an engine on the emulator for a while with one
// service over two servers, then 50 services over 20 servers, and reports
// what it asks of the router (API calls a second: the target is the same
// for both), how many probes it sends (one per server check and interval,
// however many services a server carries) and how many DNS queries (at
// most dnsPerSecond). The probes are
// simulated. FAILWATCH_BENCH_SECONDS sets the run (default 10).
func BenchmarkServices(b *testing.B) {
	secs := 10
	if v := os.Getenv("FAILWATCH_BENCH_SECONDS"); v != "" {
		fmt.Sscan(v, &secs)
	}
	for _, size := range [][2]int{{1, 2}, {50, 20}} {
		b.Run(fmt.Sprintf("%d-services-%d-servers", size[0], size[1]), func(b *testing.B) {
			for b.Loop() {
				calls, probes, dns, _ := servicesLoad(b, size[0], size[1], time.Duration(secs)*time.Second)
				b.ReportMetric(calls, "api-calls/s")
				b.ReportMetric(probes, "probes/s")
				b.ReportMetric(dns, "dns-queries/s")
			}
		})
	}
}

// servicesLoad runs n services over m servers for d and counts; answered
// is how many names the engine has a DNS answer for at the end.
func servicesLoad(b testing.TB, n, m int, d time.Duration) (callsPerSecond, probesPerSecond, dnsPerSecond float64, answered int) {
	var yaml strings.Builder
	var records []testkit.Record
	yaml.WriteString("services:\n")
	for i := range n {
		p, s := i%m+1, (i+1)%m+1
		name := fmt.Sprintf("svc%02d.example.test", i+1)
		fmt.Fprintf(&yaml, "  - {name: %s, primary: web%02d, standby: web%02d}\n", name, p, s)
		records = append(records, testkit.Record{Name: name, Primary: fmt.Sprintf("192.0.2.%d", p), Standby: fmt.Sprintf("192.0.2.%d", s)})
	}
	yaml.WriteString("servers:\n")
	for i := range m {
		fmt.Fprintf(&yaml, "  - {name: web%02d, address: 192.0.2.%d}\n", i+1, i+1)
	}
	r, api, dns := testkit.ServicesEmulator(b, records)
	cfg, err := config.Parse("bench.yaml", []byte("router: {address: \""+api+"\"}\n"+yaml.String()))
	if err != nil {
		b.Fatal(err)
	}
	e, _, err := New(cfg, Options{Router: routeros.OptionsFrom(cfg.Router), DNS: dns,
		AuditLog: filepath.Join(b.TempDir(), "audit.jsonl"), Monitor: enginetest.Monitor(cfg, nil)})
	if err != nil {
		b.Fatal(err)
	}
	sub := e.Subscribe(1 << 16)
	defer sub.Close()
	stop := testkit.Run(b, e.Run)
	// From the first reading on: the connection and the login are not
	// the steady state.
	for ev := range sub.C() {
		if r, ok := ev.(Reading); ok && r.Err == nil {
			break
		}
	}
	total := func() int {
		sum := 0
		for _, c := range r.Calls() {
			sum += c
		}
		return sum
	}
	before, dnsBefore, start, probes := total(), r.DNSQueries(), time.Now(), 0
	for deadline := time.After(d); ; {
		select {
		case ev := <-sub.C():
			if ev, ok := ev.(ServerEvent); ok && ev.Type == monitor.EventSample {
				probes++
			}
			continue
		case <-deadline:
		}
		break
	}
	elapsed := time.Since(start).Seconds()
	calls, queries := total()-before, r.DNSQueries()-dnsBefore
	answered = len(e.State().DNS)
	stop()
	return float64(calls) / elapsed, float64(probes) / elapsed, float64(queries) / elapsed, answered
}
