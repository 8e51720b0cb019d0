// Package eventlog is the daemons' log: a subscriber that turns the
// engine's events into structured log lines (log/slog), one per thing an
// admin reading a journal wants to see: a check or server changing state,
// the router's API going away and coming back, every step of an operation
// and its end, the active server moving, each decision of the policy, and
// with ha: who leads and this instance's role, said when they change.
// Samples and router log lines are not logged: the metrics and the
// recorder keep those.
package eventlog

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/failwatch/failwatch/internal/engine"
	"github.com/failwatch/failwatch/monitor"
)

// New is a logger writing format ("text" or "json") to w.
func New(w io.Writer, format string) (*slog.Logger, error) {
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, nil)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, nil)), nil
	}
	return nil, fmt.Errorf("log format %q: want text or json", format)
}

// Run logs the events until events closes or ctx ends; then it logs what
// is already queued (an operation's last steps) and returns. Text that came
// from the router or the network is quoted by the handler, so its control
// characters never reach a terminal tailing the log.
func Run(ctx context.Context, events <-chan engine.Event, log *slog.Logger) {
	var seen seen
	for {
		select {
		case <-ctx.Done():
			for {
				select {
				case ev, ok := <-events:
					if !ok {
						return
					}
					logEvent(ctx, log, ev, &seen)
				default:
					return
				}
			}
		case ev, ok := <-events:
			if !ok {
				return
			}
			logEvent(ctx, log, ev, &seen)
		}
	}
}

// seen is what was logged last of the states logged only when they change.
type seen struct {
	link linkState
	ha   haSeen
}

// linkState remembers whether the router answered last time, so a reading
// is logged only when that changes.
type linkState struct {
	known     bool
	connected bool
}

func logEvent(ctx context.Context, log *slog.Logger, ev engine.Event, seen *seen) {
	link := &seen.link
	switch ev := ev.(type) {
	case engine.HAState:
		logHA(ctx, log, ev, &seen.ha)
	case engine.Dropped:
		log.WarnContext(ctx, "log fell behind, events lost", "dropped", int(ev))
	case engine.ServerEvent:
		logServer(ctx, log, monitor.Event(ev))
	case engine.Reading:
		r := ev
		if link.known && link.connected == r.Connected {
			return
		}
		link.known, link.connected = true, r.Connected
		if r.Connected {
			// Each service's active server, by its name.
			var active []any
			for _, f := range ev.Services {
				active = append(active, f.Service, f.Active)
			}
			log.InfoContext(ctx, "router connected", "identity", r.Identity.Name, "version", r.Identity.Version, slog.Group("active", active...))
			return
		}
		args := []any{"link", r.Link.State.String()}
		if r.Err != nil {
			args = append(args, "err", r.Err.Error())
		}
		log.WarnContext(ctx, "router not answering", args...)
	case engine.Switch:
		s := ev
		args := []any{"service", s.Service, "from", s.From, "to", s.To}
		if s.Fault {
			args = append(args, "after_ms", s.After.Milliseconds(), "down_by", s.DownBy)
		}
		if s.Cause.Kind != "" {
			args = append(args, "cause", string(s.Cause.Kind))
		}
		if s.Cause.Who != "" {
			args = append(args, "by", s.Cause.Who)
		}
		if s.Cause.Line != "" {
			args = append(args, "log_line", s.Cause.Line)
		}
		log.WarnContext(ctx, "active server changed", args...)
	case engine.Step:
		s := ev.Step
		args := []any{"operation", ev.Op, "step", s.Name, "status", string(s.Status)}
		if s.Detail != "" {
			args = append(args, "detail", s.Detail)
		}
		if s.Took > 0 {
			args = append(args, "took_ms", s.Took.Milliseconds())
		}
		log.InfoContext(ctx, "operation step", args...)
	case engine.Done:
		r := ev.Result
		args := []any{"operation", r.Operation, "outcome", string(r.Outcome), "from", r.From, "to", r.To,
			"took_ms", r.Took.Milliseconds()}
		if ev.By != "" {
			args = append(args, "user", ev.By)
		}
		if len(r.Notes) > 0 {
			args = append(args, "notes", strings.Join(r.Notes, "; "))
		}
		if ev.Err != nil {
			log.ErrorContext(ctx, "operation done", append(args, "err", ev.Err.Error())...)
			return
		}
		log.InfoContext(ctx, "operation done", args...)
	case engine.StatsReset:
		log.InfoContext(ctx, "statistics reset", "user", ev.By)
	case engine.PolicyNote:
		if ev.Refused {
			log.WarnContext(ctx, "policy refused", "reason", ev.Text)
			return
		}
		log.InfoContext(ctx, "policy", "decision", ev.Text)
	}
}

func logServer(ctx context.Context, log *slog.Logger, ev monitor.Event) {
	switch ev.Type {
	case monitor.EventCheck:
		t := ev.Check
		level := slog.LevelInfo
		if ev.Transition.To != monitor.Up {
			level = slog.LevelWarn
		}
		log.Log(ctx, level, "check state", "server", ev.Server, "check", t.Label,
			"from", ev.Transition.From.String(), "to", ev.Transition.To.String(), "reason", ev.Transition.Reason)
	case monitor.EventServer:
		level := slog.LevelInfo
		if ev.Transition.To != monitor.Up {
			level = slog.LevelWarn
		}
		args := []any{"server", ev.Server, "from", ev.Transition.From.String(), "to", ev.Transition.To.String()}
		// A server's state follows its checks' and often has no reason of
		// its own: the check lines just before say why.
		if ev.Transition.Reason != "" {
			args = append(args, "reason", ev.Transition.Reason)
		}
		log.Log(ctx, level, "server state", args...)
	case monitor.EventResolved:
		log.InfoContext(ctx, "server resolved", "server", ev.Server, "addr", ev.Addr.String())
	}
}
