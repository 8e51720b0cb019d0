package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/ha"
	"github.com/failwatch/failwatch/internal/ha/hatest"
	"github.com/failwatch/failwatch/internal/paper"
	"github.com/failwatch/failwatch/internal/testkit"
	"github.com/failwatch/failwatch/routeros/rosim"
	"golang.org/x/crypto/ssh"
)

// status's ha object against a real etcd with two instances running, and
// against JSON.md's example of it.
func TestStatusHA(t *testing.T) {
	etcd := hatest.Start(t)
	cfg := paper.Config()
	cfg.Router.Address = "127.0.0.1:8728"
	cfg.HA = &config.HA{Endpoints: []string{etcd.Endpoint()}, Cluster: "site-a", Name: "status", LeaseTTL: 2 * time.Second,
		Quorum: 1, DialTimeout: time.Second}
	hash, err := ha.Hash(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	var members []*ha.Member
	for i, name := range []string{"noc-1", "noc-2"} {
		h := *cfg.HA
		h.Name = name
		if i == 1 {
			hash = "another"
		}
		m, err := ha.New(ha.Options{HA: &h, Router: "127.0.0.1:8728", Hash: hash, CallDeadline: 500 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		m.SetVerdicts(map[string]string{"public": "UP", "private": "DOWN"})
		wg.Go(func() { m.Run(ctx); m.Close() })
		members = append(members, m)
		testkit.Eventually(t, 10*time.Second, name+" published", func() bool { return len(members[0].Status().Views) == i+1 })
	}
	testkit.Eventually(t, 10*time.Second, "noc-1 leads", members[0].Leading)
	h := readHA(context.Background(), cfg)
	if h.Error != "" || h.Leader != "noc-1" || !h.Connected || len(h.Instances) != 2 || !h.Instances[0].SameConfig || h.Instances[1].SameConfig ||
		len(h.Instances[0].Views) != 2 || h.Instances[0].Views[0] != (haServerView{"private", "DOWN"}) {
		t.Errorf("ha status = %+v", h)
	}
	b, err := json.Marshal(statusReport{HA: h})
	if err != nil {
		t.Fatal(err)
	}
	var real map[string]any
	if err := json.Unmarshal(b, &real); err != nil {
		t.Fatal(err)
	}
	doc := docExamples(t)["status"].(map[string]any)["?ha"]
	for _, diff := range sameShape("status.ha", doc, real["ha"]) {
		t.Errorf("JSON.md example %s", diff)
	}
	var text strings.Builder
	writeHA(&text, h)
	if !strings.Contains(text.String(), "leader noc-1") || !strings.Contains(text.String(), "noc-2 (another config): private DOWN, public UP") {
		t.Errorf("status text:\n%s", text.String())
	}
	etcd.Stop()
	if h := readHA(context.Background(), cfg); h.Error == "" || h.Connected {
		t.Errorf("with etcd stopped: %+v", h)
	}
}

// With ha:, a one-shot failover never writes to the router itself: it asks
// the cluster's leader (here an exporter in its own process), which runs
// it in the role its own config gives the user. (A user the leader does not
// list as an operator is refused: internal/engine's leader tests.)
func TestOneShotThroughTheLeader(t *testing.T) {
	etcd := hatest.Start(t)
	bin := buildBinary(t)
	r := rosim.New(rosim.Options{})
	t.Cleanup(r.Close)
	api, err := r.ListenAndServe("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pub, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "op.pub")
	if err := os.WriteFile(keyFile, ssh.MarshalAuthorizedKey(sshPub), 0o600); err != nil {
		t.Fatal(err)
	}
	write := func(name, instance, operator string) string {
		path := filepath.Join(dir, name)
		body := fmt.Sprintf(`router:
  address: %s
  timeout: 2s
service:
  name: svc.test
  dns_server: 127.0.0.1:1
servers:
  - {name: web1, role: primary, address: 127.0.0.2, record: {comment: web1}}
  - {name: web2, role: standby, address: 127.0.0.3, record: {comment: web2}}
ha:
  endpoints: [%s]
  cluster: oneshot
  name: %s
  lease_ttl: 4s
serve:
  users:
    - {name: %q, role: operator, authorized_keys: %s}
`, api, etcd.Endpoint(), instance, operator, keyFile)
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	leader := write("leader.yaml", "lead", currentUser())
	if err := r.SeedConfig(mustLoad(t, leader), "10s"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "exporter", "-c", leader, "--listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), config.SearchPathEnv+"=")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })
	cfg := mustLoad(t, leader)
	testkit.Eventually(t, 30*time.Second, "the exporter leads", func() bool {
		h := readHA(context.Background(), cfg)
		return h != nil && h.Leader == "lead"
	})
	// What the router holds, read by status (a reading, never a change).
	active := func() string {
		var out, errs strings.Builder
		run([]string{"status", "-c", leader, "--json"}, &out, &errs)
		var st struct {
			Services []struct{ Active string } `json:"services"`
		}
		if err := json.Unmarshal([]byte(out.String()), &st); err != nil || len(st.Services) != 1 {
			t.Fatalf("status --json: %v\n%s%s", err, out.String(), errs.String())
		}
		return st.Services[0].Active
	}

	// The same config for the one-shot, but a user the leader's does not
	// list as an operator: refused by the leader, the router untouched.
	// A new leader first waits its lease out and refuses, sending nothing;
	// then it runs the one-shot's failover as its own, the user an operator
	// in its config.
	oneshot := write("oneshot.yaml", "oneshot", currentUser())
	var out string
	testkit.EventuallyLast(t, 30*time.Second, "the leader ran the one-shot's failover", func() (string, bool) {
		var stdout, stderr strings.Builder
		code := run([]string{"failover", "-c", oneshot, "--yes"}, &stdout, &stderr)
		out = stdout.String() + stderr.String()
		if code != exitOK {
			if !strings.Contains(stderr.String(), "refused by the leader lead: not sending to the router") {
				t.Fatalf("failover through the leader: exit %d\n%s", code, out)
			}
			if got := active(); got != "web1" {
				t.Fatalf("a refused request changed the router: %q enabled", got)
			}
		}
		return out, code == exitOK
	})
	if !strings.Contains(out, "svc.test now points at web2") {
		t.Errorf("failover's output:\n%s", out)
	}
	// The steps and the duration come back from the leader as a one-shot
	// without ha: prints them: each step's detail, the time it took.
	if !regexp.MustCompile(`(?m)^ok +enable web2 record: \*\S+ enable$`).MatchString(out) {
		t.Errorf("no step detail in failover's output through the leader:\n%s", out)
	}
	if took := regexp.MustCompile(`(?m)now points at web2 \(([0-9.]+(?:ms|s))\)$`).FindStringSubmatch(out); took == nil || took[1] == "0s" {
		t.Errorf("failover through the leader took %q, want its real duration:\n%s", took, out)
	}
	if got := active(); got != "web2" {
		t.Errorf("after the failover the router has %q enabled, want web2", got)
	}
}

func mustLoad(t *testing.T, path string) *config.Config {
	t.Helper()
	cfg, err := config.LoadWithoutPassword(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
