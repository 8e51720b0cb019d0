package main

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/failwatch/failwatch/internal/paper"
	"github.com/failwatch/failwatch/internal/testkit"
	"github.com/failwatch/failwatch/routeros/rosim"
)

// paperRouter starts an emulator with the paper's setup and writes a config
// for it; it returns the config's path, the router and the audit log's path.
func paperRouter(t *testing.T, probe ...rosim.Probe) (string, *rosim.Router, string) {
	t.Helper()
	opts := rosim.Options{}
	if len(probe) > 0 {
		opts.Probe = probe[0]
	}
	r, api := testkit.Emulator(t, opts)
	dns, err := r.ServeDNS("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	audit := filepath.Join(dir, "audit.jsonl")
	cfg := `router:
  address: ` + api + `
service:
  name: tomtotrading.com
  hold_netwatch: true
  dns_server: ` + dns.String() + `
  audit_log: ` + audit + `
servers:
  - {name: public, role: primary, address: 104.247.193.168, record: {comment: Server Public}}
  - {name: private, role: standby, address: 192.10.10.2, record: {comment: ServerPrivate}}
`
	path := filepath.Join(dir, "failwatch.yaml")
	os.WriteFile(path, []byte(cfg), 0o600)
	return path, r, audit
}

func status(t *testing.T, cfg string, args ...string) statusReport {
	t.Helper()
	out, errs, _ := runCLI(append([]string{"status", "-c", cfg, "--json"}, args...)...)
	var rep statusReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("status --json: %v\n%s%s", err, out, errs)
	}
	return rep
}

// activeServer is a service's "active" from status --json, "(absent)" when
// the JSON left it out (facts not known), so a test can tell the two apart.
func activeServer(s serviceStatus) string {
	if s.Active == nil {
		return "(absent)"
	}
	return *s.Active
}

