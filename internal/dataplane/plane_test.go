package dataplane

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/netlab"
	"github.com/failwatch/failwatch/internal/netlab/netlabtest"
	"github.com/failwatch/failwatch/internal/testkit"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/rosim"
)

// testNet is a router namespace between a client and two servers, P and
// T, each serving its own name on TCP ports 80 and 22, with the emulator
// as the router's control plane and a Plane applying it.
type testNet struct {
	router          *netlab.Router
	client, p, t    *netlab.Host
	emulator        *rosim.Router
	api             *routeros.Client
	plane           *Plane
	routerInterface map[string]string
}

func newTestNet(t *testing.T) *testNet {
	t.Helper()
	if err := Available(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI must run the data plane's namespace tests: %v", err)
		}
		t.Skipf("needs nft and conntrack: %v", err)
	}
	n := &testNet{router: netlabtest.TestRouter(t)}
	var err error
	for _, h := range []**netlab.Host{&n.p, &n.t, &n.client} {
		if *h, err = n.router.AddHost(); err != nil {
			t.Fatal(err)
		}
	}
	for name, h := range map[string]*netlab.Host{"P": n.p, "T": n.t} {
		for _, port := range []string{"80", "22"} {
			serveName(t, h, port, name)
		}
	}
	n.routerInterface = map[string]string{"ether1": n.p.Iface, "ether2": n.t.Iface, "ether3": n.client.Iface}
	n.emulator = rosim.New(rosim.Options{Interfaces: []string{"ether1", "ether2", "ether3"}})
	t.Cleanup(n.emulator.Close)
	addr, err := n.emulator.ListenAndServe("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if n.api, _, err = routeros.New(routeros.OptionsFrom(config.Router{Address: addr.String(), User: "admin", Timeout: 5 * time.Second})); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.api.Close() })
	n.plane, err = Start(Options{NS: n.router.NS, Router: n.emulator, Interfaces: n.routerInterface,
		InInterface: func(src netip.Addr) string {
			if src == n.client.Addr {
				return "ether3"
			}
			return ""
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.plane.Close)
	return n
}

// serveName answers every connection to the host's port with name.
func serveName(t *testing.T, h *netlab.Host, port, name string) {
	ln, err := h.Listen("tcp", h.Addr.String()+":"+port)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte(name))
			c.Close()
		}
	}()
}

// dial connects from the client's namespace and returns who answered.
func (n *testNet) dial(to netip.Addr, port string) string {
	var c net.Conn
	if err := n.client.In(func() (err error) {
		c, err = net.DialTimeout("tcp", net.JoinHostPort(to.String(), port), time.Second)
		return err
	}); err != nil {
		return "error: " + err.Error()
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	b, _ := io.ReadAll(c)
	return string(b)
}

func (n *testNet) run(t *testing.T, words ...string) *routeros.Reply {
	t.Helper()
	r, err := n.api.Run(context.Background(), words...)
	if err != nil {
		t.Fatalf("%s: %v", strings.Join(words, " "), err)
	}
	return r
}

// A rule added over the API rewrites the client's new TCP connections to
// P so that they reach T, for the ports it names only; removed again, the
// client reaches P.
func TestRuleRewritesTCP(t *testing.T) {
	n := newTestNet(t)
	if got := n.dial(n.p.Addr, "80"); got != "P" {
		t.Fatalf("before the rule P:80 answered %q", got)
	}
	add := n.run(t, "/ip/firewall/nat/add", "=chain=dstnat", "=action=dst-nat", "=dst-address="+n.p.Addr.String(),
		"=to-addresses="+n.t.Addr.String(), "=protocol=tcp", "=dst-port=80,443", "=in-interface=ether3")
	testkit.Eventually(t, 5*time.Second, "P:80 answered by T", func() bool { return n.dial(n.p.Addr, "80") == "T" })
	if got := n.dial(n.p.Addr, "22"); got != "P" {
		t.Errorf("with the rule P:22 (not carried) answered %q, want P", got)
	}
	n.run(t, "/ip/firewall/nat/disable", "=.id="+add.Done["ret"])
	testkit.Eventually(t, 5*time.Second, "P:80 answered by P again", func() bool { return n.dial(n.p.Addr, "80") == "P" })
	if err := n.plane.Err(); err != nil {
		t.Fatal(err)
	}
}

// pinger is iputils ping running in the client's namespace; it notes each
// echo's outcome as ping prints it.
type pinger struct {
	mu sync.Mutex
	// replies and unanswered are when ping said an echo was answered, and
	// when (-O: as it sends the next one) that one still was not.
	replies, unanswered []time.Time
}

func startPing(t *testing.T, ns string, to netip.Addr) *pinger {
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", ns, "ping", "-n", "-O", "-i", "0.2", "-W", "1", to.String())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &pinger{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.mu.Lock()
			switch {
			case strings.Contains(sc.Text(), "bytes from"):
				p.replies = append(p.replies, time.Now())
			case strings.HasPrefix(sc.Text(), "no answer yet"):
				p.unanswered = append(p.unanswered, time.Now())
			}
			p.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		cmd.Wait()
	})
	return p
}

// repliesSince counts the replies after at.
func (p *pinger) repliesSince(at time.Time) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return countSince(p.replies, at)
}

