package netlab

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Available says why hosts cannot be built here, or nil when they can.
func Available() error {
	if os.Geteuid() != 0 {
		return errors.New("network namespaces need root")
	}
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s is not installed (apt-get install iproute2 nftables)", tool)
		}
	}
	name := fmt.Sprintf("fwprobe%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		return fmt.Errorf("ip netns add: %v: %s", err, bytes.TrimSpace(out))
	}
	return exec.Command("ip", "netns", "del", name).Run()
}

// Host is a test host: a namespace with one veth interface and an address.
type Host struct {
	// NS is the namespace's name, as `ip netns` knows it.
	NS string
	// Addr is the host's address; Gateway is the other end of the link
	// (this namespace's, or the router namespace's for a host behind one).
	Addr, Gateway netip.Addr
	// Iface is the link's other end: the interface the host is reached by;
	// Dev is the host's own end, inside NS.
	Iface, Dev string
	// outerNS is the namespace Iface is in ("" for this one); routed is
	// the host's subnet when this namespace routes it through a router.
	outerNS, routed string
	// echoes are the echo requests DelayEcho answered.
	echoes echoLog
}

var seq atomic.Int32

// labRange is RFC 2544's benchmarking range, where every host lives.
var labRange = netip.MustParsePrefix("198.18.0.0/15")

// NewHost builds a host on the first free /30 of 198.18.0.0/15, joined to
// this namespace. A lock file keeps test processes running side by side from
// picking the same subnet.
func NewHost() (*Host, error) {
	return newHost("", netip.Addr{})
}

// newHost builds a host whose link's other end is in namespace outerNS (""
// for this one). A host behind a router namespace gets a route in this
// namespace through the router (via), which also marks its subnet as taken.
func newHost(outerNS string, via netip.Addr) (*Host, error) {
	unlock, err := lockLab()
	if err != nil {
		return nil, err
	}
	defer unlock()
	gw, err := freeSubnet()
	if err != nil {
		return nil, err
	}
	addr := gw.Next()
	n := seq.Add(1)
	pid := os.Getpid() % 100000
	h := &Host{
		NS:      fmt.Sprintf("fw%d-%d", pid, n),
		Addr:    addr,
		Gateway: gw,
		Iface:   fmt.Sprintf("fwo%d-%d", pid, n),
		outerNS: outerNS,
	}
	inner := fmt.Sprintf("fwi%d-%d", pid, n)
	h.Dev = inner
	steps := [][]string{
		{"netns", "add", h.NS},
		h.outerArgs("link", "add", h.Iface, "type", "veth", "peer", "name", inner),
		h.outerArgs("link", "set", inner, "netns", h.NS),
		h.outerArgs("addr", "add", gw.String()+"/30", "dev", h.Iface),
		h.outerArgs("link", "set", h.Iface, "up"),
		{"-n", h.NS, "addr", "add", addr.String() + "/30", "dev", inner},
		{"-n", h.NS, "link", "set", inner, "up"},
		{"-n", h.NS, "link", "set", "lo", "up"},
		{"-n", h.NS, "route", "add", "default", "via", gw.String()},
	}
	if via.IsValid() {
		h.routed = netip.PrefixFrom(gw, 30).Masked().String()
		steps = append(steps, []string{"route", "add", h.routed, "via", via.String()})
	}
	for _, args := range steps {
		if err := ipCmd(args...); err != nil {
			h.Close()
			return nil, err
		}
	}
	return h, nil
}

// lockLab takes the lab's lock and makes sure nothing addressed to the
// lab's range can leave the machine; the caller calls unlock.
func lockLab() (unlock func(), err error) {
	lock, err := os.OpenFile(lockPath(), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("netlab lock: %w", err)
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		lock.Close()
		return nil, fmt.Errorf("netlab lock: %w", err)
	}
	// Nothing addressed to the lab's range may ever take the default route
	// off this machine, not even to a host whose link is down or gone.
	if err := ipCmd("route", "replace", "unreachable", labRange.String()); err != nil {
		lock.Close()
		return nil, err
	}
	return func() { lock.Close() }, nil
}

// lockPath is one file for every process on the machine: not under
// $TMPDIR, which differs between shells, CI steps and `go test` runs, so two
// checkouts tested side by side would each take a lock of their own and pick
// the same subnet. /run/lock is the FHS place for such locks (the lab needs
// root, which may write there); without it, the temporary directory.
func lockPath() string {
	if st, err := os.Stat("/run/lock"); err == nil && st.IsDir() {
		return "/run/lock/failwatch-netlab.lock"
	}
	return os.TempDir() + "/failwatch-netlab.lock"
}

