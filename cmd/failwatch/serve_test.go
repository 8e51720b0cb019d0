package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/creack/pty"
	gossh "golang.org/x/crypto/ssh"

	"github.com/failwatch/failwatch/internal/testkit"
	"github.com/failwatch/failwatch/routeros/rosim"
)

// failwatch serve: one engine, two SSH sessions. The viewer's key gets a
// read-only dashboard; the operator's fails over; the viewer sees it
// happen; the audit names the operator's key; an unknown key is refused.
func TestServeOverSSH(t *testing.T) {
	bin, dir := icmpTest(t, " for the probes of 127.0.0.2 and 127.0.0.3")
	if _, err := exec.LookPath("ssh"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("CI must run the SSH test: no ssh client (scripts/test installs openssh-client)")
		}
		t.Skip("needs the OpenSSH client")
	}
	sshKeys(t, dir, "op", "view", "stranger")
	opKey, err := os.ReadFile(filepath.Join(dir, "op.pub"))
	if err != nil {
		t.Fatal(err)
	}
	r := rosim.New(rosim.Options{})
	api := testkit.Start(t, r)
	dns, err := r.ServeDNS("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	audit := filepath.Join(dir, "audit.jsonl")
	cfgPath := webConfig(t, dir, api, dns.String(), `serve:
  host_key: `+filepath.Join(dir, "host_key")+`
  users:
    - {name: alice, role: operator, keys: [`+strconv.Quote(strings.TrimSpace(string(opKey)))+`]}
    - {name: noc, role: viewer, authorized_keys: `+filepath.Join(dir, "view.pub")+`}
`)
	seed(t, r, cfgPath)
	_, addr := startServe(t, bin, cfgPath, os.Stderr)
	port := addr[strings.LastIndexByte(addr, ':')+1:]
	sshCmd := func(key, user string) string {
		return "ssh -tt -p " + port + " -i " + filepath.Join(dir, key) + " -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o IdentitiesOnly=yes " + user + "@127.0.0.1"
	}

	if fi, err := os.Stat(filepath.Join(dir, "host_key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("host key: %v %v, want mode 0600", fi, err)
	}
	viewer := newTmux(t, 120, 40, sshCmd("view", "noc"))
	viewer.waitFor("viewer's dashboard", `connected`, `web1 · primary\s+ACTIVE`, `READ-ONLY`)
	// M's note says f was taken first: had f opened a question, M would
	// have cancelled it instead, and no note would come.
	viewer.keys("f", "M")
	if screen := viewer.waitFor("f taken", `mouse off: the terminal selects text`); strings.Contains(screen, "Fail over svc.test") {
		t.Error("f asked for a failover on a viewer's session")
	}

	operator := newTmux(t, 100, 30, sshCmd("op", "alice"))
	operator.waitFor("operator's dashboard", `connected`, `web1 · primary\s+ACTIVE`, `127\.0\.0\.3\s+UP`)
	operator.keys("f")
	operator.waitFor("confirmation", `Fail over svc\.test from web1 to web2`)
	operator.keys("y")
	operator.waitFor("failover", `ACTIVE web2`)
	viewer.waitFor("the failover, seen by the viewer", `failover done in`, `ACTIVE web2`)

	b, _ := os.ReadFile(audit)
	if !strings.Contains(string(b), `"user":"ssh:alice SHA256:`) || !strings.Contains(string(b), `"result":"changed"`) {
		t.Errorf("audit:\n%s", b)
	}
	out, err := exec.Command("sh", "-c", sshCmd("stranger", "eve")+" true").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "Permission denied") {
		t.Errorf("a stranger's key: %v %s", err, out)
	}
	// Killing one ssh client leaves the other session and the engine.
	exec.Command("tmux", "-S", operator.sock, "kill-server").Run()
	if _, errs, code := runCLI("restore", "-c", cfgPath, "--yes"); code != exitOK {
		t.Fatalf("restore: %s", errs)
	}
	viewer.waitFor("the viewer stays and sees the engine go on", `ACTIVE web1`)

	out, err = exec.Command("sh", "-c", strings.Replace(sshCmd("view", "noc"), "-tt", "-T", 1)+" wall").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "needs a terminal") {
		t.Errorf("a session without a terminal: %v %s", err, out)
	}
	// The dashboard or its wall layout, no other command.
	out, err = exec.Command("sh", "-c", sshCmd("view", "noc")+" true").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "exec request failed") {
		t.Errorf("a command other than wall: %v %s", err, out)
	}
	wall := newTmux(t, 120, 40, sshCmd("view", "noc")+" wall")
	// The wall layout: no footer of keys, block letters, the DNS answer and
	// a chart per server.
	if screen := wall.waitFor("the wall layout", `█████`, `DNS svc\.test → 127\.0\.0\.2 \(web1\)`, `lost`); strings.Contains(screen, "q quit") {
		t.Errorf("not the wall layout:\n%s", screen)
	}
}

