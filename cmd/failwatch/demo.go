package main

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/failwatch/failwatch/internal/engine"
	"github.com/failwatch/failwatch/internal/paper/paperscene"
	"github.com/failwatch/failwatch/internal/paper/papersim"
	"github.com/failwatch/failwatch/tui"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/paper"
	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/rosim"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// demoWorld is the demo's simulated network: the paper's two servers as
// probers that send no packet, and the emulator's netwatch view of the
// public one. Taking the public server down flips both.
type demoWorld struct {
	mu      sync.Mutex
	public  *monitor.Simulated
	private *monitor.Simulated
	net     *rosim.Simulated
	down    bool
}

func (w *demoWorld) toggle() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.down = !w.down
	w.public.SetDown(w.down)
	w.net.SetUp(netip.MustParseAddr(paper.PublicAddress), !w.down)
	return w.down
}

// demoConfig is the paper's setup as a config, holding netwatch on a
// failover (the demo's maintenance story).
func demoConfig() *config.Config {
	cfg := paper.Config()
	cfg.Services[0].HoldNetwatch = true
	return cfg
}

func demoCommand() *cobra.Command {
	return newCommand("demo", "", "the dashboard on a built-in router emulator and simulated servers", `
The full dashboard on a built-in RouterOS API emulator and two simulated servers
with the paper's profile: public about 196 ms with 5% loss, private about 2.7 ms.
The dashboard talks to the emulator over its real API on a loopback port, through
the same client as to a real router. Press x to take the public server down and
bring it back: the emulator's netwatch notices, runs the paper's scripts, logs,
and the DNS answer changes. Sends no packet to any address; the paper's
addresses are labels. Needs no root, no router, no network.`, func(fs *pflag.FlagSet) runner {
		interval := fs.String("netwatch-interval", "10s", "the emulator's netwatch interval (the paper's is 10s)")
		ui := addUIFlags(fs)
		metricsAddr := fs.String("metrics", "", "serve Prometheus metrics on this address")
		recordTo := recordFlag(fs)
		autoOn := fs.Bool("auto", false, "turn the automatic failover policy on (5s down, 1m hold-down, manual restore)")
		// For the README's screenshots (scripts/screenshots): a still
		// scene, the same on every run.
		sceneSeed := fs.Uint64("scene-seed", 0, "draw paperscene's minute for this seed, still, instead of the live demo")
		sceneClock := fs.String("scene-clock", "", "the still scene's clock, RFC 3339 (with --scene-seed)")
		_ = fs.MarkHidden("scene-seed")
		_ = fs.MarkHidden("scene-clock")
		return func(_ []string, stdout, stderr io.Writer) int {
			if *sceneClock != "" || fs.Changed("scene-seed") {
				return runScene(*sceneSeed, *sceneClock, *ui.wall, stderr)
			}
			lines := lineMode(stderr)
			if _, err := config.ParseDuration(*interval); err != nil {
				fmt.Fprintf(stderr, "failwatch demo: --netwatch-interval: %v\n", err)
				return exitUsage
			}
			d, r, err := newDemo(*interval, *autoOn)
			if err != nil {
				fmt.Fprintf(stderr, "failwatch demo: %v\n", err)
				return exitUnhealthy
			}
			defer r.Close()
			cfg := d.cfg
			uiOpts := uiOptions(cfg, ui)
			uiOpts.Demo = true
			d.ui, d.record = uiOpts, *recordTo
			if lines {
				d.lines = stdout
			}
			return d.run(*metricsAddr, stderr)
		}
	})
}

// runScene shows the still scene until q.
func runScene(seed uint64, clock string, wall bool, stderr io.Writer) int {
	if clock == "" {
		fmt.Fprintln(stderr, "failwatch demo: --scene-seed needs --scene-clock, RFC 3339 (2026-10-14T18:35:10Z)")
		return exitUsage
	}
	at, err := time.Parse(time.RFC3339, clock)
	if err != nil {
		fmt.Fprintf(stderr, "failwatch demo: --scene-clock: %v\n", err)
		return exitUsage
	}
	actions := &stillActions{at: at}
	p := tea.NewProgram(sceneModel(seed, at, wall, actions))
	actions.send = p.Send
	if _, err := p.Run(); err != nil {
		fmt.Fprintf(stderr, "failwatch demo: %v\n", err)
		return exitUnhealthy
	}
	return exitOK
}

