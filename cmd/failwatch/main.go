package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	_ "time/tzdata" // router zones resolve on hosts without a zone database

	"charm.land/fang/v2"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/failwatch/failwatch/internal/buildinfo"
)

// Exit codes, the same for every subcommand.
const (
	exitOK        = 0 // all healthy, or the operation succeeded
	exitUnhealthy = 1 // something checked is down, or the operation failed
	exitUsage     = 2 // bad usage or bad config
)

// runner runs a command once its flags are parsed, with the positional
// arguments, and returns its exit code.
type runner func(pos []string, stdout, stderr io.Writer) int

// exitCode carries a command's exit code out of cobra; the command has
// already said why.
type exitCode int

func (c exitCode) Error() string { return fmt.Sprintf("exit %d", int(c)) }

// newCommand makes a command: setup defines its flags and returns what runs
// once cobra has parsed them. args names its positional arguments for the
// usage line; about is the long help.
func newCommand(name, args, short, about string, setup func(fs *pflag.FlagSet) runner) *cobra.Command {
	cmd := &cobra.Command{
		Use:   strings.TrimSpace(name + " " + args),
		Short: short,
		Long:  unwrap(about),
		// A command's own words go to stderr; cobra's usage on an error
		// would bury them.
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	run := setup(cmd.Flags())
	cmd.RunE = func(c *cobra.Command, args []string) error {
		if code := run(args, c.OutOrStdout(), c.ErrOrStderr()); code != exitOK {
			return exitCode(code)
		}
		return nil
	}
	return cmd
}

// unwrap joins the lines of each paragraph: help and the man page wrap the
// text to their own width.
func unwrap(text string) string {
	paras := strings.Split(strings.TrimSpace(text), "\n\n")
	for i, p := range paras {
		paras[i] = strings.Join(strings.Fields(p), " ")
	}
	return strings.Join(paras, "\n\n")
}

// rootCommand is the whole CLI: the dashboard itself, and a command each.
func rootCommand() *cobra.Command {
	root := dashboardCommand()
	// A measurement bench for the docs, not an admin's tool.
	lab := labCommand()
	lab.Hidden = true
	root.AddCommand(reportCommand(), checkCommand(), demoCommand(), simCommand(),
		operationCommand("failover"), operationCommand("restore"), statusCommand(), setupCommand(),
		exporterCommand(), serveCommand(), replayCommand(), lab, manCommand(),
		&cobra.Command{
			Use: "version", Short: "print the version, commit and build date", Args: cobra.NoArgs,
			Run: func(c *cobra.Command, _ []string) { fmt.Fprintln(c.OutOrStdout(), versionLine()) },
		})
	root.Version = buildInfo().Version
	root.SetVersionTemplate(versionLine() + "\n")
	// Made now rather than as cobra runs, so that they have examples and
	// the man page lists them.
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	addExamples(root)
	addCompletions(root)
	root.SetFlagErrorFunc(flagError)
	return root
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the CLI and turns the outcome into the exit code: 0, a
// command's own code, or 2 for what cobra refused (an unknown command or
// flag), which it says on stderr.
func run(args []string, stdout, stderr io.Writer) int {
	root := rootCommand()
	root.SetArgs(args)
	// Help is drawn to a width; through a pipe or into a file the padding
	// would end its lines in spaces. A terminal keeps it, and its colours.
	if f, ok := stdout.(*os.File); !ok || !isTerminal(f) {
		stdout = &trimmed{w: stdout}
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	b := buildInfo()
	err := fang.Execute(context.Background(), root, fang.WithVersion(b.Version), fang.WithCommit(b.Commit), fang.WithoutManpage(),
		fang.WithErrorHandler(func(w io.Writer, _ fang.Styles, err error) {
			if _, ok := errors.AsType[exitCode](err); !ok {
				fmt.Fprintf(w, "failwatch: %v\n", err)
			}
		}))
	if err == nil {
		return exitOK
	}
	if code, ok := errors.AsType[exitCode](err); ok {
		return int(code)
	}
	return exitUsage
}

// buildInfo is which failwatch this is.
func buildInfo() buildinfo.Build { return buildinfo.Read() }

// versionLine says which failwatch this is: version, commit and build date.
func versionLine() string {
	b := buildInfo()
	line := "failwatch " + b.Version
	if b.Commit != "" {
		line += " (commit " + b.Commit
		if b.Committed != "" {
			line += " of " + b.Committed
		}
		line += ")"
	}
	if b.Date != "" {
		line += " built " + b.Date
	}
	return line + " " + runtime.Version()
}
