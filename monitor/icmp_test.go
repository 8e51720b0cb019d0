package monitor

import (
	"context"
	"encoding/binary"
	"net/netip"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/bpf"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/netlab/netlabtest"
)

// echo builds an ICMP echo message: type, id, seq, then the payload.
func echo(typ byte, id, seq uint16, payload []byte) []byte {
	b := make([]byte, 8, 8+len(payload))
	b[0] = typ
	binary.BigEndian.PutUint16(b[4:], id)
	binary.BigEndian.PutUint16(b[6:], seq)
	return append(b, payload...)
}

// ipv4 prefixes b with an IPv4 header of the given length in bytes.
func ipv4(headerLen int, b []byte) []byte {
	h := make([]byte, headerLen)
	h[0] = 0x40 | byte(headerLen/4)
	h[9] = 1
	return append(h, b...)
}

// The raw socket's kernel filter keeps only this socket's echo replies,
// whatever the IPv4 header's length.
func TestReplyFilter(t *testing.T) {
	const id = 0xbeef
	tests := []struct {
		name   string
		v6     bool
		packet []byte
		keep   bool
	}{
		{"v4 reply", false, ipv4(20, echo(echoReply4, id, 1, nil)), true},
		{"v4 reply after IP options", false, ipv4(24, echo(echoReply4, id, 1, nil)), true},
		{"v4 reply to another pinger", false, ipv4(20, echo(echoReply4, id+1, 1, nil)), false},
		{"v4 our own request on loopback", false, ipv4(20, echo(echoRequest4, id, 1, nil)), false},
		{"v4 unreachable", false, ipv4(20, echo(3, id, 1, nil)), false},
		{"v6 reply", true, echo(echoReply6, id, 1, nil), true},
		{"v6 reply to another pinger", true, echo(echoReply6, 7, 1, nil), false},
		{"v6 request", true, echo(echoRequest6, id, 1, nil), false},
	}
	for _, tt := range tests {
		vm, err := bpf.NewVM(replyFilter(tt.v6, id))
		if err != nil {
			t.Fatal(err)
		}
		n, err := vm.Run(tt.packet)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if (n > 0) != tt.keep {
			t.Errorf("%s: filter kept %d bytes, want keep=%v", tt.name, n, tt.keep)
		}
	}
}

// Only a reply from the probed address, with this process's cookie, this
// socket's identifier and a sequence in flight answers a probe; the round
// trip is the kernel's stamp unless the wall clock stepped.
func TestEchoReplyMatching(t *testing.T) {
	cookie := [8]byte{1, 2, 3, 4, 5, 6, 7, 8}
	other := [8]byte{9, 9, 9, 9, 9, 9, 9, 9}
	server := netip.MustParseAddr("192.0.2.7")
	stranger := netip.MustParseAddr("192.0.2.8")
	const id = 0x1234
	tests := []struct {
		name   string
		from   netip.Addr
		packet func(seq uint16) []byte
		kernel func(sent time.Time) int64
		want   bool
		rtt    time.Duration
	}{
		{"reply", server, func(seq uint16) []byte { return ipv4(20, echo(echoReply4, id, seq, cookie[:])) },
			func(sent time.Time) int64 { return sent.Add(3 * time.Millisecond).UnixNano() }, true, 3 * time.Millisecond},
		{"no kernel stamp", server, func(seq uint16) []byte { return ipv4(20, echo(echoReply4, id, seq, cookie[:])) },
			func(time.Time) int64 { return 0 }, true, 10 * time.Millisecond},
		{"stamp after arrival: clock stepped", server, func(seq uint16) []byte { return ipv4(20, echo(echoReply4, id, seq, cookie[:])) },
			func(sent time.Time) int64 { return sent.Add(time.Hour).UnixNano() }, true, 10 * time.Millisecond},
		{"another process's cookie", server, func(seq uint16) []byte { return ipv4(20, echo(echoReply4, id, seq, other[:])) }, nil, false, 0},
		{"another address", stranger, func(seq uint16) []byte { return ipv4(20, echo(echoReply4, id, seq, cookie[:])) }, nil, false, 0},
		{"another identifier", server, func(seq uint16) []byte { return ipv4(20, echo(echoReply4, id+1, seq, cookie[:])) }, nil, false, 0},
		{"a sequence not in flight", server, func(seq uint16) []byte { return ipv4(20, echo(echoReply4, id, seq+1, cookie[:])) }, nil, false, 0},
		{"a request", server, func(seq uint16) []byte { return ipv4(20, echo(echoRequest4, id, seq, cookie[:])) }, nil, false, 0},
		{"cut short", server, func(seq uint16) []byte { return ipv4(20, echo(echoReply4, id, seq, cookie[:4])) }, nil, false, 0},
		{"header longer than the packet", server, func(uint16) []byte { return []byte{0x4f, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0} }, nil, false, 0},
	}
	for _, tt := range tests {
		s := &echoSocket{raw: true, id: id, cookie: cookie}
		got := make(chan Sample, 1)
		w := &waiter{addr: server, done: func(x Sample) { got <- x }}
		if err := s.add(w, time.Hour); err != nil {
			t.Fatal(err)
		}
		seq := w.seq
		var stamp int64
		if tt.kernel != nil {
			stamp = tt.kernel(w.sent)
		}
		arrived := w.sent.Add(10 * time.Millisecond)
		s.reply(tt.packet(seq), tt.from, stamp, arrived)
		select {
		case x := <-got:
			if !tt.want || !x.OK || x.RTT != tt.rtt || x.At != w.sent {
				t.Errorf("%s: answered with %+v, want answered=%v rtt %v", tt.name, x, tt.want, tt.rtt)
			}
		default:
			if tt.want {
				t.Errorf("%s: not answered", tt.name)
			}
			s.take(w)
		}
	}
}

