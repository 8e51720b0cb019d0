package tui

import (
	"slices"
	"strings"

	"github.com/failwatch/failwatch/internal/engine"
	"github.com/failwatch/failwatch/internal/safetext"
	"github.com/failwatch/failwatch/monitor"
)

// haView is the cluster as the engine last said it (ha: configured): who
// leads, this instance's role and why it does not act, each instance's view
// of each server. Nil state: no ha:, nothing drawn.
type haView struct {
	st *engine.HAState
}

// take keeps the engine's latest HA state.
func (h *haView) take(ev engine.HAState) { h.st = &ev }

// tag is the header's word on the cluster: who leads and this instance's
// role, in the colour of whether it acts.
func (h *haView) tag(st Styles) []string {
	if h.st == nil {
		return nil
	}
	s := h.st
	lead := "no leader"
	if s.Leader != "" {
		lead = "leader " + safetext.Line(s.Leader)
	}
	text := "HA " + lead + ", this " + s.Role
	switch {
	case s.Acting:
		return []string{st.Good.Render(text)}
	case s.Role == "none" || !s.Connected:
		return []string{st.Bad.Render(text)}
	}
	return []string{st.Warn.Render(text)}
}

// block is the dashboard's cluster panel, preceded by a newline: a line
// saying whether this instance acts and why not, then a line per instance
// with its view of each server; "" without ha:.
func (h *haView) block(st Styles, width int) string {
	if h.st == nil {
		return ""
	}
	s, g := h.st, st.Glyphs
	head := st.Bold.Render("cluster "+safetext.Line(s.Cluster)) + " " + st.Muted.Render(g.Sep) + " "
	if s.Acting {
		head += st.Good.Render("this instance (" + safetext.Line(s.Name) + ") leads and acts")
	} else {
		head += st.Warn.Render("not acting: " + safetext.Line(s.Why))
	}
	lines := []string{cut(head, width, g.Ellipse)}
	for _, v := range s.Views {
		name := safetext.Line(v.Name)
		if v.Name == s.Name {
			name += " (this)"
		}
		parts := []string{st.Bold.Render(name)}
		if v.Leader {
			parts = append(parts, st.Good.Render("leader"))
		}
		if !v.Fresh {
			parts = append(parts, st.Warn.Render("stale"))
		}
		if !v.SameConfig {
			parts = append(parts, st.Bad.Render("other config"))
		}
		servers := make([]string, 0, len(v.Verdicts))
		for server := range v.Verdicts {
			servers = append(servers, server)
		}
		slices.Sort(servers)
		for _, server := range servers {
			verdict := safetext.Line(v.Verdicts[server])
			parts = append(parts, safetext.Line(server)+" "+st.State(stateOf(verdict)).Render(verdict))
		}
		lines = append(lines, cut("  "+strings.Join(parts, "  "), width, g.Ellipse))
	}
	return "\n" + strings.Join(lines, "\n")
}

// stateOf is a verdict's state, as another instance's probes said it.
func stateOf(verdict string) monitor.State {
	for _, s := range []monitor.State{monitor.Up, monitor.Down, monitor.Degraded, monitor.Unresolved} {
		if s.String() == verdict {
			return s
		}
	}
	return monitor.Unknown
}

// haLine is the line mode's line for a change of who leads or of whether
// this instance acts, "" for another change (a wait counting down).
func haLine(was *engine.HAState, s engine.HAState) string {
	if was.Leader == s.Leader && was.Role == s.Role && was.Acting == s.Acting && was.Cluster != "" {
		return ""
	}
	*was = s
	lead := safetext.Line(s.Leader)
	if lead == "" {
		lead = "none"
	}
	text := "ha: leader " + lead + ", this instance " + s.Role
	if !s.Acting {
		text += ", not acting: " + safetext.Line(s.Why)
	}
	return text
}
