package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/user"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/failover"

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
func (f routerFlags) chosen(cfg *config.Config) ([]config.Service, error) {
	for _, name := range *f.services {
		if _, ok := cfg.Service(name); !ok {
			var names []string
			for _, svc := range cfg.Services {
				names = append(names, svc.Name)
			}
			return nil, fmt.Errorf("--service %s: the config has no such service (it has %s)", name, strings.Join(names, ", "))
		}
	}
	var out []config.Service
	for _, svc := range cfg.Services {
		if len(*f.services) == 0 || slices.Contains(*f.services, svc.Name) {
			out = append(out, svc)
		}
	}
	return out, nil
}

// load reads the config and applies the overrides; it needs a router and a
// service name.
func (f routerFlags) load(o out) (*config.Config, error) {
	cfg, err := readConfig(*f.path, o, true)
	if err != nil {
		return nil, err
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
		return nil, errors.New("this needs router.address and a service in the config (or --router)")
	}
	return cfg, nil
}

// routerDNS is the resolver asked about the services' names unless a
// service names its own: the router, on port 53.
func routerDNS(cfg *config.Config) string {
	host, _, _ := net.SplitHostPort(cfg.Router.RouterAddr())
	return net.JoinHostPort(host, "53")
}

func currentUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "unknown"
}

// connected is what a one-shot command works on: the config, one
// connection to the router and the failover of each chosen service over it.
type connected struct {
	cfg       *config.Config
	client    *routeros.Client
	failovers []*failover.Failover
}

// connect loads the config, picks the services and connects the operation
// code of each, over one connection; on an error the command exits with
// exitUsage.
func (f routerFlags) connect(o out) (connected, error) {
	cfg, err := f.load(o)
	if err != nil {
		return connected{}, err
	}
	chosen, err := f.chosen(cfg)
	if err != nil {
		return connected{}, err
	}
	client, warnings, err := routeros.New(routeros.OptionsFrom(cfg.Router))
	if err != nil {
		return connected{}, err
	}
	for _, w := range warnings {
		o.warn(w)
	}
	c := connected{cfg: cfg, client: client}
	for _, svc := range chosen {
		audit := failover.NewAudit(failover.AuditPath(svc, defaultAuditLog()))
		c.failovers = append(c.failovers, failover.ForService(cfg, svc, client, currentUser(), audit))
	}
	return c, nil
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
