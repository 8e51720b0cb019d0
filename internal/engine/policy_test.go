package engine

import (
	"context"
	"testing"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/engine/enginetest"
	"github.com/failwatch/failwatch/internal/paper"
	"github.com/failwatch/failwatch/internal/testkit"
	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/rosim"
)

// The automatic policy acts on a server going DOWN at once, not at its
// next tick: a second's wait is a second more of lost pings for every
// client (the lab's resolve-once client lost 2 of 20 instead of 1 with
// the engine's once-a-second policy). Its tick here is an hour, so only
// the DOWN itself can start the failover.
func TestAutoPolicyActsOnDownAtOnce(t *testing.T) {
	_, api := testkit.Emulator(t, rosim.Options{})
	cfg := enginetest.PaperConfig(api)
	cfg.Probe.DownAfter = 2
	cfg.Services[0].Auto = config.Auto{Enabled: true, HoldDown: time.Minute, Restore: "manual"}
	_, f := serviceFailover(t, cfg)
	// The paper's netwatch, held, does not fight the policy.
	if _, err := f.HoldNetwatch(context.Background()); err != nil {
		t.Fatal(err)
	}
	sims := map[string]*monitor.Simulated{"public": {Mean: time.Millisecond}, "private": {Mean: time.Millisecond}}
	e, _, err := New(cfg, Options{Router: routeros.OptionsFrom(cfg.Router), User: "tester", Monitor: enginetest.Monitor(cfg, sims)})
	if err != nil {
		t.Fatal(err)
	}
	e.policyEvery = time.Hour
	testkit.Run(t, e.Run)
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
