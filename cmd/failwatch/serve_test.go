package main

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/failwatch/failwatch/routeros/rosim"
)

// failwatch serve: one engine, two SSH sessions. The viewer's key gets a
// read-only dashboard; the operator's fails over; the viewer sees it
// happen; the audit names the operator's key; an unknown key is refused.
func TestServeOverSSH(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs ICMP sockets (root) for the probes of 127.0.0.2 and 127.0.0.3")
	}
	if _, err := exec.LookPath("ssh"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("CI must run the SSH test: no ssh client (scripts/test installs openssh-client)")
		}
		t.Skip("needs the OpenSSH client")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	for _, k := range []string{"op", "view", "stranger"} {
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(dir, k)).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v %s", err, out)
		}
	}
	opKey, err := os.ReadFile(filepath.Join(dir, "op.pub"))
	if err != nil {
		t.Fatal(err)
	}
	r := rosim.New(rosim.Options{})
	t.Cleanup(r.Close)
	api, err := r.ListenAndServe("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dns, err := r.ServeDNS("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	audit := filepath.Join(dir, "audit.jsonl")
	cfgPath := filepath.Join(dir, "failwatch.yaml")
	os.WriteFile(cfgPath, []byte(`router:
  address: `+api.String()+`
service:
  name: svc.test
  audit_log: `+audit+`
  dns_server: `+dns.String()+`
servers:
  - {name: web1, role: primary, address: 127.0.0.2, record: {comment: web1}}
  - {name: web2, role: standby, address: 127.0.0.3, record: {comment: web2}}
serve:
  host_key: `+filepath.Join(dir, "host_key")+`
  users:
    - {name: alice, role: operator, keys: [`+strconv.Quote(strings.TrimSpace(string(opKey)))+`]}
    - {name: noc, role: viewer, authorized_keys: `+filepath.Join(dir, "view.pub")+`}
`), 0o600)
	cfg, ok := loadConfig(cfgPath, io.Discard)
	if !ok {
		t.Fatal("config")
	}
	if err := r.SeedConfig(cfg, "1h"); err != nil {
		t.Fatal(err)
	}
	serve := exec.Command(bin, "serve", "-c", cfgPath, "--listen", "127.0.0.1:0")
	stdout, _ := serve.StdoutPipe()
	serve.Stderr = os.Stderr
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { serve.Process.Signal(os.Interrupt); serve.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "failwatch serve: SSH on ") {
		t.Fatalf("serve said %q %v", line, err)
	}
	addr := strings.TrimSpace(strings.TrimPrefix(line, "failwatch serve: SSH on "))
	port := addr[strings.LastIndexByte(addr, ':')+1:]
	sshCmd := func(key, user string) string {
		return "ssh -tt -p " + port + " -i " + filepath.Join(dir, key) + " -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o IdentitiesOnly=yes " + user + "@127.0.0.1"
	}

	if fi, err := os.Stat(filepath.Join(dir, "host_key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("host key: %v %v, want mode 0600", fi, err)
	}
	viewer := newTmux(t, 120, 40, sshCmd("view", "noc"))
	viewer.waitFor("viewer's dashboard", `connected`, `web1 · primary\s+ACTIVE`, `READ-ONLY`)
	viewer.keys("f")
	time.Sleep(300 * time.Millisecond)
	if strings.Contains(viewer.screen(), "Fail over svc.test") {
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
