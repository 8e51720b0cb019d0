package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/jsonout"
	"github.com/failwatch/failwatch/internal/safetext"
	"github.com/failwatch/failwatch/monitor"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func reportCommand() *cobra.Command {
	return newCommand("report", "[HOST...]", "probe each server N times and print ping-style statistics", `
Probe every server N times, all at once, then print for each check a summary
shaped like ping's (transmitted, received, loss, rtt min/avg/max/mdev) with
jitter (RFC 3550), p95 and the up/down state. On a terminal, each reply or
loss is also printed as it happens, as ping does.

A HOST is an address or name (ICMP echo), http://... or https://... (HTTP GET,
2xx/3xx is up), or tcp://HOST:PORT (TCP connect). Without HOSTs the servers of
the config are probed with their configured checks. Ctrl-C stops early and
prints what has been gathered.

Exit 0 when every server is up, 1 when any is down, degraded or unresolved,
2 on bad usage or config.`, func(fs *pflag.FlagSet) runner {
		path := configFlag(fs, "probe the servers of this config FILE")
		count := fs.Int("count", 10, "probes per check")
		interval := durationFlag(fs, "interval", 0, "time between probes (default: the config's, else 1s)")
		timeout := durationFlag(fs, "timeout", 0, "how long to wait for each reply (default: the config's, else 1s)")
		asJSON := fs.Bool("json", false, "print JSON instead of text")
		return func(hosts []string, stdout, stderr io.Writer) int {
			cfg, err := reportConfig(hosts, *path, *count, *interval, *timeout, stderr)
			if err != nil {
				plain(stderr).error(err)
				return exitUsage
			}
			headlessGC()
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			// Reply lines, like ping's, only for a person watching: a pipe or a
			// file gets the summary alone.
			var replies io.Writer
			if f, ok := stdout.(*os.File); ok && !*asJSON && isTerminal(f) {
				replies = stdout
			}
			statuses, err := probeAll(ctx, cfg, *count, replies, stderr)
			if err != nil {
				fmt.Fprintf(stderr, "failwatch report: %v\n", err)
				return exitUnhealthy
			}
			if *asJSON {
				err = writeReportJSON(stdout, statuses)
			} else {
				err = writeReportText(stdout, statuses)
			}
			if err != nil {
				fmt.Fprintf(stderr, "failwatch report: %v\n", err)
				return exitUnhealthy
			}
			for _, s := range statuses {
				if s.State != monitor.Up {
					return exitUnhealthy
				}
			}
			return exitOK
		}
	})
}

// reportConfig is what report probes: the HOSTs, or the config's servers,
// with the probe settings the flags change.
func reportConfig(hosts []string, path string, count int, interval, timeout time.Duration, stderr io.Writer) (*config.Config, error) {
	switch {
	case count < 1:
		return nil, said("report", errors.New("--count must be at least 1"))
	case interval != 0 && interval < config.MinInterval:
		return nil, said("report", fmt.Errorf("--interval must be at least %s, got %s", config.MinInterval, interval))
	case timeout != 0 && timeout < config.MinTimeout:
		return nil, said("report", fmt.Errorf("--timeout must be at least %s, got %s", config.MinTimeout, timeout))
	case len(hosts) > 0 && path != "":
		return nil, said("report", errors.New("give either -c FILE or HOSTs, not both"))
	}
	var cfg *config.Config
	if len(hosts) > 0 {
		c := config.Defaults()
		cfg = &c
		for _, h := range hosts {
			s, err := serverFromArg(h)
			if err != nil {
				return nil, said("report", err)
			}
			cfg.Servers = append(cfg.Servers, s)
		}
	} else {
		var err error
		if cfg, err = readConfig(path, plain(stderr), false); err != nil {
			return nil, err
		}
	}
	if interval > 0 {
		cfg.Probe.Interval = interval
	}
	if timeout > 0 {
		cfg.Probe.Timeout = timeout
	}
	// A short report must still reach a verdict, and its window must hold
	// every probe so p95 covers the whole run.
	cfg.Probe.UpAfter = min(cfg.Probe.UpAfter, count)
	cfg.Probe.DownAfter = min(cfg.Probe.DownAfter, count)
	cfg.Probe.LossWindow = min(cfg.Probe.LossWindow, count)
	cfg.Probe.Window = max(cfg.Probe.Window, count)
	return cfg, nil
}

