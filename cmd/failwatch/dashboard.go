package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/monitor/metrics"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/policy"
	"github.com/failwatch/failwatch/tui"
)

// uiFlags are the display flags every dashboard command takes.
type uiFlags struct {
	readOnly, wall, noColor, ascii *bool
}

func addUIFlags(fs interface {
	Bool(string, bool, string) *bool
}) uiFlags {
	return uiFlags{
		readOnly: fs.Bool("read-only", false, "no keys that change anything (for wall displays)"),
		wall:     fs.Bool("wall", false, "large layout without footer, readable from across a room"),
		noColor:  fs.Bool("no-color", false, "no colours (also when NO_COLOR is set)"),
		ascii:    fs.Bool("ascii", false, "no Unicode blocks or box drawing"),
	}
}

// dashboard is everything one dashboard run wires together.
type dashboard struct {
	cfg      *config.Config
	router   routeros.Options
	dns      string
	monitor  monitor.Options
	ui       tui.Options
	demo     *demoWorld
	auditLog string
	metrics  *metrics.Collector
}

// newController connects the router client, the operation code and the
// server monitors.
func (d *dashboard) newController(stderr io.Writer) (*controller, bool) {
	client, warnings, err := routeros.New(d.router)
	if err != nil {
		fmt.Fprintf(stderr, "failwatch: %v\n", err)
		return nil, false
	}
	for _, w := range warnings {
		fmt.Fprintf(stderr, "failwatch: warning: %s\n", w)
	}
	primary, _ := d.cfg.Server(config.Primary)
	standby, _ := d.cfg.Server(config.Standby)
	ctl := &controller{
		readOnly: d.ui.ReadOnly,
		demo:     d.demo,
		send:     func(tea.Msg) {},
		metrics:  d.metrics,
		servers:  d.cfg.Servers,
		failover: &routeros.Failover{Client: client, Service: d.cfg.Service, Primary: primary, Standby: standby,
			User: currentUser(), Audit: routeros.NewAudit(d.auditLog)},
	}
	var hosts []string
	for _, s := range d.cfg.Servers {
		hosts = append(hosts, s.Address)
	}
	ctl.watcher = routeros.NewWatcher(client, d.cfg.Service.Name, hosts, 2*time.Second)
	for _, s := range d.cfg.Servers {
		m, err := monitor.NewServer(s, d.monitor)
		if err != nil {
			client.Close()
			fmt.Fprintf(stderr, "failwatch: %v\n", err)
			return nil, false
		}
		ctl.monitors = append(ctl.monitors, m)
	}
	return ctl, true
}

// serveMetrics starts the metrics endpoint when one is asked for.
func (d *dashboard) serveMetrics(ctx context.Context, addr string, stderr io.Writer) bool {
	if addr == "" {
		return true
	}
	names := make([]string, len(d.cfg.Servers))
	for i, s := range d.cfg.Servers {
		names[i] = s.Name
	}
	d.metrics = metrics.New(names)
	bound, err := d.metrics.Serve(ctx, addr)
	if err != nil {
		fmt.Fprintf(stderr, "failwatch: metrics: %v\n", err)
		return false
	}
	fmt.Fprintf(stderr, "failwatch: metrics on http://%s/metrics\n", bound)
	return true
}

// run starts the probes and router watchers, runs the TUI until it quits,
// and stops everything.
func (d *dashboard) run(metricsAddr string, stderr io.Writer) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if !d.serveMetrics(ctx, metricsAddr, stderr) {
		return exitUsage
	}
	ctl, ok := d.newController(stderr)
	if !ok {
		return exitUsage
	}
	defer ctl.failover.Client.Close()
	d.ui.Actions = ctl
	// Signals are ours, not Bubble Tea's: a SIGHUP (the SSH session of a
	// jump host dropping) must end the dashboard as cleanly as q, and none
	// may kill the process while an operation is rolling back.
	opts := []tea.ProgramOption{tea.WithoutSignalHandler()}
	if d.ui.NoColor {
		opts = append(opts, tea.WithColorProfile(colorprofile.Ascii))
	}
	p := tea.NewProgram(tui.New(d.ui), opts...)
	ctl.send = p.Send
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	go func() {
		select {
		case <-sigs:
			p.Quit()
		case <-ctx.Done():
		}
	}()

	var wg sync.WaitGroup
	ctl.start(ctx, &wg, d)
	_, err := p.Run()
	// An operation under way stops before its next change and rolls back
	// (or finishes), audited, before the process exits.
	cutShort := ctl.busy.Load()
	cancel()
	ctl.ops.Wait()
	code := exitOK
	if cutShort {
		ctl.mu.Lock()
		res, opErr := ctl.last, ctl.lastErr
		ctl.mu.Unlock()
		if opErr != nil {
			fmt.Fprintf(stderr, "failwatch: %s was under way when the dashboard ended: %s: %v\n", res.Operation, res.Outcome, opErr)
			code = exitUnhealthy
		} else {
			fmt.Fprintf(stderr, "failwatch: %s was under way when the dashboard ended, and finished: %s\n", res.Operation, res.Summary())
		}
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
	}
	if err != nil {
		fmt.Fprintf(stderr, "failwatch: %v\n", err)
		return exitUnhealthy
	}
	return code
}

