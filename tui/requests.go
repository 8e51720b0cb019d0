package tui

import (
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/failwatch/failwatch/internal/engine"
)

// Requester is what the dashboard's keys need of the engine.
type Requester interface {
	Request(engine.Request) error
}

// EngineActions turn a dashboard's keys into requests to the engine in one
// requester's name (a local user, an SSH user with their key). The engine
// enforces the role; a read-only dashboard's keys request nothing at all,
// whatever the screen lets through.
type EngineActions struct {
	Engine   Requester
	By       engine.Requester
	ReadOnly bool
	// Send tells this dashboard what no other screen will: a request
	// refused (busy with whose operation, a viewer's).
	Send func(tea.Msg)
	// Demo, when set, takes the demo's public server down or brings it
	// back, saying which.
	Demo func() (down bool)
}

// Answer requests the move of a confirmed question, naming it.
func (a *EngineActions) Answer(q engine.Question) {
	r := engine.Request{Op: q.Op, Target: q.Target, By: a.By, Asked: q.Asked, Move: q.Move}
	if q.Op == engine.OpFailoverHold {
		// Failover with a hold is a failover, as the events name it.
		r.Name = string(engine.OpFailover)
	}
	a.request(r)
}

// ResetStats asks for every server's statistics cleared: a request like
// the others, refused to a viewer and audited.
func (a *EngineActions) ResetStats() { a.request(engine.Request{Op: engine.OpResetStats, By: a.By}) }

// DemoToggle takes the demo's public server down or up, when there is one.
func (a *EngineActions) DemoToggle() {
	if a.Demo == nil || a.ReadOnly {
		return
	}
	down := a.Demo()
	a.send(DemoMsg{Down: down, At: time.Now()})
}

func (a *EngineActions) request(r engine.Request) {
	err := engine.ErrReadOnly
	if !a.ReadOnly {
		err = a.Engine.Request(r)
	}
	if err != nil {
		a.send(NoteMsg{At: time.Now(), Source: "you", Text: string(r.Op) + " not started: " + err.Error()})
	}
}

func (a *EngineActions) send(msg tea.Msg) {
	if a.Send != nil {
		a.Send(msg)
	}
}