// echoesSince counts the echoes ping has said the outcome of after at:
// answered, or still unanswered when it sent the next.
func (p *pinger) echoesSince(at time.Time) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return countSince(p.replies, at) + countSince(p.unanswered, at)
}

func countSince(times []time.Time, at time.Time) int {
	n := 0
	for _, t := range times {
		if t.After(at) {
			n++
		}
	}
	return n
}

// A ping in progress to a dead P keeps its conntrack entry, so a new rule
// alone does not carry it (NAT applies to new connections); removing its
// connection over the API, as the bridge does, removes the entry in the
// namespace and the next echo reaches T.
func TestConnectionRemovalCarriesAPing(t *testing.T) {
	n := newTestNet(t)
	if err := n.p.DropEcho(1); err != nil {
		t.Fatal(err)
	}
	ping := startPing(t, n.client.NS, n.p.Addr)
	query := []string{"/ip/firewall/connection/print", "?protocol=icmp", "?src-address=" + n.client.Addr.String(), "?dst-address=" + n.p.Addr.String()}
	testkit.Eventually(t, 5*time.Second, "the ping's connection mirrored on the router", func() bool {
		return len(n.run(t, query...).Rows) == 1
	})
	n.run(t, "/ip/firewall/nat/add", "=chain=dstnat", "=action=dst-nat", "=dst-address="+n.p.Addr.String(),
		"=to-addresses="+n.t.Addr.String(), "=protocol=icmp", "=src-address="+n.client.Addr.String())
	testkit.Eventually(t, 5*time.Second, "the rule in the namespace", func() bool {
		return strings.Contains(n.plane.Script(), "dnat to "+n.t.Addr.String())
	})
	applied := time.Now()
	// Five echoes on the old entry (a second's worth), counted as ping
	// tells each one's outcome rather than timed.
	testkit.Eventually(t, 5*time.Second, "five echoes on the old entry", func() bool { return ping.echoesSince(applied) >= 5 })
	if got := ping.repliesSince(applied); got != 0 {
		t.Fatalf("%d replies with the old entry still in place: the rule carried a connection it should not have", got)
	}
	for _, row := range n.run(t, query...).Rows {
		n.run(t, "/ip/firewall/connection/remove", "=.id="+row[".id"])
	}
	removed := time.Now()
	testkit.Eventually(t, 3*time.Second, "a reply from T after the connection was removed", func() bool {
		return ping.repliesSince(removed) > 0
	})
	if err := n.plane.Err(); err != nil {
		t.Fatal(err)
	}
}

// What the namespace cannot apply is said by Err, and cleared once the
// router's rules are applicable again.
func TestPlaneSaysWhatItCannotApply(t *testing.T) {
	n := newTestNet(t)
	add := n.run(t, "/ip/firewall/nat/add", "=chain=dstnat", "=connection-mark=x")
	testkit.Eventually(t, 5*time.Second, "an error naming the property", func() bool {
		err := n.plane.Err()
		return err != nil && strings.Contains(err.Error(), "connection-mark")
	})
	n.run(t, "/ip/firewall/nat/remove", "=.id="+add.Done["ret"])
	testkit.Eventually(t, 5*time.Second, "no error once the rule is gone", func() bool { return n.plane.Err() == nil })
}

// The bridge's shape (issue 25's contract): clients and exemptions as
// address lists, the hairpin masquerade. A client not in the list is not
// carried; listed, its new connections to P reach T. Runs where the
// emulator has /ip/firewall/address-list (the bridge's work adds it).
func TestAddressListRuleRewritesTCP(t *testing.T) {
	n := newTestNet(t)
	if !n.emulator.Firewall().HasAddressLists {
		t.Skip("this emulator has no /ip/firewall/address-list to name clients by")
	}
	p, to := n.p.Addr.String(), n.t.Addr.String()
	n.run(t, "/ip/firewall/address-list/add", "=list=failwatch-exempt-web", "=address="+n.router.Mgmt.Gateway.String())
	n.run(t, "/ip/firewall/nat/add", "=chain=dstnat", "=action=accept", "=dst-address="+p, "=src-address-list=failwatch-exempt-web", "=comment=C exempt")
	n.run(t, "/ip/firewall/nat/add", "=chain=dstnat", "=action=dst-nat", "=dst-address="+p, "=to-addresses="+to,
		"=protocol=tcp", "=dst-port=80", "=src-address-list=failwatch-clients-web", "=comment=C tcp")
	n.run(t, "/ip/firewall/nat/add", "=chain=srcnat", "=action=masquerade", "=dst-address="+to, "=src-address-list=failwatch-clients-web", "=comment=C hairpin")
	testkit.Eventually(t, 5*time.Second, "the rules in the namespace", func() bool { return strings.Contains(n.plane.Script(), "masquerade") })
	if got := n.dial(n.p.Addr, "80"); got != "P" {
		t.Fatalf("a client not in the list: P:80 answered %q, want P", got)
	}
	n.run(t, "/ip/firewall/address-list/add", "=list=failwatch-clients-web", "=address="+n.client.Addr.String())
	testkit.Eventually(t, 5*time.Second, "P:80 answered by T once the client is listed", func() bool { return n.dial(n.p.Addr, "80") == "T" })
	if err := n.plane.Err(); err != nil {
		t.Fatal(err)
	}
}
