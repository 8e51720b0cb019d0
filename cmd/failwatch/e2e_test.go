package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/failwatch/failwatch/internal/testkit"
)

// tmuxSession drives the real binary in a tmux server of its own.
type tmuxSession struct {
	t    *testing.T
	sock string
	exit string
}

func newTmux(t *testing.T, width, height int, command string) *tmuxSession {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("CI must run the tmux tests: tmux is not installed (scripts/test installs it)")
		}
		t.Skip("needs tmux")
	}
	dir := t.TempDir()
	s := &tmuxSession{t: t, sock: filepath.Join(dir, "tmux.sock"), exit: filepath.Join(dir, "exit")}
	shell := command + "; echo $? > " + s.exit + "; sleep 60"
	s.run("new-session", "-d", "-s", "fw", "-x", strconv.Itoa(width), "-y", strconv.Itoa(height), shell)
	t.Cleanup(func() { exec.Command("tmux", "-S", s.sock, "kill-server").Run() })
	return s
}

func (s *tmuxSession) run(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", s.sock}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func (s *tmuxSession) screen() string { return s.run("capture-pane", "-p", "-t", "fw") }

func (s *tmuxSession) keys(keys ...string) {
	s.run(append([]string{"send-keys", "-t", "fw"}, keys...)...)
}

// waitFor waits until every pattern matches the screen.
func (s *tmuxSession) waitFor(what string, patterns ...string) string {
	s.t.Helper()
	return testkit.EventuallyLast(s.t, 20*time.Second, fmt.Sprintf("%s: %q on screen", what, patterns), func() (string, bool) {
		screen := s.screen()
		for _, p := range patterns {
			if !regexp.MustCompile(p).MatchString(screen) {
				return screen, false
			}
		}
		return screen, true
	})
}

// quit presses q and says whether the program exited 0, a test error
// when it did not.
func (s *tmuxSession) quit() bool {
	s.t.Helper()
	s.keys("q")
	if code := s.exitCode(); code != "0" {
		s.t.Errorf("exit %s", code)
		return false
	}
	return true
}

func (s *tmuxSession) exitCode() string {
	s.t.Helper()
	var code string
	testkit.EventuallyLast(s.t, 10*time.Second, "the program exited", func() (string, bool) {
		if b, err := os.ReadFile(s.exit); err == nil && len(b) > 0 {
			code = strings.TrimSpace(string(b))
			return "", true
		}
		return s.screen(), false
	})
	return code
}

// The demo, driven like an admin would: fail over, restore, let netwatch fail
// over by itself, resize, quit.
func TestDemoEndToEnd(t *testing.T) {
	bin := buildBinary(t)
	s := newTmux(t, 120, 40, bin+" demo --netwatch-interval 1s")
	s.waitFor("both cards", `public · primary`, `private · standby`, `DEMO`, `tomtotrading\.com → 104\.247\.193\.168 \(public\)`,
		`192\.10\.10\.2\s+UP`, `104\.247\.193\.168\s+UP`)

	s.keys("f")
	s.waitFor("confirmation", `Fail over tomtotrading\.com from public to private`)
	s.keys("y")
	s.waitFor("failover", `ACTIVE private`, `static dns entry changed by admin`, `failover done in`, `NETWATCH HELD`,
		`tomtotrading\.com → 192\.10\.10\.2 \(private\)`)

	s.keys("r")
	s.waitFor("restore confirmation", `Restore tomtotrading\.com from private to public`)
	s.keys("y")
	s.waitFor("restore", `ACTIVE public`, `restore done in`, `tomtotrading\.com → 104\.247\.193\.168 \(public\)`)

	s.keys("x")
	s.waitFor("netwatch failover", `simulated public server taken DOWN`, `event down \[ type: simple, host: 104\.247\.193\.168 \]`,
		`ACTIVE private`, `DNS answer changed: 104\.247\.193\.168 \(public\) → 192\.10\.10\.2 \(private\)`)
	// Restoring to the DOWN public server takes its name, typed; esc leaves.
	s.waitFor("public down by the probes", `104\.247\.193\.168\s+DOWN`)
	s.keys("r")
	s.waitFor("the second confirmation", `WARNING: public is DOWN`, `type public and enter to confirm`)
	s.keys("y")
	s.waitFor("y is not enough", `type public and enter to confirm: y`)
	s.keys("Escape")
	s.waitFor("cancelled", `cancelled: Restore tomtotrading\.com`)

	for _, size := range [][2]int{{80, 24}, {200, 60}, {100, 30}, {60, 20}, {120, 40}} {
		s.run("resize-window", "-t", "fw", "-x", strconv.Itoa(size[0]), "-y", strconv.Itoa(size[1]))
		if size[0] < 80 {
			s.waitFor("too small", `terminal too small: 60x20`)
		} else {
			s.waitFor("after resize", `Events`, `public . primary`)
		}
	}
	s.quit()
	if screen := s.screen(); strings.Contains(screen, "primary") {
		t.Errorf("the dashboard is still on screen after quitting:\n%s", screen)
	}
}

// Read-only: the action keys do nothing and are not offered.
func TestDemoReadOnly(t *testing.T) {
	bin := buildBinary(t)
	s := newTmux(t, 120, 40, bin+" demo --read-only")
	screen := s.waitFor("cards", `public · primary`, `READ-ONLY`, `ACTIVE public`)
	if strings.Contains(screen, "fail over to standby") {
		t.Errorf("read-only help offers fail over:\n%s", screen)
	}
	// After each key, M (mouse on and off), whose note on screen says the
	// key before it was taken: had f opened a question, M would have
	// cancelled it instead, and no note would come.
	s.keys("f", "M")
	s.waitFor("f taken", `mouse off: the terminal selects text`)
	s.keys("y", "M")
	screen = s.waitFor("y taken", `mouse on: a click selects`)
	if strings.Contains(screen, "Fail over") || strings.Contains(screen, "failover") || !strings.Contains(screen, "ACTIVE public") {
		t.Errorf("f changed something in read-only mode:\n%s", screen)
	}
	s.quit()
}

// The real dashboard (not the demo) against `failwatch sim`, with servers on
// loopback probed by real ICMP: the wiring a router admin runs.
func TestDashboardAgainstSim(t *testing.T) {
	s, dir := dashboardAgainstSim(t, 120, 40, func(dir, dnsAddr string) string {
		return `service:
  name: svc.test
  hold_netwatch: true
  audit_log: ` + filepath.Join(dir, "audit.jsonl") + `
  dns_server: ` + dnsAddr + `
servers:
  - name: web1
    role: primary
    address: 127.0.0.2
    record: {comment: web1}
  - name: web2
    role: standby
    address: 127.0.0.3
    record: {comment: web2}
probe:
  interval: 500ms
`
	})
	s.waitFor("dashboard", `MikroTik · RouterOS`, `connected`, `web1 · primary\s+ACTIVE`, `127\.0\.0\.2\s+UP`, `127\.0\.0\.3\s+UP`,
		`svc\.test → 127\.0\.0\.2 \(web1\)`)
	s.keys("f")
	s.waitFor("confirmation", `Fail over svc\.test from web1 to web2`)
	s.keys("y")
	s.waitFor("failover", `ACTIVE web2`, `failover done in`, `svc\.test → 127\.0\.0\.3 \(web2\)`, `NETWATCH HELD`)
	s.quit()
	audit, err := os.ReadFile(filepath.Join(dir, "audit.jsonl"))
	if err != nil || !strings.Contains(string(audit), `"operation":"failover"`) || !strings.Contains(string(audit), `"result":"changed"`) {
		t.Errorf("audit log: %v\n%s", err, audit)
	}
}

// dashboardAgainstSim runs `failwatch sim` on the config that yaml writes
// (given the test's directory and a free loopback port for the
// simulator's DNS) after a router line, and the real dashboard, with
// servers on loopback probed by real ICMP, on it in tmux of w x h; it
// returns the session and the directory.
func dashboardAgainstSim(t *testing.T, w, h int, yaml func(dir, dnsAddr string) string) (*tmuxSession, string) {
	t.Helper()
	bin, dir := icmpTest(t, "")
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dnsAddr := pc.LocalAddr().String()
	pc.Close()
	cfgPath := writeConfig(t, dir, "router:\n  address: 127.0.0.1:1\n"+yaml(dir, dnsAddr))
	apiAddr := startSim(t, bin, "-c", cfgPath, "--dns", dnsAddr, "--netwatch-interval", "1s")
	return newTmux(t, w, h, bin+" -c "+cfgPath+" --router "+apiAddr), dir
}

// The automatic policy in the demo: it refuses while the paper's netwatch
// would fight it, and fails over by itself once netwatch is held.
func TestDemoAutoPolicy(t *testing.T) {
	bin := buildBinary(t)
	// Netwatch tests once an hour: it cannot beat the policy to the switch.
	s := newTmux(t, 120, 40, bin+" demo --auto --netwatch-interval 1h")
	// The entries test first after their start-delay (3 s): only then is
	// the next test an hour away.
	s.waitFor("cards", `public · primary`, `automatic failover on: after 5s down`, `netwatch up`)
	s.keys("x")
	s.waitFor("refusal", `would failover \(public DOWN for \d+s, private UP\), but the router's netwatch \*1, \*2 would fight it`)
	s.keys("h")
	s.waitFor("hold confirmation", `Hold the router's netwatch entries`)
	s.keys("y")
	s.waitFor("auto failover", `NETWATCH HELD`, `auto\s+failing over: public DOWN for`, `auto failover done in`, `ACTIVE private`)
	s.quit()
}

// The demo's outage, recorded, plays back in the dashboard: read-only,
// marked REPLAY, the switch as it happened, and the end said.
func TestDemoRecordAndReplay(t *testing.T) {
	bin := buildBinary(t)
	rec := filepath.Join(t.TempDir(), "outage.jsonl")
	s := newTmux(t, 120, 40, bin+" demo --netwatch-interval 1s --record "+rec)
	s.waitFor("demo", `public · primary`, `netwatch up`)
	s.keys("x")
	s.waitFor("outage", `ACTIVE private`)
	if !s.quit() {
		t.FailNow()
	}
	r := newTmux(t, 120, 40, bin+" replay --speed 0 "+rec)
	screen := r.waitFor("replay", `REPLAY`, `ACTIVE private`, `end of the recording`, `event down`)
	if strings.Contains(screen, "f fail over") {
		t.Errorf("a replay offers to fail over:\n%s", screen)
	}
	r.quit()
}

// Three services against the emulator, end to end: the services view, m on
// the shared server with its question naming each name, and the names it
// carried moved (the third left where it was), one audit line per name.
func TestServicesDashboardAgainstSim(t *testing.T) {
	s, dir := dashboardAgainstSim(t, 160, 50, func(dir, dnsAddr string) string {
		audit := filepath.Join(dir, "audit.jsonl")
		return `services:
  - {name: www.test, primary: core, standby: backup, hold_netwatch: true, dns_server: "` + dnsAddr + `", audit_log: ` + audit + `}
  - {name: api.test, primary: core, standby: edge, hold_netwatch: true, dns_server: "` + dnsAddr + `", audit_log: ` + audit + `}
  - {name: mail.test, primary: edge, standby: backup, dns_server: "` + dnsAddr + `", audit_log: ` + audit + `}
servers:
  - {name: core, address: 127.0.0.2}
  - {name: edge, address: 127.0.0.3}
  - {name: backup, address: 127.0.0.4}
probe:
  interval: 500ms
`
	})
	s.waitFor("services view", `Services`, `▸ www\.test\s+core\s+core UP · backup UP\s+dns 127\.0\.0\.2 \(core\)`,
		`api\.test\s+core\s+core UP · edge UP`, `mail\.test\s+edge\s+edge UP · backup UP`, `core · primary\s+ACTIVE www\.test, api\.test`)
	s.keys("m")
	s.waitFor("question", `Move every service off core: www\.test to backup, api\.test to edge`)
	s.keys("y")
	s.waitFor("moved", `move off core done in`, `www\.test\s+backup`, `api\.test\s+edge`, `mail\.test\s+edge`,
		`edge · primary\s+ACTIVE api\.test, mail\.test`)
	s.quit()
	b, err := os.ReadFile(filepath.Join(dir, "audit.jsonl"))
	if lines := strings.Split(strings.TrimSpace(string(b)), "\n"); err != nil || len(lines) != 2 ||
		!strings.Contains(lines[0], `"service":"www.test"`) || !strings.Contains(lines[1], `"service":"api.test"`) {
		t.Errorf("audit log: %v\n%s", err, b)
	}
}
