package routeros

import (
	"context"
	"crypto/tls"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/failwatch/failwatch/internal/safetext"
)

// LogEntry is one line of the router's log.
type LogEntry struct {
	ID string
	// Seq is the number in ID; RouterOS numbers lines one after another.
	Seq     uint64
	Time    time.Time
	RawTime string
	Topics  []string
	Message string
	// Netwatch is set when the line is a netwatch event.
	Netwatch *NetwatchEvent
	// History marks a line that was already in the log when the follower
	// first connected.
	History bool
}

// NetwatchEvent is a parsed "event down [ type: simple, host: X ]" line.
type NetwatchEvent struct {
	Status string // up or down
	Type   string
	Host   string
}

// LogEventKind says what a LogEvent reports.
type LogEventKind int

// Kinds of log follower events.
const (
	LogLine LogEventKind = iota
	// LogConnected: the follow (re)started; Reason says after what.
	LogConnected
	// LogDisconnected: the follow stopped; Err says why. It reconnects.
	LogDisconnected
	// LogGap: lines may have been missed here; Reason says which.
	LogGap
)

// LogEvent is what a LogFollower emits.
type LogEvent struct {
	Kind   LogEventKind
	Entry  LogEntry
	Reason string
	Err    error
	At     time.Time
}

// LogFollower follows the router's log on a connection of its own (a
// follow makes go-routeros asynchronous, and a slow reader would stall
// every other reply on the connection).
type LogFollower struct {
	Opts Options
	// Keep selects the lines to emit; nil keeps netwatch, DNS and script
	// lines (see Interesting).
	Keep func(LogEntry) bool
	// Loc is the router's time zone for its times; by default read from the
	// router's /system/clock on every connection.
	Loc *time.Location
}

// Interesting keeps what a failover watcher needs: netwatch, DNS and
// script topics, and the system lines about static DNS entries.
func Interesting(e LogEntry) bool {
	for _, t := range e.Topics {
		switch t {
		case "netwatch", "dns", "script":
			return true
		}
	}
	return strings.Contains(e.Message, "dns entry")
}

// Run follows until ctx ends, reconnecting with backoff. Each connection
// first reads the newest line number, then follows with the past included,
// skipping lines already seen: nothing is emitted twice, and a jump in the
// numbers (lines rotated out while disconnected, or dropped by a router
// that could not send fast enough) is reported as a LogGap.
func (f *LogFollower) Run(ctx context.Context, out chan<- LogEvent) error {
	keep := f.Keep
	if keep == nil {
		keep = Interesting
	}
	emit := func(ev LogEvent) bool {
		ev.At = time.Now()
		select {
		case out <- ev:
			return true
		case <-ctx.Done():
			return false
		}
	}
	f.Opts = f.Opts.withDefaults()
	tlsConf, _, err := newTLSConfig(f.Opts)
	if err != nil {
		return err
	}
	var st followState
	backoff := time.Duration(0)
	for ctx.Err() == nil {
		connected, err := f.session(ctx, tlsConf, &st, keep, emit)
		if ctx.Err() != nil {
			break
		}
		if connected {
			backoff, st.downSince = 0, time.Now()
		} else if st.downSince.IsZero() {
			st.downSince = time.Now()
		}
		if !emit(LogEvent{Kind: LogDisconnected, Err: err}) {
			break
		}
		backoff = min(max(backoff*2, minBackoff), maxBackoff)
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
	}
	return ctx.Err()
}

// followState is what a follower remembers across connections.
type followState struct {
	last      uint64 // the newest line seen
	known     bool   // whether last has been read from the router
	downSince time.Time
	// odd holds the ids of lines shown without moving last, so a replay
	// does not show them again; bounded, as a hostile router could send
	// any number.
	odd map[string]struct{}
}

// oddSeen records an odd id; false when it was already shown.
func (st *followState) oddSeen(id string) bool {
	if _, ok := st.odd[id]; ok {
		return false
	}
	if st.odd == nil || len(st.odd) >= 1024 {
		st.odd = map[string]struct{}{}
	}
	st.odd[id] = struct{}{}
	return true
}

