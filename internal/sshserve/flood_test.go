package sshserve

import (
	"fmt"
	"io"
	"net"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/testkit"
)

// A flood from ten loopback addresses (127.0.0.2 to 127.0.0.11): 1,000
// connections that never say a word and 100 that send their version and
// stop. Each address may keep per_source_max_startups of them waiting,
// which is under max_startups' start, so a real login from 127.0.0.1
// during the flood is never dropped, and gets its dashboard. Every flood
// connection is closed by login_grace_time (a deadline, with a margin);
// the log sums them up in a few lines; the goroutines and the heap come
// back to what they were before.
func TestFlood(t *testing.T) {
	needOpenSSH(t)
	eng := running(t)
	file, line, _ := opensshKey(t)
	const (
		grace     = 3 * time.Second
		sources   = 10
		silent    = 1000
		versioned = 100
		perSource = 15
	)
	ts := start(t, config.Serve{LoginGraceTime: grace, MaxStartups: config.MaxStartups{Start: 200, Rate: 30, Full: 400},
		PerSourceMaxStartups: perSource, Users: []config.ServeUser{{Name: "alice", Role: config.RoleOperator, Keys: []string{line}}}}, eng,
		func(s *Server) { s.drops.every = time.Second })

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	idle := runtime.NumGoroutine()

	begun := time.Now()
	var open atomic.Int64
	closed := make(chan time.Time, silent+versioned)
	for i := range silent + versioned {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i%sources))}}
		c, err := d.Dial("tcp", ts.addr)
		if err != nil {
			t.Fatalf("flood connection %d: %v", i, err)
		}
		t.Cleanup(func() { c.Close() })
		if i%11 == 10 {
			io.WriteString(c, "SSH-2.0-flood\r\n")
		}
		open.Add(1)
		go func() {
			io.Copy(io.Discard, c)
			open.Add(-1)
			closed <- time.Now()
		}()
	}

	login, exited := inTerminal(t, openssh(ts.addr, file, "alice", "127.0.0.1"), 120, 40)
	waitLog(t, ts.log, `msg="ssh login accepted"`, "user=alice", "remote=127.0.0.1:")
	if open.Load() == 0 {
		t.Error("the flood was over before the login: it proved nothing")
	}
	login.waitFor("ACTIVE")
	login.press("q")
	if code := exited(); code != 0 {
		t.Errorf("the login's ssh exited %d", code)
	}
	waitLog(t, ts.log, `msg="ssh session end"`, "user=alice", "how=quit")

	deadline := begun.Add(grace + 5*time.Second)
	for i := range silent + versioned {
		select {
		case <-closed:
		case <-time.After(time.Until(deadline)):
			t.Fatalf("%d flood connections still open %s after the flood began (login_grace_time %s)",
				silent+versioned-i, time.Since(begun).Round(time.Millisecond), grace)
		}
	}
	// The client sees the close a moment before the server counts it.
	drops := testkit.EventuallyLast(t, 5*time.Second, fmt.Sprintf("%d flood connections counted as dropped (at login_grace_time, by per_source_max_startups)", silent+versioned), func() ([2]float64, bool) {
		d := [2]float64{ts.metric(t, "failwatch_ssh_dropped_connections_total", dropGrace), ts.metric(t, "failwatch_ssh_dropped_connections_total", dropPerSource)}
		return d, d[0]+d[1] >= silent+versioned
	})
	graceDrops, sourceDrops := drops[0], drops[1]
	if graceDrops+sourceDrops != silent+versioned || graceDrops > sources*perSource {
		t.Errorf("dropped at login_grace_time %v and by per_source_max_startups %v: want %d in all, at most %d at login_grace_time",
			graceDrops, sourceDrops, silent+versioned, sources*perSource)
	}
	for _, reason := range []string{dropFull, dropRandom} {
		if n := ts.metric(t, "failwatch_ssh_dropped_connections_total", reason); n != 0 {
			t.Errorf("%s drops: %v, want none below start", reason, n)
		}
	}

	// The log: a few summaries, not a line per connection.
	count := regexp.MustCompile(`msg="ssh connections closed before login" count=(\d+)`)
	total := 0
	eventually(t, "every flood connection summed up in the log", func() bool {
		total = 0
		for _, m := range count.FindAllStringSubmatch(ts.log.String(), -1) {
			n, _ := strconv.Atoi(m[1])
			total += n
		}
		return total >= silent+versioned
	})
	if lines := strings.Count(ts.log.String(), "\n"); lines > 30 {
		t.Errorf("%d log lines for the flood, want a few summaries", lines)
	}
	waitLog(t, ts.log, `msg="ssh connections closed before login"`, "sources="+strconv.Itoa(sources))

	var after runtime.MemStats
	eventually(t, fmt.Sprintf("goroutines back to the %d before the flood", idle), func() bool {
		return runtime.NumGoroutine() <= idle+2
	})
	runtime.GC()
	runtime.ReadMemStats(&after)
	// What the engine keeps growing meanwhile (histories, the login's
	// dashboard) is a few MB; a flood connection left behind would be
	// tens of KB each.
	if grown := int64(after.HeapInuse) - int64(before.HeapInuse); grown > 16<<20 {
		t.Errorf("heap in use grew by %d MB over the flood", grown>>20)
	}
	t.Logf("flood of %d: %v at login_grace_time, %v per address; heap in use %d -> %d KB; goroutines %d -> %d",
		silent+versioned, graceDrops, sourceDrops, before.HeapInuse>>10, after.HeapInuse>>10, idle, runtime.NumGoroutine())
}
