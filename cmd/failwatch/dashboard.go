package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/engine"
	"github.com/failwatch/failwatch/internal/eventlog"
	"github.com/failwatch/failwatch/internal/metrics"
	"github.com/failwatch/failwatch/internal/record"
	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/failover"
	"github.com/failwatch/failwatch/tui"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
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

// dashboard is everything one dashboard run wires together: an engine and
// its subscribers.
type dashboard struct {
	cfg      *config.Config
	router   routeros.Options
	dns      string
	monitor  monitor.Options
	ui       tui.Options
	demo     *demoWorld
	auditLog string
	metrics  *metrics.Collector
	// record is a file to record every event into (--record).
	record string
	// lines, when set, gets a status line every interval instead of the
	// full screen (TERM=dumb).
	lines io.Writer
}

// recordFlag is --record, which every engine command takes.
func recordFlag(fs interface {
	String(string, string, string) *string
}) *string {
	return fs.String("record", "", "append every event (samples, router log, operations) to this FILE for failwatch replay; rotates at 64 MiB")
}

// startRecorder records the engine's events when --record asks for it.
// stop ends the recording, with what is queued: call it once the engine has
// stopped, so an operation's last steps are in it.
func (d *dashboard) startRecorder(eng *engine.Engine, o out) (stop func(), ok bool) {
	if d.record == "" {
		return func() {}, true
	}
	rec, err := record.Open(d.record, 0, record.Setup{Services: d.cfg.Services, Servers: d.cfg.Servers})
	if err != nil {
		o.fail(err.Error())
		return nil, false
	}
	sub := eng.Subscribe(8192)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer sub.Close()
		if err := rec.Run(ctx, sub.C()); err != nil {
			o.fail("recording stopped: "+err.Error(), "record", d.record)
		}
	}()
	return func() { cancel(); <-done }, true
}

// logFormatFlag is --log-format, which the daemons take.
func logFormatFlag(fs interface {
	String(string, string, string) *string
}) *string {
	return fs.String("log-format", "text", "log FORMAT on stderr: text (key=value) or json")
}

// newLog is the daemons' logger on stderr, in the --log-format asked for.
func newLog(format, cmd string, stderr io.Writer) (*slog.Logger, bool) {
	log, err := eventlog.New(stderr, format)
	if err != nil {
		fmt.Fprintf(stderr, "failwatch %s: --log-format: %v\n", cmd, err)
		return nil, false
	}
	return log, true
}

// startLog logs the engine's state changes, operations and policy
// decisions, as a daemon's journal wants them. stop ends it once the
// engine has stopped, with what is queued.
func startLog(eng *engine.Engine, log *slog.Logger) (stop func()) {
	sub := eng.Subscribe(4096)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer sub.Close()
		eventlog.Run(ctx, sub.C(), log)
	}()
	return func() { cancel(); <-done }
}

// newEngine builds the engine for this run.
func (d *dashboard) newEngine(o out) (*engine.Engine, bool) {
	// An audit log a newer failwatch wrote would refuse every operation.
	for _, svc := range d.cfg.Services {
		if err := failover.NewAudit(failover.AuditPath(svc, d.auditLog)).Check(); err != nil {
			o.fail("audit log " + err.Error())
			return nil, false
		}
	}
	eng, warnings, err := engine.New(d.cfg, engine.Options{Router: d.router, Monitor: d.monitor, DNS: d.dns,
		AuditLog: d.auditLog, User: currentUser(), ReadOnly: d.ui.ReadOnly})
	if err != nil {
		o.fail(err.Error())
		return nil, false
	}
	for _, w := range warnings {
		o.warn(w)
	}
	return eng, true
}

