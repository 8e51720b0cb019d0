package main

import (
	"context"
	"io"
	"strings"
	"testing"
)

// The timing part's flags are checked before any lab is built (which needs
// root): a wrong name says which flag and what it takes.
func TestLabTimingFlags(t *testing.T) {
	tests := []struct {
		modes, phase, want string
	}{
		{"failwatch", "sometimes", `--fault-phase: "sometimes" is neither tick nor random`},
		{"paper,netwatch", "tick", `--modes: "netwatch" is none of paper, setup, failwatch`},
		{"", "random", `--modes: "" is none of paper, setup, failwatch`},
	}
	for _, tc := range tests {
		err := labTiming(context.Background(), 1, tc.modes, tc.phase, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("--modes %q --fault-phase %q: %v, want %s", tc.modes, tc.phase, err, tc.want)
		}
	}
}