func ipCmd(args ...string) error {
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// freeSubnet returns the first address .4n+1 of a /30 in 198.18.0.0/15
// that no interface of this namespace uses.
func freeSubnet() (netip.Addr, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return netip.Addr{}, fmt.Errorf("list addresses: %w", err)
	}
	used := map[netip.Addr]bool{}
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			used[p.Addr()] = true
		}
	}
	// Hosts behind a router namespace have their addresses there; their
	// subnets show here as routes through it.
	out, err := exec.Command("ip", "-4", "-o", "route", "show").Output()
	if err != nil {
		return netip.Addr{}, fmt.Errorf("list routes: %w", err)
	}
	for line := range strings.Lines(string(out)) {
		if p, err := netip.ParsePrefix(strings.Fields(line)[0]); err == nil && p.Bits() == 30 {
			used[p.Masked().Addr().Next()] = true
		}
	}
	for a := labRange.Addr(); labRange.Contains(a); {
		gw := a.Next()
		if !used[gw] {
			return gw, nil
		}
		for range 4 {
			a = a.Next()
		}
	}
	return netip.Addr{}, errors.New("no free subnet left in 198.18.0.0/15")
}

// Close removes the namespace, which takes the veth pair with it.
func (h *Host) Close() error {
	if h.routed != "" {
		exec.Command("ip", "route", "del", h.routed).Run()
	}
	exec.Command("ip", h.outerArgs("link", "del", h.Iface)...).Run()
	if out, err := exec.Command("ip", "netns", "del", h.NS).CombinedOutput(); err != nil {
		return fmt.Errorf("ip netns del %s: %v: %s", h.NS, err, bytes.TrimSpace(out))
	}
	return nil
}

// NFT loads an nft script inside the host's namespace.
func (h *Host) NFT(script string) error {
	cmd := exec.Command("ip", "netns", "exec", h.NS, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("nft in %s: %v: %s", h.NS, err, bytes.TrimSpace(out))
	}
	return nil
}

// The nft table every fault lives in; replacing it replaces the fault.
const faultTable = "inet failwatch_fault"

// DropEcho drops incoming echo requests: every one when every is 1,
// otherwise one in every `every`, the first of each group (a deterministic
// pattern: requests 1, 1+every, 1+2*every, ... are lost).
func (h *Host) DropEcho(every int) error {
	match := "icmp type echo-request"
	if every > 1 {
		match += fmt.Sprintf(" numgen inc mod %d == 0", every)
	}
	return h.NFT(fmt.Sprintf("table %s\ndelete table %s\ntable %s {\n chain input {\n  type filter hook input priority 0; policy accept;\n  %s drop\n }\n}\n",
		faultTable, faultTable, faultTable, match))
}

// SetLink takes the host's link down (the cable pulled) or back up.
func (h *Host) SetLink(up bool) error {
	state := "down"
	if up {
		state = "up"
	}
	return ipCmd(h.outerArgs("link", "set", h.Iface, state)...)
}

// outerArgs are ip's arguments for the link's other end.
func (h *Host) outerArgs(args ...string) []string {
	if h.outerNS == "" {
		return args
	}
	return append([]string{"-n", h.outerNS}, args...)
}

// ClearFaults removes every fault.
func (h *Host) ClearFaults() error {
	return h.NFT(fmt.Sprintf("table %s\ndelete table %s\n", faultTable, faultTable))
}

// In runs open on a thread inside the host's namespace: sockets it opens
// stay in the namespace while this process serves them.
func (h *Host) In(open func() error) error {
	return inNS(h.NS, open)
}

// inNS runs open on a thread inside namespace ns.
func inNS(ns string, open func() error) error {
	done := make(chan error, 1)
	go func() {
		// The thread is left locked on purpose: when this goroutine ends
		// the runtime throws the thread away rather than reuse one whose
		// namespace was changed.
		runtime.LockOSThread()
		f, err := os.Open("/run/netns/" + ns)
		if err != nil {
			done <- err
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			done <- fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		done <- open()
	}()
	return <-done
}

// Listen opens a listening socket inside the host's namespace, so a test
// can run a server "on" the host without a helper process.
func (h *Host) Listen(network, address string) (net.Listener, error) {
	var ln net.Listener
	err := h.In(func() (err error) {
		ln, err = net.Listen(network, address)
		return err
	})
	return ln, err
}
