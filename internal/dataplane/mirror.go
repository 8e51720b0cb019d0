package dataplane

import (
	"bufio"
	"context"
	"fmt"
	"net/netip"
	"os/exec"
	"strconv"
	"strings"
	"sync"

	"github.com/failwatch/failwatch/routeros/rosim"
)

// mirror copies the namespace's conntrack entries into the router's
// /ip/firewall/connection as they open and end (conntrack -E), so that a
// client reading the router's connections sees the flows that really go
// through it, and removes what they really are. Each row shows the entry
// as it opened (its tcp-state then); the emulator works out its NAT flags
// from its own rules, the same the namespace applies.
type mirror struct {
	opts Options
	done chan struct{}

	mu  sync.Mutex
	ids map[string]string
	// skipped counts entries the router's table did not take (full).
	skipped int
}

// maxLine bounds one line of conntrack's output.
const maxLine = 4096

func startMirror(ctx context.Context, opts Options) (*mirror, error) {
	m := &mirror{opts: opts, done: make(chan struct{}), ids: map[string]string{}}
	events := exec.CommandContext(ctx, "ip", "netns", "exec", opts.NS, "conntrack", "-E", "-e", "NEW,DESTROY")
	out, err := events.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := events.Start(); err != nil {
		return nil, fmt.Errorf("conntrack -E in %s: %w", opts.NS, err)
	}
	go func() {
		defer close(m.done)
		m.read(bufio.NewScanner(out))
		events.Wait()
	}()
	// Entries opened before the events were listened to.
	list, err := exec.CommandContext(ctx, "ip", "netns", "exec", opts.NS, "conntrack", "-L").Output()
	if err != nil {
		return m, fmt.Errorf("conntrack -L in %s: %w", opts.NS, err)
	}
	for line := range strings.Lines(string(list)) {
		m.handle("[NEW] " + line)
	}
	return m, nil
}

func (m *mirror) read(sc *bufio.Scanner) {
	sc.Buffer(make([]byte, maxLine), maxLine)
	for sc.Scan() {
		m.handle(sc.Text())
	}
}

func (m *mirror) wait() { <-m.done }

// failure says what the router's table could not take.
func (m *mirror) failure() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.skipped > 0 {
		return fmt.Errorf("%d connections not mirrored: the router's connection table is full", m.skipped)
	}
	return nil
}

// handle takes one event line and mirrors it.
func (m *mirror) handle(line string) {
	kind, c, key, ok := parseEvent(line)
	if !ok {
		return
	}
	if m.opts.InInterface != nil {
		c.InInterface = m.opts.InInterface(c.Src.Addr())
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	switch kind {
	case "[NEW]":
		if _, known := m.ids[key]; known {
			return
		}
		id, err := m.opts.Router.Track(c)
		if err != nil {
			m.skipped++
			return
		}
		m.ids[key] = id
	case "[DESTROY]":
		if id, known := m.ids[key]; known {
			delete(m.ids, key)
			m.opts.Router.Forget(id)
		}
	}
}

// parseEvent reads one line of conntrack's events: "[NEW] icmp 1 30
// src=A dst=B type=8 code=0 id=7 [UNREPLIED] src=B ...", the first of each
// key the original direction's, a TCP entry's state the upper-case word
// before them. ok is false for a line that is not an entry of tcp, udp or
// icmp (the router's table holds other protocols too; the emulator's
// tracks only these).
func parseEvent(line string) (kind string, c rosim.Conn, key string, ok bool) {
	fields := strings.Fields(line)
	if len(fields) < 3 {
		return "", c, "", false
	}
	kind, proto := fields[0], fields[1]
	if proto != "tcp" && proto != "udp" && proto != "icmp" {
		return "", c, "", false
	}
	kv := map[string]string{}
	state := ""
	for _, f := range fields[2:] {
		k, v, isKV := strings.Cut(f, "=")
		if !isKV {
			if _, err := strconv.Atoi(f); err != nil && proto == "tcp" && state == "" && f[0] != '[' && strings.ToUpper(f) == f {
				state = strings.ReplaceAll(strings.ToLower(f), "_", "-")
			}
			continue
		}
		if _, seen := kv[k]; !seen {
			kv[k] = v
		}
	}
	c, key, ok = conn(proto, kv)
	c.TCPState = state
	return kind, c, key, ok
}

// conn reads an entry's original direction.
func conn(proto string, kv map[string]string) (rosim.Conn, string, bool) {
	src, err1 := netip.ParseAddr(kv["src"])
	dst, err2 := netip.ParseAddr(kv["dst"])
	if err1 != nil || err2 != nil {
		return rosim.Conn{}, "", false
	}
	c := rosim.Conn{Protocol: proto}
	var sport, dport int
	if proto == "icmp" {
		id, err := strconv.Atoi(kv["id"])
		if err != nil {
			return c, "", false
		}
		c.ICMPID = id
	} else {
		var err error
		if sport, err = strconv.Atoi(kv["sport"]); err != nil {
			return c, "", false
		}
		if dport, err = strconv.Atoi(kv["dport"]); err != nil {
			return c, "", false
		}
	}
	c.Src, c.Dst = netip.AddrPortFrom(src, uint16(sport)), netip.AddrPortFrom(dst, uint16(dport))
	return c, fmt.Sprintf("%s %s %s %d", proto, c.Src, c.Dst, c.ICMPID), true
}
