package eventlog

import (
	"context"
	"log/slog"
	"regexp"

	"github.com/failwatch/failwatch/internal/engine"
)

// haSeen is the cluster as last logged: the leader, and this instance's
// role, whether it acts and why not (without the durations its words
// carry).
type haSeen struct {
	known  bool
	leader string
	role   string
	acting bool
	why    string
}

// durations are the times a reason says ("waiting 1.2s more", "for
// 350ms"): the engine publishes a state each time they change, but the
// reason itself has not, so they are left out when comparing.
var durations = regexp.MustCompile(`[0-9][0-9.]*(?:ms|µs|ns|h|m|s)(?:[0-9][0-9.]*(?:ms|µs|ns|h|m|s))*`)

// logHA logs a change of leader, and a change of this instance's role or
// of why it does not act, once each; views and the durations in a reason
// change far more often and are not logged.
func logHA(ctx context.Context, log *slog.Logger, st engine.HAState, last *haSeen) {
	now := haSeen{known: true, leader: st.Leader, role: st.Role, acting: st.Acting, why: durations.ReplaceAllString(st.Why, "…")}
	if !last.known || now.leader != last.leader {
		level, args := slog.LevelInfo, []any{"cluster", st.Cluster, "leader", orNone(st.Leader)}
		if last.known {
			args = append(args, "was", orNone(last.leader))
		}
		if st.Leader == "" {
			level = slog.LevelWarn
		}
		log.Log(ctx, level, "ha leader", args...)
	}
	if !last.known || now.role != last.role || now.acting != last.acting || now.why != last.why {
		args := []any{"instance", st.Name, "role", st.Role, "acting", st.Acting}
		level := slog.LevelInfo
		if !st.Acting && st.Why != "" {
			args = append(args, "why", st.Why)
		}
		// No lease, or a leader that could act and no longer may: both
		// leave the router without anyone to act.
		if (st.Role != "leader" && st.Role != "follower") || (last.acting && !st.Acting && st.Role == "leader") {
			level = slog.LevelWarn
		}
		log.Log(ctx, level, "ha role", args...)
	}
	*last = now
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
