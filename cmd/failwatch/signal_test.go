package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/failwatch/failwatch/internal/netlab/netlabtest"
	"github.com/failwatch/failwatch/internal/testkit"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/failover"
	"github.com/failwatch/failwatch/routeros/rosim"
)

// Ctrl-C stops a long report early and it prints what it has.
func TestReportInterruptPrintsWhatItHas(t *testing.T) {
	bin := buildBinary(t)
	// A server that fails every probe and says when one came.
	probed := make(chan struct{}, 1000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		probed <- struct{}{}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	cmd := exec.Command(bin, "report", "--count", "1000", "--interval", "100ms", srv.URL)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// A few probes go out before the interrupt: the third has come, so the
	// first two have had their answer.
	for range 3 {
		testkit.Receive(t, probed, 10*time.Second, "a probe", func(struct{}) bool { return true })
	}
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitUnhealthy {
		t.Errorf("exit: %v (stderr %s)", err, errb.String())
	}
	s := out.String()
	if !strings.Contains(s, "probes sent, 0 answered, 100% failed") || strings.Contains(s, "1000 probes") {
		t.Errorf("output after Ctrl-C:\n%s", s)
	}
}

// Without root, CAP_NET_RAW or ping sockets, the report names both fixes;
// with ping sockets allowed (here in a namespace of its own, where the
// sysctl is separate) it probes unprivileged.
func TestICMPWithoutPrivileges(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to drop to an unprivileged user")
	}
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("needs setpriv (util-linux)")
	}
	h := netlabtest.TestHost(t)
	// The unprivileged user needs to reach the binary: a directory of its
	// own that others may enter, directly in the world-readable temp dir.
	dir, err := os.MkdirTemp("", "failwatch-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "failwatch")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	asNobody := func(args ...string) (string, string, int) {
		full := append([]string{"netns", "exec", h.NS, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", bin}, args...)
		cmd := exec.Command("ip", full...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			code = exit.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), errb.String(), code
	}
	sysctl := func(v string) {
		if out, err := exec.Command("ip", "netns", "exec", h.NS, "sysctl", "-w", "net.ipv4.ping_group_range="+v).CombinedOutput(); err != nil {
			t.Fatalf("sysctl: %v %s", err, out)
		}
	}
	sysctl("1 0")
	_, errs, code := asNobody("report", "--count", "1", "127.0.0.1")
	if code != exitUnhealthy || !strings.Contains(errs, "setcap cap_net_raw") || !strings.Contains(errs, "ping_group_range") {
		t.Errorf("no ICMP: exit %d, %s", code, errs)
	}
	sysctl("0 2147483647")
	out, errs, code := asNobody("report", "--count", "3", "--interval", "100ms", "127.0.0.1")
	if code != exitOK || !strings.Contains(out, "3 packets transmitted, 3 received") {
		t.Errorf("ping sockets: exit %d\n%s%s", code, out, errs)
	}
}

// SIGTERM or SIGHUP while a failover's first change is in flight: the
// change lands, no further one starts, the failover rolls back, the audit
// has its line, and the exit code says it did not complete.
func TestOperationSurvivesSignals(t *testing.T) {
	bin := buildBinary(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			cfg, r, audit := paperRouter(t)
			cmd := exec.Command(bin, "failover", "-c", cfg, "--yes")
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			// The router takes a while over the first record change; the
			// signal comes as it arrives.
			started := make(chan *os.Process, 1)
			r.Inject("/ip/dns/static/set", 0, rosim.Fault{Kind: rosim.FaultSlow, Delay: 300 * time.Millisecond,
				Before: func() { (<-started).Signal(sig) }})
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			started <- cmd.Process
			err := cmd.Wait()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != exitUnhealthy {
				t.Errorf("exit: %v\n%s%s", err, out.String(), errb.String())
			}
			if !strings.Contains(errb.String(), "interrupted before disable public record") || !strings.Contains(errb.String(), "rolled back") {
				t.Errorf("stderr:\n%s", errb.String())
			}
			if rep := status(t, cfg); activeServer(rep.Services[0]) != "public" || rep.Held {
				t.Errorf("after the signal: %+v", rep)
			}
			b, _ := os.ReadFile(audit)
			if !strings.Contains(string(b), `"result":"rolled back"`) {
				t.Errorf("audit:\n%s", b)
			}
		})
	}
}

// The dashboard's SSH session drops (SIGHUP) while a failover it started is
// in flight: the dashboard ends, the failover rolls back, the audit has its
// line, stderr says what happened, and the exit code is 1.
func TestDashboardHangupDuringFailover(t *testing.T) {
	bin, dir := icmpTest(t, " for the dashboard's probes of 127.0.0.2 and 127.0.0.3")
	audit := filepath.Join(dir, "audit.jsonl")
	r := rosim.New(rosim.Options{})
	api := testkit.Start(t, r)
	cfgPath := webConfig(t, dir, api, "127.0.0.1:1", "")
	cfg := seed(t, r, cfgPath)
	r.Inject("/ip/dns/static/set", 0, rosim.Fault{Kind: rosim.FaultSlow, Delay: 300 * time.Millisecond,
		Before: func() { signalBinary(bin, syscall.SIGHUP) }})

	s := newTmux(t, 120, 40, bin+" -c "+cfgPath)
	s.waitFor("dashboard", `connected`, `web1 · primary\s+ACTIVE`, `127\.0\.0\.3\s+UP`)
	s.keys("f")
	s.waitFor("confirmation", `Fail over svc\.test from web1 to web2`)
	s.keys("y")
	if code := s.exitCode(); code != "1" {
		t.Errorf("exit %s:\n%s", code, s.screen())
	}
	s.waitFor("what happened", `failover was under way when the dashboard ended: rolled back`)
	c, _, _ := routeros.New(routeros.Options{Address: api, User: "admin", Timeout: 2 * time.Second})
	defer c.Close()
	recs, err := c.StaticRecords(context.Background(), "svc.test")
	if err != nil {
		t.Fatal(err)
	}
	if got := failover.Active(cfg.Services[0], recs, cfg.Servers...); got != "web1" {
		t.Errorf("after the hangup the name is on %q: %+v", got, recs)
	}
	b, _ := os.ReadFile(audit)
	if !strings.Contains(string(b), `"result":"rolled back"`) {
		t.Errorf("audit:\n%s", b)
	}
}

// signalBinary sends sig to every process running bin (a test's own build).
func signalBinary(bin string, sig syscall.Signal) {
	procs, _ := filepath.Glob("/proc/[0-9]*/exe")
	for _, exe := range procs {
		if target, err := os.Readlink(exe); err == nil && target == bin {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(exe)))
			syscall.Kill(pid, sig)
		}
	}
}
