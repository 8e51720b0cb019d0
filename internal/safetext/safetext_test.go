package safetext

import "testing"

func TestLineAndBlock(t *testing.T) {
	for _, tc := range []struct{ in, line, block string }{
		{"plain text", "plain text", "plain text"},
		{"\x1b[2J\x1b]0;owned\x07router", "[2J]0;ownedrouter", "[2J]0;ownedrouter"},
		{"a\nb\tc\rd", "abcd", "a\nb\tcd"},
		{"c1 \u009b31m red", "c1 31m red", "c1 31m red"},
		{"bad \xff utf8", "bad \ufffd utf8", "bad \ufffd utf8"},
		{"del\x7f", "del", "del"},
		{"línea ✓", "línea ✓", "línea ✓"},
	} {
		if got := Line(tc.in); got != tc.line {
			t.Errorf("Line(%q) = %q, want %q", tc.in, got, tc.line)
		}
		if got := Block(tc.in); got != tc.block {
			t.Errorf("Block(%q) = %q, want %q", tc.in, got, tc.block)
		}
	}
}

func FuzzLine(f *testing.F) {
	f.Add("\x1b[31mred\x1b[0m\n")
	f.Fuzz(func(t *testing.T, s string) {
		for _, r := range Line(s) {
			if r < 0x20 || (r >= 0x7f && r < 0xa0) {
				t.Fatalf("Line(%q) kept control %U", s, r)
			}
		}
	})
}