// serverFromArg turns a HOST argument into a server with one check.
func serverFromArg(arg string) (config.Server, error) {
	s := config.Server{Name: arg, Role: "monitor"}
	switch {
	case strings.HasPrefix(arg, "http://"), strings.HasPrefix(arg, "https://"):
		u, err := url.Parse(arg)
		if err != nil || u.Host == "" {
			return s, fmt.Errorf("%q is not a URL with a host", arg)
		}
		s.Address = u.Hostname()
		s.Checks = []config.Check{{Kind: config.HTTP, URL: arg, Expect: config.DefaultExpect}}
	case strings.HasPrefix(arg, "tcp://"):
		host, port, err := net.SplitHostPort(strings.TrimPrefix(arg, "tcp://"))
		p, perr := strconv.Atoi(port)
		if err != nil || perr != nil || p < 1 || p > 65535 || host == "" {
			return s, fmt.Errorf("%q is not tcp://HOST:PORT", arg)
		}
		s.Address = host
		s.Checks = []config.Check{{Kind: config.TCP, Port: p}}
	default:
		if arg == "" || strings.Contains(arg, "://") || strings.ContainsAny(arg, " /") {
			return s, fmt.Errorf("%q is not a host, http(s):// URL or tcp://HOST:PORT", arg)
		}
		s.Address = strings.Trim(arg, "[]")
		s.Checks = []config.Check{{Kind: config.ICMP}}
	}
	return s, nil
}

// probeAll runs every server's monitor at once and returns their final
// statuses in config order; replies, when not nil, gets a line per probe.
func probeAll(ctx context.Context, cfg *config.Config, count int, replies, stderr io.Writer) ([]monitor.ServerStatus, error) {
	// Compact: report prints statistics, never the samples.
	opts := monitor.Options{Probe: cfg.Probe, Count: count, Compact: true}
	via := ""
	needICMP := slices.ContainsFunc(cfg.Servers, func(s config.Server) bool {
		return len(s.Checks) == 0 || slices.ContainsFunc(s.Checks, func(c config.Check) bool { return c.Kind == config.ICMP })
	})
	if needICMP {
		icmp, err := monitor.NewICMP(cfg.Probe.ICMPMode)
		if err != nil {
			return nil, err
		}
		defer icmp.Close()
		opts.ICMP = icmp
		via = fmt.Sprintf(" (ICMP through a %s)", icmp.Mode())
	}
	servers := make([]*monitor.Server, len(cfg.Servers))
	for i, s := range cfg.Servers {
		opts.Phase = monitor.Spread(i, len(cfg.Servers), cfg.Probe.Interval)
		m, err := monitor.NewServer(s, opts)
		if err != nil {
			return nil, err
		}
		servers[i] = m
	}
	fmt.Fprintf(stderr, "probing %d server(s), %d probe(s) each every %s%s...\n", len(servers), count, cfg.Probe.Interval, via)
	var events chan monitor.Event
	printed := make(chan struct{})
	if replies != nil {
		events = make(chan monitor.Event, 64)
		go func() {
			defer close(printed)
			for ev := range events {
				if ev.Type == monitor.EventSample {
					io.WriteString(replies, replyLine(ev))
				}
			}
		}()
	} else {
		close(printed)
	}
	// One goroutine probes them all. A server that cannot be resolved says
	// so in its status; the others go on.
	_ = monitor.RunAll(ctx, servers, events)
	if events != nil {
		close(events)
	}
	<-printed
	out := make([]monitor.ServerStatus, len(servers))
	for i, m := range servers {
		out[i] = m.Status()
	}
	return out, nil
}

// replyLine is one probe's outcome, as ping prints a reply; the error
// comes from the network and is cleaned before it reaches the terminal.
func replyLine(ev monitor.Event) string {
	who := ev.Server
	if ev.Addr.IsValid() && ev.Addr.String() != ev.Server {
		who = fmt.Sprintf("%s (%s)", ev.Server, ev.Addr)
	}
	if ev.Sample.OK {
		return fmt.Sprintf("%s %s: reply time=%s ms\n", who, ev.Check.Label, ms(ev.Sample.RTT))
	}
	return fmt.Sprintf("%s %s: no reply (%s)\n", who, ev.Check.Label, safetext.Line(ev.Sample.Err))
}

// notSent counts the probes that never left, as ping counts errors: they
// are not in the loss, which is what the network did.
func notSent(st monitor.Stats) string {
	if st.NotSent == 0 {
		return ""
	}
	return fmt.Sprintf("%d not sent, ", st.NotSent)
}

