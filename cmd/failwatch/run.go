package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/engine"
	"github.com/failwatch/failwatch/internal/eventlog"
	"github.com/failwatch/failwatch/internal/ha"
	"github.com/failwatch/failwatch/internal/metrics"
	"github.com/failwatch/failwatch/internal/record"
	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/failover"
	"github.com/failwatch/failwatch/tui"
	"github.com/spf13/pflag"
)

// dashboard is everything one run of the engine wires together: where the
// engine reaches, and the subscribers a command attaches to it. The
// dashboard, the line mode, the exporter and serve all run it with start
// and engineRun.run.
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

// engineRun is the engine and the subscribers start attached to it.
type engineRun struct {
	eng     *engine.Engine
	metrics *metrics.Collector
	// stops end the subscribers that must have the engine's last events
	// (the daemon's log, the recorder), in the order they were started.
	stops []func()
}

// start builds the engine and attaches what must see it from its first
// event: the metrics endpoint when metricsAddr is set, the daemon's log
// when log is set, the recorder when --record asks for it. Nothing runs
// until run; ctx ends the metrics endpoint. On an error nothing is left
// attached.
func (d *dashboard) start(ctx context.Context, o out, metricsAddr string, log *slog.Logger) (*engineRun, error) {
	if err := d.serveMetrics(ctx, metricsAddr, o); err != nil {
		return nil, err
	}
	eng, err := d.newEngine(o)
	if err != nil {
		return nil, err
	}
	r := &engineRun{eng: eng, metrics: d.metrics}
	if log != nil {
		r.stops = append(r.stops, startLog(eng, log))
	}
	stopRecording, err := d.startRecorder(eng, o)
	if err != nil {
		r.stop()
		return nil, err
	}
	r.stops = append(r.stops, stopRecording)
	return r, nil
}

