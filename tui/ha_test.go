package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/failwatch/failwatch/internal/engine"
	"github.com/failwatch/failwatch/internal/ha"
)

// haFollower is a follower's picture: i1 leads, i3's view is stale and its
// config differs, an instance name carries a control character.
func haFollower() engine.HAState {
	return engine.HAState{At: time.Unix(0, 0), Status: ha.Status{Cluster: "paper", Name: "i2", Leader: "i1", Role: "follower", Connected: true,
		Why: "i1 leads", Views: []ha.View{
			{Name: "i1", Leader: true, Fresh: true, SameConfig: true, Verdicts: map[string]string{"public": "DOWN", "private": "UP"}},
			{Name: "i2", Fresh: true, SameConfig: true, Verdicts: map[string]string{"public": "UP", "private": "UP"}},
			{Name: "i3\x1b[2J", SameConfig: false, Verdicts: map[string]string{"public": "UNKNOWN"}},
		}}}
}

// The cluster's panel and header tag, as a follower and as the leader: who
// leads, why this instance does not act, each instance's view; nothing of
// it without ha:.
func TestGoldenHA(t *testing.T) {
	leader := haFollower()
	leader.Name, leader.Role, leader.Acting, leader.Why = "i1", "leader", true, ""
	for _, c := range []struct {
		name string
		st   *engine.HAState
	}{{"follower", ptr(haFollower())}, {"leader", &leader}, {"none", nil}} {
		for _, width := range []int{80, 120} {
			t.Run(fmt.Sprintf("%s/%d", c.name, width), func(t *testing.T) {
				m := update(fixture(Options{ASCII: true, NoColor: true}), tea.WindowSizeMsg{Width: width, Height: 30})
				m = update(m, scene()...)
				if c.st != nil {
					m = update(m, *c.st)
				}
				m.header.SetSize(width, headerHeight)
				out := m.header.View() + "\n--\n" + m.c.ha.block(m.c.styles, width)
				for i, l := range strings.Split(out, "\n") {
					if w := lipgloss.Width(l); w > width {
						t.Errorf("line %d is %d cells wide on a %d-cell screen: %q", i+1, w, width, l)
					}
				}
				if strings.Contains(out, "\x1b") {
					t.Error("an instance's name reached the screen with its control characters")
				}
				if c.st == nil && strings.Contains(out, "HA") {
					t.Error("HA drawn without ha:")
				}
				golden.RequireEqual(t, out)
			})
		}
	}
}

func ptr[T any](v T) *T { return &v }
