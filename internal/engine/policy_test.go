package engine

import (
	"context"
	"testing"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/paper"
	"github.com/failwatch/failwatch/internal/testkit"
	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/failover"
	"github.com/failwatch/failwatch/routeros/rosim"
)

// The automatic policy acts on a server going DOWN at once, not at its
// next tick: a second's wait is a second more of lost pings for every
// client (the lab's resolve-once client lost 2 of 20 instead of 1 with
// the engine's once-a-second policy). Its tick here is an hour, so only
// the DOWN itself can start the failover.
func TestAutoPolicyActsOnDownAtOnce(t *testing.T) {
	_, api := testkit.Emulator(t, rosim.Options{})
	cfg := paper.Config()
	cfg.Router = config.Router{Address: api, User: "admin", Timeout: 2 * time.Second}
	cfg.Probe.Interval, cfg.Probe.DownAfter = 100*time.Millisecond, 2
	cfg.Services[0].Auto = config.Auto{Enabled: true, HoldDown: time.Minute, Restore: "manual"}
	c, _, err := routeros.New(routeros.OptionsFrom(cfg.Router))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// The paper's netwatch, held, does not fight the policy.
	if _, err := failover.ForService(cfg, cfg.Services[0], c, "setup", nil).HoldNetwatch(context.Background()); err != nil {
		t.Fatal(err)
	}
	sims := map[string]*monitor.Simulated{"public": {Mean: time.Millisecond}, "private": {Mean: time.Millisecond}}
	e, _, err := New(cfg, Options{Router: routeros.OptionsFrom(cfg.Router), User: "tester",
		Monitor: monitor.Options{Probe: cfg.Probe, Prober: func(s config.Server, _ config.Check) (monitor.Prober, error) {
			return sims[s.Name], nil
		}}})
	if err != nil {
		t.Fatal(err)
	}
	e.policyEvery = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	testkit.Eventually(t, 5*time.Second, "the name read on public, both servers UP", func() bool {
		s := e.State()
		return s.Active[paper.Name] == "public" && s.Health["public"].State == monitor.Up && s.Health["private"].State == monitor.Up
	})
	sims["public"].SetDown(true)
	d := testkit.EventuallyLast(t, 5*time.Second, "the policy's failover", func() (*Done, bool) {
		d := e.LastDone()
		return d, d != nil
	})
	if d.By != "auto" || d.Result.To != "private" {
		t.Errorf("last operation: %s by %s to %s, want the policy's failover to private", d.Result.Operation, d.By, d.Result.To)
	}
}
