package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/engine"
	"github.com/failwatch/failwatch/tui"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// uiFlags are the display flags every dashboard command takes.
type uiFlags struct {
	readOnly, wall, noColor, ascii, noMouse *bool
}

func addUIFlags(fs interface {
	Bool(string, bool, string) *bool
}) uiFlags {
	return uiFlags{
		readOnly: fs.Bool("read-only", false, "no keys that change anything (for wall displays)"),
		wall:     fs.Bool("wall", false, "large layout without footer, readable from across a room"),
		noColor:  fs.Bool("no-color", false, "no colours (also when NO_COLOR is set)"),
		ascii:    fs.Bool("ascii", false, "no Unicode blocks or box drawing"),
		noMouse:  fs.Bool("no-mouse", false, "leave the mouse to the terminal, to select and copy text (M turns it on and off)"),
	}
}

// run starts the engine and the subscribers (the dashboard or the line
// mode, metrics, recorder), runs until the dashboard quits or a signal
// ends the line mode, and stops everything; an operation under way
// finishes or rolls back, audited, before the process exits.
func (d *dashboard) run(metricsAddr string, stderr io.Writer) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o := plain(stderr)
	r, err := d.start(ctx, o, metricsAddr, nil)
	if err != nil {
		o.error(err)
		return exitUsage
	}
	if d.lines != nil {
		// Caught before the engine runs: none may kill the process while
		// an operation is rolling back.
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
		defer signal.Stop(sigs)
		r.run(ctx, func(ctx context.Context) error { return d.runLines(ctx, r.eng, sigs) })
		return exitOK
	}
	return d.runScreen(ctx, r, stderr)
}

// runScreen is the dashboard drawn on the terminal, in the engine's run.
func (d *dashboard) runScreen(ctx context.Context, r *engineRun, stderr io.Writer) int {
	act := &tui.EngineActions{Engine: r.eng, By: localRequester(d.ui.ReadOnly), ReadOnly: d.ui.ReadOnly}
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
	var cutShort bool
	err := r.run(ctx, func(ctx context.Context) error {
		go func() {
			select {
			case <-sigs:
				p.Quit()
			case <-ctx.Done():
			}
		}()
		sub := r.eng.Subscribe(4096)
		go tui.Forward(ctx, sub.C(), p.Send)
		_, err := p.Run()
		cutShort = r.eng.Busy()
		return err
	})
	code := exitOK
	if last := r.eng.LastDone(); cutShort && last != nil {
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
func screenCapable() error {
	if os.Getenv("TERM") == "dumb" {
		return errors.New("TERM=dumb cannot draw the dashboard: use failwatch status, report or exporter, or a terminal that can")
	}
	return nil
}

// runLines is the dashboard where it cannot be drawn, in the engine's
// run: tui.Lines printing its status every probe interval, plus a line at
// once for a switch, an operation's end or a policy decision, until a
// signal on sigs.
func (d *dashboard) runLines(ctx context.Context, eng *engine.Engine, sigs <-chan os.Signal) error {
	sub := eng.Subscribe(4096)
	defer sub.Close()
	lines := tui.NewLines(d.ui)
	tick := time.NewTicker(d.cfg.Probe.Interval)
	defer tick.Stop()
	for {
		select {
		case ev := <-sub.C():
			if l := lines.Observe(ev); l != "" {
				fmt.Fprintln(d.lines, l)
			}
		case <-tick.C:
			fmt.Fprintln(d.lines, lines.Line())
		case <-sigs:
			return nil
		case <-ctx.Done():
			return nil
		}
	}
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
			cfg, err := rf.load(plain(stderr))
			if err != nil {
				plain(stderr).error(err)
				return exitUsage
			}
			d, err := liveDashboard(cfg, *recordTo)
			if err != nil {
				plain(stderr).error(err)
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

func uiOptions(cfg *config.Config, ui uiFlags) tui.Options {
	return tui.Options{
		Services: cfg.Services, Servers: cfg.Servers, RouterAddr: cfg.Router.RouterAddr(),
		// The Linux console's fonts lack the blocks and box drawing.
		ReadOnly: *ui.readOnly || cfg.UI.ReadOnly, Wall: *ui.wall, ASCII: *ui.ascii || cfg.UI.ASCII || os.Getenv("TERM") == "linux",
		NoColor: *ui.noColor || cfg.UI.NoColor || os.Getenv("NO_COLOR") != "",
		Theme:   cfg.UI.Theme, NoMouse: *ui.noMouse || cfg.UI.NoMouse,
	}
}
