package config

import (
	"strings"
	"testing"
)

// ui.no_mouse leaves the mouse to the terminal for the dashboard and every
// serve session; anything but a boolean is refused where it stands.
func TestUINoMouse(t *testing.T) {
	base := "router:\n  address: 192.0.2.1\nservice:\n  name: www.example.test\nservers:\n" +
		"  - {name: a, role: primary, address: 192.0.2.2, record: {comment: a}}\n" +
		"  - {name: b, role: standby, address: 192.0.2.3, record: {comment: b}}\n"
	cfg, err := Parse("f.yaml", []byte(base+"ui:\n  no_mouse: true\n"))
	if err != nil || !cfg.UI.NoMouse {
		t.Fatalf("no_mouse: true: %v %+v", err, cfg)
	}
	cfg, err = Parse("f.yaml", []byte(base))
	if err != nil || cfg.UI.NoMouse {
		t.Errorf("without ui: %v, no_mouse %v", err, cfg != nil && cfg.UI.NoMouse)
	}
	if _, err := Parse("f.yaml", []byte(base+"ui:\n  no_mouse: maybe\n")); err == nil || !strings.Contains(err.Error(), "f.yaml:9:13") {
		t.Errorf("no_mouse: maybe: %v", err)
	}
}
