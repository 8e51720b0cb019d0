package monitor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	probing "github.com/prometheus-community/pro-bing"
	"golang.org/x/net/icmp"

	"github.com/failwatch/failwatch/config"
)

// ErrNoICMP says neither kind of ICMP socket can be opened, and how to fix it.
var ErrNoICMP = errors.New("cannot open an ICMP socket: either give the binary raw sockets " +
	"(sudo setcap cap_net_raw+ep $(command -v failwatch), or run as root), " +
	"or allow ping sockets for your group " +
	`(sudo sysctl -w net.ipv4.ping_group_range="0 2147483647")`)

// ICMP sends echo requests with pro-bing, one short-lived pinger per probe:
// a lost reply then costs nothing after its timeout, so memory stays flat
// however long a server stays down, and overlapping probes cannot mix up.
type ICMP struct {
	privileged bool
	// Size is the echo payload in bytes; 56 as iputils ping sends by default.
	Size int
}

// NewICMP chooses the socket kind: raw (privileged) sockets when allowed,
// else the kernel's datagram ping sockets, else ErrNoICMP.
func NewICMP(mode config.ICMPMode) (*ICMP, error) {
	try := func(network string) error {
		c, err := icmp.ListenPacket(network, "")
		if err != nil {
			return err
		}
		return c.Close()
	}
	switch mode {
	case config.ICMPPrivileged:
		if err := try("ip4:icmp"); err != nil {
			return nil, fmt.Errorf("icmp_mode privileged: %v: %w", err, ErrNoICMP)
		}
		return &ICMP{privileged: true, Size: 56}, nil
	case config.ICMPUnprivileged:
		if err := try("udp4"); err != nil {
			return nil, fmt.Errorf("icmp_mode unprivileged: %v: %w", err, ErrNoICMP)
		}
		return &ICMP{Size: 56}, nil
	}
	if try("ip4:icmp") == nil {
		return &ICMP{privileged: true, Size: 56}, nil
	}
	if try("udp4") == nil {
		return &ICMP{Size: 56}, nil
	}
	return nil, ErrNoICMP
}

// Probe sends one echo request and waits for its reply until ctx's deadline.
func (p *ICMP) Probe(ctx context.Context, addr netip.Addr) Sample {
	start := time.Now()
	timeout := time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	if timeout <= 0 {
		return lost(start, "timeout")
	}
	pinger := probing.New("")
	pinger.SetIPAddr(&net.IPAddr{IP: addr.AsSlice(), Zone: addr.Zone()})
	pinger.SetPrivileged(p.privileged)
	pinger.SetLogger(probing.NoopLogger{})
	pinger.Count = 1
	pinger.Timeout = timeout
	pinger.Size = max(p.Size, 24)
	pinger.RecordRtts = false
	pinger.RecordTTLs = false
	var rtt time.Duration
	got := false
	pinger.OnRecv = func(pkt *probing.Packet) { rtt, got = pkt.Rtt, true }
	err := pinger.RunWithContext(ctx)
	switch {
	case got:
		return Sample{At: start, RTT: rtt, OK: true}
	case err != nil && ctx.Err() == nil:
		return lost(start, "%v", err)
	}
	return lost(start, "timeout")
}
