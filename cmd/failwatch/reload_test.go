package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/failwatch/failwatch/internal/testkit"
)

// SIGHUP reloads the config instead of killing the exporter: a broken
// file is logged with its positions and the exporter keeps running; an
// added server is probed at once while the others keep their statistics;
// a change that needs a restart is named by section.
func TestHangupReloadsConfig(t *testing.T) {
	bin, dir := icmpTest(t, "")
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
	cfgPath := writeConfig(t, dir, good)
	api := startSim(t, bin, "-c", cfgPath)

	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "exporter", "-c", cfgPath, "--router", api, "--listen", "127.0.0.1:0")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); cmd.Wait() }()
	lines := testkit.Lines(t, stderr, 256)
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
	metricsAt := waitFor("metrics on http://")
	metricsURL := metricsAt[strings.Index(metricsAt, "http://"):]
	metricsURL = strings.Fields(metricsURL)[0]
	waitFor(`msg="router connected"`)
	// ok probes of a server and check, from the exporter's own metrics.
	okProbes := func(server string) float64 {
		t.Helper()
		resp, err := http.Get(strings.Trim(metricsURL, `"`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		want := `failwatch_probes_total{check="icmp",result="ok",server="` + server + `"} `
		for line := range strings.Lines(string(b)) {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), want); ok {
				f, _ := strconv.ParseFloat(v, 64)
				return f
			}
		}
		return 0
	}
	testkit.EventuallyLast(t, 10*time.Second, "web1 probed ok 3 times", func() (float64, bool) {
		n := okProbes("web1")
		return n, n >= 3
	})

	cmd.Process.Signal(syscall.SIGHUP)
	waitFor(`msg="config on disk checked: same as running"`)

	os.WriteFile(cfgPath, []byte(strings.Replace(good, "interval: 200ms", "interval: fast", 1)), 0o600)
	cmd.Process.Signal(syscall.SIGHUP)
	l := waitFor(`probe.interval`)
	if !strings.Contains(l, `failwatch.yaml:9:13: probe.interval: bad duration`) || !strings.Contains(l, "line=9 column=13 key=probe.interval") {
		t.Errorf("the problem should say where: %s", l)
	}
	waitFor(`msg="config not reloaded, the running one stays"`)

	// A watched server added: probed at once, web1 not restarted.
	before := okProbes("web1")
	withWeb3 := strings.Replace(good, "probe:", "  - {name: web3, role: monitor, address: 127.0.0.4}\nprobe:", 1)
	os.WriteFile(cfgPath, []byte(withWeb3), 0o600)
	cmd.Process.Signal(syscall.SIGHUP)
	if l := waitFor(`msg="config reloaded: servers applied`); !strings.Contains(l, "added=web3") {
		t.Errorf("reload: %s", l)
	}
	testkit.Eventually(t, 10*time.Second, "web3 probed ok after the reload", func() bool { return okProbes("web3") > 0 })
	if web3, web1 := okProbes("web3"), okProbes("web1"); web3 == 0 || web1 < before {
		t.Errorf("after the reload: web3 %v probes, web1 %v (before %v)", web3, web1, before)
	}

	os.WriteFile(cfgPath, []byte(strings.Replace(withWeb3, "interval: 200ms", "interval: 300ms", 1)+"auto: {enabled: true}\n"), 0o600)
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
