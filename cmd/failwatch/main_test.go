package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/failwatch/failwatch/internal/netlab/netlabtest"
	"github.com/failwatch/failwatch/internal/testkit"
)

func runCLI(args ...string) (stdout, stderr string, code int) {
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return out.String(), errb.String(), code
}

func TestUsage(t *testing.T) {
	tests := []struct {
		args     []string
		code     int
		inStdout string
		inStderr string
	}{
		{[]string{"-c", "/nonexistent/f.yaml"}, exitUsage, "", "read config: open /nonexistent/f.yaml"},
		{[]string{"--help"}, exitOK, "report", ""},
		{[]string{"frobnicate"}, exitUsage, "", `unknown command "frobnicate"`},
		{[]string{"report", "--help"}, exitOK, "failwatch report [HOST...] [--flags]", ""},
		{[]string{"check", "--help"}, exitOK, "failwatch check [--flags]", ""},
		{[]string{"report", "--count", "0", "127.0.0.1"}, exitUsage, "", "--count must be at least 1"},
		{[]string{"report", "--bogus"}, exitUsage, "", "unknown flag: --bogus"},
		{[]string{"report", "-c", "x.yaml", "127.0.0.1"}, exitUsage, "", "either -c FILE or HOSTs"},
		{[]string{"report", "tcp://127.0.0.1"}, exitUsage, "", `"tcp://127.0.0.1" is not tcp://HOST:PORT`},
		{[]string{"report", "ftp://x"}, exitUsage, "", `"ftp://x" is not a host`},
		{[]string{"exporter", "--log-format", "xml"}, exitUsage, "", `failwatch exporter: --log-format: log format "xml": want text or json`},
		{[]string{"serve", "--log-format", "logfmt"}, exitUsage, "", `failwatch serve: --log-format: log format "logfmt": want text or json`},
		{[]string{"check", "-c", "/nonexistent/failwatch.yaml"}, exitUsage, "", "read config: open /nonexistent/failwatch.yaml"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, errs, code := runCLI(tc.args...)
			if code != tc.code || !strings.Contains(out, tc.inStdout) || !strings.Contains(errs, tc.inStderr) {
				t.Errorf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, tc.code, out, errs)
			}
		})
	}
}

func TestCheckCommand(t *testing.T) {
	// The example as shipped refuses to run until edited.
	out, errs, code := runCLI("check", "-c", "../../failwatch.example.yaml")
	if code != exitUsage || !strings.Contains(errs, "unedited: edit ../../failwatch.example.yaml first") {
		t.Errorf("exit %d\n%s%s", code, out, errs)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("router:\n  address: r\n  pasword: x\nservers: []\n"), 0o600)
	_, errs, code = runCLI("check", "-c", bad)
	want := bad + `:3:3: router.pasword: unknown key "pasword" (did you mean "password"?)`
	if code != exitUsage || !strings.Contains(errs, want) {
		t.Errorf("exit %d, stderr:\n%s\nwant a line %s", code, errs, want)
	}
}

func TestReportLoopback(t *testing.T) {
	ln := testkit.AcceptTCP(t)
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	out, errs, code := runCLI("report", "tcp://127.0.0.1:"+port, "--count", "3", "--interval", "100ms", "--json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rep jsonReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Servers) != 1 {
		t.Fatalf("%v: %s", err, out)
	}
	c := rep.Servers[0].Checks[0]
	if rep.SchemaVersion != 1 || rep.Servers[0].State.String() != "UP" || c.Sent != 3 || c.Received != 3 || c.NotSent != 0 || c.AvgMS == nil {
		t.Errorf("json: %s", out)
	}

	ln.Close()
	out, _, code = runCLI("report", "tcp://127.0.0.1:"+port, "--count", "3", "--interval", "100ms")
	if code != exitUnhealthy || !strings.Contains(out, "3 probes sent, 0 answered, 100% failed") ||
		!strings.Contains(out, "last error: connection refused") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

// The paper's scenario 2 figure on real packets: every 4th echo request
// dropped by nft in a namespace; the report reads like ping's.
func TestReportEveryFourthDropped(t *testing.T) {
	h := netlabtest.TestHost(t)
	if err := h.DropEcho(4); err != nil {
		t.Fatal(err)
	}
	out, errs, code := runCLI("report", "--count", "20", "--interval", "100ms", h.Addr.String())
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{
		"--- " + h.Addr.String() + " icmp statistics ---",
		"20 packets transmitted, 15 received, 25% packet loss",
		"rtt min/avg/max/mdev = ",
		"state UP",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	// It says how it probes, and nothing of what it does not use: no
	// router, no benchmark.
	if !strings.Contains(errs, "each every 100ms (ICMP through a raw socket)...") || strings.Contains(errs, "BENCHMARKS") || strings.Contains(errs, "password") {
		t.Errorf("the report's stderr:\n%s", errs)
	}
}

// Help goes to stdout once; --version and version say which failwatch.
func TestHelpOnceAndVersion(t *testing.T) {
	for _, args := range [][]string{{"status", "--help"}, {"report", "-h"}, {"setup", "--help"}} {
		out, errs, code := runCLI(args...)
		if code != exitOK || errs != "" || strings.Count(out, "failwatch "+args[0]+" [") != 1 {
			t.Errorf("%v: exit %d, stdout %d bytes, stderr %q", args, code, len(out), errs)
		}
	}
	_, errs, code := runCLI("status", "--frobnicate")
	if code != exitUsage || !strings.Contains(errs, "unknown flag: --frobnicate\nRun 'failwatch status --help' for its flags") {
		t.Errorf("bad flag: exit %d\n%s", code, errs)
	}
	for _, arg := range []string{"--version", "version"} {
		out, _, code := runCLI(arg)
		if code != exitOK || !strings.HasPrefix(out, "failwatch ") || !strings.Contains(out, "go1.") {
			t.Errorf("%s: exit %d %q", arg, code, out)
		}
	}
}

// TERM=dumb cannot draw the dashboard: the dashboard and the demo print a
// status line every probe interval instead (and say so), until Ctrl-C;
// replay says where to go.
func TestDumbTerminal(t *testing.T) {
	t.Setenv("TERM", "dumb")
	if _, errs, code := runCLI("replay", "x.jsonl"); code != exitUsage || !strings.Contains(errs, "TERM=dumb cannot draw the dashboard") {
		t.Errorf("replay: exit %d %q", code, errs)
	}
	cmd := exec.Command(buildBinary(t), "demo")
	var errs bytes.Buffer
	cmd.Stderr = &errs
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(out)
	deadline := time.Now().Add(15 * time.Second)
	var got []string
	for sc.Scan() && time.Now().Before(deadline) {
		got = append(got, sc.Text())
		if l := sc.Text(); strings.Contains(l, "DEMO: simulated servers | ACTIVE public | public UP icmp ") &&
			strings.Contains(l, "| private UP icmp ") && strings.Contains(l, "| dns 104.247.193.168 (public) | router connected") {
			break
		}
	}
	cmd.Process.Signal(os.Interrupt)
	if err := cmd.Wait(); err != nil || !strings.Contains(errs.String(), "a status line every probe interval instead") {
		t.Errorf("demo: %v\nstdout:\n%s\nstderr: %s", err, strings.Join(got, "\n"), errs.String())
	}
	if last := got[len(got)-1]; !strings.Contains(last, "public UP") {
		t.Errorf("no status line with both servers up:\n%s", strings.Join(got, "\n"))
	}
}
