package lab

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/failwatch/failwatch/internal/netlab"
	"github.com/failwatch/failwatch/monitor"
)

// The lab's clients are real programs in their own namespaces, behind the
// router: iputils ping, whose resolver is set per namespace with
// /etc/netns/NS/resolv.conf (which `ip netns exec` mounts over
// /etc/resolv.conf), and Debian's dnsmasq as the caching stub resolver. No
// lookup leaves the machine: the resolvers are the router's DNS and
// dnsmasq forwarding only to it.

// realClients holds what the clients need while the lab runs.
type realClients struct {
	dirs    []string
	dnsmasq *exec.Cmd
	exited  chan struct{}
}

// startClients writes each client namespace's resolver and starts dnsmasq
// in the caching client's, forwarding to the router's DNS only.
func startClients(l *Lab) (*realClients, error) {
	if err := dnsmasqInstalled(); err != nil {
		return nil, err
	}
	c := &realClients{}
	for _, r := range []struct {
		host       *netlab.Host
		nameserver string
	}{{l.Once, l.Once.Gateway.String()}, {l.Cached, "127.0.0.1"}} {
		dir := "/etc/netns/" + r.host.NS
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return c, err
		}
		c.dirs = append(c.dirs, dir)
		// One server, one try a second: a lost query shows as a lost ping,
		// not as five seconds of glibc's retries.
		conf := fmt.Sprintf("nameserver %s\noptions timeout:1 attempts:1\n", r.nameserver)
		if err := os.WriteFile(dir+"/resolv.conf", []byte(conf), 0o644); err != nil {
			return c, err
		}
	}
	c.dnsmasq = exec.Command("ip", "netns", "exec", l.Cached.NS, "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null",
		"--no-resolv", "--no-hosts", "--server="+l.Cached.Gateway.String(), "--listen-address=127.0.0.1",
		"--bind-interfaces", "--user=root", "--pid-file", "--cache-size=150")
	if err := c.dnsmasq.Start(); err != nil {
		return c, fmt.Errorf("dnsmasq in %s: %w", l.Cached.NS, err)
	}
	c.exited = make(chan struct{})
	go func() {
		c.dnsmasq.Wait()
		close(c.exited)
	}()
	return c, c.waitDNSMasq(l.Cached)
}

// dnsmasqInstalled says why the caching client cannot run, or nil.
func dnsmasqInstalled() error {
	if _, err := exec.LookPath("dnsmasq"); err != nil {
		return errors.New("dnsmasq is not installed (apt-get install dnsmasq-base)")
	}
	return nil
}

// waitDNSMasq returns once dnsmasq answers, asking for a name the router
// does not hold (so nothing of the service's name is cached).
func (c *realClients) waitDNSMasq(h *netlab.Host) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-c.exited:
			return errors.New("dnsmasq exited at start")
		default:
		}
		var a monitor.DNSAnswer
		h.In(func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			a = monitor.Query(ctx, "127.0.0.1:53", "ready.failwatch.invalid", "A")
			return nil
		})
		if a.Err == nil || a.RCode != "" {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("dnsmasq did not answer within 10s")
}

// flushCache empties dnsmasq's cache (SIGHUP), so a run starts cold.
func (c *realClients) flushCache() error {
	return c.dnsmasq.Process.Signal(syscall.SIGHUP)
}

func (c *realClients) close() {
	if c.dnsmasq != nil && c.dnsmasq.Process != nil {
		c.dnsmasq.Process.Kill()
		<-c.exited
	}
	for _, d := range c.dirs {
		os.RemoveAll(d)
	}
}

var (
	pingHeader = regexp.MustCompile(`^PING \S+ \(([0-9.]+)\)`)
	pingReply  = regexp.MustCompile(`bytes from [0-9.]+: icmp_seq=(\d+) ttl=\d+ time=([0-9.]+) ms`)
)

// pingOnce runs `ping -n -c count -i interval -W 1 NAME` in the resolve-once
// client's namespace: it looks the name up once, as the paper's client
// did, and pings that address count times (-n: no reverse lookups of the
// replies). started is called when ping has started. It returns one ping
// per echo, in order.
func (l *Lab) pingOnce(ctx context.Context, count int, interval time.Duration, started func(time.Time)) ([]ping, error) {
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", l.Once.NS, "ping", "-n", "-c", strconv.Itoa(count),
		"-i", strconv.FormatFloat(interval.Seconds(), 'f', -1, 64), "-W", "1", Name)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	// ping's output comes through a pipe in blocks, so its lines are late:
	// the pings are timed from its start (the lookup takes milliseconds).
	start := time.Now()
	pings := make([]ping, count)
	for i := range pings {
		pings[i] = ping{Sample: monitor.Sample{At: start.Add(time.Duration(i) * interval), Err: "no reply"}}
	}
	started(start)
	var to netip.Addr
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		if m := pingHeader.FindStringSubmatch(line); m != nil {
			to = netip.MustParseAddr(m[1])
		}
		if m := pingReply.FindStringSubmatch(line); m != nil {
			seq, _ := strconv.Atoi(m[1])
			ms, _ := strconv.ParseFloat(m[2], 64)
			if seq >= 1 && seq <= count {
				pings[seq-1].OK, pings[seq-1].Err, pings[seq-1].RTT = true, "", time.Duration(ms*float64(time.Millisecond))
			}
		}
	}
	cmd.Wait()
	if !to.IsValid() {
		return nil, fmt.Errorf("ping %s in %s: the name did not resolve", Name, l.Once.NS)
	}
	for i := range pings {
		pings[i].to = to
	}
	l.markStandby(l.Once, pings, func(i int) int { return i + 1 })
	return pings, nil
}

// pingCached is one `ping -n -c 1 -W 1 NAME` in the caching client's
// namespace: a client that looks the name up before every ping, through
// dnsmasq, which answers from its cache for the record's TTL.
func (l *Lab) pingCached(ctx context.Context) ping {
	p := ping{Sample: monitor.Sample{At: time.Now(), Err: "name did not resolve"}}
	out, _ := exec.CommandContext(ctx, "ip", "netns", "exec", l.Cached.NS, "ping", "-n", "-c", "1", "-W", "1", Name).Output()
	for line := range strings.Lines(string(out)) {
		if m := pingHeader.FindStringSubmatch(line); m != nil {
			p.to, p.Err = netip.MustParseAddr(m[1]), "no reply"
		}
		if m := pingReply.FindStringSubmatch(line); m != nil {
			ms, _ := strconv.ParseFloat(m[2], 64)
			p.OK, p.Err, p.RTT = true, "", time.Duration(ms*float64(time.Millisecond))
		}
	}
	return p
}

// markStandby marks each answered ping the private server answered,
// whatever address the reply came from: its echo log holds an echo from
// the client with the ping's sequence number sent about when the ping was.
// A bridge's hairpin rule (masquerade) makes the echo come from the
// router's address on the private server's link instead; the router sends
// none of its own to the private server at the same second with the same
// sequence number.
func (l *Lab) markStandby(client *netlab.Host, pings []ping, seq func(int) int) {
	echoes := append(l.Private.Echoes(client.Addr), l.Private.Echoes(l.Private.Gateway)...)
	for i := range pings {
		if !pings[i].OK {
			continue
		}
		for _, e := range echoes {
			if e.Seq == seq(i) && e.At.After(pings[i].At.Add(-300*time.Millisecond)) && e.At.Before(pings[i].At.Add(time.Second)) {
				pings[i].byStandby = true
				break
			}
		}
	}
}
