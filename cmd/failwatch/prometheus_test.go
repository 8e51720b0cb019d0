package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/failwatch/failwatch/internal/testkit"
)

// startExporter runs `failwatch exporter` and returns its metrics address.
func startExporter(t *testing.T, bin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, append([]string{"exporter", "--listen", "127.0.0.1:0"}, args...)...)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		if _, rest, ok := strings.Cut(sc.Text(), "metrics on http://"); ok {
			go func() {
				for sc.Scan() {
				}
			}()
			return strings.TrimSuffix(rest, "/metrics")
		}
	}
	t.Fatal("the exporter never said where it listens")
	return ""
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// promQuery asks Prometheus for one instant vector and returns its values.
func promQuery(prom, query string) ([]string, error) {
	resp, err := http.Get("http://" + prom + "/api/v1/query?query=" + url.QueryEscape(query))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, err
	}
	var out []string
	for _, r := range body.Data.Result {
		out = append(out, fmt.Sprint(r.Value[1]))
	}
	return out, nil
}

// A real Prometheus scrapes the exporter, which watches `failwatch sim` and
// probes two loopback servers (web2 also on a closed TCP port, so it is
// degraded, not down); the metrics come back over Prometheus's HTTP API,
// the shipped rules load and evaluate, and the alerts tell degraded from
// down.
func TestPrometheusScrapesExporter(t *testing.T) {
	prom, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("CI must run the Prometheus test: prometheus is not installed (scripts/test installs it)")
		}
		t.Skip("needs prometheus (Debian package prometheus)")
	}
	bin, dir := icmpTest(t, "")
	_, closedPort, _ := net.SplitHostPort(freePort(t))
	cfgPath := writeConfig(t, dir, fmt.Sprintf(`router:
  address: 127.0.0.1:1
service:
  name: svc.test
servers:
  - {name: web1, role: primary, address: 127.0.0.2, record: {comment: web1}}
  - {name: web2, role: standby, address: 127.0.0.3, record: {comment: web2},
     checks: [{type: icmp}, {type: tcp, port: %s}]}
probe:
  interval: 200ms
`, closedPort))
	api := startSim(t, bin, "-c", cfgPath)
	exporter := startExporter(t, bin, "-c", cfgPath, "--router", api)

	rules, _ := filepath.Abs("../../docs/prometheus/alerts.yml")
	if promtool, err := exec.LookPath("promtool"); err == nil {
		for _, args := range [][]string{{"check", "rules", rules}, {"check", "config", "../../docs/prometheus/scrape.yml"}} {
			if out, err := exec.Command(promtool, args...).CombinedOutput(); err != nil {
				t.Errorf("promtool %v: %v\n%s", args, err, out)
			}
		}
	}
	promCfg := filepath.Join(dir, "prometheus.yml")
	os.WriteFile(promCfg, []byte(fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [%q]
scrape_configs:
  - job_name: failwatch
    static_configs:
      - targets: [%q]
`, rules, exporter)), 0o600)
	web := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, prom, "--config.file="+promCfg, "--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		"--web.listen-address="+web)
	logf, _ := os.Create(filepath.Join(dir, "prometheus.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); cmd.Wait() }()

	want := map[string]string{
		`failwatch_server_up{server="web1"}`:                                "1",
		`failwatch_server_up{server="web2"}`:                                "0",
		`failwatch_check_up{server="web2",check="icmp"}`:                    "1",
		`failwatch_active_server{server="web1"}`:                            "1",
		`failwatch_active_server{server="web2"}`:                            "0",
		`failwatch_router_connected`:                                        "1",
		`failwatch_facts_state{service="svc.test",state="known"}`:           "1",
		`failwatch_router_netwatch_up{host="127.0.0.2"}`:                    "1",
		`failwatch_probe_loss_ratio{server="web2",check="icmp"}`:            "0",
		`failwatch_probe_rtt_seconds_count{server="web1",check="icmp"} > 0`: "",
		// The recording rules and the alerts, as Prometheus evaluates them.
		`server_check:failwatch_probe_loss:ratio_rate5m{server="web1",check="icmp"}`:      "0",
		`server_check:failwatch_probe_rtt_seconds:p95_5m{server="web1",check="icmp"} > 0`: "",
		`count(ALERTS{alertname="FailwatchServerDegraded",server="web2"})`:                "1",
		`count(ALERTS{alertname="FailwatchServerDown"}) or vector(0)`:                     "0",
		`count(ALERTS{alertname=~"FailwatchFacts.*"}) or vector(0)`:                       "0",
	}
	deadline := time.Now().Add(60 * time.Second)
	for q, v := range want {
		testkit.EventuallyLast(t, time.Until(deadline), fmt.Sprintf("%s is %q", q, v), func() (string, bool) {
			got, err := promQuery(web, q)
			if err == nil && len(got) == 1 && (v == "" || got[0] == v) {
				return "", true
			}
			log, _ := os.ReadFile(filepath.Join(dir, "prometheus.log"))
			return fmt.Sprintf("%v, %v\nprometheus log tail:\n%s", got, err, tail(string(log), 20)), false
		})
	}
	metricsResp, err := http.Get("http://" + exporter + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	exposition, _ := io.ReadAll(metricsResp.Body)
	metricsResp.Body.Close()
	// The exposition itself passes Prometheus's own lint of names and help.
	if promtool, err := exec.LookPath("promtool"); err == nil {
		lint := exec.Command(promtool, "check", "metrics")
		lint.Stdin = bytes.NewReader(exposition)
		if out, err := lint.CombinedOutput(); err != nil {
			t.Errorf("promtool check metrics: %v\n%s", err, out)
		}
	}
	checkGrafanaDashboard(t, string(exposition), rules, web)
	// The exporter's own health: the engine runs and the router answers.
	if resp, err := http.Get("http://" + exporter + "/healthz"); err != nil {
		t.Error(err)
	} else {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(b) != "ok\n" {
			t.Errorf("/healthz: %d %q", resp.StatusCode, b)
		}
	}
	resp, err := http.Get("http://" + web + "/api/v1/rules")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			Groups []struct {
				Rules []struct {
					Name   string `json:"name"`
					Health string `json:"health"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	json.NewDecoder(resp.Body).Decode(&body)
	var names []string
	for _, g := range body.Data.Groups {
		for _, r := range g.Rules {
			names = append(names, r.Name+":"+r.Health)
			if r.Health == "err" {
				t.Errorf("rule %s does not evaluate", r.Name)
			}
		}
	}
	if len(names) != 9 {
		t.Errorf("rules loaded: %v", names)
	}
}

// checkGrafanaDashboard holds the shipped dashboard to what is really served:
// every metric its queries name is in the exporter's exposition (or is a
// recording rule of the shipped rules), and every query, with Grafana's
// variables filled in, evaluates in the live Prometheus.
func checkGrafanaDashboard(t *testing.T, exposition, rulesPath, prom string) {
	t.Helper()
	raw, err := os.ReadFile("../../docs/grafana/failwatch.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Annotations struct {
			List []struct {
				Expr string `json:"expr"`
			} `json:"list"`
		} `json:"annotations"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("docs/grafana/failwatch.json: %v", err)
	}
	var exprs []string
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	for _, a := range dash.Annotations.List {
		exprs = append(exprs, a.Expr)
	}
	rules, _ := os.ReadFile(rulesPath)
	served := map[string]bool{}
	for line := range strings.Lines(exposition) {
		if name, _, ok := strings.Cut(line, "{"); ok && !strings.HasPrefix(line, "#") {
			served[name] = true
		} else if f := strings.Fields(line); len(f) == 2 {
			served[f[0]] = true
		}
	}
	vars := strings.NewReplacer("$instance", ".*", "$server", ".*", "$__rate_interval", "1m", "$__range", "5m")
	for _, e := range exprs {
		for _, name := range metricName.FindAllString(e, -1) {
			switch {
			case strings.Contains(name, ":"):
				if !strings.Contains(string(rules), "record: "+name+"\n") {
					t.Errorf("dashboard query %q: %s is no recording rule of docs/prometheus/alerts.yml", e, name)
				}
			case absentUntil[name] != "":
				if served[name] {
					t.Errorf("%s is served before %s: a value that is none", name, absentUntil[name])
				}
			case !served[name]:
				t.Errorf("dashboard query %q: the exporter serves no %s", e, name)
			}
		}
		if err := promEval(prom, vars.Replace(e)); err != nil {
			t.Errorf("dashboard query %q: %v", e, err)
		}
	}
	if len(exprs) < 15 {
		t.Errorf("only %d queries in the dashboard", len(exprs))
	}
}

// absentUntil are the metrics without a value in this test's run, and so
// absent (issue 26: not 0): no switch after a fault, no DNS answer (the
// emulator here answers no DNS).
var absentUntil = map[string]string{
	"failwatch_last_switch_duration_seconds": "a switch after a fault",
	"failwatch_dns_answer_ttl_seconds":       "a DNS answer",
}

// metricName finds the metric and recording-rule names in a query.
var metricName = regexp.MustCompile(`\b(failwatch_[a-z0-9_]+|[a-z_]+:failwatch_[a-z0-9_:]+)\b`)

// promEval evaluates a query in Prometheus and returns its error, if any.
func promEval(prom, query string) error {
	resp, err := http.Get("http://" + prom + "/api/v1/query?query=" + url.QueryEscape(query))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return err
	}
	if body.Status != "success" {
		return fmt.Errorf("%s: %s", body.Status, body.Error)
	}
	return nil
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