// check reads serve.users' keys as serve would: a key two users list is
// an error naming both places; a line serve would not load is a warning
// naming its line and why, and the config is still valid.
func TestCheckServeKeys(t *testing.T) {
	dir := t.TempDir()
	keys := map[string]string{}
	sshKeys(t, dir, "a", "b")
	for _, k := range []string{"a", "b"} {
		pub, _ := os.ReadFile(filepath.Join(dir, k+".pub"))
		keys[k] = strings.TrimSpace(string(pub))
	}
	file := filepath.Join(dir, "noc.keys")
	os.WriteFile(file, []byte(`from="*.noc.example" `+keys["b"]+"\n"+`command="/bin/date" `+keys["b"]+"\n"), 0o600)
	cfgPath := filepath.Join(dir, "failwatch.yaml")
	write := func(nocKeys string) {
		os.WriteFile(cfgPath, []byte(`servers:
  - {name: web1, role: primary, address: 127.0.0.2}
  - {name: web2, role: standby, address: 127.0.0.3}
service:
  name: svc.test
serve:
  users:
    - {name: alice, role: operator, keys: [`+strconv.Quote(keys["a"])+`]}
    - {name: noc, role: viewer, authorized_keys: `+file+`, keys: [`+nocKeys+`]}
`), 0o600)
	}
	write(strconv.Quote(keys["a"]))
	_, errs, code := runCLI("check", "-c", cfgPath)
	b, _ := os.ReadFile(cfgPath)
	lines := strings.Split(string(b), "\n")
	col := func(line int) string { return strconv.Itoa(strings.Index(lines[line-1], `"ssh-ed25519`) + 1) }
	dup := cfgPath + `:9:` + col(9) + `: serve.users[1].keys[0]: key ` + fingerprint(t, keys["a"]) + ` is listed for alice (` +
		cfgPath + `:8:` + col(8) + `: serve.users[0].keys[0]) and for noc: list it for one user`
	if code != exitUsage || !strings.Contains(errs, dup+"\n") || !strings.Contains(errs, "failwatch: "+cfgPath+": 1 problem(s)") {
		t.Errorf("a key two users list: exit %d\n%s\nwant a line %s", code, errs, dup)
	}
	write(`"restrict,pty ` + keys["b"] + `"`)
	out, errs, code := runCLI("check", "-c", cfgPath)
	for _, w := range []string{
		`failwatch: warning: ` + file + `:1: from= pattern "*.noc.example" is a host name: failwatch serve does not look clients up in DNS; give addresses or address/masklen; the key is not loaded`,
		`failwatch: warning: ` + file + `:2: option command is not supported: failwatch serve runs only the dashboard, never a forced command; the key is not loaded`,
	} {
		if !strings.Contains(errs, w+"\n") {
			t.Errorf("stderr:\n%s\nwant a line %s", errs, w)
		}
	}
	if code != exitOK || !strings.Contains(out, "serve    127.0.0.1:2222: 2 users, 50 sessions (2 kept for operators), login_grace_time 2m0s, max_startups 10:30:100, per_source_max_startups 10") {
		t.Errorf("exit %d\n%s", code, out)
	}
}

// fingerprint is an authorized_keys line's key's SHA256 fingerprint.
func fingerprint(t *testing.T, line string) string {
	t.Helper()
	k, _, _, _, err := gossh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	return gossh.FingerprintSHA256(k)
}

