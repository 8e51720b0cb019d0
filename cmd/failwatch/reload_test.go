package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/failwatch/failwatch/config"
)

// SIGHUP checks the config on disk instead of killing the exporter: a
// broken file is logged with its positions and the exporter keeps running;
// a changed one is named by section.
func TestHangupChecksConfig(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs ICMP sockets (root)")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "failwatch.yaml")
	good := `router:
  address: 127.0.0.1:1
service:
  name: svc.test
servers:
  - {name: web1, role: primary, address: 127.0.0.2, record: {comment: web1}}
  - {name: web2, role: standby, address: 127.0.0.3, record: {comment: web2}}
probe:
  interval: 200ms
`
	os.WriteFile(cfgPath, []byte(good), 0o600)
	api := startSim(t, bin, "-c", cfgPath)

	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "exporter", "-c", cfgPath, "--router", api, "--listen", "127.0.0.1:0")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); cmd.Wait() }()
	lines := make(chan string, 256)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	waitFor := func(what string) string {
		t.Helper()
		deadline := time.After(20 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("exporter ended before %q", what)
				}
				if strings.Contains(l, what) {
					return l
				}
			case <-deadline:
				t.Fatalf("no %q in the log", what)
			}
		}
	}
	waitFor(`msg="router connected"`)

	cmd.Process.Signal(syscall.SIGHUP)
	waitFor(`msg="config on disk checked: same as running"`)

	os.WriteFile(cfgPath, []byte(strings.Replace(good, "interval: 200ms", "interval: fast", 1)), 0o600)
	cmd.Process.Signal(syscall.SIGHUP)
	l := waitFor(`msg="config not reloaded, the running one stays"`)
	if !strings.Contains(l, "failwatch.yaml:9:13: probe.interval") {
		t.Errorf("the problem should say where: %s", l)
	}

	os.WriteFile(cfgPath, []byte(strings.Replace(good, "interval: 200ms", "interval: 300ms", 1)+"auto: {enabled: true}\n"), 0o600)
	cmd.Process.Signal(syscall.SIGHUP)
	l = waitFor(`restart failwatch to apply it`)
	if !strings.Contains(l, "sections=probe,auto") {
		t.Errorf("changed sections: %s", l)
	}
	// Still running, still probing: a state line or the metrics go on.
	if err := cmd.Process.Signal(syscall.Signal(0)); err != nil {
		t.Errorf("exporter gone after SIGHUP: %v", err)
	}
}

// A changed password names its section, never itself.
func TestChangedSections(t *testing.T) {
	a := config.Defaults()
	b := a
	b.Router.Password = "n3w-pw"
	b.Path = "elsewhere.yaml"
	if got := changedSections(&a, &b); strings.Join(got, ",") != "router" {
		t.Errorf("got %v", got)
	}
	if got := changedSections(&a, &a); len(got) != 0 {
		t.Errorf("same config: %v", got)
	}
}
