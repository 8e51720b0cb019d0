package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Under --log-format json every line a daemon writes is a JSON record, the
// first ones (the config it read, its warnings, where it listens) included.
func TestDaemonsLogOnlyJSON(t *testing.T) {
	bin, dir := icmpTest(t, "")
	cfgPath := writeConfig(t, dir, `router:
  address: 127.0.0.1:1
  password_env: FW_TEST_UNSET_PASSWORD
service:
  name: svc.test
servers:
  - {name: web1, role: primary, address: 127.0.0.2, record: {comment: web1}, checks: [{type: tcp, port: 1}]}
  - {name: web2, role: standby, address: 127.0.0.3, record: {comment: web2}, checks: [{type: tcp, port: 1}]}
probe:
  interval: 200ms
serve:
  listen: 127.0.0.1:0
  host_key: `+filepath.Join(dir, "host_key")+`
  users:
    - {name: bob, role: viewer, keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJvR0xYk6Tz6F1Km6v2l8a6jvQxk0mZ8Q8n2b2zq7X5Q bob"]}
`)
	for _, tc := range []struct {
		args []string
		// ready is the message of the record after which it is serving.
		ready string
	}{
		{[]string{"exporter", "--listen", "127.0.0.1:0"}, "metrics on http://"},
		{[]string{"serve", "--metrics", "127.0.0.1:0"}, "SSH on 127.0.0.1:"},
	} {
		t.Run(tc.args[0], func(t *testing.T) {
			cmd := exec.Command(bin, append(tc.args, "-c", cfgPath, "--log-format", "json")...)
			var stdout bytes.Buffer
			cmd.Stdout = &stdout
			pipe, _ := cmd.StderrPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			var lines []string
			ready := make(chan struct{})
			go func() {
				sc := bufio.NewScanner(pipe)
				once := sync.Once{}
				for sc.Scan() {
					mu.Lock()
					lines = append(lines, sc.Text())
					mu.Unlock()
					if strings.Contains(sc.Text(), tc.ready) {
						once.Do(func() { close(ready) })
					}
				}
				io.Copy(io.Discard, pipe)
			}()
			select {
			case <-ready:
			case <-time.After(20 * time.Second):
				t.Error("not serving after 20s")
			}
			cmd.Process.Signal(syscall.SIGTERM)
			cmd.Wait()
			mu.Lock()
			defer mu.Unlock()
			all := append(lines, strings.Split(strings.TrimSpace(stdout.String()), "\n")...)
			var msgs []string
			for _, l := range all {
				if l == "" {
					continue
				}
				var rec map[string]any
				if err := json.Unmarshal([]byte(l), &rec); err != nil || rec["level"] == nil || rec["msg"] == nil || rec["time"] == nil {
					t.Errorf("not a JSON record: %q", l)
					continue
				}
				msgs = append(msgs, rec["level"].(string)+" "+rec["msg"].(string))
			}
			got := strings.Join(msgs, "\n")
			for _, want := range []string{
				"INFO config " + cfgPath,
				"WARN router.password_env: FW_TEST_UNSET_PASSWORD is not set; logging in with an empty password",
				"INFO " + tc.ready,
			} {
				if !strings.Contains(got, want) {
					t.Errorf("no record %q in:\n%s", want, got)
				}
			}
		})
	}
}
