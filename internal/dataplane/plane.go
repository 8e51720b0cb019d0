package dataplane

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/failwatch/failwatch/routeros/rosim"
)

// Options say which namespace is the router's and how its interfaces are
// named.
type Options struct {
	// NS is the router namespace, as `ip netns` knows it.
	NS string
	// Router is the emulator whose firewall the namespace applies.
	Router *rosim.Router
	// Interfaces map the router's interface names (ether2) to the
	// namespace's.
	Interfaces map[string]string
	// InInterface names the router's interface a connection from src came
	// in by, for the mirrored connection table ("" if none: the router's
	// own).
	InInterface func(src netip.Addr) string
}

// Plane applies a router's firewall to its namespace until closed.
type Plane struct {
	opts   Options
	kick   chan struct{}
	cancel context.CancelFunc
	done   sync.WaitGroup

	mu sync.Mutex
	// script is the nft script the namespace holds now.
	script string
	// err is the last change the namespace could not take; nil once it
	// holds what the router does.
	err     error
	history []Applied
	mirror  *mirror
}

// Applied is one change the namespace took: when, and the router's
// enabled NAT rules it applied then.
type Applied struct {
	At  time.Time
	NAT []map[string]string
}

// maxHistory bounds History: a lab run makes a few changes.
const maxHistory = 1000

// History is the changes the namespace took, oldest first (the last 1000).
func (p *Plane) History() []Applied {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.history)
}

// Available says why a data plane cannot be built here, or nil.
func Available() error {
	for _, tool := range []string{"nft", "conntrack"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s is not installed (apt-get install nftables conntrack)", tool)
		}
	}
	return nil
}

// Start applies the router's firewall to the namespace now, then again on
// every change, and mirrors the namespace's connections into the router's
// connection table.
func Start(opts Options) (*Plane, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Plane{opts: opts, kick: make(chan struct{}, 1), cancel: cancel}
	if err := p.Sync(); err != nil {
		cancel()
		return nil, err
	}
	m, err := startMirror(ctx, opts)
	if err != nil {
		cancel()
		return nil, err
	}
	p.mirror = m
	opts.Router.ObserveFirewall(func() {
		select {
		case p.kick <- struct{}{}:
		default:
		}
	})
	p.done.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-p.kick:
				p.Sync()
			}
		}
	})
	return p, nil
}

// Close stops applying changes and mirroring; the namespace keeps its
// table until it is removed.
func (p *Plane) Close() {
	p.opts.Router.ObserveFirewall(func() {})
	p.cancel()
	p.done.Wait()
	if p.mirror != nil {
		p.mirror.wait()
	}
}

// Sync applies the router's firewall now: the NAT table first, then the
// connection removals, so that a flow whose entry is removed opens again
// through the rules the router holds now.
func (p *Plane) Sync() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	removed, lost, fw := p.read()
	script, err := Translate(fw, p.opts.Interfaces)
	if err == nil && script != p.script {
		if err = nsRun(p.opts.NS, []byte(script), "nft", "-f", "-"); err == nil {
			p.script = script
			if len(p.history) == maxHistory {
				p.history = p.history[1:]
			}
			p.history = append(p.history, Applied{At: time.Now(), NAT: fw.NAT})
		}
	}
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	if lost > 0 {
		errs = append(errs, fmt.Errorf("%d connection removals came faster than they could be applied", lost))
	}
	for _, row := range removed {
		if err := p.removeConnection(row); err != nil {
			errs = append(errs, err)
		}
	}
	p.err = errors.Join(errs...)
	return p.err
}

// read is what one Sync applies: the connections removed, then the
// firewall, read in that order. Each removal was made after the rules
// before it (a bridge enables its rules, then removes the flows to the
// primary), so the firewall read after it holds them: a removal is never
// applied with rules older than it. Read the other way, a removal made
// while the firewall was being applied went out with the older rules, and
// a flow that opened again in the gap before the next Sync stayed on the
// dead primary for good (the lab's resolve-once client lost 17 of 20 in 1
// run of 5 so, its ping falling into that gap).
func (p *Plane) read() (removed []map[string]string, lost int, fw rosim.Firewall) {
	removed, lost = p.opts.Router.RemovedConnections()
	return removed, lost, p.opts.Router.Firewall()
}

// Err is what the namespace could not take at the last change, nil when
// it holds what the router does.
func (p *Plane) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err == nil && p.mirror != nil {
		return p.mirror.failure()
	}
	return p.err
}

// Script is the nft script the namespace holds.
func (p *Plane) Script() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.script
}

// removeConnection removes the conntrack entry a removed row stood for:
// the same protocol, original source and destination, and ports or echo id.
func (p *Plane) removeConnection(row map[string]string) error {
	args, err := deleteArgs(row)
	if err != nil {
		return fmt.Errorf("connection %s: %w", row[".id"], err)
	}
	out, err := exec.Command("ip", append([]string{"netns", "exec", p.opts.NS, "conntrack"}, args...)...).CombinedOutput()
	// conntrack exits 1 when no entry matched: the flow ended on its own.
	if err != nil && !bytes.Contains(out, []byte("0 flow entries have been deleted")) {
		return fmt.Errorf("conntrack %s in %s: %v: %s", strings.Join(args, " "), p.opts.NS, err, bytes.TrimSpace(out))
	}
	return nil
}

// deleteArgs are conntrack's arguments to delete what a row of
// /ip/firewall/connection shows.
func deleteArgs(row map[string]string) ([]string, error) {
	proto := row["protocol"]
	args := []string{"-D", "-p", proto}
	switch proto {
	case "tcp", "udp":
		for _, side := range []struct{ prop, addr, port string }{{"src-address", "--orig-src", "--sport"}, {"dst-address", "--orig-dst", "--dport"}} {
			ap, err := netip.ParseAddrPort(row[side.prop])
			if err != nil || !ap.Addr().Is4() {
				return nil, fmt.Errorf("%s=%q is not an IPv4 address and port", side.prop, row[side.prop])
			}
			args = append(args, side.addr, ap.Addr().String(), side.port, fmt.Sprint(ap.Port()))
		}
	case "icmp":
		for _, side := range []struct{ prop, flag string }{{"src-address", "--orig-src"}, {"dst-address", "--orig-dst"}} {
			if !isIPv4(row[side.prop]) {
				return nil, fmt.Errorf("%s=%q is not an IPv4 address", side.prop, row[side.prop])
			}
			args = append(args, side.flag, row[side.prop])
		}
		if id := row["icmp-id"]; id != "" {
			args = append(args, "--icmp-id", id)
		}
	default:
		return nil, fmt.Errorf("protocol %q is not removed by the lab's data plane", proto)
	}
	return args, nil
}

// nsRun runs a command in the namespace with stdin.
func nsRun(ns string, stdin []byte, name string, args ...string) error {
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns, name}, args...)...)
	cmd.Stdin = bytes.NewReader(stdin)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s in %s: %v: %s", name, ns, err, bytes.TrimSpace(out))
	}
	return nil
}
