package tui

import (
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/failwatch/failwatch/internal/engine"
)

// Requester is what the dashboard's keys need of the engine.
type Requester interface {
	Request(engine.Request) error
	ResetStats()
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

// Failover asks for a failover, with a hold of netwatch or not.
func (a *EngineActions) Failover(service string, hold bool) {
	op := engine.OpFailover
	if hold {
		op = engine.OpFailoverHold
	}
	a.request(op, service, "failover")
}

// Restore asks for the primary back.
func (a *EngineActions) Restore(service string) { a.request(engine.OpRestore, service, "") }

// Hold asks for the service's netwatch held.
func (a *EngineActions) Hold(service string) { a.request(engine.OpHold, service, "") }

// Release asks for the service's netwatch released.
func (a *EngineActions) Release(service string) { a.request(engine.OpRelease, service, "") }

// Evacuate asks for every service off the server.
func (a *EngineActions) Evacuate(server string) { a.request(engine.OpEvacuate, server, "") }

// Primaries asks for every service back on its primary.
func (a *EngineActions) Primaries() { a.request(engine.OpPrimaries, "", "") }

// ResetStats clears the statistics, unless read-only.
func (a *EngineActions) ResetStats() {
	if !a.ReadOnly {
		a.Engine.ResetStats()
	}
}

// DemoToggle takes the demo's public server down or up, when there is one.
func (a *EngineActions) DemoToggle() {
	if a.Demo == nil || a.ReadOnly {
		return
	}
	down := a.Demo()
	a.send(DemoMsg{Down: down, At: time.Now()})
}

func (a *EngineActions) request(op engine.Op, target, name string) {
	err := engine.ErrReadOnly
	if !a.ReadOnly {
		err = a.Engine.Request(engine.Request{Op: op, Target: target, By: a.By, Name: name})
	}
	if err != nil {
		a.send(NoteMsg{At: time.Now(), Source: "you", Text: string(op) + " not started: " + err.Error()})
	}
}

func (a *EngineActions) send(msg tea.Msg) {
	if a.Send != nil {
		a.Send(msg)
	}
}
