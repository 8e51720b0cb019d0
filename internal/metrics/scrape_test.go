package metrics

import (
	"errors"
	"flag"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/engine"
	"github.com/failwatch/failwatch/monitor"
)

// servers is a reload's server list: each server probed by ICMP, public by
// TCP on 443 too.
func servers(names ...string) []config.Server {
	out := make([]config.Server, len(names))
	for i, n := range names {
		out[i] = config.Server{Name: n}
		if n == "public" {
			out[i].Checks = []config.Check{{Kind: config.ICMP}, {Kind: config.TCP, Port: 443}}
		}
	}
	return out
}

var update = flag.Bool("update", false, "rewrite testdata/scrape.golden")

// sample is a probe event of a check, its window's figures and state.
func sample(server, check string, x monitor.Sample, sent, received int, jitter time.Duration, state monitor.State) monitor.Event {
	return monitor.Event{Server: server, Type: monitor.EventSample, Sample: x,
		Check: monitor.CheckStatus{Label: check, State: state, Window: monitor.Stats{Sent: sent, Received: received, Jitter: jitter}}}
}

// The whole failwatch_* page after a run that touches every series: round
// trips in several buckets and past the last, probes not sent, a reload
// removing a server and adding one (whose active and answer series start
// at 0 though the last facts and answer named it), facts unknown, known,
// unreadable and known again, answers with and without a TTL, switches
// with and without a fault, bridges on and not known, netwatch hosts up,
// down, unknown and gone, operations of every result. testdata/scrape.golden
// was written by the collector of GaugeVec and CounterVec children this
// one replaced (main at 97eb4f3, with -update): the page is the same, line
// for line.
func TestScrapeSameAsVectors(t *testing.T) {
	const svc, other = "www.example.test", "api.example.test"
	c := New([]string{"public", "private", "spare"}, []string{svc, other})
	t0 := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	for i, rtt := range []time.Duration{300 * time.Microsecond, 700 * time.Microsecond, time.Millisecond, 196 * time.Millisecond, 3 * time.Second, 9 * time.Second} {
		c.ObserveServer(sample("public", "icmp", monitor.Sample{OK: true, RTT: rtt}, i+1, i+1, time.Duration(i)*time.Millisecond, monitor.Up))
	}
	c.ObserveServer(sample("public", "tcp/443", monitor.Sample{Err: "timeout"}, 4, 3, 0, monitor.Down))
	c.ObserveServer(sample("private", "icmp", monitor.Sample{NotSent: true, Err: "no route"}, 0, 0, 0, monitor.Unknown))
	c.ObserveServer(sample("spare", "icmp", monitor.Sample{OK: true, RTT: 2 * time.Millisecond}, 1, 1, 0, monitor.Up))
	c.ObserveServer(monitor.Event{Server: "public", Type: monitor.EventServer, Transition: monitor.Transition{To: monitor.Up, At: t0}})
	c.ObserveServer(monitor.Event{Server: "private", Type: monitor.EventServer, Transition: monitor.Transition{To: monitor.Down, At: t0}})
	c.ObserveRouter(t0, true, map[string]string{"192.0.2.1": "up", "192.0.2.2": "down", "192.0.2.3": "unknown", "192.0.2.9": "up"})
	c.ObserveRouter(t0, false, nil)
	c.ObserveRouter(t0, true, map[string]string{"192.0.2.1": "down", "192.0.2.2": "down", "192.0.2.3": "up"})
	c.observe(engine.FactsChanged{{Service: svc, State: engine.FactKnown, Active: "spare",
		Bridge: &engine.BridgeFacts{State: "on", Connections: 3, More: 1}}})
	c.observe(engine.FactsChanged{{Service: other, State: engine.FactUnreadable, Bridge: &engine.BridgeFacts{State: "unreadable"}}})
	c.ObserveDNS(svc, true, "newcomer", 30*time.Second)
	c.ObserveDNS(other, true, "public", 60*time.Second)
	c.ObserveDNS(other, false, "", 0)
	c.ObserveSwitch(svc, true, 1500*time.Millisecond)
	c.ObserveSwitch(svc, false, 0)
	c.ObserveSwitch(other, false, 0)
	c.ObserveOperation("failover", nil)
	c.ObserveOperation("failover", errors.New("trap"))
	c.ObserveOperation("restore", nil)
	c.ObserveOperation("bridge", nil)
	c.ObserveFacts(svc, "stale", "newcomer")
	c.SetServers(servers("public", "private", "newcomer"))
	c.ObserveServer(sample("newcomer", "icmp", monitor.Sample{OK: true, RTT: 5 * time.Millisecond}, 1, 1, 0, monitor.Up))
	c.ObserveFacts(other, "known", "private")

	var page []string
	for _, l := range strings.Split(scrape(c), "\n") {
		if strings.HasPrefix(l, "failwatch_") || strings.HasPrefix(l, "# HELP failwatch_") || strings.HasPrefix(l, "# TYPE failwatch_") {
			page = append(page, l)
		}
	}
	got := strings.Join(page, "\n") + "\n"
	if *update {
		if err := os.WriteFile("testdata/scrape.golden", []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("testdata/scrape.golden")
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("the page differs from testdata/scrape.golden:\n%s", got)
	}
}

// Scrapes while the feed observes (each from its own goroutine, as served)
// see the counts grow and, once the feed is done, the last one: what is
// kept is read under the same lock it is written under (go test -race).
func TestScrapeWhileObserving(t *testing.T) {
	c := New([]string{"public"}, []string{"www.example.test"})
	const probes = 2000
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range probes {
			c.ObserveServer(sample("public", "icmp", monitor.Sample{OK: true, RTT: time.Millisecond}, i+1, i+1, 0, monitor.Up))
			c.ObserveRouter(time.Now(), true, map[string]string{"192.0.2.1": "up"})
		}
	}()
	scrapes := 0
	for running := true; running; scrapes++ {
		select {
		case <-done:
			running = false
		default:
		}
		scrape(c)
	}
	want := `failwatch_probes_total{check="icmp",result="ok",server="public"} 2000`
	if body := scrape(c); !strings.Contains(body, want) {
		t.Errorf("after %d scrapes during the feed, no %s", scrapes, want)
	}
}

