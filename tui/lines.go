package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/failwatch/failwatch/internal/engine"
	"github.com/failwatch/failwatch/internal/safetext"
	"github.com/failwatch/failwatch/monitor"
)

// Lines is the dashboard for a terminal that cannot draw one (TERM=dumb,
// a serial console, a log): a status line every interval with what the
// header and the cards say, and a line at once for what an admin must not
// miss (a switch, an operation's end, a policy decision, the router lost).
type Lines struct {
	opts    Options
	servers map[string]*lineServer
	// facts and answer are each service's, by name.
	facts  map[string]engine.Facts
	answer map[string]string
	router string
	ha     engine.HAState
}

type lineServer struct {
	state monitor.State
	check monitor.CheckStatus
}

// NewLines starts from the servers of opts, nothing known yet.
func NewLines(opts Options) *Lines {
	l := &Lines{opts: opts, servers: map[string]*lineServer{}, router: "connecting", facts: map[string]engine.Facts{}, answer: map[string]string{}}
	for _, s := range opts.Servers {
		l.servers[s.Name] = &lineServer{}
	}
	return l
}

// Observe takes an engine event; it returns a line to print at once for a
// notable one, "" otherwise. A snapshot sets the status the next line
// shows; what happened before it is not printed again.
func (l *Lines) Observe(ev engine.Event) string {
	at := time.Now()
	switch ev := ev.(type) {
	case engine.Snapshot:
		for _, e := range ev.Events {
			l.Observe(e)
		}
		for _, f := range ev.Facts {
			l.facts[f.Service] = f
		}
	case engine.ServerEvent:
		s := l.servers[ev.Server]
		if s == nil {
			return ""
		}
		s.state = ev.State
		// ICMP speaks for the server when it has it, as on the cards;
		// else the first check heard.
		if l := ev.Check.Label; ev.Type == monitor.EventSample && (s.check.Label == "" || s.check.Label == l || l == "icmp") {
			s.check = ev.Check
		}
	case engine.Reading:
		was := l.router
		l.router = "connected"
		if ev.Err != nil {
			l.router = "unreachable: " + safetext.Line(ev.Err.Error())
		}
		for _, f := range ev.Services {
			l.facts[f.Service] = f
		}
		if (was == "connected") != (l.router == "connected") && was != "connecting" {
			return l.stamp(at) + "router " + l.router
		}
	case engine.DNSAnswer:
		answer := "none"
		if len(ev.Addrs) > 0 {
			answer = ev.Addrs[0].String()
			if ev.Server != "" {
				answer += " (" + ev.Server + ")"
			}
		}
		l.answer[ev.Service] = answer
	case engine.Switch:
		text := fmt.Sprintf("%s moved from %s to %s", ev.Service, ev.From, ev.To)
		if ev.Fault {
			text += fmt.Sprintf(", %s after %s", shortDuration(ev.After), wentDown(ev))
		}
		return l.stamp(at) + text + "; " + safetext.Line(ev.Cause.String())
	case engine.FactsChanged:
		var parts []string
		for _, f := range ev {
			l.facts[f.Service] = f
			parts = append(parts, f.Service+" ACTIVE "+safetext.Line(f.Where(l.zone())))
		}
		return l.stamp(at) + strings.Join(parts, " | ")
	case engine.Done:
		text := ev.Result.Operation + ": " + ev.Result.Summary()
		if ev.Err != nil {
			text += ": " + safetext.Line(ev.Err.Error())
		}
		return l.stamp(at) + text
	case engine.PolicyNote:
		return l.stamp(at) + "policy: " + safetext.Line(ev.Text)
	case engine.HAState:
		if text := haLine(&l.ha, ev); text != "" {
			return l.stamp(at) + text
		}
	case engine.ServersChanged:
		next := map[string]*lineServer{}
		for _, s := range ev {
			if old := l.servers[s.Name]; old != nil {
				next[s.Name] = old
			} else {
				next[s.Name] = &lineServer{}
			}
		}
		l.servers, l.opts.Servers = next, ev
	}
	return ""
}

// Line is the status now: ACTIVE, each server's state, last round trip
// and loss over the window, the DNS answer and the router.
func (l *Lines) Line() string {
	var parts []string
	for _, svc := range l.opts.Services {
		f, ok := l.facts[svc.Name]
		if !ok {
			f = engine.Facts{State: engine.FactUnknown, Why: "no reading yet"}
		}
		text := "ACTIVE " + safetext.Line(f.Where(l.zone()))
		if len(l.opts.Services) > 1 {
			text = svc.Name + " " + text
		}
		parts = append(parts, text)
	}
	if l.opts.Demo {
		parts = append([]string{"DEMO: simulated servers"}, parts...)
	}
	for _, c := range l.opts.Servers {
		s := l.servers[c.Name]
		text := fmt.Sprintf("%s %s", c.Name, s.state)
		if w := s.check.Window; w.Sent > 0 {
			last := "lost"
			if w.LastOK {
				last = ms(w.Last) + "ms"
			}
			text += fmt.Sprintf(" %s %s loss %.1f%%", s.check.Label, last, w.LossPercent())
		}
		parts = append(parts, text)
	}
	for _, svc := range l.opts.Services {
		answer := l.answer[svc.Name]
		if answer == "" {
			answer = "not asked yet"
		}
		text := "dns " + answer
		if len(l.opts.Services) > 1 {
			text = "dns " + svc.Name + " " + answer
		}
		parts = append(parts, text)
	}
	parts = append(parts, "router "+l.router)
	return l.stamp(time.Now()) + strings.Join(parts, " | ")
}

func (l *Lines) stamp(at time.Time) string {
	return at.In(l.zone()).Format("15:04:05") + " "
}

func (l *Lines) zone() *time.Location {
	if l.opts.Zone == nil {
		return time.Local
	}
	return l.opts.Zone
}
