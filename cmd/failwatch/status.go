package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/engine"
	"github.com/failwatch/failwatch/internal/jsonout"
	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/failover"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// The versions of the JSON documents: each changes when a field changes
// meaning or goes away (docs/JSON.md, CHANGELOG.md). status 2: a list of
// services; 3: durations as *_ms, since RFC 3339; 4: identity and a
// service's active absent when not read, never empty strings. failover 2:
// records with ttl_ms.
const (
	statusSchema    = 4
	operationSchema = 2
)

// statusReport is what `failwatch status` knows: the router, then each
// service.
type statusReport struct {
	SchemaVersion int    `json:"schema_version"`
	Router        string `json:"router"`
	Connected     bool   `json:"connected"`
	Error         string `json:"error,omitempty"`
	// Identity is absent when the router was not read: who it is is
	// not known, and empty strings would say a router named "".
	Identity *jsonout.Identity  `json:"identity,omitempty"`
	Services []serviceStatus    `json:"services"`
	Netwatch []jsonout.Netwatch `json:"netwatch"`
	Held     bool               `json:"netwatch_held"`
	Healthy  bool               `json:"healthy"`
	HA       *haStatus          `json:"ha,omitempty"`
}

// serviceStatus is one service in `failwatch status`.
type serviceStatus struct {
	Service string           `json:"service"`
	Facts   engine.FactState `json:"facts"`
	Why     string           `json:"why,omitempty"`
	// where is the active server in words, for the text output.
	where string
	// Active is the server the records point at, "" when a reading found
	// none or several; absent (nil) when no reading says (facts not
	// known), so a script reading it alone never takes an unread router
	// for "no single server".
	Active   *string          `json:"active,omitempty"`
	Records  []jsonout.Record `json:"records"`
	DNS      []string         `json:"dns_answer"`
	DNSError string           `json:"dns_error,omitempty"`
	// Bridge is the service's TTL bridge, when it has one.
	Bridge  *engine.BridgeFacts `json:"bridge,omitempty"`
	Healthy bool                `json:"healthy"`
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
			c, err := rf.connect(plain(stderr))
			if err != nil {
				plain(stderr).error(err)
				return exitUsage
			}
			defer c.client.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 3*c.cfg.Router.Timeout)
			defer cancel()
			rep := readStatus(ctx, c, stderr)
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

// readStatus reads the router once for every chosen service, and asks the
// resolver about each.
func readStatus(ctx context.Context, c connected, stderr io.Writer) statusReport {
	// Lists are [] when empty, never null.
	rep := statusReport{SchemaVersion: statusSchema, Router: c.cfg.Router.RouterAddr(), Services: []serviceStatus{}, Netwatch: []jsonout.Netwatch{}}
	var hosts, names []string
	for _, s := range c.cfg.Servers {
		hosts = append(hosts, s.Address)
	}
	for _, f := range c.failovers {
		names = append(names, f.Service.Name)
	}
	w := routeros.NewWatcher(c.client, names, hosts, 0)
	w.Bridges = engine.BridgeWatches(c.failovers)
	st := w.Read(ctx)
	rep.Connected = st.Connected
	if st.Connected {
		id := jsonout.IdentityOf(st.Identity)
		rep.Identity = &id
	}
	if st.Err != nil {
		rep.Error = st.Err.Error()
	}
	// Netwatch's "since" is the router's time, in its zone.
	now := time.Now()
	if st.Connected {
		clock, err := c.client.Clock(ctx)
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
	rep.HA = readHA(ctx, c.cfg)
	rep.Healthy = rep.Connected
	for _, f := range c.failovers {
		ss := serviceStatusOf(ctx, f, st, f.Service.Resolver(routerDNS(c.cfg)))
		rep.Healthy = rep.Healthy && ss.Healthy
		rep.Services = append(rep.Services, ss)
	}
	return rep
}

// serviceStatusOf is a service's part of a reading of the router, and what
// the resolver dns answers for its name.
func serviceStatusOf(ctx context.Context, f *failover.Failover, st routeros.RouterState, dns string) serviceStatus {
	ss := serviceStatus{Service: f.Service.Name, DNS: []string{}}
	var records []routeros.Record
	for _, r := range st.Records {
		if r.Name == f.Service.Name {
			records = append(records, r)
		}
	}
	// The facts as the engine derives them, from this one reading: unknown
	// when the router was not read.
	facts := engine.Facts{Service: f.Service.Name, State: engine.FactUnknown, Why: "not read"}
	if st.Err == nil {
		facts = engine.Read(f, st)
	} else {
		facts = engine.Age(facts, st, st.At, 0)
	}
	ss.Records = jsonout.Records(records)
	ss.Facts, ss.where, ss.Bridge = facts.State, facts.Where(time.Local), facts.Bridge
	if facts.State == engine.FactKnown {
		ss.Active = &facts.Active
	}
	if st.Err != nil {
		// The router's line says why once; each service need not again.
		ss.where = "unknown (the router was not read)"
	}
	if facts.State != engine.FactKnown {
		ss.Why = facts.Why
	}
	ans := monitor.Query(ctx, dns, f.Service.Name, failover.RecordType(f.Primary, f.Standby))
	for _, a := range ans.Addrs {
		ss.DNS = append(ss.DNS, a.String())
	}
	if ans.Err != nil {
		ss.DNSError = ans.Err.Error()
	}
	ss.Healthy = st.Connected && facts.Defined()
	return ss
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
		if s.Bridge != nil {
			fmt.Fprintf(w, "  %s\n", s.Bridge.Text(time.Local))
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
	writeHA(w, r.HA)
}