// controller turns the dashboard's requests into operations and feeds it
// what the probes and the router say.
type controller struct {
	readOnly bool
	send     func(tea.Msg)
	failover *routeros.Failover
	watcher  *routeros.Watcher
	monitors []*monitor.Server
	demo     *demoWorld
	metrics  *metrics.Collector
	servers  []config.Server
	busy     atomic.Bool
	// ops counts the operation under way, so the process waits for it.
	ops sync.WaitGroup
	ctx context.Context
	// log, when set, also gets the policy's messages (the exporter has no
	// screen to show them on).
	log io.Writer

	mu     sync.Mutex
	health map[string]policy.Health
	router routeros.RouterState
	// last is the latest operation's result and error.
	last    routeros.Result
	lastErr error
}

func (c *controller) start(ctx context.Context, wg *sync.WaitGroup, d *dashboard) {
	c.ctx = ctx
	c.health = map[string]policy.Health{}
	if d.cfg.Auto.Enabled && !c.readOnly {
		wg.Go(func() { c.autoPolicy(ctx, d.cfg) })
	}
	for _, m := range c.monitors {
		events := make(chan monitor.Event, 64)
		wg.Go(func() { m.Run(ctx, events); close(events) })
		wg.Go(func() {
			for ev := range events {
				if c.metrics != nil {
					c.metrics.ObserveServer(ev)
				}
				if ev.Type == monitor.EventServer {
					c.mu.Lock()
					c.health[ev.Server] = policy.Health{State: ev.Transition.To, Since: ev.Transition.At}
					c.mu.Unlock()
				}
				c.send(tui.ServerMsg(ev))
			}
		})
	}
	states := make(chan routeros.RouterState, 4)
	wg.Go(func() { c.watcher.Run(ctx, states) })
	wg.Go(func() {
		for {
			select {
			case st := <-states:
				c.mu.Lock()
				c.router = st
				c.mu.Unlock()
				c.observeRouter(st)
				c.send(tui.RouterMsg(st))
			case <-ctx.Done():
				return
			}
		}
	})
	logs := make(chan routeros.LogEvent, 64)
	follower := &routeros.LogFollower{Opts: d.router}
	wg.Go(func() { follower.Run(ctx, logs) })
	wg.Go(func() {
		tui.ForwardLog(ctx, logs, c.send, func(ev routeros.LogEvent) {
			if ev.Kind == routeros.LogLine {
				c.watcher.PokeSoon()
			}
		})
	})
	family := routeros.RecordType(d.cfg.Servers...)
	wg.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			qctx, cancel := context.WithTimeout(ctx, time.Second)
			ans := monitor.Query(qctx, d.dns, d.cfg.Service.Name, family)
			cancel()
			if ctx.Err() != nil {
				return
			}
			c.send(tui.DNSMsg(ans))
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
}

// autoPolicy asks the policy once a second and carries out its decisions.
func (c *controller) autoPolicy(ctx context.Context, cfg *config.Config) {
	e := policy.New(cfg.Auto, c.failover.Primary.Name, c.failover.Standby.Name)
	c.say(false, fmt.Sprintf("automatic failover on: after %s down, hold-down %s, restore %s",
		config.FormatDuration(cfg.Auto.FailAfter), config.FormatDuration(cfg.Auto.HoldDown), cfg.Auto.Restore))
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			c.mu.Lock()
			in := policy.Input{Now: now, RouterConnected: c.router.Connected, Busy: c.busy.Load(),
				Active:  routeros.Active(c.failover.Service, c.router.Records, c.servers...),
				Primary: c.health[c.failover.Primary.Name], Standby: c.health[c.failover.Standby.Name],
				Switching: routeros.Switching(c.router.Netwatch)}
			c.mu.Unlock()
			d := e.Decide(in)
			switch {
			case d.Refused != "":
				c.say(true, d.Refused)
			case d.Action == policy.Failover:
				c.say(false, "failing over: "+d.Reason)
				c.operation("auto failover", d.Reason, func(ctx context.Context) (routeros.Result, error) {
					return c.failover.FailoverToStandby(ctx, false)
				})
			case d.Action == policy.Restore:
				c.say(false, "restoring: "+d.Reason)
				c.operation("auto restore", d.Reason, c.failover.Restore)
			}
		}
	}
}

