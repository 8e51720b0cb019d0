package tui

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/engine"
)

// redrawnGrace is how long a question just redrawn with another move
// ignores y: a key pressed for the old move must not confirm the new one.
const redrawnGrace = time.Second

// ask opens the confirmation for an action key: the engine's question from
// the facts on screen (engine.Ask), on the selected service, or for m and
// R on every service concerned. With nothing to do there is no question,
// only a note saying why.
func (m *Model) ask(msg tea.KeyPressMsg) {
	if m.header.busy() {
		m.events.add(m.c.now(), "you", "an operation is still running: wait for it", warn)
		return
	}
	// The question must be seen before y answers it: close what covers it.
	m.showHelp, m.detail = false, false
	sv := m.c.svc()
	op, target := engine.OpHold, sv.cfg.Name
	switch {
	case key.Matches(msg, m.c.keys.Failover):
		op = engine.OpFailover
		if sv.cfg.HoldNetwatch {
			op = engine.OpFailoverHold
		}
	case key.Matches(msg, m.c.keys.Restore):
		op = engine.OpRestore
	case key.Matches(msg, m.c.keys.Evacuate):
		if len(m.c.servers) == 0 {
			return
		}
		op, target = engine.OpEvacuate, m.c.servers[m.c.selected].cfg.Name
	case key.Matches(msg, m.c.keys.Primaries):
		op, target = engine.OpPrimaries, ""
	case sv.facts.Held:
		op = engine.OpRelease
	}
	q := m.question(op, target)
	if q.Nothing != "" {
		m.events.add(m.c.now(), "you", q.Nothing, muted)
		return
	}
	m.confirm = m.dialogFor(q)
}

// question is engine.Ask from the facts this screen has: the engine's
// facts as it published them.
func (m *Model) question(op engine.Op, target string) engine.Question {
	services := make([]config.Service, 0, len(m.c.services))
	facts := map[string]engine.Facts{}
	for _, sv := range m.c.services {
		services = append(services, sv.cfg)
		facts[sv.cfg.Name] = sv.facts
	}
	return engine.Ask(op, target, services, facts)
}

// dialogFor is the confirmation of a question: y requests exactly its
// move, naming it, and the engine refuses it if its facts say another. A
// move to a server the probes do not call UP needs that server's name
// typed.
func (m *Model) dialogFor(q engine.Question) *dialog {
	a := m.opts.Actions
	d := &dialog{c: m.c, q: q, text: q.Move, run: func(*Model) tea.Cmd { return act(func() { a.Answer(q) }) }}
	var what, need string
	switch q.Op {
	case engine.OpFailover, engine.OpFailoverHold:
		what = "fail over to it"
	case engine.OpRestore:
		what = "restore to it, and the released netwatch may move the name straight back"
	case engine.OpEvacuate:
		what, need = "move names to them", q.Target
	case engine.OpPrimaries:
		what, need = "restore names to them", "primaries"
	default:
		return d
	}
	var alarms []string
	for _, t := range q.Targets {
		if alarm := m.notUp(t); alarm != "" && !slices.Contains(alarms, alarm) {
			alarms = append(alarms, alarm)
		}
	}
	if len(alarms) > 0 {
		if need == "" {
			need = q.Targets[0]
		}
		d.alarm = fmt.Sprintf("%s: clients would be sent to a server that does not answer if you %s.", strings.Join(alarms, "; "), what)
		d.need = need
	}
	return d
}

// requestion asks an open question again when the facts change: redrawn
// with the new move (and y ignored for a moment), or closed with a note
// when nothing is left to do.
func (m *Model) requestion() {
	d := m.confirm
	if d == nil || d.q.Asked == "" {
		return
	}
	q := m.question(d.q.Asked, d.q.Target)
	switch {
	case q.Nothing != "":
		m.confirm = nil
		m.events.add(m.c.now(), "you", "question closed, the facts changed: "+q.Nothing, warn)
	case q.Move != d.q.Move || q.Op != d.q.Op || !slices.Equal(q.Targets, d.q.Targets):
		m.confirm = m.dialogFor(q)
		m.confirm.redrawn = m.c.now()
		m.events.add(m.c.now(), "you", "the facts changed; the question is now: "+q.Move, warn)
	}
}
