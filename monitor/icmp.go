package monitor

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/failwatch/failwatch/config"
)

// ErrNoICMP says neither kind of ICMP socket can be opened, and how to fix it.
var ErrNoICMP = errors.New("cannot open an ICMP socket: either give the binary raw sockets " +
	"(sudo setcap cap_net_raw+ep $(command -v failwatch), or run as root), " +
	"or allow ping sockets for your group " +
	`(sudo sysctl -w net.ipv4.ping_group_range="0 2147483647")`)

// RTTTiming says how an ICMP round trip is timed and how far that is from
// ping, for the report and the dashboard's help (docs/BENCHMARKS.md, "RTT
// fidelity", scripts/bench-fidelity).
const RTTTiming = "round trips timed as iputils ping times them: the send in user space " +
	"just before sendto, the reply stamped by the kernel on arrival; against ping over a veth " +
	"pair, avg +0.007 ms on a quiet host, +0.014 ms with one core busy (docs/BENCHMARKS.md)"

// ICMP sends the echo requests of every ICMP check in the process through
// one socket per address family, and one reader per socket matches replies
// to probes by sequence number. pro-bing, the library this replaced, opens a
// socket per pinger: measured in docs/BENCHMARKS.md ("ICMP probing cost"),
// a long-lived pinger polls its socket about 20 times a second and costs
// about 20 times fping's CPU per probe, a pinger per probe about 4 times,
// and with N raw sockets open the kernel copies every ICMP packet N times.
type ICMP struct {
	privileged bool
	// Size is the echo payload in bytes; 56 as iputils ping sends by default.
	Size int
	// cookie marks this process's echoes: a raw socket sees every echo
	// reply on the host, and another failwatch may use the same identifier.
	cookie [8]byte

	mu      sync.Mutex
	sockets [2]*echoSocket // IPv4, IPv6; opened on first use
	closed  bool
}

// NewICMP chooses the socket kind: raw (privileged) sockets when allowed,
// else the kernel's datagram ping sockets, else ErrNoICMP. The IPv4 socket
// is opened now and kept; the IPv6 one when an IPv6 server is first probed.
func NewICMP(mode config.ICMPMode) (*ICMP, error) {
	p := &ICMP{Size: 56}
	if _, err := rand.Read(p.cookie[:]); err != nil {
		return nil, err
	}
	try := func(privileged bool) error {
		s, err := openEchoSocket(false, privileged, p.cookie)
		if err != nil {
			return err
		}
		p.privileged, p.sockets[0] = privileged, s
		return nil
	}
	switch mode {
	case config.ICMPPrivileged:
		if err := try(true); err != nil {
			return nil, fmt.Errorf("icmp_mode privileged: %v: %w", err, ErrNoICMP)
		}
		return p, nil
	case config.ICMPUnprivileged:
		if err := try(false); err != nil {
			return nil, fmt.Errorf("icmp_mode unprivileged: %v: %w", err, ErrNoICMP)
		}
		return p, nil
	}
	if try(true) == nil || try(false) == nil {
		return p, nil
	}
	return nil, ErrNoICMP
}

// Mode names the socket kind in use, for the report.
func (p *ICMP) Mode() string {
	if p.privileged {
		return "raw socket"
	}
	return "ping socket"
}

// Close closes the sockets; probes still waiting end as timeouts.
func (p *ICMP) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	var errs []error
	for i, s := range p.sockets {
		if s != nil {
			errs = append(errs, s.close())
			p.sockets[i] = nil
		}
	}
	return errors.Join(errs...)
}

func (p *ICMP) socket(v6 bool) (*echoSocket, error) {
	i := 0
	if v6 {
		i = 1
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, errors.New("ICMP prober closed")
	}
	if p.sockets[i] == nil {
		s, err := openEchoSocket(v6, p.privileged, p.cookie)
		if err != nil {
			return nil, err
		}
		p.sockets[i] = s
	}
	return p.sockets[i], nil
}