// serveMetrics starts the metrics endpoint when one is asked for.
func (d *dashboard) serveMetrics(ctx context.Context, addr string, o out) bool {
	if addr == "" {
		return true
	}
	names := make([]string, len(d.cfg.Servers))
	for i, s := range d.cfg.Servers {
		names[i] = s.Name
	}
	services := make([]string, len(d.cfg.Services))
	for i, svc := range d.cfg.Services {
		services[i] = svc.Name
	}
	d.metrics = metrics.New(names, services)
	b := buildInfo()
	d.metrics.SetBuildInfo(b.Version, b.Commit, runtime.Version())
	// Probes feed the engine every interval: five missed in a row, and
	// never under the default, is a stall rather than a slow probe.
	d.metrics.SetStaleAfter(max(metrics.DefaultStaleAfter, 5*d.cfg.Probe.Interval))
	bound, err := d.metrics.Serve(ctx, addr)
	if err != nil {
		o.fail("metrics: "+err.Error(), "listen", addr)
		return false
	}
	url := fmt.Sprintf("http://%s/metrics", bound)
	o.info("metrics on "+url, "url", url)
	return true
}

// run starts the engine and the subscribers (the dashboard, metrics), runs
// the TUI until it quits, and stops everything; an operation under way
// finishes or rolls back, audited, before the process exits.
func (d *dashboard) run(metricsAddr string, stderr io.Writer) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o := plain(stderr)
	if !d.serveMetrics(ctx, metricsAddr, o) {
		return exitUsage
	}
	eng, ok := d.newEngine(o)
	if !ok {
		return exitUsage
	}
	stopRecording, ok := d.startRecorder(eng, o)
	if !ok {
		return exitUsage
	}
	if d.lines != nil {
		return d.runLines(ctx, cancel, eng, stopRecording)
	}
	act := &tui.EngineActions{Engine: eng, By: localRequester(d.ui.ReadOnly), ReadOnly: d.ui.ReadOnly}
	if d.demo != nil {
		act.Demo = d.demo.toggle
	}
	d.ui.Actions = act
	// Signals are ours, not Bubble Tea's: a SIGHUP (the SSH session of a
	// jump host dropping) must end the dashboard as cleanly as q, and none
	// may kill the process while an operation is rolling back.
	opts := []tea.ProgramOption{tea.WithoutSignalHandler()}
	if d.ui.NoColor {
		opts = append(opts, tea.WithColorProfile(colorprofile.Ascii))
	}
	p := tea.NewProgram(tui.New(d.ui), opts...)
	act.Send = p.Send
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

	engineDone := make(chan struct{})
	go func() { eng.Run(ctx); close(engineDone) }()
	sub := eng.Subscribe(4096)
	go tui.Forward(ctx, sub.C(), p.Send)
	if d.metrics != nil {
		go d.metrics.Feed(ctx, eng)
	}
	_, err := p.Run()
	cutShort := eng.Busy()
	cancel()
	<-engineDone
	stopRecording()
	code := exitOK
	if last := eng.LastDone(); cutShort && last != nil {
		if last.Err != nil {
			fmt.Fprintf(stderr, "failwatch: %s was under way when the dashboard ended: %s: %v\n", last.Result.Operation, last.Result.Outcome, last.Err)
			code = exitUnhealthy
		} else {
			fmt.Fprintf(stderr, "failwatch: %s was under way when the dashboard ended, and finished: %s\n", last.Result.Operation, last.Result.Summary())
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "failwatch: %v\n", err)
		return exitUnhealthy
	}
	return code
}

// lineMode says whether the terminal cannot draw the dashboard (TERM=dumb);
// then the dashboard prints a status line every interval instead.
func lineMode(stderr io.Writer) bool {
	if os.Getenv("TERM") != "dumb" {
		return false
	}
	fmt.Fprintln(stderr, "failwatch: TERM=dumb cannot draw the dashboard: a status line every probe interval instead "+
		"(Ctrl-C ends; the keys need a terminal that can draw)")
	return true
}

// screenCapable refuses a terminal that cannot draw the dashboard
// (TERM=dumb), pointing to the commands that print lines instead.
func screenCapable(stderr io.Writer) bool {
	if os.Getenv("TERM") == "dumb" {
		fmt.Fprintln(stderr, "failwatch: TERM=dumb cannot draw the dashboard: use failwatch status, report or exporter, or a terminal that can")
		return false
	}
	return true
}

