package tui

import (
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/exp/golden"
)

// Every component alone, after the scene, at the three sizes, in colour
// and in ASCII without colour: a change to one part of the screen shows in
// that part's golden file, and each stays within the width it is given.
func TestGoldenComponents(t *testing.T) {
	components := []struct {
		name string
		// of is the component of m, sized to the screen less the header.
		of func(m *Model) component
	}{
		{"header", func(m *Model) component { return &m.header }},
		{"cards", func(m *Model) component { return &m.cards }},
		{"router-panel", func(m *Model) component { return &m.panel }},
		{"router-panel-compact", func(m *Model) component { m.panel.compact = true; return &m.panel }},
		{"events", func(m *Model) component { return &m.events }},
		{"detail", func(m *Model) component { return &m.detailView }},
		{"help", func(m *Model) component { return &m.helpScreen }},
		{"dialog", func(m *Model) component {
			*m = update(*m, press("r"))
			return m.confirm
		}},
		{"wall", func(m *Model) component { return &m.wall }},
	}
	for _, c := range components {
		for _, size := range [][2]int{{80, 24}, {120, 40}, {200, 60}} {
			for _, plainText := range []bool{false, true} {
				name := fmt.Sprintf("%s/%dx%d", c.name, size[0], size[1])
				if plainText {
					name += "-ascii-nocolor"
				}
				t.Run(name, func(t *testing.T) {
					m := update(fixture(Options{ASCII: plainText, NoColor: plainText}), tea.WindowSizeMsg{Width: size[0], Height: size[1]})
					m = update(m, scene()...)
					part := c.of(&m)
					part.SetSize(size[0], size[1]-3)
					out := part.View()
					if out == "" {
						t.Fatal("drew nothing")
					}
					for i, l := range strings.Split(out, "\n") {
						if w := lipgloss.Width(l); w > size[0] {
							t.Errorf("line %d is %d cells wide on a %d-cell screen: %q", i+1, w, size[0], l)
						}
						if plainText && strings.ContainsAny(l, "\x1b") {
							t.Errorf("line %d has an escape sequence without colour", i+1)
						}
					}
					golden.RequireEqual(t, out)
				})
			}
		}
	}
}

// Each component names its keys, and the footer ends with the focused
// one's: the cards' selection on the dashboard, the chart's range and zoom
// in the detail view.
func TestComponentKeys(t *testing.T) {
	m := update(fixture(Options{}), tea.WindowSizeMsg{Width: 200, Height: 60})
	footer := func() string {
		lines := strings.Split(plain(m), "\n")
		return lines[len(lines)-1]
	}
	if f := footer(); !strings.HasPrefix(f, "? all keys • q quit") || !strings.Contains(f, "enter detail") || strings.Contains(f, "zoom") {
		t.Errorf("dashboard footer: %q", f)
	}
	m = update(m, press("enter"))
	if f := footer(); !strings.Contains(f, "1-4 chart") || !strings.Contains(f, "esc back") || strings.Contains(f, "enter detail") {
		t.Errorf("detail footer: %q", f)
	}
	for _, c := range []component{&m.cards, &m.events, &m.detailView, &m.helpScreen, &m.wall} {
		if len(c.ShortHelp()) == 0 || len(c.FullHelp()) != 1 {
			t.Errorf("%T names no keys", c)
		}
	}
}