// sceneModel is the demo's dashboard (or wall) after paperscene's minute
// for seed, its clock stopped at clock and its times in UTC, so that the
// screens are the same on every run and machine.
func sceneModel(seed uint64, clock time.Time, wall bool, actions tui.Actions) tea.Model {
	cfg := demoConfig()
	var m tea.Model = tui.New(tui.Options{Services: cfg.Services, Servers: cfg.Servers, RouterAddr: "127.0.0.1:8728", Wall: wall,
		Demo: true, Actions: actions, Now: func() time.Time { return clock }, Zone: time.UTC})
	for _, ev := range paperscene.Events(seed, clock) {
		m, _ = m.Update(ev)
	}
	return m
}

// stillActions answer a key that would act with a line saying the scene
// is still, at the scene's clock.
type stillActions struct {
	at   time.Time
	send func(tea.Msg)
}

func (a *stillActions) note() {
	if a.send != nil {
		a.send(tui.NoteMsg{At: a.at, Source: "demo", Text: "a still scene for screenshots: nothing here acts (run failwatch demo without --scene-seed)"})
	}
}

func (a *stillActions) Answer(engine.Question) { a.note() }
func (a *stillActions) ResetStats()            { a.note() }
func (a *stillActions) DemoToggle()            { a.note() }

// newDemo builds the demo's world: the emulator seeded with the paper's
// setup on loopback ports, its netwatch at interval, and a dashboard of
// the simulated servers on it (without its display options). The caller
// closes the router.
func newDemo(interval string, auto bool) (*dashboard, *rosim.Router, error) {
	world := &demoWorld{public: papersim.Public(), private: papersim.Private(), net: rosim.NewSimulated()}
	r := rosim.New(rosim.Options{Identity: "MikroTik-demo", Probe: world.net.Probe})
	fail := func(err error) (*dashboard, *rosim.Router, error) {
		r.Close()
		return nil, nil, err
	}
	if err := r.SeedPaper(); err != nil {
		return fail(err)
	}
	addr, err := r.ListenAndServe("127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	dns, err := r.ServeDNS("127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	cfg := demoConfig()
	if auto {
		cfg.Auto = config.Auto{Enabled: true, FailAfter: 5 * time.Second, HoldDown: time.Minute, Restore: "manual", RestoreAfter: time.Minute}
		cfg.Services[0].Auto = cfg.Auto
	}
	cfg.Router = config.Router{Address: addr.String(), User: "admin", Timeout: 5 * cfg.Probe.Timeout}
	if err := setNetwatchInterval(addr.String(), interval); err != nil {
		return fail(err)
	}
	sims := map[string]*monitor.Simulated{"public": world.public, "private": world.private}
	return &dashboard{
		cfg: cfg, router: routeros.OptionsFrom(cfg.Router), dns: dns.String(), demo: world,
		auditLog: filepath.Join(os.TempDir(), "failwatch-demo-audit.jsonl"),
		monitor: monitor.Options{Probe: cfg.Probe, Prober: func(s config.Server, _ config.Check) (monitor.Prober, error) {
			return sims[s.Name], nil
		}},
	}, r, nil
}

// setNetwatchInterval sets every netwatch entry's interval over the API, as
// an admin would.
func setNetwatchInterval(addr, interval string) error {
	c, _, err := routeros.New(routeros.Options{Address: addr, User: "admin"})
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	entries, err := c.NetwatchEntries(ctx)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if _, err := c.Run(ctx, "/tool/netwatch/set", "=.id="+e.ID, "=interval="+interval); err != nil {
			return fmt.Errorf("set netwatch interval: %w", err)
		}
	}
	return nil
}
