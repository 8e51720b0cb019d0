package monitor

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// ICMP message types of an echo.
const (
	echoRequest4, echoReply4 = 8, 0
	echoRequest6, echoReply6 = 128, 129
)

// echoSocket is one ICMP socket shared by every probe of one address family.
type echoSocket struct {
	pending
	v6, raw bool
	// id is the echo identifier of a raw socket's requests, which its filter
	// matches; a ping socket's is the kernel's, which demultiplexes replies.
	id     uint16
	cookie [8]byte
	conn   net.PacketConn
	sys    syscall.RawConn
	done   chan struct{}
}

// openEchoSocket opens a raw (privileged) or ping socket for one family,
// asks the kernel to time-stamp arrivals, filters a raw socket down to this
// socket's echo replies in the kernel, and starts its reader.
func openEchoSocket(v6, privileged bool, cookie [8]byte) (*echoSocket, error) {
	family, proto := unix.AF_INET, unix.IPPROTO_ICMP
	if v6 {
		family, proto = unix.AF_INET6, unix.IPPROTO_ICMPV6
	}
	typ := unix.SOCK_DGRAM
	if privileged {
		typ = unix.SOCK_RAW
	}
	fd, err := unix.Socket(family, typ|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	s := &echoSocket{v6: v6, raw: privileged, cookie: cookie, done: make(chan struct{})}
	if err := s.setup(fd); err != nil {
		unix.Close(fd)
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "icmp")
	s.conn, err = net.FilePacketConn(f)
	f.Close()
	if err != nil {
		return nil, err
	}
	if s.sys, err = s.conn.(syscall.Conn).SyscallConn(); err != nil {
		s.conn.Close()
		return nil, err
	}
	go s.read()
	return s, nil
}

func (s *echoSocket) setup(fd int) error {
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
		return os.NewSyscallError("setsockopt SO_TIMESTAMPNS", err)
	}
	if !s.raw {
		return nil
	}
	var b [2]byte
	if _, err := rand.Read(b[:]); err != nil {
		return err
	}
	s.id = binary.BigEndian.Uint16(b[:])
	if s.v6 {
		// Only echo replies reach the filter below.
		var f unix.ICMPv6Filter
		for i := range f.Data {
			f.Data[i] = 0xffffffff
		}
		f.Data[echoReply6>>5] &^= 1 << (echoReply6 & 31)
		if err := unix.SetsockoptICMPv6Filter(fd, unix.SOL_ICMPV6, unix.ICMPV6_FILTER, &f); err != nil {
			return os.NewSyscallError("setsockopt ICMPV6_FILTER", err)
		}
	}
	prog, err := bpf.Assemble(replyFilter(s.v6, s.id))
	if err != nil {
		return err
	}
	filter := make([]unix.SockFilter, len(prog))
	for i, ins := range prog {
		filter[i] = unix.SockFilter{Code: ins.Op, Jt: ins.Jt, Jf: ins.Jf, K: ins.K}
	}
	fprog := unix.SockFprog{Len: uint16(len(filter)), Filter: unsafe.SliceData(filter)}
	if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fprog); err != nil {
		return os.NewSyscallError("setsockopt SO_ATTACH_FILTER", err)
	}
	return nil
}

// replyFilter keeps the echo replies carrying id: a raw socket otherwise
// gets every ICMP packet of the host, on loopback even our own requests.
// An IPv4 raw socket sees the IP header, whose length varies: its loads
// are from X, set to that length first; an IPv6 one sees the ICMP header
// at 0.
func replyFilter(v6 bool, id uint16) []bpf.Instruction {
	var prog []bpf.Instruction
	reply := uint32(echoReply6)
	load := func(off uint32, size int) bpf.Instruction { return bpf.LoadAbsolute{Off: off, Size: size} }
	if !v6 {
		prog = append(prog, bpf.LoadMemShift{Off: 0})
		reply = echoReply4
		load = func(off uint32, size int) bpf.Instruction { return bpf.LoadIndirect{Off: off, Size: size} }
	}
	// The ICMP type, then the identifier.
	return append(prog,
		load(0, 1),
		bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: reply, SkipTrue: 3},
		load(4, 2),
		bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: uint32(id), SkipTrue: 1},
		bpf.RetConstant{Val: 0xffff},
		bpf.RetConstant{Val: 0},
	)
}

