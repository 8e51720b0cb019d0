package main

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/routeros/rosim"
)

// TestMain lets the scripts run `failwatch` as a command of this test binary.
// No test reads a config it did not write: the search path is empty unless
// a test (or a script, whose failwatch runs this again) sets it.
func TestMain(m *testing.M) {
	if _, ok := os.LookupEnv(config.SearchPathEnv); !ok {
		os.Setenv(config.SearchPathEnv, "")
	}
	testscript.Main(m, map[string]func(){
		"failwatch": func() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// The CLI contract as readable test data, one file per topic in
// testdata/script: every command's --help, --version, exit codes, errors
// with their positions, JSON shapes.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:  "testdata/script",
		Cmds: map[string]func(*testscript.TestScript, bool, []string){"exitcode": exitCodeCmd, "router": routerCmd},
		Setup: func(env *testscript.Env) error {
			env.Setenv(config.SearchPathEnv, "")
			return nil
		},
	})
}

// exitCodeCmd is `exitcode N command [args...]`: runs the command like exec
// and fails unless it exits with N; stdout and stderr are then checked as
// after exec.
func exitCodeCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exitcode N command [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: %v", err)
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			ts.Fatalf("%s: %v", args[1], err)
		}
		got = exit.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", args[1], got, want)
	}
}

// routerCmd is `router VERSION CONFIG`: starts the emulator as that RouterOS
// version, seeded from the config's services and servers as `failwatch sim
// -c` seeds it, on a loopback port it puts in $ROUTER; it stops when the
// script ends.
func routerCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: router VERSION CONFIG")
	}
	cfg, err := config.LoadWithoutPassword(ts.MkAbs(args[1]))
	if err != nil {
		ts.Fatalf("router: %v", err)
	}
	r := rosim.New(rosim.Options{Version: args[0]})
	ts.Defer(r.Close)
	if err := r.SeedConfig(cfg, "10s"); err != nil {
		ts.Fatalf("router: %v", err)
	}
	addr, err := r.ListenAndServe("127.0.0.1:0")
	if err != nil {
		ts.Fatalf("router: %v", err)
	}
	ts.Setenv("ROUTER", addr.String())
}
