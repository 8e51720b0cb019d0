package routeros

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/failwatch/failwatch/internal/testkit"
	"github.com/failwatch/failwatch/routeros/rosim"
)

// logNow is the router's clock log times are read against in the tests
// of ParseLogTime: a year's 25 November, with days of it past and to come.
var logNow = time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC)

func TestParseLogTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
	}{
		{"18:33:31", time.Date(2026, 11, 25, 18, 33, 31, 0, time.UTC)},
		{"oct/23 18:33:31", time.Date(2026, 10, 23, 18, 33, 31, 0, time.UTC)},
		{"Oct/23/2023 18:33:31", time.Date(2023, 10, 23, 18, 33, 31, 0, time.UTC)},
		{"2023-10-23 18:33:31", time.Date(2023, 10, 23, 18, 33, 31, 0, time.UTC)},
		{"10-23 18:33:31", time.Date(2026, 10, 23, 18, 33, 31, 0, time.UTC)},
		// December's lines read in November are last year's.
		{"dec/30 23:59:59", time.Date(2025, 12, 30, 23, 59, 59, 0, time.UTC)},
	}
	for _, tc := range tests {
		got, err := ParseLogTime(tc.in, logNow)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("ParseLogTime(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "25:00:00", "oct 23 18:33:31", "foo/23 18:33:31", "13-40 10:00:00", "feb/30 10:00:00", "18:33", "2023-10-23-1 18:33:31"} {
		if _, err := ParseLogTime(bad, logNow); err == nil {
			t.Errorf("ParseLogTime(%q) took it", bad)
		}
	}
}

func TestParseNetwatchMessage(t *testing.T) {
	tests := []struct {
		in   string
		want NetwatchEvent
		ok   bool
	}{
		{"event down [ type: simple, host: 104.247.193.168 ]", NetwatchEvent{"down", "simple", "104.247.193.168"}, true},
		{"event up [type: simple, host: 104.247.193.168]", NetwatchEvent{"up", "simple", "104.247.193.168"}, true},
		{"event down [ type: http-get, host: 2001:db8::1 ]", NetwatchEvent{"down", "http-get", "2001:db8::1"}, true},
		{"static dns entry changed", NetwatchEvent{}, false},
		{"event sideways [ type: simple, host: x ]", NetwatchEvent{}, false},
	}
	for _, tc := range tests {
		got, ok := ParseNetwatchMessage(tc.in)
		if ok != tc.ok || got != tc.want {
			t.Errorf("ParseNetwatchMessage(%q) = %+v, %v", tc.in, got, ok)
		}
	}
}

func FuzzParseLogTime(f *testing.F) {
	for _, s := range []string{"18:33:31", "oct/23 18:33:31", "oct/23/2023 18:33:31", "2023-10-23 18:33:31", "10-23 18:33:31", "dec/99/0 1:2:3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, err := ParseLogTime(s, logNow); err == nil && got.IsZero() {
			t.Fatalf("%q parsed to the zero time", s)
		}
	})
}

func FuzzParseLogEntry(f *testing.F) {
	f.Add("*1A", "18:33:31", "netwatch,info", "event down [ type: simple, host: 104.247.193.168 ]")
	f.Add("*FFFFFFFFFFFFFFFFFF", "oct/23/2023 18:33:31", "", "event up [type: simple, host: ]")
	f.Fuzz(func(t *testing.T, id, tm, topics, msg string) {
		e := ParseLogEntry(map[string]string{".id": id, "time": tm, "topics": topics, "message": msg}, time.Now())
		if e.Netwatch != nil && e.Netwatch.Status != "up" && e.Netwatch.Status != "down" {
			t.Fatalf("netwatch status %q", e.Netwatch.Status)
		}
	})
}

// follower runs a LogFollower against addr and returns its events.
func follower(t *testing.T, addr string) (<-chan LogEvent, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan LogEvent, 64)
	f := &LogFollower{Opts: Options{Address: addr, User: "admin", Timeout: 2 * time.Second}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.Run(ctx, out)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return out, cancel
}

