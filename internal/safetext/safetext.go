package safetext

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Line strips every control character (C0, DEL, C1, and line breaks) and
// turns invalid UTF-8 into U+FFFD: for text shown on one line.
func Line(s string) string { return clean(s, false) }

// Block is Line that keeps newlines and tabs: for scripts and other
// multi-line text.
func Block(s string) string { return clean(s, true) }

// Cut bounds s to at most n bytes (none when n < 0), ending in "..." when
// cut, without splitting a UTF-8 sequence: for text whose size the network
// chooses.
func Cut(s string, n int) string {
	n = max(n, 0)
	if len(s) <= n {
		return s
	}
	const more = "..."
	end := max(n-len(more), 0)
	for end > 0 && !utf8.RuneStart(s[end]) {
		end--
	}
	return s[:end] + more[:min(len(more), n)]
}

func clean(s string, keepLines bool) string {
	if safe(s, keepLines) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case keepLines && (r == '\n' || r == '\t'):
			b.WriteRune(r)
		case unicode.IsControl(r), r == '\u2028', r == '\u2029':
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// safe is the fast path: plain printable ASCII needs no copy.
func safe(s string, keepLines bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return false
		}
		if c < 0x20 || c == 0x7f {
			if keepLines && (c == '\n' || c == '\t') {
				continue
			}
			return false
		}
	}
	return true
}