func (c *controller) say(refused bool, text string) {
	if c.log != nil {
		fmt.Fprintf(c.log, "failwatch: auto: %s\n", text)
	}
	go c.send(tui.PolicyMsg{At: time.Now(), Text: text, Refused: refused})
}

// operation runs one router operation in the background, one at a time,
// reporting its steps as they happen.
func (c *controller) operation(name, reason string, fn func(context.Context) (routeros.Result, error)) {
	if c.readOnly || !c.busy.CompareAndSwap(false, true) {
		return
	}
	c.ops.Add(1)
	go func() {
		defer c.ops.Done()
		defer c.busy.Store(false)
		c.failover.Reason = reason
		c.failover.Progress = func(s routeros.Step) { c.send(tui.StepMsg{Op: name, Step: s}) }
		res, err := fn(c.ctx)
		res.Operation = name
		c.mu.Lock()
		c.last, c.lastErr = res, err
		c.mu.Unlock()
		if c.metrics != nil {
			c.metrics.ObserveOperation(name, err)
		}
		c.send(tui.OpDoneMsg{Result: res, Err: err})
		c.watcher.Poke()
	}()
}

func (c *controller) observeRouter(st routeros.RouterState) {
	if c.metrics == nil {
		return
	}
	netwatch := map[string]string{}
	for _, n := range st.Netwatch {
		if !n.Disabled {
			netwatch[n.Host] = n.Status
		}
	}
	c.metrics.ObserveRouter(st.At, st.Connected, routeros.Active(c.failover.Service, st.Records, c.servers...), netwatch)
}

func (c *controller) Failover(hold bool) {
	c.operation("failover", "", func(ctx context.Context) (routeros.Result, error) {
		return c.failover.FailoverToStandby(ctx, hold)
	})
}

func (c *controller) Restore() { c.operation("restore", "", c.failover.Restore) }

func (c *controller) Hold() { c.operation("hold", "", c.failover.HoldNetwatch) }

func (c *controller) Release() { c.operation("release", "", c.failover.ReleaseNetwatch) }

func (c *controller) ResetStats() {
	if c.readOnly {
		return
	}
	for _, m := range c.monitors {
		m.Reset()
	}
}

func (c *controller) DemoToggle() {
	if c.demo == nil || c.readOnly {
		return
	}
	down := c.demo.toggle()
	// Actions run inside the dashboard's Update: sending from here would
	// wait for the very loop that is calling.
	go c.send(tui.DemoMsg{Down: down, At: time.Now()})
}

// defaultAuditLog is $XDG_STATE_HOME/failwatch/audit.jsonl.
func defaultAuditLog() string {
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return filepath.Join(os.TempDir(), "failwatch-audit.jsonl")
		}
		dir = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(dir, "failwatch", "audit.jsonl")
}

func runDashboard(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("", "[-c FILE] [--router ADDR] [--read-only] [--wall] [--no-color] [--ascii]", `
The dashboard against a real router and real servers: each server's latency,
jitter and loss, the router's static records, netwatch and log, what the
resolver answers for the service name, and one key (with a confirmation) to
fail over or restore.`, stderr)
	rf := addRouterFlags(fs)
	ui := addUIFlags(fs)
	metricsAddr := fs.String("metrics", "", "serve Prometheus metrics on this `address` (e.g. 127.0.0.1:9455)")
	pos, code, ok := parseFlags(fs, args, stdout)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		fmt.Fprintf(stderr, "failwatch: unknown command %q\n\n", pos[0])
		usage(stderr)
		return exitUsage
	}
	cfg, ok := rf.load(stderr)
	if !ok {
		return exitUsage
	}
	icmp, err := monitor.NewICMP(cfg.Probe.ICMPMode)
	if err != nil {
		fmt.Fprintf(stderr, "failwatch: %v\n", err)
		return exitUnhealthy
	}
	d := &dashboard{
		cfg: cfg, router: routeros.OptionsFrom(cfg.Router), dns: dnsServer(cfg), auditLog: auditPath(cfg),
		monitor: monitor.Options{Probe: cfg.Probe, ICMP: icmp},
		ui:      uiOptions(cfg, ui),
	}
	return d.run(*metricsAddr, stderr)
}

func uiOptions(cfg *config.Config, ui uiFlags) tui.Options {
	return tui.Options{
		Service: cfg.Service, Servers: cfg.Servers, RouterAddr: cfg.Router.RouterAddr(),
		ReadOnly: *ui.readOnly || cfg.UI.ReadOnly, Wall: *ui.wall, ASCII: *ui.ascii || cfg.UI.ASCII,
		NoColor: *ui.noColor || cfg.UI.NoColor || os.Getenv("NO_COLOR") != "",
		Theme:   cfg.UI.Theme,
	}
}
