package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"os/user"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/failover"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// routerFlags are the flags that say which config and router to use.
type routerFlags struct {
	path, router, user, passwordEnv *string
}

func addRouterFlags(fs *pflag.FlagSet) routerFlags {
	return routerFlags{
		path:        fs.StringP("config", "c", "", "config FILE (default: ./failwatch.yaml, then $XDG_CONFIG_HOME/failwatch/config.yaml)"),
		router:      fs.String("router", "", "router API address, overriding the config's (e.g. a failwatch sim)"),
		user:        fs.String("user", "", "router user, overriding the config's"),
		passwordEnv: fs.String("password-env", "", "read the router password from this environment variable"),
	}
}

// load reads the config and applies the overrides; it needs a router and a
// service name.
func (f routerFlags) load(stderr io.Writer) (*config.Config, bool) {
	cfg, ok := loadConfig(*f.path, stderr)
	if !ok {
		return nil, false
	}
	if *f.router != "" {
		cfg.Router.Address = *f.router
	}
	if *f.user != "" {
		cfg.Router.User = *f.user
	}
	if *f.passwordEnv != "" {
		cfg.Router.Password = config.Secret(os.Getenv(*f.passwordEnv))
	}
	if cfg.Router.Address == "" || cfg.Service.Name == "" {
		fmt.Fprintln(stderr, "failwatch: this needs router.address and service.name in the config (or --router)")
		return nil, false
	}
	return cfg, true
}

// dnsServer is the resolver to ask about the service name.
func dnsServer(cfg *config.Config) string {
	if cfg.Service.DNSServer != "" {
		return cfg.Service.DNSServer
	}
	host, _, _ := net.SplitHostPort(cfg.Router.RouterAddr())
	return net.JoinHostPort(host, "53")
}

func auditPath(cfg *config.Config) string {
	if cfg.Service.AuditLog != "" {
		return cfg.Service.AuditLog
	}
	return defaultAuditLog()
}

func currentUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "unknown"
}

// connect loads the config and connects the operation code; when ok is
// false the command exits with code.
func (f routerFlags) connect(stderr io.Writer) (*config.Config, *failover.Failover, int, bool) {
	cfg, ok := f.load(stderr)
	if !ok {
		return nil, nil, exitUsage, false
	}
	fo, ok := newFailover(cfg, stderr)
	if !ok {
		return nil, nil, exitUsage, false
	}
	return cfg, fo, exitOK, true
}

// newFailover connects the operation code the dashboard uses too.
func newFailover(cfg *config.Config, stderr io.Writer) (*failover.Failover, bool) {
	client, warnings, err := routeros.New(routeros.OptionsFrom(cfg.Router))
	if err != nil {
		fmt.Fprintf(stderr, "failwatch: %v\n", err)
		return nil, false
	}
	for _, w := range warnings {
		fmt.Fprintf(stderr, "failwatch: warning: %s\n", w)
	}
	primary, _ := cfg.Server(config.Primary)
	standby, _ := cfg.Server(config.Standby)
	return &failover.Failover{Client: client, Service: cfg.Service, Primary: primary, Standby: standby,
		User: currentUser(), Audit: failover.NewAudit(auditPath(cfg))}, true
}

// confirm asks on stdin unless --yes. It returns 0 to go on, exitUsage
// when it could not ask (no terminal and no --yes: a script's mistake), and
// exitUnhealthy when the answer was no ("not done: declined").
func confirm(question string, yes bool, stdin io.Reader, stderr io.Writer) int {
	if yes {
		return exitOK
	}
	if f, ok := stdin.(*os.File); !ok || !isTerminal(f) {
		fmt.Fprintf(stderr, "failwatch: %s? not asked: no terminal; pass --yes to do it\n", question)
		return exitUsage
	}
	fmt.Fprintf(stderr, "%s? [y/N] ", question)
	line, _ := bufio.NewReader(stdin).ReadString('\n')
	if a := strings.TrimSpace(line); strings.EqualFold(a, "y") || strings.EqualFold(a, "yes") {
		return exitOK
	}
	fmt.Fprintln(stderr, "failwatch: not done: declined")
	return exitUnhealthy
}

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

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
		rf := addRouterFlags(fs)
		yes := fs.Bool("yes", false, "do it without asking")
		asJSON := fs.Bool("json", false, "print the result as JSON")
		var hold *bool
		if name == "failover" {
			hold = fs.Bool("hold", false, "hold the router's netwatch entries so they cannot move the name back (default: service.hold_netwatch)")
		}
		return func(_ []string, stdout, stderr io.Writer) int {
			cfg, f, code, ok := rf.connect(stderr)
			if !ok {
				return code
			}
			defer f.Client.Close()
			primary, standby := f.Primary.Name, f.Standby.Name
			question := fmt.Sprintf("Fail over %s from %s to %s", cfg.Service.Name, primary, standby)
			if name == "restore" {
				question = fmt.Sprintf("Restore %s from %s to %s", cfg.Service.Name, standby, primary)
			}
			if code := confirm(question, *yes, os.Stdin, stderr); code != exitOK {
				return code
			}
			if !*asJSON {
				f.Progress = func(s failover.Step) {
					if s.Status == failover.StepRunning {
						return
					}
					line := fmt.Sprintf("%-8s %s", s.Status, s.Name)
					if s.Detail != "" {
						line += ": " + s.Detail
					}
					fmt.Fprintln(stdout, line)
				}
			}
			// A signal (Ctrl-C, SIGTERM, an SSH session's SIGHUP) stops the
			// operation before its next change; it rolls back what it did, reads
			// the router back and writes its audit line before this returns. The
			// signals stay caught until then, so a second one cannot cut that short.
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
			defer stop()
			var res failover.Result
			var err error
			if name == "failover" {
				h := cfg.Service.HoldNetwatch || *hold
				res, err = f.FailoverToStandby(ctx, h)
			} else {
				res, err = f.Restore(ctx)
			}
			if *asJSON {
				out := struct {
					SchemaVersion int `json:"schema_version"`
					failover.Result
					OK    bool   `json:"ok"`
					Error string `json:"error,omitempty"`
				}{SchemaVersion: 1, Result: res, OK: err == nil}
				if err != nil {
					out.Error = err.Error()
				}
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				enc.SetEscapeHTML(false)
				enc.Encode(out)
			}
			if err != nil {
				fmt.Fprintf(stderr, "failwatch %s: %s: %v\n", name, res.Outcome, err)
				return exitUnhealthy
			}
			if !*asJSON {
				fmt.Fprintf(stdout, "%s (%s)\n", res.Summary(), res.Took.Round(time.Millisecond))
			}
			return exitOK
		}
	})
}