func next(t *testing.T, events <-chan LogEvent, kind LogEventKind) LogEvent {
	t.Helper()
	return testkit.Receive(t, events, 10*time.Second, fmt.Sprintf("an event of kind %d", kind), func(ev LogEvent) bool {
		if ev.Kind == LogGap && kind != LogGap {
			t.Fatalf("unexpected gap: %s", ev.Reason)
		}
		return ev.Kind == kind
	})
}

func TestFollowResumesWithoutLossOrDuplicates(t *testing.T) {
	r, addr := testkit.Emulator(t, rosim.Options{})
	r.Log("netwatch,info", "event up [ type: simple, host: 104.247.193.168 ]")
	r.Log("firewall,info", "not interesting")
	events, _ := follower(t, addr)
	// The interesting lines already in the log come first, as history.
	var history []string
	for ev := range events {
		if ev.Kind == LogConnected {
			if ev.Reason != "following the router log" {
				t.Errorf("connected: %q", ev.Reason)
			}
			break
		}
		if !ev.Entry.History {
			t.Errorf("not marked history: %+v", ev.Entry)
		}
		history = append(history, ev.Entry.Message)
	}
	if !slices.Contains(history, "event up [ type: simple, host: 104.247.193.168 ]") || slices.Contains(history, "not interesting") {
		t.Errorf("history %q", history)
	}
	r.Log("netwatch,info", "event down [ type: simple, host: 104.247.193.168 ]")
	if ev := next(t, events, LogLine); ev.Entry.Netwatch == nil || ev.Entry.Netwatch.Status != "down" {
		t.Errorf("line %+v", ev.Entry)
	}

	r.DropConnections()
	next(t, events, LogDisconnected)
	// Lines written while the follower is away arrive once it is back.
	r.Log("system,info", "static dns entry changed")
	r.Log("firewall,info", "not interesting")
	r.Log("netwatch,info", "event up [ type: simple, host: 104.247.193.168 ]")
	if ev := next(t, events, LogConnected); !strings.HasPrefix(ev.Reason, "reconnected after ") {
		t.Errorf("reconnected: %q", ev.Reason)
	}
	var got []string
	for len(got) < 2 {
		got = append(got, next(t, events, LogLine).Entry.Message)
	}
	want := []string{"static dns entry changed", "event up [ type: simple, host: 104.247.193.168 ]"}
	if !slices.Equal(got, want) {
		t.Errorf("after reconnect %q, want %q", got, want)
	}
	select {
	case ev := <-events:
		t.Errorf("extra event after resume: %+v", ev)
	case <-time.After(200 * time.Millisecond):
	}
}

// Reconnecting again and again leaves no goroutines behind.
func TestFollowReconnectsDoNotLeak(t *testing.T) {
	r, addr := testkit.Emulator(t, rosim.Options{})
	events, _ := follower(t, addr)
	next(t, events, LogConnected)
	reconnect := func() {
		r.DropConnections()
		next(t, events, LogDisconnected)
		next(t, events, LogConnected)
	}
	reconnect()
	// A line through the new follow: both ends of it are up (their
	// goroutines started late), so the count starts from a settled one.
	r.Log("system,info", "static dns entry changed")
	next(t, events, LogLine)
	before := runtime.NumGoroutine()
	for range 10 {
		reconnect()
	}
	testkit.EventuallyLast(t, 2*time.Second, fmt.Sprintf("goroutines after 10 reconnects back to at most 3 over the %d before", before), func() (int, bool) {
		after := runtime.NumGoroutine()
		return after, after <= before+3
	})
}

// Lines rotated out of the router's log while disconnected are a gap.
func TestFollowReportsGap(t *testing.T) {
	// No seeded netwatch: its first tests log lines of their own, at a
	// moment of their own, into a ring of five.
	r := rosim.New(rosim.Options{LogSize: 5})
	addr := testkit.Start(t, r)
	events, _ := follower(t, addr)
	next(t, events, LogConnected)
	r.DropConnections()
	next(t, events, LogDisconnected)
	for i := range 10 {
		r.Log("dns,info", fmt.Sprintf("line %d", i))
	}
	ev := next(t, events, LogGap)
	if !strings.Contains(ev.Reason, "were missed") {
		t.Errorf("gap: %q", ev.Reason)
	}
	// The ring keeps 5 lines: "line 6" to "line 9" and the reconnect's own
	// login line.
	if line := next(t, events, LogLine); line.Entry.Message != "line 6" {
		t.Errorf("first line after the gap %q", line.Entry.Message)
	}
}

