package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/failwatch/failwatch/internal/testkit"
	"github.com/failwatch/failwatch/routeros/rosim"
)

// servicesRouter starts an emulator holding three names over three servers
// (core carries www and api) with their primaries' records enabled, and
// writes a config for it.
func servicesRouter(t *testing.T) (string, *rosim.Router) {
	t.Helper()
	r, api, dns := testkit.ServicesEmulator(t, testkit.ThreeServices)
	dir := t.TempDir()
	cfg := fmt.Sprintf(`router:
  address: %[1]s
services:
  - {name: www.example.test, primary: core, standby: backup, dns_server: "%[2]s", audit_log: %[3]s}
  - {name: api.example.test, primary: core, standby: edge, dns_server: "%[2]s", audit_log: %[3]s}
  - {name: mail.example.test, primary: edge, standby: backup, dns_server: "%[2]s", audit_log: %[3]s}
`+testkit.ThreeServicesServers, api, dns, filepath.Join(dir, "audit.jsonl"))
	path := filepath.Join(dir, "failwatch.yaml")
	os.WriteFile(path, []byte(cfg), 0o600)
	return path, r
}

// activeOf is each service's active server by `status --json`.
func activeOf(t *testing.T, cfg string, args ...string) map[string]string {
	t.Helper()
	rep := status(t, cfg, args...)
	out := map[string]string{}
	for _, s := range rep.Services {
		out[s.Service] = activeServer(s)
	}
	return out
}

// status, failover and restore act on the services --service names, or
// on every one; the router is read once for all of them.
func TestServicesCommands(t *testing.T) {
	cfg, r := servicesRouter(t)
	want := map[string]string{"www.example.test": "core", "api.example.test": "core", "mail.example.test": "edge"}
	if got := activeOf(t, cfg); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("status: %v", got)
	}
	before := r.Calls()["/ip/dns/static/print"]
	rep := status(t, cfg, "--service", "api.example.test")
	if len(rep.Services) != 1 || rep.Services[0].Service != "api.example.test" || len(rep.Services[0].Records) != 2 || !rep.Healthy {
		t.Errorf("status --service api: %+v", rep)
	}
	if n := r.Calls()["/ip/dns/static/print"] - before; n != 1 {
		t.Errorf("status read the records %d times", n)
	}
	if _, errs, code := runCLI("status", "-c", cfg, "--service", "ftp.example.test"); code != exitUsage ||
		!strings.Contains(errs, "--service ftp.example.test: the config has no such service (it has www.example.test, api.example.test, mail.example.test)") {
		t.Errorf("an unknown service: exit %d, %s", code, errs)
	}

	out, errs, code := runCLI("failover", "-c", cfg, "--service", "www.example.test", "--yes")
	if code != exitOK || !strings.Contains(out, "www.example.test now points at backup") {
		t.Fatalf("failover www: exit %d\n%s%s", code, out, errs)
	}
	want["www.example.test"] = "backup"
	if got := activeOf(t, cfg); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after failing www over: %v", got)
	}
	out, errs, code = runCLI("restore", "-c", cfg, "--yes")
	if code != exitOK || !strings.Contains(out, "www.example.test: www.example.test now points at core") ||
		!strings.Contains(out, "api.example.test: api.example.test is already on core: nothing changed") {
		t.Errorf("restore every service: exit %d\n%s%s", code, out, errs)
	}
	want["www.example.test"] = "core"
	if got := activeOf(t, cfg); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after the restore: %v", got)
	}
}

// setup handles each service's records and netwatch entry without touching
// another's: its entry is named by its service, and the script never
// disables a sibling's entry as one that fights.
func TestSetupPerService(t *testing.T) {
	cfg, _ := servicesRouter(t)
	script, errs, code := runCLI("setup", "-c", cfg, "--service", "api.example.test")
	if code != exitOK || !strings.Contains(script, `comment="failwatch api.example.test"`) ||
		!strings.Contains(script, `comment!="failwatch www.example.test" and comment!="failwatch mail.example.test"`) ||
		strings.Contains(script, "setup for www.example.test") {
		t.Errorf("the script for api: exit %d\n%s%s", code, script, errs)
	}
	records := func(name string) string {
		rep := status(t, cfg, "--service", name)
		b, _ := json.Marshal(rep.Services[0].Records)
		return string(b)
	}
	mail := records("mail.example.test")
	for _, svc := range []string{"www.example.test", "api.example.test"} {
		if out, errs, code := runCLI("setup", "-c", cfg, "--service", svc, "--apply", "--yes"); code != exitOK {
			t.Fatalf("setup --apply %s: exit %d\n%s%s", svc, code, out, errs)
		}
	}
	if got := records("mail.example.test"); got != mail {
		t.Errorf("mail's records changed by the others' setup:\n%s\n%s", mail, got)
	}
	rep := status(t, cfg)
	comments := map[string]bool{}
	for _, n := range rep.Netwatch {
		if n.Disabled {
			t.Errorf("netwatch %s (%s) disabled by a sibling's setup", n.ID, n.Comment)
		}
		comments[n.Comment] = true
	}
	if !comments["failwatch www.example.test"] || !comments["failwatch api.example.test"] || len(rep.Netwatch) != 2 {
		t.Errorf("netwatch entries: %+v", rep.Netwatch)
	}
	if out, errs, code := runCLI("setup", "-c", cfg, "--apply", "--yes"); code != exitOK || !strings.Contains(out, "mail.example.test:") {
		t.Errorf("setup of every service: exit %d\n%s%s", code, out, errs)
	}
	if out, _, code := runCLI("setup", "-c", cfg, "--apply", "--yes"); code != exitOK || !strings.Contains(out, "nothing to change") {
		t.Errorf("setup again:\n%s", out)
	}
	if got := activeOf(t, cfg); got["www.example.test"] != "core" || got["api.example.test"] != "core" || got["mail.example.test"] != "edge" {
		t.Errorf("after setup: %v", got)
	}
}
