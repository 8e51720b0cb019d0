package main

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/routeros/rosim"
)

// icmpTest starts a test of the binary whose probes need ICMP sockets:
// without root it skips, saying so and what for; it builds the binary and
// gives the test's directory.
func icmpTest(t *testing.T, what string) (bin, dir string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs ICMP sockets (root)" + what)
	}
	return buildBinary(t), t.TempDir()
}

// writeConfig writes yaml as dir's failwatch.yaml and returns its path.
func writeConfig(t *testing.T, dir, yaml string) string {
	t.Helper()
	path := filepath.Join(dir, "failwatch.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// webConfig writes the config of a test of svc.test on web1 (127.0.0.2,
// primary) and web2 (127.0.0.3, standby): the router's API at api, the
// audit log in dir, the resolver at dns, and more sections after them.
func webConfig(t *testing.T, dir, api, dns, more string) string {
	t.Helper()
	return writeConfig(t, dir, `router:
  address: `+api+`
service:
  name: svc.test
  audit_log: `+filepath.Join(dir, "audit.jsonl")+`
  dns_server: `+dns+`
servers:
  - {name: web1, role: primary, address: 127.0.0.2, record: {comment: web1}}
  - {name: web2, role: standby, address: 127.0.0.3, record: {comment: web2}}
`+more)
}

// seed reads the config at path and sets the emulated router up as it
// says, its netwatch testing once an hour.
func seed(t *testing.T, r *rosim.Router, path string) *config.Config {
	t.Helper()
	cfg, err := loadConfig(path, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.SeedConfig(cfg, "1h"); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// sshKeys makes an ed25519 key pair without a passphrase in dir for each
// name: name and name.pub.
func sshKeys(t *testing.T, dir string, names ...string) {
	t.Helper()
	for _, k := range names {
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(dir, k)).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v %s", err, out)
		}
	}
}

// startServe runs `failwatch serve` on the config at path, listening on a
// free loopback port, with args, its stderr to stderr, until the test
// ends; it returns the process and the address serve says it listens on.
func startServe(t *testing.T, bin, path string, stderr io.Writer, args ...string) (*exec.Cmd, string) {
	t.Helper()
	serve := exec.Command(bin, append([]string{"serve", "-c", path, "--listen", "127.0.0.1:0"}, args...)...)
	stdout, _ := serve.StdoutPipe()
	serve.Stderr = stderr
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { serve.Process.Signal(os.Interrupt); serve.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "failwatch serve: SSH on ") {
		t.Fatalf("serve said %q %v", line, err)
	}
	return serve, strings.TrimSpace(strings.TrimPrefix(line, "failwatch serve: SSH on "))
}
