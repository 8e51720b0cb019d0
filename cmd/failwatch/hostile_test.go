package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/testkit"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/rosim"
)

// A router whose identity, comments, trap messages and log lines carry
// escape sequences: nothing of them reaches the terminal through status,
// failover or the log follower, and the text around them still does.
func TestRouterTextIsStrippedOfControls(t *testing.T) {
	cfg, r, _ := paperRouter(t)
	c, _, err := routeros.New(routeros.Options{Address: routerAddr(t, cfg), User: "admin", Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	for _, words := range [][]string{
		{"/system/identity/set", "=name=\x1b]0;pwned\x07edge\x1b[2J"},
		{"/ip/dns/static/add", "=name=tomtotrading.com", "=type=TXT", "=text=x", "=comment=\x1b[31mred\r\u009b7m"},
	} {
		if _, err := c.Run(ctx, words...); err != nil {
			t.Fatal(err)
		}
	}
	out, errs, _ := runCLI("status", "-c", cfg)
	if strings.ContainsAny(out+errs, "\x1b\x07\r\u009b") || !strings.Contains(out, "]0;pwnededge[2J") || !strings.Contains(out, `"[31mred7m"`) {
		t.Errorf("status:\n%q", out+errs)
	}
	r.Inject("/ip/dns/static/set", 0, rosim.Fault{Message: "failure: \x1b[2J\x1b[Hlocked"})
	_, errs, code := runCLI("failover", "-c", cfg, "--yes")
	if code != exitUnhealthy || strings.ContainsAny(errs, "\x1b\x07") || !strings.Contains(errs, "failure: [2J[Hlocked") {
		t.Errorf("failover: exit %d %q", code, errs)
	}

	r.Log("system,info\x1b[5m", "static dns entry changed \x1b]52;c;cGF5bG9hZA==\x07by admin")
	logs := make(chan routeros.LogEvent, 64)
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	f := &routeros.LogFollower{Opts: routeros.Options{Address: routerAddr(t, cfg), User: "admin", Timeout: 2 * time.Second}}
	go f.Run(fctx, logs)
	ev := testkit.Receive(t, logs, 5*time.Second, "the log line came", func(ev routeros.LogEvent) bool {
		return ev.Kind == routeros.LogLine && strings.Contains(ev.Entry.Message, "52;c") && ev.Entry.History
	})
	text := ev.Entry.Message + strings.Join(ev.Entry.Topics, ",")
	if strings.ContainsAny(text, "\x1b\x07") || ev.Entry.Message != "static dns entry changed ]52;c;cGF5bG9hZA==by admin" {
		t.Errorf("log line %q topics %q", ev.Entry.Message, ev.Entry.Topics)
	}
}

func routerAddr(t *testing.T, path string) string {
	t.Helper()
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Router.RouterAddr()
}