// session follows on one connection; connected says whether it got as far
// as following.
func (f *LogFollower) session(ctx context.Context, tlsConf *tls.Config, st *followState,
	keep func(LogEntry) bool, emit func(LogEvent) bool) (connected bool, err error) {
	conn, api, err := dial(ctx, f.Opts, tlsConf)
	if err != nil {
		return false, err
	}
	stopOnCancel := context.AfterFunc(ctx, func() { conn.Close() })
	defer stopOnCancel()
	defer conn.Close()
	defer api.Close()

	// Log times are in the router's zone, and "18:33:31" means today on the
	// router: read its clock first.
	loc := f.Loc
	var clockName string
	if loc == nil {
		stop := deadline(ctx, conn, f.Opts.Timeout)
		r, err := api.RunArgs([]string{"/system/clock/print"})
		stop()
		if err != nil {
			return false, fmt.Errorf("read clock: %w", callError(err))
		}
		if len(r.Re) == 0 {
			return false, fmt.Errorf("read clock: the router answered nothing")
		}
		clock, err := ParseClock(cleanRow(r.Re[0].Map))
		if err != nil {
			return false, err
		}
		loc, clockName = clock.Zone, clock.Name
	}

	// The newest line now: where to start, or proof of a restarted router.
	// The first time, the recent interesting lines are history worth
	// showing.
	words := []string{"/log/print", "=.proplist=.id"}
	if !st.known {
		words = []string{"/log/print"}
	}
	stop := deadline(ctx, conn, f.Opts.Timeout)
	r, err := api.RunArgs(words)
	stop()
	if err != nil {
		return false, fmt.Errorf("read log: %w", callError(err))
	}
	var newest uint64
	for _, s := range r.Re {
		if seq := seqOf(s.Map[".id"]); seq > 0 && (newest == 0 || plausible(newest, seq)) {
			newest = seq
		}
	}
	switch {
	case !st.known:
		st.last, st.known = newest, true
		now := time.Now().In(loc)
		var history []LogEntry
		for _, s := range r.Re {
			if e := ParseLogEntry(s.Map, now); keep(e) {
				e.History = true
				history = append(history, e)
			}
		}
		for _, e := range history[max(0, len(history)-historyLines):] {
			if !emit(LogEvent{Kind: LogLine, Entry: e}) {
				return false, nil
			}
		}
	case newest < st.last:
		if !emit(LogEvent{Kind: LogGap, Reason: fmt.Sprintf("router log restarted (newest line %s, had %s): the router may have rebooted", idOf(newest), idOf(st.last))}) {
			return false, nil
		}
		st.last = 0
	}
	// go-routeros parks two goroutines on the listen's context until it
	// ends: end it with the session, or every reconnect would leave them
	// behind. It must end after the client is closed (the library's cancel
	// and close race otherwise), so it is not derived from ctx, whose end
	// closes the connection from another goroutine.
	sctx, scancel := context.WithCancel(context.Background())
	defer func() {
		api.Close()
		scancel()
	}()
	// A follow never ends: its rows are bounded per line, not per call.
	conn.Stream()
	listen, err := api.ListenArgsQueueContext(sctx, []string{"/log/print", "=follow="}, 256)
	if err != nil {
		return false, fmt.Errorf("follow log: %w", err)
	}
	reason := "following the router log"
	// Times are shown in the viewer's zone; name the router's when it
	// differs, so "18:33" on the router and on the screen are not confused.
	if _, theirs := time.Now().In(loc).Zone(); clockName != "" && theirs != localOffset() {
		reason += fmt.Sprintf(" (router clock %s; times shown in %s)", clockName, time.Local)
	}
	if !st.downSince.IsZero() {
		reason = fmt.Sprintf("reconnected after %s", time.Since(st.downSince).Round(time.Millisecond))
		st.downSince = time.Time{}
	}
	if !emit(LogEvent{Kind: LogConnected, Reason: reason}) {
		return true, nil
	}
	for s := range listen.Chan() {
		e := ParseLogEntry(s.Map, time.Now().In(loc))
		switch {
		case e.Seq == 0 || (st.last > 0 && e.Seq > st.last+maxLogJump):
			// An id that cannot be read, or a jump no real log makes: the
			// line is shown (once: a follow replays the past), but the
			// position stays where it was, so one odd id cannot make every
			// later line look old.
			if !st.oddSeen(e.ID) {
				continue
			}
		case e.Seq <= st.last && st.last-e.Seq < maxLogJump:
			continue
		case st.last > 0 && e.Seq <= st.last:
			// Far behind the position: the position was the odd one (taken
			// from the history); follow the router's numbering again.
			st.last = e.Seq
		default:
			if st.last > 0 && e.Seq > st.last+1 {
				if !emit(LogEvent{Kind: LogGap, Reason: fmt.Sprintf("router log lines %s to %s were missed", idOf(st.last+1), idOf(e.Seq-1))}) {
					return true, nil
				}
			}
			st.last = e.Seq
		}
		if keep(e) && !emit(LogEvent{Kind: LogLine, Entry: e}) {
			return true, nil
		}
	}
	if err := listen.Err(); err != nil {
		return true, fmt.Errorf("follow log: %w", callError(err))
	}
	return true, fmt.Errorf("follow log: the router ended the follow")
}

// historyLines is how many past interesting lines the first connection
// emits.
const historyLines = 20

// maxLogJump is the largest step between two line ids that a real log
// makes: no router keeps more lines than this, so a larger jump (or a line
// as far behind) is an id not to be trusted.
const maxLogJump = DefaultMaxReplyRows

func localOffset() int {
	_, off := time.Now().Zone()
	return off
}