// Killing the emulator and starting a new one on the same address looks
// like a router reboot: the follower reconnects, and says its numbering
// restarted.
func TestFollowAcrossRouterRestart(t *testing.T) {
	r, addr := testkit.Emulator(t, rosim.Options{})
	for range 5 {
		r.Log("system,info", "filler")
	}
	events, _ := follower(t, addr)
	next(t, events, LogConnected)
	r.Close()
	next(t, events, LogDisconnected)

	r2 := rosim.New(rosim.Options{})
	defer r2.Close()
	testkit.EventuallyLast(t, time.Second, "the restarted router listened on "+addr, func() (error, bool) {
		_, err := r2.ListenAndServe(addr)
		return err, err == nil
	})
	if ev := next(t, events, LogGap); !strings.Contains(ev.Reason, "may have rebooted") {
		t.Errorf("gap %q", ev.Reason)
	}
	next(t, events, LogConnected)
	r2.Log("netwatch,info", "event up [type: simple, host: 104.247.193.168]")
	if ev := next(t, events, LogLine); ev.Entry.Netwatch == nil {
		t.Errorf("line %+v", ev.Entry)
	}
}

// The follow's connection is separate: changes run while nobody reads the
// follower's events, which would stall go-routeros' replies if the two
// shared a connection.
func TestFollowAndCommandsTogether(t *testing.T) {
	r, addr := testkit.Emulator(t, rosim.Options{})
	events, _ := follower(t, addr)
	next(t, events, LogConnected)
	for range 300 {
		r.Log("dns,info", "filler while nobody reads")
	}
	c := client(t, addr, "admin", "")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, id := range []string{"*1", "*2", "*1", "*2"} {
		if err := c.SetRecordDisabled(ctx, id, id == "*2"); err != nil {
			t.Fatal(err)
		}
	}
	for ev := range events {
		if ev.Kind == LogLine && ev.Entry.Message != "filler while nobody reads" {
			if ev.Entry.Message != "static dns entry changed by admin" {
				t.Errorf("line %q", ev.Entry.Message)
			}
			return
		}
	}
}

// Lines with an id that is huge or unreadable cannot blind the follower:
// each is shown once, and the lines after them still come.
func TestFollowSurvivesOddIDs(t *testing.T) {
	r, addr := testkit.Emulator(t, rosim.Options{})
	events, _ := follower(t, addr)
	next(t, events, LogConnected)
	for _, l := range []struct{ id, msg string }{
		{"*FFFFFFFFFFFF", "huge id"},
		{"", "normal 1"},
		{"zz", "unreadable id"},
		{"", "normal 2"},
	} {
		if l.id == "" {
			r.Log("netwatch,info", l.msg)
		} else {
			r.LogWithID(l.id, "netwatch,info", l.msg)
		}
	}
	want := []string{"huge id", "normal 1", "unreadable id", "normal 2"}
	if got := lines(t, events, len(want)); !slices.Equal(got, want) {
		t.Errorf("lines %q, want %q", got, want)
	}
	// A reconnect replays the past: the odd lines are not shown again.
	r.DropConnections()
	next(t, events, LogConnected)
	r.Log("netwatch,info", "normal 3")
	if got := lines(t, events, 1); !slices.Equal(got, []string{"normal 3"}) {
		t.Errorf("after reconnect %q", got)
	}
}

