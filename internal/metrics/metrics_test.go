package metrics

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/failwatch/failwatch/monitor"
)

// scrape is c's /metrics page.
func scrape(c *Collector) string {
	rec := httptest.NewRecorder()
	c.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}

func TestCollector(t *testing.T) {
	c := New([]string{"public", "private"}, []string{"tomtotrading.com"})
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	c.ObserveServer(monitor.Event{Server: "public", Type: monitor.EventSample,
		Sample: monitor.Sample{OK: true, RTT: 196 * time.Millisecond},
		Check:  monitor.CheckStatus{Label: "icmp", State: monitor.Up, Window: monitor.Stats{Sent: 20, Received: 15, Jitter: 4 * time.Millisecond}}})
	c.ObserveServer(monitor.Event{Server: "public", Type: monitor.EventSample, Sample: monitor.Sample{Err: "timeout"},
		Check: monitor.CheckStatus{Label: "icmp", State: monitor.Down, Window: monitor.Stats{Sent: 20, Received: 15}}})
	c.ObserveServer(monitor.Event{Server: "public", Type: monitor.EventServer, Transition: monitor.Transition{To: monitor.Down, At: t0}})
	c.ObserveServer(monitor.Event{Server: "private", Type: monitor.EventSample, Sample: monitor.Sample{OK: true, RTT: time.Millisecond},
		Check: monitor.CheckStatus{Label: "icmp", State: monitor.Up}})
	c.ObserveRouter(t0, true, map[string]string{"104.247.193.168": "up"})
	c.ObserveFacts("tomtotrading.com", "known", "public")
	c.ObserveRouter(t0.Add(17*time.Second), true, map[string]string{"104.247.193.168": "down"})
	c.ObserveFacts("tomtotrading.com", "known", "private")
	c.ObserveSwitch("tomtotrading.com", true, 17*time.Second)
	c.ObserveOperation("failover", nil)
	c.ObserveOperation("failover", errors.New("trap"))
	c.ObserveDNS("tomtotrading.com", true, "private", 30*time.Second)
	c.SetBuildInfo("v1.2.3", "abc123", "go1.26.8")

	body := scrape(c)
	for _, want := range []string{
		`failwatch_probe_rtt_seconds_count{check="icmp",server="public"} 1`,
		`failwatch_probes_total{check="icmp",result="lost",server="public"} 1`,
		`failwatch_probes_total{check="icmp",result="ok",server="public"} 1`,
		`failwatch_probes_total{check="icmp",result="lost",server="private"} 0`,
		`failwatch_probe_loss_ratio{check="icmp",server="public"} 0.25`,
		`failwatch_probe_jitter_seconds{check="icmp",server="public"} 0`,
		`failwatch_check_up{check="icmp",server="public"} 0`,
		`failwatch_server_up{server="public"} 0`,
		`failwatch_active_server{server="private",service="tomtotrading.com"} 1`,
		`failwatch_active_server{server="public",service="tomtotrading.com"} 0`,
		`failwatch_facts_state{service="tomtotrading.com",state="known"} 1`,
		`failwatch_facts_state{service="tomtotrading.com",state="unknown"} 0`,
		`failwatch_router_connected 1`,
		`failwatch_router_netwatch_up{host="104.247.193.168"} 0`,
		`failwatch_last_switch_duration_seconds{service="tomtotrading.com"} 17`,
		`failwatch_active_server_changes_total{service="tomtotrading.com"} 1`,
		`failwatch_operations_total{operation="failover",result="failed"} 1`,
		`failwatch_operations_total{operation="failover",result="ok"} 1`,
		`failwatch_dns_answer_server{server="private",service="tomtotrading.com"} 1`,
		`failwatch_dns_answer_server{server="public",service="tomtotrading.com"} 0`,
		`failwatch_dns_answer_ttl_seconds{service="tomtotrading.com"} 30`,
		`failwatch_dns_answered 1`,
		`failwatch_build_info{commit="abc123",goversion="go1.26.8",version="v1.2.3"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("missing %s", want)
		}
	}
}

// A metric without a value is absent, not 0: the last switch's duration
// before any switch, the answer's TTL while the resolver does not answer.
func TestNoValueIsAbsent(t *testing.T) {
	c := New([]string{"public", "private"}, []string{"www.example.test"})
	body := scrape(c)
	if strings.Contains(body, "failwatch_last_switch_duration_seconds{") || strings.Contains(body, "failwatch_dns_answer_ttl_seconds{") {
		t.Errorf("values before anything happened:\n%s", body)
	}
	if !strings.Contains(body, `failwatch_active_server_changes_total{service="www.example.test"} 0`) {
		t.Errorf("the switch counter should count from 0:\n%s", body)
	}
	c.ObserveSwitch("www.example.test", false, 0)
	if body := scrape(c); strings.Contains(body, "failwatch_last_switch_duration_seconds{") {
		t.Errorf("a switch without a fault has no duration from the fault:\n%s", body)
	}
	c.ObserveDNS("www.example.test", true, "public", 30*time.Second)
	c.ObserveDNS("www.example.test", false, "", 0)
	if body := scrape(c); strings.Contains(body, "failwatch_dns_answer_ttl_seconds{") {
		t.Errorf("a TTL of an answer that did not come:\n%s", body)
	}
}

func TestHealth(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	c := New([]string{"public"}, []string{"tomtotrading.com"})
	c.health.now = func() time.Time { return now }
	get := func(path string) (int, string) {
		t.Helper()
		rec := httptest.NewRecorder()
		c.serveHealth(rec, httptest.NewRequest("GET", path, nil))
		return rec.Code, rec.Body.String()
	}
	steps := []struct {
		name  string
		do    func()
		code  int
		lines []string
	}{
		{"before anything", func() {}, 503, []string{"engine: no observation yet", "router: not read yet"}},
		{"probes only", func() {
			c.ObserveServer(monitor.Event{Server: "public", Type: monitor.EventServer, Transition: monitor.Transition{To: monitor.Up}})
		}, 503, []string{"router: not read yet"}},
		{"router answers", func() { c.ObserveRouter(now, true, nil) }, 200, []string{"ok"}},
		{"router lost", func() { c.ObserveRouter(now, false, nil) }, 503, []string{"router: API not answering"}},
		{"router back, then the engine stalls", func() {
			c.ObserveRouter(now, true, nil)
			now = now.Add(DefaultStaleAfter + time.Second)
		}, 503, []string{"engine: no observation for 31s"}},
		{"longer window for slow probes", func() { c.SetStaleAfter(time.Minute) }, 200, []string{"ok"}},
	}
	for _, s := range steps {
		s.do()
		code, body := get("/healthz")
		if got := strings.Split(strings.TrimSpace(body), "\n"); code != s.code || strings.Join(got, "|") != strings.Join(s.lines, "|") {
			t.Errorf("%s: got %d %q, want %d %q", s.name, code, got, s.code, s.lines)
		}
	}
}

func TestServeEndpoints(t *testing.T) {
	c := New([]string{"public"}, []string{"tomtotrading.com"})
	c.ObserveServer(monitor.Event{Server: "public", Type: monitor.EventServer, Transition: monitor.Transition{To: monitor.Up}})
	c.ObserveRouter(time.Now(), true, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, err := c.Serve(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path, want string
		code       int
	}{
		{"/", `href="/healthz"`, 200},
		{"/healthz", "ok", 200},
		{"/metrics", "process_cpu_seconds_total", 200},
		{"/metrics", "go_goroutines", 200},
		{"/nothing", "404", 404},
	} {
		resp, err := http.Get("http://" + addr.String() + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.code || !strings.Contains(string(b), tc.want) {
			t.Errorf("GET %s: %d, want %d with %q", tc.path, resp.StatusCode, tc.code, tc.want)
		}
	}
}

// The facts' state is a gauge per service, and the active server has no
// series while nothing says where the name points: before a reading, and
// when a row could not be read; a stale value is kept, marked stale.
func TestFactsState(t *testing.T) {
	c := New([]string{"public", "private"}, []string{"tomtotrading.com"})
	for _, step := range []struct {
		name          string
		observe       func()
		want, wantNot []string
	}{
		{"before a reading", func() {},
			[]string{`failwatch_facts_state{service="tomtotrading.com",state="unknown"} 1`}, []string{"failwatch_active_server{"}},
		{"known", func() { c.ObserveFacts("tomtotrading.com", "known", "public") },
			[]string{`failwatch_facts_state{service="tomtotrading.com",state="known"} 1`, `failwatch_active_server{server="public",service="tomtotrading.com"} 1`}, nil},
		{"stale", func() { c.ObserveFacts("tomtotrading.com", "stale", "public") },
			[]string{`failwatch_facts_state{service="tomtotrading.com",state="stale"} 1`, `failwatch_active_server{server="public",service="tomtotrading.com"} 1`},
			[]string{`failwatch_facts_state{service="tomtotrading.com",state="known"} 1`}},
		{"unreadable", func() { c.ObserveFacts("tomtotrading.com", "unreadable", "") },
			[]string{`failwatch_facts_state{service="tomtotrading.com",state="unreadable"} 1`}, []string{"failwatch_active_server{"}},
	} {
		step.observe()
		body := scrape(c)
		for _, w := range step.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: no %s", step.name, w)
			}
		}
		for _, w := range step.wantNot {
			if strings.Contains(body, w) {
				t.Errorf("%s: %s is there", step.name, w)
			}
		}
	}
}
