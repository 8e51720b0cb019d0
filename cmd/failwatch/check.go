package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/sshserve"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/failover"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// loadConfig reads the config named by -c, or the first one in the search
// path, and says which on stderr, with its warnings; out.error says why it
// could not.
func loadConfig(path string, stderr io.Writer) (*config.Config, error) {
	return readConfig(path, plain(stderr), true)
}

// readConfig is loadConfig saying which file it read and its warnings
// through o; without password, for a command that never logs in to the
// router, the password is not looked up.
func readConfig(path string, o out, password bool) (*config.Config, error) {
	if path == "" {
		found, err := config.Find()
		if err != nil {
			return nil, err
		}
		path = found
	}
	load := config.Load
	if !password {
		load = config.LoadWithoutPassword
	}
	cfg, err := load(path)
	if err != nil {
		return nil, &configError{path: path, err: err}
	}
	o.info("config "+path, "config", path)
	for _, w := range cfg.Warnings {
		o.warn(w)
	}
	return cfg, nil
}

func checkCommand() *cobra.Command {
	return newCommand("check", "", "validate a config file", `
Validate a config file and print every problem as file:line:column: key: message.
Without -c, the first config of the search path is read (see failwatch --help).
Exit 0 when valid, 2 when not.`, func(fs *pflag.FlagSet) runner {
		path := configFlag(fs, "config FILE")
		return func(pos []string, stdout, stderr io.Writer) int {
			if len(pos) > 0 {
				fmt.Fprintf(stderr, "failwatch check: unexpected argument %q (use -c FILE)\n", pos[0])
				return exitUsage
			}
			cfg, err := loadConfig(*path, stderr)
			if err != nil {
				plain(stderr).error(err)
				return exitUsage
			}
			problems := 0
			for _, p := range sshserve.CheckKeys(cfg.Serve) {
				if p.Error {
					fmt.Fprintln(stderr, p.Msg)
					problems++
				} else {
					fmt.Fprintf(stderr, "failwatch: warning: %s\n", p.Msg)
				}
			}
			for _, w := range failover.BridgeOwnWarnings(cfg, routeros.LocalAddr) {
				fmt.Fprintf(stderr, "failwatch: warning: %s\n", w)
			}
			if problems > 0 {
				fmt.Fprintf(stderr, "failwatch: %s: %d problem(s)\n", cfg.Path, problems)
				return exitUsage
			}
			fmt.Fprintf(stdout, "%s: ok\n", cfg.Path)
			if cfg.Router.Address != "" {
				fmt.Fprintf(stdout, "  router   %s as %s\n", cfg.Router.RouterAddr(), cfg.Router.User)
			}
			for _, svc := range cfg.Services {
				fmt.Fprintf(stdout, "  service  %s (%s layout): primary %s, standby %s\n", svc.Name, svc.Layout, svc.Primary, svc.Standby)
			}
			for _, s := range cfg.Servers {
				labels := make([]string, len(s.Checks))
				for i, c := range s.Checks {
					labels[i] = c.Label()
				}
				fmt.Fprintf(stdout, "  %-8s %s %s [%s]\n", s.Role, s.Name, s.Address, strings.Join(labels, ", "))
			}
			if sv := cfg.Serve; len(sv.Users) > 0 || sv.Anonymous != "" {
				perSource := "none"
				if sv.PerSourceMaxStartups > 0 {
					perSource = fmt.Sprint(sv.PerSourceMaxStartups)
				}
				fmt.Fprintf(stdout, "  serve    %s: %d users, %d sessions (%d kept for operators), login_grace_time %s, max_startups %s, per_source_max_startups %s\n",
					sv.Listen, len(sv.Users), sv.MaxSessions, sv.OperatorSlots, sv.LoginGraceTime, sv.MaxStartups, perSource)
			}
			return exitOK
		}
	})
}