// The oldest line a router's log holds has a huge id: the follower starts
// there, and the router's real numbers, far behind it, still come. (The log
// keeps two lines: that one and the follower's own login.)
func TestFollowStartsAfterAnOddNewestLine(t *testing.T) {
	r, addr := testkit.Emulator(t, rosim.Options{LogSize: 2})
	r.LogWithID("*FFFFFFFFFFFF", "netwatch,info", "huge id")
	events, _ := follower(t, addr)
	next(t, events, LogConnected)
	r.Log("netwatch,info", "normal 1")
	r.Log("netwatch,info", "normal 2")
	if got := lines(t, events, 2); !slices.Equal(got, []string{"normal 1", "normal 2"}) {
		t.Errorf("lines %q", got)
	}
}

// lines collects the next n lines that are not history.
func lines(t *testing.T, events <-chan LogEvent, n int) []string {
	t.Helper()
	var got []string
	for len(got) < n {
		if ev := next(t, events, LogLine); !ev.Entry.History {
			got = append(got, ev.Entry.Message)
		}
	}
	return got
}

// A router in another zone than the viewer (Jakarta, +07:00), on a version
// that stamps today's lines with the time only: the follower reads the
// router's clock, so a line's time is the real moment it was logged, and
// the connection says which zone the router's clock is in.
func TestFollowInTheRoutersZone(t *testing.T) {
	jakarta, err := time.LoadLocation("Asia/Jakarta")
	if err != nil {
		t.Fatal(err)
	}
	for _, version := range []string{"6.49.17 (long-term)", "7.18.2 (stable)"} {
		t.Run(version, func(t *testing.T) {
			r, addr := testkit.Emulator(t, rosim.Options{Version: version, Zone: jakarta})
			events, _ := follower(t, addr)
			ev := next(t, events, LogConnected)
			if _, local := time.Now().Zone(); local != 7*3600 && !strings.Contains(ev.Reason, "router clock Asia/Jakarta (+07:00)") {
				t.Errorf("connected: %q", ev.Reason)
			}
			before := time.Now().Truncate(time.Second)
			r.Log("netwatch,info", "event down [ type: simple, host: 192.0.2.1 ]")
			after := time.Now()
			line := next(t, events, LogLine).Entry
			if line.Time.Before(before) || line.Time.After(after) {
				t.Errorf("line %q read as %v, logged between %v and %v", line.RawTime, line.Time, before, after)
			}
		})
	}
}

func TestParseClock(t *testing.T) {
	for _, tc := range []struct {
		name, offset string
		want         int
	}{
		{"Asia/Jakarta", "+07:00", 7 * 3600},
		{"manual", "-03:30", -(3*3600 + 30*60)},
		{"Asia/Kathmandu", "+05:45", 5*3600 + 45*60},
		{"Nowhere/Atlantis", "+0100", 3600},
	} {
		c, err := ParseClock(map[string]string{"time-zone-name": tc.name, "gmt-offset": tc.offset})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if _, off := time.Now().In(c.Zone).Zone(); off != tc.want {
			t.Errorf("%s %s: offset %d, want %d", tc.name, tc.offset, off, tc.want)
		}
	}
	if _, err := ParseClock(map[string]string{"gmt-offset": "+25:00"}); err == nil {
		t.Error("+25:00 taken")
	}
}

// A router (or a user) without /system/clock: the log is followed all the
// same, the connection says the router's zone is unknown, and each line
// keeps the time as the router printed it, with no made-up zone.
func TestFollowWithoutTheClock(t *testing.T) {
	r, addr := testkit.Emulator(t, rosim.Options{Version: "6.49.17 (long-term)"})
	r.Inject("/system/clock/print", 0, rosim.Fault{Message: "not enough permissions (9)"})
	events, _ := follower(t, addr)
	ev := next(t, events, LogConnected)
	if !strings.Contains(ev.Reason, "not enough permissions (9); its time zone is unknown, so times are shown as the router prints them") {
		t.Errorf("connected: %q", ev.Reason)
	}
	r.Log("netwatch,info", "event down [ type: simple, host: 192.0.2.1 ]")
	line := next(t, events, LogLine).Entry
	if !line.ZoneUnknown || !line.Time.IsZero() || len(line.RawTime) != len("18:33:31") || line.Netwatch == nil {
		t.Errorf("line %+v", line)
	}
}
