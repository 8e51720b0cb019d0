package netlab

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os/exec"
	"sync"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
)

// DelayEcho makes the host answer pings after a delay drawn from a normal
// distribution, as a far server would. The kernel has no netem here, so the
// delay is made in user space: the host's kernel stops answering echo
// requests (net.ipv4.icmp_echo_ignore_all in its namespace) and a raw socket
// inside the namespace answers each one after the delay. nft faults still
// apply, since they drop requests before any socket sees them. It answers
// until ctx ends.
func (h *Host) DelayEcho(ctx context.Context, mean, mdev time.Duration) error {
	return h.delayEcho(ctx, mean, mdev, nil, nil)
}

func (h *Host) delayEcho(ctx context.Context, mean, mdev time.Duration, loss Loss, slow Slowdown) error {
	if out, err := exec.Command("ip", "netns", "exec", h.NS, "sysctl", "-qw", "net.ipv4.icmp_echo_ignore_all=1").CombinedOutput(); err != nil {
		return fmt.Errorf("sysctl in %s: %v: %s", h.NS, err, out)
	}
	var conn *icmp.PacketConn
	if err := h.In(func() (err error) {
		conn, err = icmp.ListenPacket("ip4:icmp", h.Addr.String())
		return err
	}); err != nil {
		return fmt.Errorf("echo responder in %s: %w", h.NS, err)
	}
	go func() {
		<-ctx.Done()
		conn.Close()
	}()
	rng := rand.New(rand.NewPCG(uint64(mean), uint64(mdev)))
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			msg, err := icmp.ParseMessage(1, buf[:n])
			if err != nil || msg.Type != ipv4.ICMPTypeEcho {
				continue
			}
			echo, ok := msg.Body.(*icmp.Echo)
			if !ok || (loss != nil && loss.Lose(time.Now())) {
				continue
			}
			h.echoes.add(from, echo)
			delay := max(mean+time.Duration(rng.NormFloat64()*float64(mdev)), 0)
			if slow != nil {
				delay += slow.Extra(time.Now())
			}
			reply, err := (&icmp.Message{Type: ipv4.ICMPTypeEchoReply, Body: echo}).Marshal(nil)
			if err != nil {
				continue
			}
			time.AfterFunc(delay, func() { conn.WriteTo(reply, from.(*net.IPAddr)) })
		}
	}()
	return nil
}

// Echo is an echo request the host answered: when it came, from whom,
// with which sequence number.
type Echo struct {
	At   time.Time
	From netip.Addr
	Seq  int
}

// maxEchoes bounds the log: the lab's runs send far fewer.
const maxEchoes = 10000

// echoLog keeps the last maxEchoes echoes answered.
type echoLog struct {
	mu   sync.Mutex
	list []Echo
}

func (l *echoLog) add(from net.Addr, e *icmp.Echo) {
	ip, ok := from.(*net.IPAddr)
	if !ok {
		return
	}
	addr, _ := netip.AddrFromSlice(ip.IP)
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.list) >= maxEchoes {
		l.list = l.list[1:]
	}
	l.list = append(l.list, Echo{At: time.Now(), From: addr.Unmap(), Seq: e.Seq})
}

// Echoes are the echo requests DelayEcho answered from one address, the
// last 10000 at most: who a client's ping really reached, whatever address
// the reply came back from (a destination NAT rewrites it).
func (h *Host) Echoes(from netip.Addr) []Echo {
	h.echoes.mu.Lock()
	defer h.echoes.mu.Unlock()
	var out []Echo
	for _, e := range h.echoes.list {
		if e.From == from {
			out = append(out, e)
		}
	}
	return out
}
