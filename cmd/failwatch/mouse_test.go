package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/failwatch/failwatch/internal/testkit"
)

// The dashboard takes the mouse unless --no-mouse leaves it to the
// terminal, and M turns it on and off, as tmux sees the pane: whether it
// selects text itself or passes clicks and the wheel on.
func TestMouseFlag(t *testing.T) {
	bin := buildBinary(t)
	for _, tc := range []struct {
		flag        string
		want, after string
	}{{"", "1", "0"}, {" --no-mouse", "0", "1"}} {
		s := newTmux(t, 80, 24, bin+" demo"+tc.flag)
		s.waitFor("the dashboard", `public · primary`, `private · standby`)
		if got := s.mouse(); got != tc.want {
			t.Errorf("demo%s: the pane's mouse flag is %s, want %s", tc.flag, got, tc.want)
		}
		s.keys("M")
		testkit.EventuallyLast(t, 5*time.Second, fmt.Sprintf("demo%s, M: the pane's mouse flag %s", tc.flag, tc.after), func() (string, bool) {
			got := s.mouse()
			return got, got == tc.after
		})
	}
}

// mouse is tmux's flag for the pane: 1 while the program asks for mouse
// events.
func (s *tmuxSession) mouse() string {
	return strings.TrimSpace(s.run("display-message", "-p", "-t", "fw", "#{mouse_any_flag}"))
}
