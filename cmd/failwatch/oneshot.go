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
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/engine"
	"github.com/failwatch/failwatch/internal/jsonout"
	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/failover"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// routerFlags are the flags that say which config and router to use.
type routerFlags struct {
	path, router, user, passwordEnv *string
	// services are the --service names of the commands that take it
	// (addServiceFlag); none means every service.
	services *[]string
}

// configFlag is -c, which every command reading a config takes; the root
// help and the man page list the search path.
func configFlag(fs *pflag.FlagSet, usage string) *string {
	return fs.StringP("config", "c", "", usage+" (default: the first of the search path, ./failwatch.yaml to "+config.SystemPath+": see failwatch --help)")
}

func addRouterFlags(fs *pflag.FlagSet) routerFlags {
	return routerFlags{
		path:        configFlag(fs, "config FILE"),
		router:      fs.String("router", "", "router API address, overriding the config's (e.g. a failwatch sim)"),
		user:        fs.String("user", "", "router user, overriding the config's"),
		passwordEnv: fs.String("password-env", "", "read the router password from this environment variable"),
		services:    new([]string),
	}
}

// addServiceFlag gives a command that acts on services --service.
func (f routerFlags) addServiceFlag(fs *pflag.FlagSet) routerFlags {
	f.services = fs.StringArray("service", nil, "act on this service (a DNS name from the config; again for more); default: every service")
	return f
}

// chosen are the services the command acts on: those --service names, in
// the config's order, or every one.
func (f routerFlags) chosen(cfg *config.Config, stderr io.Writer) ([]config.Service, bool) {
	for _, name := range *f.services {
		if _, ok := cfg.Service(name); !ok {
			var names []string
			for _, svc := range cfg.Services {
				names = append(names, svc.Name)
			}
			fmt.Fprintf(stderr, "failwatch: --service %s: the config has no such service (it has %s)\n", name, strings.Join(names, ", "))
			return nil, false
		}
	}
	var out []config.Service
	for _, svc := range cfg.Services {
		if len(*f.services) == 0 || slices.Contains(*f.services, svc.Name) {
			out = append(out, svc)
		}
	}
	return out, true
}

// load reads the config and applies the overrides; it needs a router and a
// service name.
func (f routerFlags) load(o out) (*config.Config, bool) {
	cfg, ok := readConfig(*f.path, o, true)
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
	if cfg.Router.Address == "" || len(cfg.Services) == 0 {
		o.fail("this needs router.address and a service in the config (or --router)")
		return nil, false
	}
	return cfg, true
}

// routerDNS is the resolver asked about the services' names unless a
// service names its own: the router, on port 53.
func routerDNS(cfg *config.Config) string {
	host, _, _ := net.SplitHostPort(cfg.Router.RouterAddr())
	return net.JoinHostPort(host, "53")
}

// dnsServer is the resolver to ask about a service's name.
func dnsServer(cfg *config.Config, svc config.Service) string {
	if svc.DNSServer != "" {
		return svc.DNSServer
	}
	return routerDNS(cfg)
}

func currentUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "unknown"
}

