package engine

import (
	"fmt"
	"strings"
	"time"

	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/failover"
)

// CauseKind is who moved a name, as far as the engine can tell.
type CauseKind string

// The causes of a switch.
const (
	// CauseFailwatch: an operation of failwatch's (Who, Op) was under way
	// or had just ended.
	CauseFailwatch CauseKind = "failwatch"
	// CauseNetwatch: the router's netwatch logged an event for one of the
	// service's servers (Line).
	CauseNetwatch CauseKind = "netwatch"
	// CauseOutside: the followed log shows another admin (Who) or a
	// script changing a static DNS entry (Line).
	CauseOutside CauseKind = "outside"
	// CauseUnknown: nothing seen explains it (Why: the log was not being
	// followed, or it was and shows nothing).
	CauseUnknown CauseKind = "unknown"
)

// Cause is who moved a name, and the fact that says so.
type Cause struct {
	Kind CauseKind
	// Who is the requester of failwatch's operation, or the router user a
	// log line names.
	Who string
	// Op is failwatch's operation.
	Op string
	// Line is the router's log line that says so.
	Line string
	// Why is what is missing for an unknown cause.
	Why string
}

// String is the cause in an admin's words, for an event line.
func (c Cause) String() string {
	switch c.Kind {
	case CauseFailwatch:
		return fmt.Sprintf("by failwatch: %s's %s", c.Who, c.Op)
	case CauseNetwatch:
		return "by the router's netwatch: " + c.Line
	case CauseOutside:
		return "changed outside failwatch: " + c.Line
	}
	return "cause unknown: " + c.Why
}

// Short is the cause in a few words, for a header.
func (c Cause) Short() string {
	switch c.Kind {
	case CauseFailwatch:
		return "by " + c.Who
	case CauseNetwatch:
		return "by netwatch"
	case CauseOutside:
		return "outside failwatch"
	}
	return "cause unknown"
}

// opMark is a failwatch operation on a service, for a switch to be
// attributed to it: while it runs, any move; once done, only the move it
// made (to), so an admin's move back right after is not failwatch's.
type opMark struct {
	who, op     string
	start, done time.Time
	to          string
}

// seenLine is a router log line the engine keeps for attributing switches.
type seenLine struct {
	at    time.Time
	entry routeros.LogEntry
}

// keptLines bounds the log lines kept: switches look back two reading
// intervals, and a router flooding its log must not grow the engine.
const keptLines = 64

// sawLog keeps what the log follower says: whether the log is followed,
// and its recent netwatch and DNS lines.
func (e *Engine) sawLog(ev routeros.LogEvent) {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch ev.Kind {
	case routeros.LogConnected:
		if !e.log.followed {
			e.log.followed, e.log.since = true, ev.At
		}
	case routeros.LogDisconnected:
		e.log.followed = false
	case routeros.LogGap:
		// Lines may be missing: nothing before now says all there is.
		e.log.since = ev.At
	case routeros.LogLine:
		if ev.Entry.History {
			return
		}
		if len(e.log.lines) >= keptLines {
			e.log.lines = append(e.log.lines[:0], e.log.lines[1:]...)
		}
		e.log.lines = append(e.log.lines, seenLine{at: ev.At, entry: ev.Entry})
	}
}

// lines are the newest netwatch event of svc's servers and the newest
// static DNS change the log showed in the two reading intervals before at.
// The engine's lock is held.
func (e *Engine) lines(svc *service, at time.Time) (netwatch, outside *seenLine) {
	look := at.Add(-2*e.watcher.Every - time.Second)
	f := svc.failover
	for i := len(e.log.lines) - 1; i >= 0; i-- {
		l := e.log.lines[i]
		if l.at.Before(look) {
			break
		}
		switch n := l.entry.Netwatch; {
		case n != nil && (n.Host == f.Primary.Address || n.Host == f.Standby.Address):
			if netwatch == nil {
				netwatch = &l
			}
		case strings.Contains(l.entry.Message, "static dns entry"):
			if outside == nil {
				outside = &l
			}
		}
	}
	return netwatch, outside
}

