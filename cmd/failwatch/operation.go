package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/failwatch/failwatch/routeros/failover"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// operationCommand is `failover` or `restore`.
func operationCommand(name string) *cobra.Command {
	short := map[string]string{
		"failover": "point the service name at the standby server, verified and audited",
		"restore":  "point the service name back at the primary server",
	}[name]
	about := map[string]string{
		"failover": "Point the service name at the standby server: read the records, optionally hold netwatch, " +
			"enable the standby's record, disable the primary's, flush the DNS cache, verify. A failed step is rolled back.",
		"restore": "Point the service name back at the primary server and release held netwatch entries.",
	}[name]
	return newCommand(name, "", short, about+`
Asks before changing anything unless --yes. Every operation goes to the audit
log. Exit 0 done (or nothing to do), 1 failed, 2 bad usage or config.`, func(fs *pflag.FlagSet) runner {
		op := operation{name: name, rf: addRouterFlags(fs).addServiceFlag(fs)}
		op.yes = fs.Bool("yes", false, "do it without asking")
		op.asJSON = fs.Bool("json", false, "print the result as JSON")
		op.hold = new(bool)
		if name == "failover" {
			op.hold = fs.Bool("hold", false, "hold the router's netwatch entries so they cannot move the name back (default: service.hold_netwatch)")
		}
		return op.run
	})
}

// operation is one run of `failover` or `restore` with its flags.
type operation struct {
	name              string
	rf                routerFlags
	yes, asJSON, hold *bool
}

func (op operation) run(_ []string, stdout, stderr io.Writer) int {
	c, err := op.rf.connect(plain(stderr))
	if err != nil {
		plain(stderr).error(err)
		return exitUsage
	}
	defer c.client.Close()
	// Nothing is changed that could not be audited.
	for _, f := range c.failovers {
		if err := f.Audit.Check(); err != nil {
			fmt.Fprintf(stderr, "failwatch %s: not done: audit log %v\n", op.name, err)
			return exitUsage
		}
	}
	if code := confirm(op.question(c.failovers), *op.yes, os.Stdin, stderr); code != exitOK {
		return code
	}
	// A signal (Ctrl-C, SIGTERM, an SSH session's SIGHUP) stops the
	// operation before its next change; it rolls back what it did, reads
	// the router back and writes its audit line before this returns. The
	// signals stay caught until then, so a second one cannot cut that short.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	// One service after the other; a failure (rolled back for its
	// service) stops the rest, and those done stay done, verified.
	res, err := op.each(ctx, c, stdout)
	if *op.asJSON {
		writeOperationJSON(stdout, res, err)
	} else {
		for _, n := range res.Notes {
			fmt.Fprintf(stderr, "failwatch %s: warning: %s\n", op.name, n)
		}
	}
	if err != nil {
		// A request the HA leader refused ran nothing here: no outcome.
		if res.Outcome == "" {
			fmt.Fprintf(stderr, "failwatch %s: %v\n", op.name, err)
		} else {
			fmt.Fprintf(stderr, "failwatch %s: %s: %v\n", op.name, res.Outcome, err)
		}
		return exitUnhealthy
	}
	if !*op.asJSON {
		fmt.Fprintf(stdout, "%s (%s)\n", res.Summary(), res.Took.Round(time.Millisecond))
	}
	return exitOK
}

// question is what the operation asks before it changes anything: each
// service's move, from and to.
func (op operation) question(fs []*failover.Failover) string {
	var moves []string
	for _, f := range fs {
		from, to := f.Primary.Name, f.Standby.Name
		if op.name == "restore" {
			from, to = to, from
		}
		moves = append(moves, fmt.Sprintf("%s from %s to %s", f.Service.Name, from, to))
	}
	if op.name == "restore" {
		return "Restore " + strings.Join(moves, "; ")
	}
	return "Fail over " + strings.Join(moves, "; ")
}

// parts are the operation on each service; without --json each prints its
// steps as they end on stdout.
func (op operation) parts(fs []*failover.Failover, stdout io.Writer) []failover.Part {
	var parts []failover.Part
	for _, f := range fs {
		if !*op.asJSON {
			f.Progress = func(s failover.Step) {
				if s.Status == failover.StepRunning {
					return
				}
				fmt.Fprintln(stdout, stepLine(s))
			}
		}
		do := (*failover.Failover).Restore
		if op.name == "failover" {
			hold := f.Service.HoldNetwatch || *op.hold
			do = func(f *failover.Failover, ctx context.Context) (failover.Result, error) {
				return f.FailoverToStandby(ctx, hold)
			}
		}
		parts = append(parts, failover.Part{Failover: f, Do: do})
	}
	return parts
}

// stepLine is one ended step as the one-shot prints it, here or with its
// result from the leader.
func stepLine(s failover.Step) string {
	line := fmt.Sprintf("%-8s %s", s.Status, s.Name)
	if s.Detail != "" {
		line += ": " + s.Detail
	}
	return line
}

// writeOperationJSON is `failover --json` and `restore --json`.
func writeOperationJSON(w io.Writer, res failover.Result, err error) {
	out := struct {
		SchemaVersion int `json:"schema_version"`
		failover.ResultJSON
		OK    bool   `json:"ok"`
		Error string `json:"error,omitempty"`
	}{SchemaVersion: operationSchema, ResultJSON: res.JSON(), OK: err == nil}
	if err != nil {
		out.Error = err.Error()
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	enc.Encode(out)
}