// plausible says whether seq can follow last in a router's numbering.
func plausible(last, seq uint64) bool { return seq > last && seq-last <= maxLogJump }

func seqOf(id string) uint64 {
	n, _ := strconv.ParseUint(strings.TrimPrefix(id, "*"), 16, 64)
	return n
}

func idOf(seq uint64) string { return "*" + strings.ToUpper(strconv.FormatUint(seq, 16)) }

// ParseLogEntry reads a /log/print row; now dates times given without a
// date or year.
func ParseLogEntry(m map[string]string, now time.Time) LogEntry {
	e := LogEntry{ID: safetext.Line(m[".id"]), RawTime: safetext.Line(m["time"]), Message: safetext.Line(m["message"])}
	e.Seq = seqOf(e.ID)
	if t := safetext.Line(m["topics"]); t != "" {
		e.Topics = strings.Split(t, ",")
	}
	if t, err := ParseLogTime(e.RawTime, now); err == nil {
		e.Time = t
	}
	if ev, ok := ParseNetwatchMessage(e.Message); ok {
		e.Netwatch = &ev
	}
	return e
}

var months = map[string]time.Month{
	"jan": time.January, "feb": time.February, "mar": time.March, "apr": time.April,
	"may": time.May, "jun": time.June, "jul": time.July, "aug": time.August,
	"sep": time.September, "oct": time.October, "nov": time.November, "dec": time.December,
}

// ParseLogTime reads every time format RouterOS logs use: "18:33:31"
// (today), "oct/23 18:33:31" (this year), "oct/23/2023 18:33:31", and
// "2023-10-23 18:33:31" or "10-23 18:33:31" (7.10 and later). now gives
// the date, year and time zone where the text leaves them out; a date that
// would lie in the future is taken as last year's.
func ParseLogTime(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	date, clock, hasDate := strings.Cut(s, " ")
	if !hasDate {
		date, clock = "", s
	}
	hms := strings.Split(clock, ":")
	if len(hms) != 3 {
		return time.Time{}, fmt.Errorf("bad log time %q", s)
	}
	var hmsv [3]int
	for i, p := range hms {
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 || v > 59 || (i == 0 && v > 23) {
			return time.Time{}, fmt.Errorf("bad log time %q", s)
		}
		hmsv[i] = v
	}
	year, month, day := now.Date()
	yearGiven := false
	switch {
	case date == "":
	case strings.Contains(date, "/"):
		parts := strings.Split(date, "/")
		m, ok := months[strings.ToLower(parts[0])]
		if !ok || len(parts) > 3 || len(parts) < 2 {
			return time.Time{}, fmt.Errorf("bad log date %q", s)
		}
		d, err := strconv.Atoi(parts[1])
		if err != nil {
			return time.Time{}, fmt.Errorf("bad log date %q", s)
		}
		month, day = m, d
		if len(parts) == 3 {
			y, err := strconv.Atoi(parts[2])
			if err != nil {
				return time.Time{}, fmt.Errorf("bad log date %q", s)
			}
			year, yearGiven = y, true
		}
	case strings.Contains(date, "-"):
		parts := strings.Split(date, "-")
		nums := make([]int, len(parts))
		for i, p := range parts {
			v, err := strconv.Atoi(p)
			if err != nil {
				return time.Time{}, fmt.Errorf("bad log date %q", s)
			}
			nums[i] = v
		}
		switch len(nums) {
		case 3:
			year, month, day, yearGiven = nums[0], time.Month(nums[1]), nums[2], true
		case 2:
			month, day = time.Month(nums[0]), nums[1]
		default:
			return time.Time{}, fmt.Errorf("bad log date %q", s)
		}
	default:
		return time.Time{}, fmt.Errorf("bad log date %q", s)
	}
	if month < 1 || month > 12 || day < 1 || day > 31 {
		return time.Time{}, fmt.Errorf("bad log date %q", s)
	}
	t := time.Date(year, month, day, hmsv[0], hmsv[1], hmsv[2], 0, now.Location())
	if t.Day() != day {
		return time.Time{}, fmt.Errorf("bad log date %q", s)
	}
	if !yearGiven && date != "" && t.After(now.Add(24*time.Hour)) {
		t = t.AddDate(-1, 0, 0)
	}
	return t, nil
}

var netwatchMessage = regexp.MustCompile(`^event (up|down) \[\s*type:\s*([a-z-]+),\s*host:\s*([^\s\],]+)\s*\]$`)

// ParseNetwatchMessage reads "event down [ type: simple, host: X ]", with or
// without the spaces inside the brackets (older versions leave them out).
func ParseNetwatchMessage(msg string) (NetwatchEvent, bool) {
	m := netwatchMessage.FindStringSubmatch(strings.TrimSpace(msg))
	if m == nil {
		return NetwatchEvent{}, false
	}
	return NetwatchEvent{Status: m[1], Type: m[2], Host: m[3]}, true
}
