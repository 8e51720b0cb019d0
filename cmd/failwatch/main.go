package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	_ "time/tzdata" // router zones resolve on hosts without a zone database
)

// Exit codes, the same for every subcommand.
const (
	exitOK        = 0 // all healthy, or the operation succeeded
	exitUnhealthy = 1 // something checked is down, or the operation failed
	exitUsage     = 2 // bad usage or bad config
)

type command struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

var commands = map[string]command{
	"report":   {"probe each server N times and print ping-style statistics", runReport},
	"check":    {"validate a config file", runCheck},
	"demo":     {"the dashboard on a built-in router emulator and simulated servers", runDemo},
	"sim":      {"run the RouterOS API emulator alone (seeded with the paper's setup)", runSim},
	"failover": {"point the service name at the standby server, verified and audited", runFailover},
	"restore":  {"point the service name back at the primary server", runRestore},
	"status":   {"show the router's records, the active server and the DNS answer", runStatus},
	"setup":    {"print (or --apply) a robust netwatch and static DNS configuration", runSetup},
	"exporter": {"probe and watch without a screen, serving Prometheus metrics", runExporter},
	"serve":    {"one engine, the dashboard served over SSH to many viewers, a role per key", runServe},
	"replay":   {"play a recording (--record) into the dashboard, read-only", runReplay},
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && (args[0] == "--version" || args[0] == "-version" || args[0] == "version") {
		fmt.Fprintln(stdout, versionLine())
		return exitOK
	}
	if len(args) == 0 || (strings.HasPrefix(args[0], "-") && !isHelp(args[0])) {
		return runDashboard(args, stdout, stderr)
	}
	if isHelp(args[0]) {
		usage(stdout)
		return exitOK
	}

	if args[0] == "lab" {
		// Hidden: a measurement bench for the docs, not an admin's tool.
		return runLab(args[1:], stdout, stderr)
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "failwatch: unknown command %q\n\n", args[0])
		usage(stderr)
		return exitUsage
	}
	return cmd.run(args[1:], stdout, stderr)
}

func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: failwatch [-c FILE] [--read-only] [--wall] [--no-color] [--ascii]   (the dashboard)")
	fmt.Fprintln(w, "       failwatch COMMAND [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'failwatch COMMAND --help' for a command's flags.")
	fmt.Fprintln(w, "Exit codes: 0 ok, 1 unhealthy or failed, 2 bad usage or config.")
}

// newFlags returns a flag set whose --help prints synopsis, about and the
// flags, and whose errors go to stderr.
func newFlags(name, synopsis, about string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "Usage: %s %s\n\n%s\n", strings.TrimSpace("failwatch "+name), synopsis, strings.TrimSpace(about))
		fmt.Fprintln(out, "\nFlags:")
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses flags that may stand before, between or after the
// positional arguments (`report 127.0.0.1 --count 5`), and returns the
// positional ones. ok is false when the caller should exit with code.
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) (pos []string, code int, ok bool) {
	// The flag package prints the usage itself on -h and on a bad flag:
	// here the help goes to stdout once, and a bad flag's usage to stderr.
	usage := fs.Usage
	fs.Usage = func() {}
	defer func() { fs.Usage = usage }()
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.SetOutput(stdout)
				usage()
				return nil, exitOK, false
			}
			usage()
			return nil, exitUsage, false
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, 0, true
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// version is set by a release build (-ldflags "-X main.version=v1.2.3");
// otherwise the module's version from the build info, or "devel".
var version = ""

// build is which failwatch this is.
type build struct{ version, commit, date string }

func buildInfo() build {
	b := build{version: version}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if b.version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			b.version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				b.commit = s.Value
			case "vcs.time":
				b.date = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					b.commit += "+dirty"
				}
			}
		}
	}
	if b.version == "" {
		b.version = "devel"
	}
	return b
}

// versionLine says which failwatch this is: version, commit and build date.
func versionLine() string {
	b := buildInfo()
	line := "failwatch " + b.version
	if b.commit != "" {
		line += " (commit " + b.commit
		if b.date != "" {
			line += ", built from " + b.date
		}
		line += ")"
	}
	return line + " " + runtime.Version()
}