func TestOneShotCommands(t *testing.T) {
	cfg, _, audit := paperRouter(t)
	rep := status(t, cfg)
	if !rep.Healthy || activeServer(rep.Services[0]) != "public" || len(rep.Services[0].DNS) != 1 || rep.Services[0].DNS[0] != "104.247.193.168" || rep.Identity == nil || rep.Identity.Name != "MikroTik" {
		t.Fatalf("status before: %+v", rep)
	}
	out, errs, code := runCLI("status", "-c", cfg)
	if code != exitOK || !strings.Contains(out, "active: public") || !strings.Contains(out, "resolver tomtotrading.com -> 104.247.193.168") {
		t.Errorf("status text: exit %d\n%s%s", code, out, errs)
	}

	// No terminal and no --yes: nothing is done.
	_, errs, code = runCLI("failover", "-c", cfg)
	if code != exitUsage || !strings.Contains(errs, "pass --yes") {
		t.Errorf("failover without --yes: exit %d, %s", code, errs)
	}
	out, errs, code = runCLI("failover", "-c", cfg, "--yes")
	if code != exitOK || !strings.Contains(out, "ok       hold netwatch") || !strings.Contains(out, "tomtotrading.com now points at private") {
		t.Fatalf("failover: exit %d\n%s%s", code, out, errs)
	}
	rep = status(t, cfg)
	if activeServer(rep.Services[0]) != "private" || !rep.Held || rep.Services[0].DNS[0] != "192.10.10.2" {
		t.Errorf("status after failover: %+v", rep)
	}
	out, _, code = runCLI("failover", "-c", cfg, "--yes")
	if code != exitOK || !strings.Contains(out, "already on private: nothing changed") {
		t.Errorf("second failover: exit %d\n%s", code, out)
	}
	out, errs, code = runCLI("restore", "-c", cfg, "--yes", "--json")
	var res struct {
		OK      bool   `json:"ok"`
		To      string `json:"to"`
		Changed bool   `json:"changed"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != exitOK || !res.OK || res.To != "public" || !res.Changed {
		t.Errorf("restore --json: exit %d %v\n%s%s", code, err, out, errs)
	}
	if rep = status(t, cfg); activeServer(rep.Services[0]) != "public" || rep.Held {
		t.Errorf("status after restore: %+v", rep)
	}
	b, _ := os.ReadFile(audit)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	var results []string
	for _, l := range lines {
		var m map[string]any
		json.Unmarshal([]byte(l), &m)
		results = append(results, fmt.Sprint(m["operation"], " ", m["result"]))
	}
	want := []string{"failover changed", "failover already so", "restore changed"}
	if !slices.Equal(results, want) {
		t.Errorf("audit results %q, want %q", results, want)
	}
}

// Netwatch has already moved the name to the standby (the public server is
// down); a failover with hold keeps the records and holds netwatch, and
// says and audits that as a change.
func TestFailoverOnStandbyHolds(t *testing.T) {
	sim := rosim.NewSimulated()
	sim.SetUp(netip.MustParseAddr(paper.PublicAddress), false)
	cfg, _, audit := paperRouter(t, sim.Probe)
	testkit.EventuallyLast(t, 5*time.Second, "netwatch moved the name", func() (string, bool) {
		active := activeServer(status(t, cfg).Services[0])
		return active, active == "private"
	})
	out, errs, code := runCLI("failover", "-c", cfg, "--yes")
	if code != exitOK || !strings.Contains(out, "tomtotrading.com is already on private; netwatch held: *1, *2") {
		t.Errorf("exit %d\n%s%s", code, out, errs)
	}
	b, _ := os.ReadFile(audit)
	if !strings.Contains(string(b), `"result":"changed"`) || !strings.Contains(string(b), `"what":"hold (disable)"`) {
		t.Errorf("audit:\n%s", b)
	}
}

// Answering no at the prompt does nothing and says so, exit 1.
func TestDeclinedPrompt(t *testing.T) {
	bin := buildBinary(t)
	cfg, _, audit := paperRouter(t)
	s := newTmux(t, 100, 20, bin+" failover -c "+cfg)
	s.waitFor("question", `Fail over tomtotrading\.com from public to private\? \[y/N\]`)
	s.keys("n", "Enter")
	if code := s.exitCode(); code != "1" {
		t.Errorf("exit %s", code)
	}
	s.waitFor("said", `not done: declined`)
	if _, err := os.Stat(audit); err == nil {
		t.Error("a declined failover was audited as if it ran")
	}
	if rep := status(t, cfg); activeServer(rep.Services[0]) != "public" {
		t.Errorf("the name moved: %+v", rep)
	}
}

// Machine output: snake_case names, a schema version, durations in _ms,
// empty lists as [] and no HTML escaping.
func TestJSONShapes(t *testing.T) {
	cfg, _, _ := paperRouter(t)
	out, _, _ := runCLI("status", "-c", cfg, "--json")
	for _, want := range []string{`"schema_version": 4`, `"services": [`, `"records": [`, `"id": "*1"`, `"up_script": "/ip dns static disable numbers=0"`, `"identity": {`, `"name": "MikroTik"`,
		`"ttl_ms": 86400000`, `"interval_ms": 10000`, `"timeout_ms": 1000`, `"uptime_ms": `} {
		if !strings.Contains(out, want) {
			t.Errorf("status --json lacks %s:\n%s", want, out)
		}
	}
	for _, banned := range []string{`"ID"`, `"Address"`, `null`, `\u003e`, `"ttl":`, `"interval":`, `"uptime":`} {
		if strings.Contains(out, banned) {
			t.Errorf("status --json has %s:\n%s", banned, out)
		}
	}
	out, _, _ = runCLI("restore", "-c", cfg, "--yes", "--json")
	for _, want := range []string{`"schema_version": 2`, `"took_ms": `, `"outcome": "already so"`, `"changes": []`, `"ttl_ms": 86400000`, `-> 104.247.193.168`} {
		if !strings.Contains(out, want) {
			t.Errorf("restore --json lacks %s:\n%s", want, out)
		}
	}
	for _, banned := range []string{`"Took"`, `took_ns`, `null`, `\u003e`, `"ttl":`} {
		if strings.Contains(out, banned) {
			t.Errorf("restore --json has %s:\n%s", banned, out)
		}
	}
}

// failover without hold while the paper's switching entries are enabled:
// done, and a warning says their next up event may move the name back and
// that --hold prevents it.
func TestFailoverWithoutHoldWarns(t *testing.T) {
	cfg, _, _ := paperRouter(t)
	b, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, []byte(strings.Replace(string(b), "hold_netwatch: true", "hold_netwatch: false", 1)), 0o600)
	out, errs, code := runCLI("failover", "-c", cfg, "--yes")
	if code != exitOK || !strings.Contains(out, "now points at private") ||
		!strings.Contains(errs, "failwatch failover: warning: the router's netwatch entries *1 (104.247.193.168), *2 (104.247.193.168) are enabled") ||
		!strings.Contains(errs, "(failover --hold)") {
		t.Errorf("exit %d\n%s%s", code, out, errs)
	}
}
