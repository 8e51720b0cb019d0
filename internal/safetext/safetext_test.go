package safetext

import (
	"testing"
	"unicode/utf8"
)

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

func TestCut(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"a longer line", 10, "a longe..."},
		{"ééééé", 6, "é..."}, // 2-byte runes: the cut backs off to a boundary
		{"abcdef", 2, ".."},
		{"abcdef", -1, ""},
	} {
		got := Cut(tc.in, tc.n)
		if got != tc.want || len(got) > max(tc.n, 0) || !utf8.ValidString(got) {
			t.Errorf("Cut(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
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