// cause attributes a switch of svc seen in a reading at: failwatch's own
// operation first, unless the router's netwatch logged an event after it
// ended; then the log lines since the reading before. The engine's lock
// is held.
func (e *Engine) cause(svc *service, to string, at time.Time) Cause {
	netwatch, outside := e.lines(svc, at)
	if m, ok := e.marks[svc.cfg.Name]; ok && !m.start.After(at) && (m.done.IsZero() || !at.After(m.done.Add(2*e.watcher.Every))) {
		if m.done.IsZero() || (to == m.to && (netwatch == nil || netwatch.at.Before(m.done))) {
			return Cause{Kind: CauseFailwatch, Who: m.who, Op: m.op}
		}
	}
	switch {
	case netwatch != nil:
		return Cause{Kind: CauseNetwatch, Line: logText(netwatch.entry)}
	case outside != nil:
		c := Cause{Kind: CauseOutside, Line: logText(outside.entry)}
		if _, who, ok := strings.Cut(outside.entry.Message, " by "); ok {
			c.Who = who
		}
		return c
	case !e.log.followed:
		return Cause{Kind: CauseUnknown, Why: "the router's log is not being followed"}
	case e.log.since.After(at.Add(-2*e.watcher.Every - time.Second)):
		return Cause{Kind: CauseUnknown, Why: "the router's log was not followed when it moved"}
	}
	return Cause{Kind: CauseUnknown, Why: "no line of the router's log says who moved it"}
}

// logText is a log line as the router prints it.
func logText(entry routeros.LogEntry) string {
	return strings.Join(entry.Topics, ",") + " " + entry.Message
}

// started notes that an operation of who's starts on the services of
// parts. The engine's lock is held.
func (e *Engine) started(parts []part, who, op string, start time.Time) {
	for _, p := range parts {
		e.marks[p.svc.cfg.Name] = opMark{who: who, op: op, start: start}
	}
}

// ended notes that the operation ended at done, and where it left each
// service's name. The engine's lock is held.
func (e *Engine) ended(res failover.Result, done time.Time) {
	results := res.Parts
	if len(results) == 0 {
		results = []failover.Result{res}
	}
	for _, r := range results {
		if m, ok := e.marks[r.Service]; ok {
			m.done, m.to = done, r.To
			e.marks[r.Service] = m
		}
	}
}

// sawSample keeps when each check of a server began losing its probes, for
// a switch the probes have not yet called a fault. The engine's lock is
// held.
func (e *Engine) sawSample(server, check string, x monitor.Sample) {
	checks := e.losing[server]
	switch {
	case x.OK:
		delete(checks, check)
	case checks == nil:
		e.losing[server] = map[string]time.Time{check: x.At}
	case checks[check].IsZero():
		checks[check] = x.At
	}
}

// lossSince is when the server's probes began losing without a reply
// since (the earliest of its checks), if they are losing now. The engine's
// lock is held.
func (e *Engine) lossSince(server string) (time.Time, bool) {
	var since time.Time
	for _, t := range e.losing[server] {
		if since.IsZero() || t.Before(since) {
			since = t
		}
	}
	return since, !since.IsZero()
}

// netwatchDown is when the router's netwatch logged server down in the two
// reading intervals before at, if it did. The engine's lock is held.
func (e *Engine) netwatchDown(svc *service, server string, at time.Time) (time.Time, bool) {
	s, ok := e.cfg.Server(server)
	if !ok {
		return time.Time{}, false
	}
	netwatch, _ := e.lines(svc, at)
	if netwatch == nil || netwatch.entry.Netwatch.Status != "down" || netwatch.entry.Netwatch.Host != s.Address {
		return time.Time{}, false
	}
	return netwatch.at, true
}
