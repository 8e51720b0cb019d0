package main

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/ha"
	"github.com/failwatch/failwatch/internal/ha/hatest"
	"github.com/failwatch/failwatch/internal/paper"
	"github.com/failwatch/failwatch/internal/testkit"
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
