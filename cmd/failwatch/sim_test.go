package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// buildBinary builds failwatch once per test binary run.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "failwatch")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startSim runs `failwatch sim` on a free loopback port and returns its
// API address.
func startSim(t *testing.T, bin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, append([]string{"sim", "--listen", "127.0.0.1:0"}, args...)...)
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
	})
	sc := bufio.NewScanner(stdout)
	if !sc.Scan() {
		t.Fatal("failwatch sim printed nothing")
	}
	line := sc.Text()
	const prefix = "RouterOS API emulator listening on "
	if !strings.HasPrefix(line, prefix) {
		t.Fatalf("unexpected first line %q", line)
	}
	go func() {
		for sc.Scan() {
		}
	}()
	return strings.Fields(strings.TrimPrefix(line, prefix))[0]
}

// An independent client, node-routeros, agrees with the emulator: login, a
// print with a query, a set, and a follow that it cancels.
func TestNodeRouterOSAgainstSim(t *testing.T) {
	dir, _ := filepath.Abs("../../routeros/rosim/testdata/node")
	_, nodeErr := exec.LookPath("node")
	_, modErr := os.Stat(filepath.Join(dir, "node_modules", "node-routeros"))
	if nodeErr != nil || modErr != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI must run the interop test: node %v, node-routeros %v (scripts/test installs it)", nodeErr, modErr)
		}
		t.Skipf("needs node and node-routeros (npm ci --prefix %s): %v %v", dir, nodeErr, modErr)
	}
	bin := buildBinary(t)
	for _, version := range []string{"7.18.2 (stable)", "6.49.17 (long-term)"} {
		t.Run(version, func(t *testing.T) { nodeInterop(t, dir, startSim(t, bin, "--routeros-version", version)) })
	}
}

func nodeInterop(t *testing.T, dir, addr string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "node", filepath.Join(dir, "interop.js"), addr).CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	steps := map[string]json.RawMessage{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var s struct {
			Step string          `json:"step"`
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal([]byte(line), &s); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		steps[s.Step] = s.Data
	}
	var recs []map[string]string
	json.Unmarshal(steps["print"], &recs)
	if len(recs) != 1 || recs[0]["address"] != "104.247.193.168" || recs[0][".id"] != "*2" || recs[0]["disabled"] != "false" {
		t.Errorf("print: %s", steps["print"])
	}
	var ids []string
	json.Unmarshal(steps["set"], &ids)
	if !slices.Equal(ids, []string{"*1", "*2"}) {
		t.Errorf("set: %s", steps["set"])
	}
	var lines []string
	json.Unmarshal(steps["follow"], &lines)
	if len(lines) == 0 || lines[0] != "static dns entry changed by admin" {
		t.Errorf("follow: %s", steps["follow"])
	}
	if !strings.Contains(string(steps["after-cancel"]), "MikroTik") {
		t.Errorf("the connection did not survive the cancel: %s", steps["after-cancel"])
	}
}