// runLines is the dashboard where it cannot be drawn: the same engine, and
// tui.Lines printing its status every probe interval, plus a line at once
// for a switch, an operation's end or a policy decision, until a signal;
// an operation under way finishes or rolls back first.
func (d *dashboard) runLines(ctx context.Context, cancel context.CancelFunc, eng *engine.Engine, stopRecording func()) int {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	engineDone := make(chan struct{})
	go func() { eng.Run(ctx); close(engineDone) }()
	if d.metrics != nil {
		go d.metrics.Feed(ctx, eng)
	}
	sub := eng.Subscribe(4096)
	defer sub.Close()
	lines := tui.NewLines(d.ui)
	tick := time.NewTicker(d.cfg.Probe.Interval)
	defer tick.Stop()
	for running := true; running; {
		select {
		case ev := <-sub.C():
			if l := lines.Observe(ev); l != "" {
				fmt.Fprintln(d.lines, l)
			}
		case <-tick.C:
			fmt.Fprintln(d.lines, lines.Line())
		case <-sigs:
			running = false
		}
	}
	cancel()
	<-engineDone
	stopRecording()
	return exitOK
}

// localRequester is the user at this terminal: an operator unless the
// dashboard is read-only.
func localRequester(readOnly bool) engine.Requester {
	if readOnly {
		return engine.Requester{User: currentUser(), Role: engine.Viewer}
	}
	return engine.Requester{User: currentUser(), Role: engine.Operator}
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

func dashboardCommand() *cobra.Command {
	return newCommand("failwatch", "", "DNS failover dashboard for a MikroTik router", `
The dashboard against a real router and real servers: each server's latency,
jitter and loss, the router's static records, netwatch and log, what the
resolver answers for the service name, and one key (with a confirmation) to
fail over or restore. Run 'failwatch COMMAND --help' for a command's flags.

Without -c, the config is the first of ./failwatch.yaml,
$XDG_CONFIG_HOME/failwatch/config.yaml (~/.config),
$XDG_CONFIG_DIRS/failwatch/config.yaml (/etc/xdg) and
/etc/failwatch/config.yaml; every command says on stderr which it read.

Exit codes: 0 ok, 1 unhealthy or failed, 2 bad usage or config.`, func(fs *pflag.FlagSet) runner {
		rf := addRouterFlags(fs)
		ui := addUIFlags(fs)
		metricsAddr := fs.String("metrics", "", "serve Prometheus metrics on this address (e.g. 127.0.0.1:9455)")
		recordTo := recordFlag(fs)
		return func(_ []string, stdout, stderr io.Writer) int {
			lines := lineMode(stderr)
			cfg, ok := rf.load(plain(stderr))
			if !ok {
				return exitUsage
			}
			d, ok := liveDashboard(cfg, *recordTo, plain(stderr))
			if !ok {
				return exitUnhealthy
			}
			d.ui = uiOptions(cfg, ui)
			if lines {
				d.lines = stdout
			}
			return d.run(*metricsAddr, stderr)
		}
	})
}

// liveDashboard wires a config to the real world: ICMP probes, the
// router's API, its resolver and the audit log.
func liveDashboard(cfg *config.Config, record string, o out) (*dashboard, bool) {
	icmp, err := monitor.NewICMP(cfg.Probe.ICMPMode)
	if err != nil {
		o.fail(err.Error())
		return nil, false
	}
	return &dashboard{cfg: cfg, router: routeros.OptionsFrom(cfg.Router), dns: routerDNS(cfg), auditLog: defaultAuditLog(),
		monitor: monitor.Options{Probe: cfg.Probe, ICMP: icmp}, record: record}, true
}

func uiOptions(cfg *config.Config, ui uiFlags) tui.Options {
	return tui.Options{
		Services: cfg.Services, Servers: cfg.Servers, RouterAddr: cfg.Router.RouterAddr(),
		// The Linux console's fonts lack the blocks and box drawing.
		ReadOnly: *ui.readOnly || cfg.UI.ReadOnly, Wall: *ui.wall, ASCII: *ui.ascii || cfg.UI.ASCII || os.Getenv("TERM") == "linux",
		NoColor: *ui.noColor || cfg.UI.NoColor || os.Getenv("NO_COLOR") != "",
		Theme:   cfg.UI.Theme,
	}
}