// statusReport is what `failwatch status` knows.
// statusSchema is the version of `status --json`: it changes when a field
// changes meaning or goes away.
const statusSchema = 1

type statusReport struct {
	SchemaVersion int                 `json:"schema_version"`
	Router        string              `json:"router"`
	Connected     bool                `json:"connected"`
	Error         string              `json:"error,omitempty"`
	Identity      routeros.Identity   `json:"identity"`
	Service       string              `json:"service"`
	Active        string              `json:"active"`
	Records       []routeros.Record   `json:"records"`
	Netwatch      []routeros.Netwatch `json:"netwatch"`
	Held          bool                `json:"netwatch_held"`
	DNS           []string            `json:"dns_answer"`
	DNSError      string              `json:"dns_error,omitempty"`
	Healthy       bool                `json:"healthy"`
}

func statusCommand() *cobra.Command {
	return newCommand("status", "", "show the router's records, the active server and the DNS answer", `
Print what the router's records say, which server is active, the netwatch
entries, and what the resolver answers for the service name. Exit 0 when the
router answers and exactly one record is enabled and it belongs to a known
server, 1 otherwise, 2 on bad usage or config.`, func(fs *pflag.FlagSet) runner {
		rf := addRouterFlags(fs)
		asJSON := fs.Bool("json", false, "print JSON")
		return func(_ []string, stdout, stderr io.Writer) int {
			cfg, f, code, ok := rf.connect(stderr)
			if !ok {
				return code
			}
			defer f.Client.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 3*cfg.Router.Timeout)
			defer cancel()
			// Lists are [] when empty, never null.
			rep := statusReport{SchemaVersion: statusSchema, Router: cfg.Router.RouterAddr(), Service: cfg.Service.Name,
				Records: []routeros.Record{}, Netwatch: []routeros.Netwatch{}, DNS: []string{}}
			var hosts []string
			for _, s := range cfg.Servers {
				hosts = append(hosts, s.Address)
			}
			st := routeros.NewWatcher(f.Client, cfg.Service.Name, hosts, 0).Read(ctx)
			rep.Connected, rep.Identity = st.Connected, st.Identity
			rep.Records, rep.Netwatch = append(rep.Records, st.Records...), append(rep.Netwatch, st.Netwatch...)
			if st.Err != nil {
				rep.Error = st.Err.Error()
			}
			rep.Active = failover.Active(cfg.Service, st.Records, cfg.Servers...)
			rep.Held = failover.Held(st.Netwatch)
			ans := monitor.Query(ctx, dnsServer(cfg), cfg.Service.Name, failover.RecordType(cfg.Servers...))
			for _, a := range ans.Addrs {
				rep.DNS = append(rep.DNS, a.String())
			}
			if ans.Err != nil {
				rep.DNSError = ans.Err.Error()
			}
			rep.Healthy = rep.Connected && rep.Active != ""
			if *asJSON {
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				enc.SetEscapeHTML(false)
				enc.Encode(rep)
			} else {
				writeStatus(stdout, rep)
			}
			if !rep.Healthy {
				return exitUnhealthy
			}
			return exitOK
		}
	})
}

func writeStatus(w io.Writer, r statusReport) {
	if !r.Connected {
		fmt.Fprintf(w, "router   %s: %s\n", r.Router, r.Error)
		return
	}
	fmt.Fprintf(w, "router   %s (%s, RouterOS %s)\n", r.Router, r.Identity.Name, r.Identity.Version)
	active := r.Active
	if active == "" {
		active = "NONE: no single enabled record"
	}
	fmt.Fprintf(w, "service  %s  active: %s\n", r.Service, active)
	for _, rec := range r.Records {
		state := "enabled "
		if rec.Disabled {
			state = "disabled"
		}
		value := rec.Address
		if value == "" {
			value = rec.Data
		}
		fmt.Fprintf(w, "  record %-4s %-5s %s %-15s ttl %-4s %q\n", rec.ID, rec.Type, state, value, rec.TTL, rec.Comment)
	}
	for _, n := range r.Netwatch {
		state := n.Status
		if n.Disabled {
			state = "disabled"
		}
		fmt.Fprintf(w, "  netwatch %-4s %-15s %-8s %q\n", n.ID, n.Host, state, n.Comment)
	}
	if r.DNSError != "" {
		fmt.Fprintf(w, "resolver %s\n", r.DNSError)
	} else {
		fmt.Fprintf(w, "resolver %s -> %s\n", r.Service, strings.Join(r.DNS, ", "))
	}
}