// connect loads the config, picks the services and connects the operation
// code of each, over one connection; when ok is false the command exits
// with exitUsage.
func (f routerFlags) connect(stderr io.Writer) (*config.Config, *routeros.Client, []*failover.Failover, bool) {
	cfg, ok := f.load(plain(stderr))
	if !ok {
		return nil, nil, nil, false
	}
	chosen, ok := f.chosen(cfg, stderr)
	if !ok {
		return nil, nil, nil, false
	}
	client, warnings, err := routeros.New(routeros.OptionsFrom(cfg.Router))
	if err != nil {
		fmt.Fprintf(stderr, "failwatch: %v\n", err)
		return nil, nil, nil, false
	}
	for _, w := range warnings {
		fmt.Fprintf(stderr, "failwatch: warning: %s\n", w)
	}
	var fs []*failover.Failover
	for _, svc := range chosen {
		audit := failover.NewAudit(failover.AuditPath(svc, defaultAuditLog()))
		fs = append(fs, failover.ForService(cfg, svc, client, currentUser(), audit))
	}
	return cfg, client, fs, true
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
		rf := addRouterFlags(fs).addServiceFlag(fs)
		yes := fs.Bool("yes", false, "do it without asking")
		asJSON := fs.Bool("json", false, "print the result as JSON")
		var hold *bool
		if name == "failover" {
			hold = fs.Bool("hold", false, "hold the router's netwatch entries so they cannot move the name back (default: service.hold_netwatch)")
		}
		return func(_ []string, stdout, stderr io.Writer) int {
			_, client, fs, ok := rf.connect(stderr)
			if !ok {
				return exitUsage
			}
			defer client.Close()
			// Nothing is changed that could not be audited.
			for _, f := range fs {
				if err := f.Audit.Check(); err != nil {
					fmt.Fprintf(stderr, "failwatch %s: not done: audit log %v\n", name, err)
					return exitUsage
				}
			}
			var moves []string
			for _, f := range fs {
				from, to := f.Primary.Name, f.Standby.Name
				if name == "restore" {
					from, to = to, from
				}
				moves = append(moves, fmt.Sprintf("%s from %s to %s", f.Service.Name, from, to))
			}
			question := "Fail over " + strings.Join(moves, "; ")
			if name == "restore" {
				question = "Restore " + strings.Join(moves, "; ")
			}
			if code := confirm(question, *yes, os.Stdin, stderr); code != exitOK {
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
			var parts []failover.Part
			for _, f := range fs {
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
				do := (*failover.Failover).Restore
				if name == "failover" {
					hold := f.Service.HoldNetwatch || *hold
					do = func(f *failover.Failover, ctx context.Context) (failover.Result, error) {
						return f.FailoverToStandby(ctx, hold)
					}
				}
				parts = append(parts, failover.Part{Failover: f, Do: do})
			}
			res, err := failover.Each(ctx, name, parts)
			if *asJSON {
				out := struct {
					SchemaVersion int `json:"schema_version"`
					failover.ResultJSON
					OK    bool   `json:"ok"`
					Error string `json:"error,omitempty"`
				}{SchemaVersion: operationSchema, ResultJSON: res.JSON(), OK: err == nil}
				if err != nil {
					out.Error = err.Error()
				}
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				enc.SetEscapeHTML(false)
				enc.Encode(out)
			}
			if !*asJSON {
				for _, n := range res.Notes {
					fmt.Fprintf(stderr, "failwatch %s: warning: %s\n", name, n)
				}
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

// The versions of the JSON documents: each changes when a field changes
// meaning or goes away (docs/JSON.md, CHANGELOG.md). status 2: a list of
// services; 3: durations as *_ms, since RFC 3339. failover 2: records with
// ttl_ms.
const (
	statusSchema    = 3
	operationSchema = 2
)

// statusReport is what `failwatch status` knows: the router, then each
// service.
type statusReport struct {
	SchemaVersion int                `json:"schema_version"`
	Router        string             `json:"router"`
	Connected     bool               `json:"connected"`
	Error         string             `json:"error,omitempty"`
	Identity      jsonout.Identity   `json:"identity"`
	Services      []serviceStatus    `json:"services"`
	Netwatch      []jsonout.Netwatch `json:"netwatch"`
	Held          bool               `json:"netwatch_held"`
	Healthy       bool               `json:"healthy"`
}

// serviceStatus is one service in `failwatch status`.
type serviceStatus struct {
	Service string           `json:"service"`
	Facts   engine.FactState `json:"facts"`
	Why     string           `json:"why,omitempty"`
	// where is the active server in words, for the text output.
	where    string
	Active   string           `json:"active"`
	Records  []jsonout.Record `json:"records"`
	DNS      []string         `json:"dns_answer"`
	DNSError string           `json:"dns_error,omitempty"`
	Healthy  bool             `json:"healthy"`
}

func statusCommand() *cobra.Command {
	return newCommand("status", "", "show the router's records, the active server and the DNS answer of each service", `
Print, for each service (or those named by --service), what the router's
records say, which server is active and what the resolver answers for its
name; then the servers' netwatch entries. The router is read once for every
service. Exit 0 when the router answers and each service has exactly one
enabled record of a known server, 1 otherwise, 2 on bad usage or config.`, func(fs *pflag.FlagSet) runner {
		rf := addRouterFlags(fs).addServiceFlag(fs)
		asJSON := fs.Bool("json", false, "print JSON")
		return func(_ []string, stdout, stderr io.Writer) int {
			cfg, client, fos, ok := rf.connect(stderr)
			if !ok {
				return exitUsage
			}
			defer client.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 3*cfg.Router.Timeout)
			defer cancel()
			// Lists are [] when empty, never null.
			rep := statusReport{SchemaVersion: statusSchema, Router: cfg.Router.RouterAddr(), Services: []serviceStatus{}, Netwatch: []jsonout.Netwatch{}}
			var hosts, names []string
			for _, s := range cfg.Servers {
				hosts = append(hosts, s.Address)
			}
			for _, f := range fos {
				names = append(names, f.Service.Name)
			}
			st := routeros.NewWatcher(client, names, hosts, 0).Read(ctx)
			rep.Connected, rep.Identity = st.Connected, jsonout.IdentityOf(st.Identity)
			if st.Err != nil {
				rep.Error = st.Err.Error()
			}
			// Netwatch's "since" is the router's time, in its zone.
			now := time.Now()
			if st.Connected {
				clock, err := client.Clock(ctx)
				if err == nil {
					now = now.In(clock.Zone)
				} else {
					fmt.Fprintf(stderr, "failwatch: warning: %v: netwatch since in this host's zone\n", err)
				}
			}
			for _, n := range st.Netwatch {
				rep.Netwatch = append(rep.Netwatch, jsonout.NetwatchOf(n, now))
			}
			rep.Held = failover.Held(st.Netwatch)
			rep.Healthy = rep.Connected
			for _, f := range fos {
				ss := serviceStatus{Service: f.Service.Name, DNS: []string{}}
				var records []routeros.Record
				for _, r := range st.Records {
					if r.Name == f.Service.Name {
						records = append(records, r)
					}
				}
				// The facts as the engine derives them, from this one
				// reading: unknown when the router was not read.
				facts := engine.Facts{Service: f.Service.Name, State: engine.FactUnknown, Why: "not read"}
				if st.Err == nil {
					facts = engine.Read(f, st)
				} else {
					facts = engine.Age(facts, st, st.At, 0)
				}
				ss.Records = jsonout.Records(records)
				ss.Facts, ss.Active, ss.where = facts.State, facts.Active, facts.Where(time.Local)
				if facts.State != engine.FactKnown {
					ss.Why = facts.Why
				}
				ans := monitor.Query(ctx, dnsServer(cfg, f.Service), f.Service.Name, failover.RecordType(f.Primary, f.Standby))
				for _, a := range ans.Addrs {
					ss.DNS = append(ss.DNS, a.String())
				}
				if ans.Err != nil {
					ss.DNSError = ans.Err.Error()
				}
				ss.Healthy = rep.Connected && ss.Active != ""
				rep.Healthy = rep.Healthy && ss.Healthy
				rep.Services = append(rep.Services, ss)
			}
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
	if r.Connected {
		fmt.Fprintf(w, "router   %s (%s, RouterOS %s)\n", r.Router, r.Identity.Name, r.Identity.Version)
	} else {
		fmt.Fprintf(w, "router   %s: %s\n", r.Router, r.Error)
	}
	for _, s := range r.Services {
		fmt.Fprintf(w, "service  %s  active: %s\n", s.Service, s.where)
		for _, rec := range s.Records {
			state := "enabled "
			if rec.Disabled {
				state = "disabled"
			}
			value := rec.Address
			if value == "" {
				value = rec.Data
			}
			ttl := "?"
			if rec.TTLMS != nil {
				ttl = config.FormatDuration(time.Duration(*rec.TTLMS * float64(time.Millisecond)))
			}
			fmt.Fprintf(w, "  record %-4s %-5s %s %-15s ttl %-4s %q\n", rec.ID, rec.Type, state, value, ttl, rec.Comment)
		}
		if s.DNSError != "" {
			fmt.Fprintf(w, "  resolver %s\n", s.DNSError)
		} else {
			fmt.Fprintf(w, "  resolver %s -> %s\n", s.Service, strings.Join(s.DNS, ", "))
		}
	}
	for _, n := range r.Netwatch {
		state := n.Status
		if n.Disabled {
			state = "disabled"
		}
		fmt.Fprintf(w, "netwatch %-4s %-15s %-8s %q\n", n.ID, n.Host, state, n.Comment)
	}
}