// A probe whose request cannot leave (no route) is not sent, not lost: the
// check goes down, but nothing counts as transmitted.
func TestICMPNotSent(t *testing.T) {
	netlabtest.TestHost(t) // installs the lab range's unreachable route
	icmp := labICMP(t)
	// The last /30 of the lab range: no host there, so no route but the
	// unreachable one.
	s := config.Server{Name: "gone", Address: "198.19.255.254", Checks: []config.Check{{Kind: config.ICMP}}}
	_, st, err := runServer(t, context.Background(), s, Options{Probe: fastProbe(), Count: 5, ICMP: icmp})
	if err != nil {
		t.Fatal(err)
	}
	c := st.Checks[0]
	if c.Lifetime.Sent != 0 || c.Lifetime.NotSent != 5 || c.State != Down || !strings.Contains(c.LastErr, "not sent") {
		t.Errorf("state %v, lifetime %+v, last error %q", c.State, c.Lifetime, c.LastErr)
	}
}

// Datagram ping sockets (no privilege, the kernel matches replies) work
// where ping_group_range allows them: set inside a namespace of the test's.
func TestICMPPingSocket(t *testing.T) {
	h := netlabtest.TestHost(t)
	if out, err := exec.Command("ip", "netns", "exec", h.NS, "sysctl", "-qw", "net.ipv4.ping_group_range=0 2147483647").CombinedOutput(); err != nil {
		t.Fatalf("sysctl: %v: %s", err, out)
	}
	var icmp *ICMP
	if err := h.In(func() (err error) {
		icmp, err = NewICMP(config.ICMPUnprivileged)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer icmp.Close()
	if icmp.Mode() != "ping socket" {
		t.Fatalf("mode %q", icmp.Mode())
	}
	for _, addr := range []netip.Addr{netip.MustParseAddr("127.0.0.1"), h.Gateway} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		s := icmp.Probe(ctx, addr)
		cancel()
		if !s.OK || s.RTT <= 0 {
			t.Errorf("%s: %+v", addr, s)
		}
	}
}

// Two probers in one process, each with its raw socket seeing every reply,
// probing the same addresses at once: every probe gets its own reply, and
// nothing stays in flight afterwards.
func TestICMPConcurrentProbers(t *testing.T) {
	a, b := labICMP(t), labICMP(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var bad []Sample
	for i := range 200 {
		p := a
		if i%2 == 1 {
			p = b
		}
		addr := netip.AddrFrom4([4]byte{127, 0, 0, byte(1 + i%20)})
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			if s := p.Probe(ctx, addr); !s.OK {
				mu.Lock()
				bad = append(bad, s)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(bad) > 0 {
		t.Errorf("%d of 200 probes failed, first %+v", len(bad), bad[0])
	}
	for _, p := range []*ICMP{a, b} {
		s, _ := p.socket(false)
		s.mu.Lock()
		n := len(s.waiters)
		s.mu.Unlock()
		if n != 0 {
			t.Errorf("%d probes still in flight", n)
		}
	}
}
