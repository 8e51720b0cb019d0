package main

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/failwatch/failwatch/internal/paper/papersim"
	"github.com/failwatch/failwatch/internal/testkit"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/engine"
	"github.com/failwatch/failwatch/internal/metrics"
	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/tui"
)

// One engine, three subscribers that must agree: after a failover with
// hold, the dashboard, the metrics and `failwatch status` (which reads the
// router itself, with the same functions) all say the name is on the
// private server and netwatch is held.
func TestFactsAgree(t *testing.T) {
	cfgPath, _, _ := paperRouter(t)
	cfg, err := loadConfig(cfgPath, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Probe.Interval = 100 * time.Millisecond
	sims := map[string]*monitor.Simulated{"public": papersim.Public(), "private": papersim.Private()}
	e, _, err := engine.New(cfg, engine.Options{Router: routeros.OptionsFrom(cfg.Router), DNS: cfg.Services[0].DNSServer,
		AuditLog: filepath.Join(t.TempDir(), "audit.jsonl"),
		Monitor:  monitor.Options{Probe: cfg.Probe, Prober: func(s config.Server, _ config.Check) (monitor.Prober, error) { return sims[s.Name], nil }}})
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New([]string{"public", "private"}, []string{"tomtotrading.com"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	go m.Feed(ctx, e)
	sub := e.Subscribe(100000)
	defer sub.Close()
	var model tea.Model = tui.New(tui.Options{Services: cfg.Services, Servers: cfg.Servers, RouterAddr: cfg.Router.RouterAddr(), Zone: time.UTC})
	model, _ = model.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	feed := func(until func(engine.Event) bool) {
		t.Helper()
		testkit.Receive(t, sub.C(), 10*time.Second, "the engine got there", func(ev engine.Event) bool {
			model, _ = model.Update(ev)
			return until(ev)
		})
	}
	feed(func(ev engine.Event) bool {
		r, ok := ev.(engine.Reading)
		return ok && len(r.Services) == 1 && r.Services[0].Active == "public"
	})
	if err := e.Request(engine.Request{Op: engine.OpFailoverHold, By: engine.Requester{User: "tester", Role: engine.Operator}}); err != nil {
		t.Fatal(err)
	}
	feed(func(ev engine.Event) bool {
		r, ok := ev.(engine.Reading)
		return ok && len(r.Services) == 1 && r.Services[0].Active == "private" && r.Held
	})
	// The metrics subscriber gets the same reading a moment later.
	testkit.EventuallyLast(t, 5*time.Second, "the metrics say private is active", func() (string, bool) {
		rec := httptest.NewRecorder()
		m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		return rec.Body.String(), strings.Contains(rec.Body.String(), `failwatch_active_server{server="private",service="tomtotrading.com"} 1`)
	})

	screen := ansi.Strip(model.View().Content)
	rep := status(t, cfgPath)
	if !strings.Contains(screen, "ACTIVE private") || !strings.Contains(screen, "NETWATCH HELD") {
		t.Errorf("the dashboard:\n%s", screen)
	}
	if activeServer(rep.Services[0]) != "private" || !rep.Held {
		t.Errorf("status: active %q, held %v", activeServer(rep.Services[0]), rep.Held)
	}
}