// A label value that is not UTF-8 fails the scrape, saying which, and the
// next scrape without it succeeds: it never panics in the registry's
// goroutine (the vectors panicked at the observation).
func TestScrapeRefusesALabelNotUTF8(t *testing.T) {
	c := New([]string{"public", "bad\xff"}, []string{"www.example.test"})
	rec := httptest.NewRecorder()
	c.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), "failwatch_server_up") {
		t.Errorf("a server named bad\\xff: %d %q", rec.Code, rec.Body.String())
	}
	c.SetServers(servers("public"))
	if body := scrape(c); !strings.Contains(body, `failwatch_server_up{server="public"} 0`) {
		t.Errorf("after the reload:\n%s", body)
	}
}

// A reload that keeps a server but not one of its checks takes that check's
// series off the page: a stale check_up 0 would keep a "check down" alert
// firing for a check that is gone. A server added by the reload whose
// monitor said UP before the engine announced the list stays up.
func TestReloadDropsRemovedChecks(t *testing.T) {
	c := New([]string{"public"}, []string{"www.example.test"})
	c.ObserveServer(sample("public", "icmp", monitor.Sample{OK: true, RTT: time.Millisecond}, 1, 1, 0, monitor.Up))
	c.ObserveServer(sample("public", "tcp/443", monitor.Sample{Err: "timeout"}, 1, 0, 0, monitor.Down))
	c.ObserveServer(monitor.Event{Server: "newcomer", Type: monitor.EventServer, Transition: monitor.Transition{To: monitor.Up}})
	c.observe(engine.ServersChanged{{Name: "public", Checks: []config.Check{{Kind: config.ICMP}}}, {Name: "newcomer"}})
	body := scrape(c)
	if strings.Contains(body, `check="tcp/443"`) {
		t.Errorf("a removed check's series are still there:\n%s", body)
	}
	for _, kept := range []string{
		`failwatch_check_up{check="icmp",server="public"} 1`,
		`failwatch_server_up{server="newcomer"} 1`,
	} {
		if !strings.Contains(body, kept) {
			t.Errorf("no %s after the reload:\n%s", kept, body)
		}
	}
}
