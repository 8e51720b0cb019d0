package rosim

import (
	"fmt"
	"strings"
)

// The emulator's script language is the part of RouterOS's console language
// that failover scripts use: statements separated by newlines or
// semicolons, each a list of words; a word is bare text, a "quoted string",
// a [command] whose value it is, a {block}, an (expression) or a $variable,
// optionally after name= (or, in find, name!=, name~, name<, name>).

// tokenKind says what a token is.
type tokenKind int

const (
	tokBare   tokenKind = iota // as written: a name, a number, a path
	tokQuoted                  // "..." with its escapes still in text
	tokSub                     // [ ... ]
	tokBlock                   // { ... }
	tokParen                   // ( ... )
	tokVar                     // $name
)

type token struct {
	kind tokenKind
	text string // the inside of quotes and brackets, a variable's name
}

// word is one word of a statement: a value, or key op value.
type word struct {
	key, op string
	val     token
	// at is where the word starts in its statement's text.
	at int
}

// statement is one command line.
type statement struct {
	text  string
	line  int
	words []word
}

// splitScript cuts a script into statements: at newlines and semicolons
// outside quotes and brackets, joining lines continued with a backslash
// and dropping comments (# at a statement's start).
func splitScript(src string) ([]statement, error) {
	var out []statement
	var cur strings.Builder
	line, start := 1, 1
	quoted, depth := false, 0
	flush := func() error {
		text := strings.TrimSpace(cur.String())
		cur.Reset()
		if text == "" {
			return nil
		}
		words, err := parseWords(text)
		if err != nil {
			return fmt.Errorf("line %d: %v (in: %s)", start, err, text)
		}
		out = append(out, statement{text: text, line: start, words: words})
		return nil
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		if cur.Len() == 0 && c == '#' {
			// A comment runs to the end of its line, whatever it holds.
			for i < len(src) && src[i] != '\n' {
				i++
			}
			i--
			continue
		}
		if cur.Len() == 0 && strings.TrimSpace(string(c)) == "" {
			if c == '\n' {
				line++
			}
			start = line
			continue
		}
		switch {
		case c == '\\' && i+1 < len(src) && src[i+1] == '\n':
			i++
			line++
			continue
		case c == '\\' && i+2 < len(src) && src[i+1] == '\r' && src[i+2] == '\n':
			i += 2
			line++
			continue
		case c == '\\' && quoted && i+1 < len(src):
			cur.WriteByte(c)
			i++
			c = src[i]
		case c == '"':
			quoted = !quoted
		case !quoted && strings.IndexByte("[{(", c) >= 0:
			depth++
		case !quoted && strings.IndexByte("]})", c) >= 0:
			depth--
		case !quoted && depth == 0 && (c == ';' || c == '\n'):
			if err := flush(); err != nil {
				return nil, err
			}
			if c == '\n' {
				line++
			}
			start = line
			continue
		case c == '\n':
			line++
		}
		cur.WriteByte(c)
	}
	if quoted || depth != 0 {
		return nil, fmt.Errorf("line %d: unbalanced quotes or brackets", start)
	}
	return out, flush()
}

// parseWords cuts one statement into words.
func parseWords(text string) ([]word, error) {
	var out []word
	for i := 0; i < len(text); {
		if text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n' {
			i++
			continue
		}
		w, next, err := parseWord(text, i)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
		i = next
	}
	return out, nil
}

// parseWord reads the word at i: key op value, or a value alone.
func parseWord(text string, i int) (word, int, error) {
	w := word{at: i}
	if isNameStart(text[i]) {
		j := i
		for j < len(text) && isNameByte(text[j]) {
			j++
		}
		if op := opAt(text, j); op != "" && j > i {
			w.key, w.op = text[i:j], op
			i = j + len(op)
			if i >= len(text) || text[i] == ' ' || text[i] == '\t' {
				// name= with nothing after it: an empty value.
				w.val = token{kind: tokBare}
				return w, i, nil
			}
		}
	}
	tok, next, err := readToken(text, i)
	w.val = tok
	return w, next, err
}

// readToken reads one value at i.
func readToken(text string, i int) (token, int, error) {
	switch c := text[i]; c {
	case '"':
		j, err := closeQuote(text, i)
		if err != nil {
			return token{}, 0, err
		}
		return token{kind: tokQuoted, text: text[i+1 : j]}, j + 1, nil
	case '[', '{', '(':
		j, err := closeBracket(text, i)
		if err != nil {
			return token{}, 0, err
		}
		kind := map[byte]tokenKind{'[': tokSub, '{': tokBlock, '(': tokParen}[c]
		return token{kind: kind, text: text[i+1 : j]}, j + 1, nil
	case '$':
		j := i + 1
		for j < len(text) && isNameByte(text[j]) && text[j] != '/' {
			j++
		}
		if j == i+1 {
			return token{}, 0, fmt.Errorf("a $ without a variable name")
		}
		return token{kind: tokVar, text: text[i+1 : j]}, j, nil
	}
	j := i
	for j < len(text) && !strings.ContainsRune(" \t\r\n", rune(text[j])) {
		if strings.IndexByte("[{(\"", text[j]) >= 0 {
			break
		}
		j++
	}
	if j == i {
		return token{}, 0, fmt.Errorf("unexpected %q", text[i:])
	}
	return token{kind: tokBare, text: text[i:j]}, j, nil
}

func closeQuote(text string, i int) (int, error) {
	for j := i + 1; j < len(text); j++ {
		switch text[j] {
		case '\\':
			j++
		case '"':
			return j, nil
		}
	}
	return 0, fmt.Errorf("unbalanced quotes")
}

func closeBracket(text string, i int) (int, error) {
	depth := 0
	for j := i; j < len(text); j++ {
		switch c := text[j]; {
		case c == '"':
			k, err := closeQuote(text, j)
			if err != nil {
				return 0, err
			}
			j = k
		case strings.IndexByte("[{(", c) >= 0:
			depth++
		case strings.IndexByte("]})", c) >= 0:
			depth--
			if depth == 0 {
				return j, nil
			}
		}
	}
	return 0, fmt.Errorf("unbalanced brackets")
}

func isNameStart(c byte) bool { return isNameByte(c) || c == ':' }

func isNameByte(c byte) bool {
	return c == '-' || c == '_' || c == '.' || c == '/' || c == '*' || c == ':' ||
		'0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// opAt is the comparison or assignment operator at i, if any.
func opAt(text string, i int) string {
	for _, op := range []string{"!=", "<=", ">=", "=", "~", "<", ">"} {
		if strings.HasPrefix(text[i:], op) {
			return op
		}
	}
	return ""
}

// unquote resolves a quoted string's escapes; vars expands $name (nil: a
// $ is an error, as an undefined variable is).
func unquote(s string, vars func(string) (string, bool)) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			i++
			switch e := s[i]; e {
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			default:
				if i+1 < len(s) && isHex(e) && isHex(s[i+1]) {
					b.WriteByte(hexVal(e)<<4 | hexVal(s[i+1]))
					i++
					continue
				}
				b.WriteByte(e)
			}
		case c == '$':
			j := i + 1
			for j < len(s) && isNameByte(s[j]) && s[j] != '/' && s[j] != '.' {
				j++
			}
			v, ok := "", false
			if vars != nil && j > i+1 {
				v, ok = vars(s[i+1 : j])
			}
			if !ok {
				return "", fmt.Errorf("undefined variable in %q (escape a literal $ as \\$)", s)
			}
			b.WriteString(v)
			i = j - 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'A' <= c && c <= 'F' }

func hexVal(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c - 'A' + 10
}
