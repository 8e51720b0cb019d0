package routeros

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/failwatch/failwatch/internal/safetext"

	ros "github.com/go-routeros/routeros/v3"
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
	// ZoneUnknown: the router's clock could not be read, so its zone is
	// unknown; Time is zero and RawTime is the time as the router printed
	// it, which is what to show.
	ZoneUnknown bool
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
	zone, err := f.zone(ctx, conn, api)
	if err != nil {
		return false, err
	}

	if stopped, err := f.catchUp(ctx, conn, api, st, zone, keep, emit); stopped || err != nil {
		return false, err
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
	reason := "following the router log" + zone.note()
	if !st.downSince.IsZero() {
		reason = fmt.Sprintf("reconnected after %s", time.Since(st.downSince).Round(time.Millisecond))
		st.downSince = time.Time{}
	}
	if !emit(LogEvent{Kind: LogConnected, Reason: reason}) {
		return true, nil
	}
	for s := range listen.Chan() {
		e := ParseLogEntry(s.Map, zone.now())
		show, stopped := st.place(e, emit)
		if stopped {
			return true, nil
		}
		if !show {
			continue
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

// catchUp reads the newest line now: where to start, or proof of a
// restarted router. The first time, the recent interesting lines are
// history worth showing. stopped: the consumer has gone.
func (f *LogFollower) catchUp(ctx context.Context, conn *replyConn, api *ros.Client, st *followState, zone routerZone,
	keep func(LogEntry) bool, emit func(LogEvent) bool) (stopped bool, err error) {
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
		now := zone.now()
		var history []LogEntry
		for _, s := range r.Re {
			if e := ParseLogEntry(s.Map, now); keep(e) {
				e.History = true
				history = append(history, e)
			}
		}
		for _, e := range history[max(0, len(history)-historyLines):] {
			if !emit(LogEvent{Kind: LogLine, Entry: e}) {
				return true, nil
			}
		}
	case newest < st.last:
		if !emit(LogEvent{Kind: LogGap, Reason: fmt.Sprintf("router log restarted (newest line %s, had %s): the router may have rebooted", idOf(newest), idOf(st.last))}) {
			return true, nil
		}
		st.last = 0
	}
	return false, nil
}

// place moves the position to a followed line: show says whether the line
// is new, stopped that the consumer has gone.
func (st *followState) place(e LogEntry, emit func(LogEvent) bool) (show, stopped bool) {
	switch {
	case e.Seq == 0 || (st.last > 0 && e.Seq > st.last+maxLogJump):
		// An id that cannot be read, or a jump no real log makes: the
		// line is shown (once: a follow replays the past), but the
		// position stays where it was, so one odd id cannot make every
		// later line look old.
		if !st.oddSeen(e.ID) {
			return false, false
		}
	case e.Seq <= st.last && st.last-e.Seq < maxLogJump:
		return false, false
	case st.last > 0 && e.Seq <= st.last:
		// Far behind the position: the position was the odd one (taken
		// from the history); follow the router's numbering again.
		st.last = e.Seq
	default:
		if st.last > 0 && e.Seq > st.last+1 {
			if !emit(LogEvent{Kind: LogGap, Reason: fmt.Sprintf("router log lines %s to %s were missed", idOf(st.last+1), idOf(e.Seq-1))}) {
				return false, true
			}
		}
		st.last = e.Seq
	}
	return true, false
}

// routerZone is the router's time zone for its log times, or why it is
// unknown.
type routerZone struct {
	loc  *time.Location
	name string
	// unknown says why the zone is unknown; loc is nil then.
	unknown string
}

// zone reads the router's clock for its zone. A router (or a user) without
// /system/clock is followed all the same, its zone unknown; only a
// connection that fails is an error.
func (f *LogFollower) zone(ctx context.Context, conn *replyConn, api *ros.Client) (routerZone, error) {
	if f.Loc != nil {
		return routerZone{loc: f.Loc}, nil
	}
	stop := deadline(ctx, conn, f.Opts.Timeout)
	r, err := api.RunArgs([]string{"/system/clock/print"})
	stop()
	var dev *ros.DeviceError
	switch {
	case errors.As(err, &dev) && dev.Sentence.Word == "!trap":
		return routerZone{unknown: "the router's clock could not be read: " + safetext.Line(dev.Sentence.Map["message"])}, nil
	case err != nil:
		return routerZone{}, fmt.Errorf("read clock: %w", callError(err))
	case len(r.Re) == 0:
		return routerZone{unknown: "the router answered nothing for its clock"}, nil
	}
	clock, err := ParseClock(cleanRow(r.Re[0].Map))
	if err != nil {
		return routerZone{unknown: "the router's clock could not be read: " + err.Error()}, nil
	}
	return routerZone{loc: clock.Zone, name: clock.Name}, nil
}

// now is the router's present moment in its zone, for dating its log
// times; zero when the zone is unknown (the times are then kept as the
// router prints them).
func (z routerZone) now() time.Time {
	if z.loc == nil {
		return time.Time{}
	}
	return time.Now().In(z.loc)
}

// note says, for the connected event, how times are shown: the router's
// zone when it differs from the viewer's (so "18:33" on the router and on
// the screen are not confused), or that it is unknown.
func (z routerZone) note() string {
	if z.loc == nil {
		return fmt.Sprintf(" (%s; its time zone is unknown, so times are shown as the router prints them)", z.unknown)
	}
	if _, theirs := time.Now().In(z.loc).Zone(); z.name != "" && theirs != localOffset() {
		return fmt.Sprintf(" (router clock %s; times shown in %s)", z.name, time.Local)
	}
	return ""
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