// send writes one echo request with the given sequence number.
func (s *echoSocket) send(addr netip.Addr, seq uint16, size int) error {
	msg := make([]byte, 8+size)
	msg[0] = echoRequest4
	if s.v6 {
		msg[0] = echoRequest6
	}
	binary.BigEndian.PutUint16(msg[4:], s.id)
	binary.BigEndian.PutUint16(msg[6:], seq)
	copy(msg[8:], s.cookie[:])
	if !s.v6 {
		// The kernel sums ICMPv6 and a ping socket's requests itself.
		binary.BigEndian.PutUint16(msg[2:], checksum(msg))
	}
	var sa unix.Sockaddr
	if s.v6 {
		sa6 := &unix.SockaddrInet6{Addr: addr.As16()}
		if z := addr.Zone(); z != "" {
			ifi, err := net.InterfaceByName(z)
			if err != nil {
				return fmt.Errorf("not sent: zone %s: %w", z, err)
			}
			sa6.ZoneId = uint32(ifi.Index)
		}
		sa = sa6
	} else {
		sa = &unix.SockaddrInet4{Addr: addr.As4()}
	}
	var serr error
	err := s.sys.Write(func(fd uintptr) bool {
		serr = unix.Sendto(int(fd), msg, 0, sa)
		return !errors.Is(serr, unix.EAGAIN)
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("not sent: sendto: %w", err)
	}
	return nil
}

// checksum is the Internet checksum (RFC 1071) of b.
func checksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

// read hands every reply to its probe until the socket is closed. The
// arrival time is the kernel's stamp, so the reader's own scheduling does
// not land in the round trip.
func (s *echoSocket) read() {
	defer close(s.done)
	buf := make([]byte, 1<<16)
	oob := make([]byte, unix.CmsgSpace(int(unsafe.Sizeof(unix.Timespec{}))))
	for {
		var n, oobn int
		var from unix.Sockaddr
		var rerr error
		err := s.sys.Read(func(fd uintptr) bool {
			n, oobn, _, from, rerr = unix.Recvmsg(int(fd), buf, oob, 0)
			return !errors.Is(rerr, unix.EAGAIN)
		})
		arrived := time.Now()
		if err != nil {
			return
		}
		if rerr != nil {
			continue
		}
		switch sa := from.(type) {
		case *unix.SockaddrInet4:
			s.reply(buf[:n], netip.AddrFrom4(sa.Addr), kernelStamp(oob[:oobn]), arrived)
		case *unix.SockaddrInet6:
			s.reply(buf[:n], netip.AddrFrom16(sa.Addr), kernelStamp(oob[:oobn]), arrived)
		}
	}
}

// reply answers the probe a packet from addr is the reply to, if any.
func (s *echoSocket) reply(b []byte, addr netip.Addr, kernelNs int64, arrived time.Time) {
	if s.raw && !s.v6 {
		// A raw IPv4 socket gets the IP header first.
		if len(b) < 20 || len(b) < int(b[0]&0x0f)*4 {
			return
		}
		b = b[int(b[0]&0x0f)*4:]
	}
	want := byte(echoReply4)
	if s.v6 {
		want = echoReply6
	}
	if len(b) < 8+len(s.cookie) || b[0] != want || string(b[8:8+len(s.cookie)]) != string(s.cookie[:]) {
		return
	}
	if s.raw && binary.BigEndian.Uint16(b[4:]) != s.id {
		return
	}
	s.answer(binary.BigEndian.Uint16(b[6:]), addr, kernelNs, arrived)
}

// kernelStamp returns the SO_TIMESTAMPNS arrival time in nanoseconds since
// the epoch, or 0 when the message carries none.
func kernelStamp(oob []byte) int64 {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return 0
	}
	for _, m := range msgs {
		if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SCM_TIMESTAMPNS &&
			len(m.Data) >= int(unsafe.Sizeof(unix.Timespec{})) {
			ts := (*unix.Timespec)(unsafe.Pointer(&m.Data[0]))
			return ts.Nano()
		}
	}
	return 0
}

func (s *echoSocket) close() error {
	err := s.conn.Close()
	<-s.done
	return err
}