func ms(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 3, 64) }

// icmpLabel is how an ICMP check names itself in a status.
var icmpLabel = config.Check{Kind: config.ICMP}.Label()

// writeReportText prints one ping-like block per check.
func writeReportText(w io.Writer, statuses []monitor.ServerStatus) error {
	var b strings.Builder
	for i, s := range statuses {
		if i > 0 {
			b.WriteByte('\n')
		}
		addr := s.Address
		if s.Addr.IsValid() && s.Addr.String() != s.Address {
			addr = fmt.Sprintf("%s (%s)", s.Address, s.Addr)
		}
		name := s.Name
		if name != s.Address {
			name = fmt.Sprintf("%s %s", s.Name, addr)
		} else {
			name = addr
		}
		if s.State == monitor.Unresolved {
			fmt.Fprintf(&b, "--- %s ---\nstate UNRESOLVED: %s\n", name, safetext.Line(s.Reason))
			continue
		}
		for _, c := range s.Checks {
			st := c.Window
			fmt.Fprintf(&b, "--- %s %s statistics ---\n", name, c.Label)
			loss := strconv.FormatFloat(st.LossPercent(), 'g', 6, 64)
			if c.Label == icmpLabel {
				fmt.Fprintf(&b, "%d packets transmitted, %d received, %s%s%% packet loss\n", st.Sent, st.Received, notSent(st), loss)
			} else {
				// A TCP connect or an HTTP GET is many packets, or none:
				// its block counts probes.
				fmt.Fprintf(&b, "%d probes sent, %d answered, %s%s%% failed\n", st.Sent, st.Received, notSent(st), loss)
			}
			if st.Received > 0 {
				fmt.Fprintf(&b, "rtt min/avg/max/mdev = %s/%s/%s/%s ms\n", ms(st.Min), ms(st.Avg), ms(st.Max), ms(st.Mdev))
				fmt.Fprintf(&b, "jitter %s ms (RFC 3550), p95 %s ms, ", ms(st.Jitter), ms(st.P95))
			}
			fmt.Fprintf(&b, "state %s\n", c.State)
			if c.LastErr != "" {
				fmt.Fprintf(&b, "last error: %s\n", safetext.Line(c.LastErr))
			}
		}
		if len(s.Checks) > 1 {
			fmt.Fprintf(&b, "server %s\n", s.State)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

type jsonCheck struct {
	Check       string        `json:"check"`
	State       monitor.State `json:"state"`
	Sent        int           `json:"sent"`
	Received    int           `json:"received"`
	NotSent     int           `json:"not_sent"`
	LossPercent float64       `json:"loss_percent"`
	jsonout.RTT
	LastError string `json:"last_error,omitempty"`
}

type jsonServer struct {
	Name    string        `json:"name"`
	Role    string        `json:"role,omitempty"`
	Address string        `json:"address"`
	IP      string        `json:"ip,omitempty"`
	State   monitor.State `json:"state"`
	Reason  string        `json:"reason,omitempty"`
	Checks  []jsonCheck   `json:"checks"`
}

// jsonReport is `report --json`: schema_version 1.
type jsonReport struct {
	SchemaVersion int          `json:"schema_version"`
	Servers       []jsonServer `json:"servers"`
}

func writeReportJSON(w io.Writer, statuses []monitor.ServerStatus) error {
	msp := func(d time.Duration) *float64 {
		v := math.Round(float64(d)/1e3) / 1e3
		return &v
	}
	out := make([]jsonServer, 0, len(statuses))
	for _, s := range statuses {
		js := jsonServer{Name: s.Name, Address: s.Address, State: s.State, Reason: s.Reason, Checks: []jsonCheck{}}
		if s.Role != "monitor" {
			js.Role = string(s.Role)
		}
		if s.Addr.IsValid() {
			js.IP = s.Addr.String()
		}
		for _, c := range s.Checks {
			st := c.Window
			jc := jsonCheck{Check: c.Label, State: c.State, Sent: st.Sent, Received: st.Received, NotSent: st.NotSent,
				LossPercent: math.Round(st.LossPercent()*1000) / 1000, LastError: c.LastErr}
			if st.Received > 0 {
				jc.RTT = jsonout.RTTOf(st, msp)
			}
			js.Checks = append(js.Checks, jc)
		}
		out = append(out, js)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(jsonReport{SchemaVersion: 1, Servers: out})
}