// Start sends one echo request and returns at once; done is called once,
// from another goroutine, with the reply or, after timeout, the loss. A
// probe so costs one map entry and one timer, no goroutine of its own.
func (p *ICMP) Start(addr netip.Addr, timeout time.Duration, done func(Sample)) {
	p.start(addr, timeout, done)
}

// Probe sends one echo request and waits for its reply until ctx's deadline
// (a second without one).
func (p *ICMP) Probe(ctx context.Context, addr netip.Addr) Sample {
	timeout := time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	if timeout <= 0 {
		return lost(time.Now(), "timeout")
	}
	got := make(chan Sample, 1)
	s, w := p.start(addr, timeout, func(x Sample) { got <- x })
	select {
	case x := <-got:
		return x
	case <-ctx.Done():
	}
	if w != nil && s.take(w) {
		return lost(w.sent, "timeout")
	}
	return <-got
}

// start is Start, returning the probe in flight (nil when it never left)
// so that Probe can withdraw it.
func (p *ICMP) start(addr netip.Addr, timeout time.Duration, done func(Sample)) (*echoSocket, *waiter) {
	addr = addr.Unmap()
	s, err := p.socket(addr.Is6())
	if err != nil {
		go done(notSent(time.Now(), "%v", err))
		return nil, nil
	}
	w := &waiter{addr: addr.WithZone(""), done: done}
	if err := s.add(w, timeout); err != nil {
		go done(notSent(time.Now(), "%v", err))
		return nil, nil
	}
	if err := s.send(addr, w.seq, max(p.Size, len(p.cookie))); err != nil {
		if s.take(w) {
			go done(notSent(w.sent, "%v", err))
		}
		return nil, nil
	}
	return s, w
}

// waiter is one probe in flight.
type waiter struct {
	addr  netip.Addr
	seq   uint16
	sent  time.Time
	timer *time.Timer
	done  func(Sample)
}

// pending is the part of an echo socket shared by senders and the reader.
type pending struct {
	mu      sync.Mutex
	next    uint16
	waiters map[uint16]*waiter
}

// add gives w a sequence number no probe in flight uses, arms its timeout,
// and stamps its send time last, as close to the send as it can be.
func (q *pending) add(w *waiter, timeout time.Duration) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.waiters == nil {
		q.waiters = map[uint16]*waiter{}
	}
	if len(q.waiters) > 0xffff {
		return errors.New("not sent: 65536 echo requests already in flight on one socket")
	}
	for {
		q.next++
		if _, busy := q.waiters[q.next]; !busy {
			break
		}
	}
	w.seq = q.next
	q.waiters[w.seq] = w
	w.timer = time.AfterFunc(timeout, func() {
		if q.take(w) {
			w.done(lost(w.sent, "timeout"))
		}
	})
	w.sent = time.Now()
	return nil
}

// take withdraws w if it is still in flight; only the caller that gets true
// may call w.done.
func (q *pending) take(w *waiter) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.waiters[w.seq] != w {
		return false
	}
	delete(q.waiters, w.seq)
	w.timer.Stop()
	return true
}

// answer hands a reply from addr to the probe waiting for seq. kernelNs is
// the kernel's arrival time (0 when it gave none); arrived is when the reader
// saw the reply, the fallback and the bound for a wall clock that stepped.
func (q *pending) answer(seq uint16, from netip.Addr, kernelNs int64, arrived time.Time) {
	q.mu.Lock()
	w, ok := q.waiters[seq]
	if ok && w.addr == from.WithZone("") {
		delete(q.waiters, seq)
		w.timer.Stop()
	} else {
		ok = false
	}
	q.mu.Unlock()
	if !ok {
		return
	}
	rtt := arrived.Sub(w.sent)
	if kernelNs != 0 {
		if k := time.Duration(kernelNs - w.sent.UnixNano()); k >= 0 && k <= rtt {
			rtt = k
		}
	}
	w.done(Sample{At: w.sent, RTT: rtt, OK: true})
}

// notSent builds the sample of a probe that never left: the check fails,
// but the probe is not counted as transmitted.
func notSent(at time.Time, format string, args ...any) Sample {
	return Sample{At: at, Err: fmt.Sprintf(format, args...), NotSent: true}
}
