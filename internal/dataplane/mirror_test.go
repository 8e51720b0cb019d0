package dataplane

import (
	"net/netip"
	"testing"

	"github.com/failwatch/failwatch/routeros/rosim"
)

// conntrack's event lines, as conntrack 1.4.7 prints them, read into the
// connection the emulator tracks.
func TestParseEvent(t *testing.T) {
	ap := netip.MustParseAddrPort
	for _, tc := range []struct {
		line string
		kind string
		want rosim.Conn
		ok   bool
	}{
		{"    [NEW] icmp     1 30 src=198.18.0.10 dst=198.18.0.2 type=8 code=0 id=32453 [UNREPLIED] src=198.18.0.2 dst=198.18.0.10 type=0 code=0 id=32453",
			"[NEW]", rosim.Conn{Protocol: "icmp", Src: ap("198.18.0.10:0"), Dst: ap("198.18.0.2:0"), ICMPID: 32453}, true},
		{"    [NEW] tcp      6 120 SYN_SENT src=198.18.0.10 dst=198.18.0.2 sport=37244 dport=80 [UNREPLIED] src=198.18.0.2 dst=198.18.0.10 sport=80 dport=37244",
			"[NEW]", rosim.Conn{Protocol: "tcp", Src: ap("198.18.0.10:37244"), Dst: ap("198.18.0.2:80"), TCPState: "syn-sent"}, true},
		{"[DESTROY] udp      17 src=198.18.0.10 dst=198.18.0.1 sport=5353 dport=53 src=198.18.0.1 dst=198.18.0.10 sport=53 dport=5353 [ASSURED]",
			"[DESTROY]", rosim.Conn{Protocol: "udp", Src: ap("198.18.0.10:5353"), Dst: ap("198.18.0.1:53")}, true},
		// A line of conntrack -L, as the mirror reads it at start.
		{"[NEW] " + "icmp     1 29 src=127.0.0.1 dst=127.0.0.1 type=8 code=0 id=1 src=127.0.0.1 dst=127.0.0.1 type=0 code=0 id=1 mark=0 use=1",
			"[NEW]", rosim.Conn{Protocol: "icmp", Src: ap("127.0.0.1:0"), Dst: ap("127.0.0.1:0"), ICMPID: 1}, true},
		{"    [NEW] gre      47 30 src=198.18.0.10 dst=198.18.0.2 srckey=0x0 dstkey=0x0", "", rosim.Conn{}, false},
		{"    [NEW] tcp      6 120 SYN_SENT src=198.18.0.10 dst=198.18.0.2 sport=x dport=80", "", rosim.Conn{}, false},
		{"conntrack v1.4.7 (conntrack-tools): 4 flow events have been shown.", "", rosim.Conn{}, false},
	} {
		kind, c, _, ok := parseEvent(tc.line)
		if ok != tc.ok || ok && (kind != tc.kind || c != tc.want) {
			t.Errorf("%q: got %s %+v %v, want %s %+v %v", tc.line, kind, c, ok, tc.kind, tc.want, tc.ok)
		}
	}
}

// Whatever conntrack prints, the reader neither panics nor takes a line
// without both addresses.
func FuzzParseEvent(f *testing.F) {
	f.Add("    [NEW] tcp      6 120 SYN_SENT src=198.18.0.10 dst=198.18.0.2 sport=37244 dport=80 [UNREPLIED]")
	f.Add("[DESTROY] icmp 1 src=1.2.3.4 dst=5.6.7.8 type=8 code=0 id=9")
	f.Fuzz(func(t *testing.T, line string) {
		if _, c, _, ok := parseEvent(line); ok && (!c.Src.Addr().IsValid() || !c.Dst.Addr().IsValid()) {
			t.Fatalf("%q: took %+v without both addresses", line, c)
		}
	})
}