// run runs the engine, the metrics feeder and main until main returns or
// ctx ends, then stops them in order: the engine first (an operation under
// way finishes or rolls back, audited), then the recorder and the log, each
// with what is queued, so that an operation's last steps are in them. It
// returns main's error.
func (r *engineRun) run(ctx context.Context, main func(ctx context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	engineDone := make(chan struct{})
	go func() { r.eng.Run(ctx); close(engineDone) }()
	if r.metrics != nil {
		go r.metrics.Feed(ctx, r.eng)
	}
	err := main(ctx)
	cancel()
	<-engineDone
	r.stop()
	return err
}

// stop ends the subscribers, the last started first.
func (r *engineRun) stop() {
	for i := len(r.stops) - 1; i >= 0; i-- {
		r.stops[i]()
	}
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
func (d *dashboard) startRecorder(eng *engine.Engine, o out) (stop func(), err error) {
	if d.record == "" {
		return func() {}, nil
	}
	rec, err := record.Open(d.record, 0, record.Setup{Services: d.cfg.Services, Servers: d.cfg.Servers})
	if err != nil {
		return nil, err
	}
	return subscriber(eng, 8192, func(ctx context.Context, events <-chan engine.Event) {
		if err := rec.Run(ctx, events); err != nil {
			o.fail("recording stopped: "+err.Error(), "record", d.record)
		}
	}), nil
}

// daemonFlags registers the flags both daemons (exporter, serve) take:
// the router's, --record and --log-format. start makes the daemon cmd's
// log as asked and reads its config (startDaemon).
func daemonFlags(fs *pflag.FlagSet, cmd string) (rf routerFlags, recordTo *string, start func(stderr io.Writer) (*slog.Logger, out, *config.Config, bool)) {
	rf = addRouterFlags(fs)
	recordTo = recordFlag(fs)
	logFormat := logFormatFlag(fs)
	return rf, recordTo, func(stderr io.Writer) (*slog.Logger, out, *config.Config, bool) {
		return startDaemon(cmd, *logFormat, rf, stderr)
	}
}

// logFormatFlag is --log-format, which the daemons take.
func logFormatFlag(fs interface {
	String(string, string, string) *string
}) *string {
	return fs.String("log-format", "text", "log FORMAT on stderr: text (key=value) or json")
}

// newLog is the daemons' logger on stderr, in the --log-format asked for.
func newLog(format string, stderr io.Writer) (*slog.Logger, error) {
	log, err := eventlog.New(stderr, format)
	if err != nil {
		return nil, fmt.Errorf("--log-format: %w", err)
	}
	return log, nil
}

// startLog logs the engine's state changes, operations and policy
// decisions, as a daemon's journal wants them. stop ends it once the
// engine has stopped, with what is queued.
func startLog(eng *engine.Engine, log *slog.Logger) (stop func()) {
	return subscriber(eng, 4096, func(ctx context.Context, events <-chan engine.Event) { eventlog.Run(ctx, events, log) })
}

// subscriber runs take on a subscription of eng queueing up to n events,
// on a goroutine of its own; stop ends it and waits until it has.
func subscriber(eng *engine.Engine, n int, take func(ctx context.Context, events <-chan engine.Event)) (stop func()) {
	sub := eng.Subscribe(n)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer sub.Close()
		take(ctx, sub.C())
	}()
	return func() { cancel(); <-done }
}

// newEngine builds the engine for this run; its warnings go to o.
func (d *dashboard) newEngine(o out) (*engine.Engine, error) {
	// An audit log a newer failwatch wrote would refuse every operation.
	for _, svc := range d.cfg.Services {
		if err := failover.NewAudit(failover.AuditPath(svc, d.auditLog)).Check(); err != nil {
			return nil, fmt.Errorf("audit log %w", err)
		}
	}
	member, err := haMember(d.cfg, d.router)
	if err != nil {
		return nil, err
	}
	eng, warnings, err := engine.New(d.cfg, engine.Options{Router: d.router, Monitor: d.monitor, DNS: d.dns,
		AuditLog: d.auditLog, User: currentUser(), ReadOnly: d.ui.ReadOnly, HA: member})
	if err != nil {
		if member != nil {
			member.Close()
		}
		return nil, err
	}
	for _, w := range warnings {
		o.warn(w)
	}
	return eng, nil
}

// haMember is this instance in its cluster when the config has ha:, nil
// otherwise; the engine runs and closes it.
func haMember(cfg *config.Config, router routeros.Options) (*ha.Member, error) {
	if cfg.HA == nil {
		return nil, nil
	}
	hash, err := ha.Hash(cfg)
	if err != nil {
		return nil, err
	}
	// The router client's own default when the config sets none.
	deadline := router.Timeout
	if deadline <= 0 {
		deadline = 5 * time.Second
	}
	return ha.New(ha.Options{HA: cfg.HA, Router: router.Address, Hash: hash, CallDeadline: deadline})
}

// serveMetrics starts the metrics endpoint when one is asked for.
func (d *dashboard) serveMetrics(ctx context.Context, addr string, o out) error {
	if addr == "" {
		return nil
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
		return withAttrs(fmt.Errorf("metrics: %w", err), "listen", addr)
	}
	url := fmt.Sprintf("http://%s/metrics", bound)
	o.info("metrics on "+url, "url", url)
	return nil
}

// liveDashboard wires a config to the real world: ICMP probes, the
// router's API, its resolver and the audit log.
func liveDashboard(cfg *config.Config, record string) (*dashboard, error) {
	icmp, err := monitor.NewICMP(cfg.Probe.ICMPMode)
	if err != nil {
		return nil, err
	}
	return &dashboard{cfg: cfg, router: routeros.OptionsFrom(cfg.Router), dns: routerDNS(cfg), auditLog: defaultAuditLog(),
		monitor: monitor.Options{Probe: cfg.Probe, ICMP: icmp}, record: record}, nil
}