// Sessions of 10000x10000 and 1000x1000 (the OpenSSH client on terminals
// that size) are drawn at 500x200: while they draw, serve's RSS stays
// under 300 MB, a 120x40 session keeps drawing and the engine keeps
// probing; once they end, serve's heap in use comes back near what it was
// before them (the metrics' go_memstats).
func TestServeLargeWindows(t *testing.T) {
	bin, dir := icmpTest(t, " for the probes of 127.0.0.2 and 127.0.0.3")
	if _, err := exec.LookPath("ssh"); err != nil {
		t.Skip("needs the OpenSSH client")
	}
	sshKeys(t, dir, "view")
	r := rosim.New(rosim.Options{})
	api := testkit.Start(t, r)
	cfgPath := webConfig(t, dir, api, "127.0.0.1:1", `serve:
  host_key: `+filepath.Join(dir, "host_key")+`
  users:
    - {name: noc, role: viewer, authorized_keys: `+filepath.Join(dir, "view.pub")+`}
`)
	seed(t, r, cfgPath)
	// An OS pipe, not io.Pipe: the child writes it itself, so its end
	// closes when serve exits and the reading below ends instead of
	// waiting for a line that will never come (and Wait has no copier to
	// block on).
	stderr, stderrW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stderr.Close() })
	serve, addr := startServe(t, bin, cfgPath, stderrW, "--metrics", "127.0.0.1:0")
	stderrW.Close()
	errLines := bufio.NewScanner(stderr)
	var metricsURL string
	for metricsURL == "" && errLines.Scan() {
		if _, u, ok := strings.Cut(errLines.Text(), "metrics on http://"); ok {
			metricsURL = "http://" + strings.Fields(u)[0]
		}
	}
	if metricsURL == "" {
		t.Fatal("serve never said where its metrics are")
	}
	// serve's log, shown when the test fails.
	serveLog := &testkit.Buffer{}
	go func() {
		for errLines.Scan() {
			fmt.Fprintln(serveLog, errLines.Text())
		}
	}()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("serve's log:\n%s", serveLog.String())
		}
	})
	// metric is the sum of the series named name.
	metric := func(name string) float64 {
		t.Helper()
		resp, err := http.Get(metricsURL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		sum := 0.0
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) == 2 && (f[0] == name || strings.HasPrefix(f[0], name+"{")) {
				v, _ := strconv.ParseFloat(f[1], 64)
				sum += v
			}
		}
		return sum
	}
	rss := func() int64 {
		b, _ := os.ReadFile("/proc/" + strconv.Itoa(serve.Process.Pid) + "/status")
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				return kb << 10
			}
		}
		return 0
	}
	port := addr[strings.LastIndexByte(addr, ':')+1:]
	session := func(cols, rows int) (*testkit.Buffer, *exec.Cmd) {
		t.Helper()
		cmd := exec.Command("ssh", "-F", "/dev/null", "-p", port, "-i", filepath.Join(dir, "view"), "-o", "IdentitiesOnly=yes",
			"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "noc@127.0.0.1")
		tty, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: uint16(cols), Rows: uint16(rows)})
		if err != nil {
			t.Fatal(err)
		}
		out := &testkit.Buffer{}
		go io.Copy(out, tty)
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait(); tty.Close() })
		return out, cmd
	}
	waitFor := func(out *testkit.Buffer, what string) {
		t.Helper()
		testkit.Eventually(t, 20*time.Second, fmt.Sprintf("drew %q", what), func() bool {
			return strings.Contains(ansi.Strip(out.String()), what)
		})
	}

	small, _ := session(120, 40)
	waitFor(small, "READ-ONLY")
	// The steady state the figures start from: six probes in all (the
	// metric sums both servers'), three seconds at one a second each.
	testkit.Eventually(t, 20*time.Second, "six probes", func() bool {
		return metric("failwatch_probes_total") >= 6
	})
	heapBefore, rssBefore, probesBefore := metric("go_memstats_heap_inuse_bytes"), rss(), metric("failwatch_probes_total")

	huge, hugeCmd := session(10000, 10000)
	large, largeCmd := session(1000, 1000)
	waitFor(huge, "window 10000x10000 drawn at 500x200")
	waitFor(large, "window 1000x1000 drawn at 500x200")
	var peak int64
	smallBytes := small.Len()
	for range 60 { // fifteen seconds sampled: a measured window, not a poll
		peak = max(peak, rss())
		time.Sleep(250 * time.Millisecond)
	}
	probesDuring := metric("failwatch_probes_total") - probesBefore
	t.Logf("RSS %d MB before, %d MB at most with the large sessions; heap in use %.1f MB before; %.0f probes in 15 s",
		rssBefore>>20, peak>>20, heapBefore/(1<<20), probesDuring)
	if peak > 300<<20 {
		t.Errorf("serve's RSS reached %d MB with a 10000x10000 and a 1000x1000 session, want under 300 MB", peak>>20)
	}
	if small.Len() == smallBytes {
		t.Error("the 120x40 session stopped drawing while the large ones drew")
	}
	if probesDuring < 10 {
		t.Errorf("%.0f probes in 15 s while the large sessions drew, want the engine probing its two servers", probesDuring)
	}
	if huge.Len() == 0 || large.Len() == 0 {
		t.Error("a large session drew nothing")
	}
	hugeCmd.Process.Kill()
	largeCmd.Process.Kill()
	heapAfter := testkit.EventuallyLast(t, time.Minute, fmt.Sprintf("heap in use (MB) back within 16 MB of the %.1f MB before the large sessions", heapBefore/(1<<20)), func() (float64, bool) {
		heap := metric("go_memstats_heap_inuse_bytes")
		return heap / (1 << 20), heap <= heapBefore+16<<20
	})
	t.Logf("heap in use %.1f MB after them", heapAfter)
}
