package main

import (
	"bytes"
	"io"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/failwatch/failwatch/internal/testkit"
	"github.com/failwatch/failwatch/monitor"
)

// On a terminal, report prints a line per probe as it goes, as ping does;
// into a pipe, the summary alone. TCP blocks count probes, not packets.
func TestReportRepliesOnATerminal(t *testing.T) {
	ln := testkit.AcceptTCP(t)
	bin := buildBinary(t)
	args := []string{"report", "--count", "3", "--interval", "100ms", "tcp://" + ln.Addr().String()}

	cmd := exec.Command(bin, args...)
	tty, err := pty.Start(cmd)
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	var onTTY bytes.Buffer
	io.Copy(&onTTY, tty) // ends with EIO when the child exits
	tty.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("report on a terminal: %v\n%s", err, onTTY.String())
	}
	piped, err := exec.Command(bin, args...).Output()
	if err != nil {
		t.Fatalf("report into a pipe: %v\n%s", err, piped)
	}

	name := "tcp://" + ln.Addr().String()
	if got := strings.Count(onTTY.String(), name+" (127.0.0.1) tcp/"); got != 3 {
		t.Errorf("on a terminal: %d reply lines, want 3:\n%s", got, onTTY.String())
	}
	if strings.Contains(string(piped), "reply time=") {
		t.Errorf("into a pipe: reply lines:\n%s", piped)
	}
	for _, out := range []string{onTTY.String(), string(piped)} {
		if !strings.Contains(out, "3 probes sent, 3 answered, 0% failed") || strings.Contains(out, "packets") {
			t.Errorf("summary should count probes:\n%s", out)
		}
	}
}

func TestReplyLine(t *testing.T) {
	addr := netip.MustParseAddr("192.0.2.7")
	for _, tc := range []struct {
		ev   monitor.Event
		want string
	}{
		{monitor.Event{Server: "web1", Addr: addr, Check: monitor.CheckStatus{Label: "icmp"},
			Sample: monitor.Sample{OK: true, RTT: 1500 * time.Microsecond}},
			"web1 (192.0.2.7) icmp: reply time=1.500 ms\n"},
		{monitor.Event{Server: "192.0.2.7", Addr: addr, Check: monitor.CheckStatus{Label: "icmp"},
			Sample: monitor.Sample{Err: "timeout"}},
			"192.0.2.7 icmp: no reply (timeout)\n"},
		// An HTTP reason phrase is the server's text: its escapes never
		// reach the terminal.
		{monitor.Event{Server: "web2", Check: monitor.CheckStatus{Label: "http http://web2/"},
			Sample: monitor.Sample{Err: "HTTP 503 \x1b[2Jgone\r"}},
			"web2 http http://web2/: no reply (HTTP 503 [2Jgone)\n"},
	} {
		if got := replyLine(tc.ev); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}
