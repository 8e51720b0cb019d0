package tui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/failwatch/failwatch/internal/engine"
	"github.com/failwatch/failwatch/internal/paper"
	"github.com/failwatch/failwatch/routeros"
)

// A reading whose facts carry the bridge on: the router panel says it in
// the engine's words, the wall says "bridging cached clients"; off, the
// wall says nothing of it.
func TestBridgeOnPanelAndWall(t *testing.T) {
	since := time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)
	reading := func(state string) engine.Reading {
		msg := withFacts(engine.Reading{RouterState: routeros.RouterState{At: t0, Connected: true,
			Identity: routeros.Identity{Name: "edge-1", Version: "7.18.2 (stable)"},
			Records:  []routeros.Record{{ID: "*1", Name: paper.Name, Address: paper.PrivateAddress, Type: "A", TTL: "30s"}}}},
			"private", 1, map[string]string{"*1": "private"})
		msg.Services[0].Bridge = &engine.BridgeFacts{State: state, Since: since, Mode: "until_restore", From: paper.PublicAddress,
			To: paper.PrivateAddress, Scope: "192.168.88.0/24 (tcp 443)", Connections: 4}
		return msg
	}
	size := tea.WindowSizeMsg{Width: 119, Height: 50}
	panel := plain(update(fixture(Options{}), size, reading("on")))
	if !strings.Contains(panel, "bridge on since Nov 25 18:00:00: "+paper.PublicAddress+" -> "+paper.PrivateAddress) || !strings.Contains(panel, "4 connection(s) carried") {
		t.Errorf("panel:\n%s", panel)
	}
	if wall := plain(update(fixture(Options{Wall: true, ReadOnly: true}), size, reading("on"))); !strings.Contains(wall, "bridging cached clients") {
		t.Errorf("wall with the bridge on:\n%s", wall)
	}
	if wall := plain(update(fixture(Options{Wall: true, ReadOnly: true}), size, reading("off"))); strings.Contains(wall, "bridging") {
		t.Errorf("wall with the bridge off:\n%s", wall)
	}
}
