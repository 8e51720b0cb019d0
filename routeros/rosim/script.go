package rosim

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// runScript runs a netwatch up/down script: the forms a failover setup
// uses, namely
//
//	/ip dns static enable numbers=0           (CLI print positions: the paper)
//	/ip dns static disable [find comment="Server Public"]
//	/ip dns static set [find where name=x.com] address=192.0.2.1 disabled=no
//	/ip dns cache flush
//
// separated by newlines or semicolons. Anything else is logged as a script
// error, never silently ignored. The caller holds r.mu.
func (r *Router) runScript(src, source string) {
	for _, stmt := range splitStatements(src) {
		if err := r.runStatement(stmt); err != nil {
			r.log.add("script,error", fmt.Sprintf("%s script error: %v (in: %s)", source, err, stmt))
			return
		}
	}
}

func splitStatements(src string) []string {
	var out []string
	var cur strings.Builder
	quoted, depth := false, 0
	flush := func() {
		if s := strings.TrimSpace(cur.String()); s != "" {
			out = append(out, s)
		}
		cur.Reset()
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '\\' && quoted && i+1 < len(src):
			cur.WriteByte(c)
			i++
			c = src[i]
		case c == '"':
			quoted = !quoted
		case c == '[' && !quoted:
			depth++
		case c == ']' && !quoted:
			depth--
		case (c == ';' || c == '\n') && !quoted && depth == 0:
			flush()
			continue
		}
		cur.WriteByte(c)
	}
	flush()
	return out
}

// tokens splits a statement into words, keeping quoted strings and [...]
// groups whole. A quoted string at the top level loses its quotes and its
// escapes (\" \\ \$ \n \r \t); inside [...] the text is kept as written,
// for find to split again. An unescaped $ in a string is a variable, which
// this emulator does not have: an error, not a silent empty value.
func tokens(stmt string) ([]string, error) {
	var out []string
	var cur strings.Builder
	quoted, depth := false, 0
	for i := 0; i < len(stmt); i++ {
		c := stmt[i]
		switch {
		case c == '\\' && quoted && i+1 < len(stmt):
			i++
			if depth > 0 {
				cur.WriteByte(c)
				cur.WriteByte(stmt[i])
				continue
			}
			switch e := stmt[i]; e {
			case 'n':
				cur.WriteByte('\n')
			case 'r':
				cur.WriteByte('\r')
			case 't':
				cur.WriteByte('\t')
			default:
				cur.WriteByte(e)
			}
			continue
		case c == '$' && quoted:
			return nil, fmt.Errorf("undefined variable in %q (escape a literal $ as \\$)", stmt)
		case c == '"':
			quoted = !quoted
			if depth > 0 {
				cur.WriteByte(c)
			}
			continue
		case c == '[' && !quoted:
			depth++
		case c == ']' && !quoted:
			depth--
		case (c == ' ' || c == '\t') && !quoted && depth == 0:
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
			continue
		}
		cur.WriteByte(c)
	}
	if quoted || depth != 0 {
		return nil, fmt.Errorf("unbalanced quotes or brackets")
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out, nil
}

func (r *Router) runStatement(stmt string) error {
	toks, err := tokens(stmt)
	if err != nil {
		return err
	}
	// The path is every leading word without '=' or '['; the last one is
	// the command.
	var path []string
	i := 0
	for ; i < len(toks); i++ {
		t := toks[i]
		if strings.ContainsAny(t, "=[") || isNumberList(t) {
			break
		}
		path = append(path, strings.Trim(t, "/"))
	}
	full := "/" + strings.Join(path, "/")
	full = strings.ReplaceAll(full, "//", "/")
	args := toks[i:]
	switch full {
	case "/ip/dns/cache/flush":
		r.flushes++
		return nil
	case "/ip/dns/static/enable", "/ip/dns/static/disable", "/ip/dns/static/set", "/ip/dns/static/remove":
	default:
		return fmt.Errorf("bad command name %s", full)
	}
	verb := full[len("/ip/dns/static/"):]
	t := r.static
	var rows []row
	var attrs []attr
	for _, a := range args {
		switch {
		case strings.HasPrefix(a, "[") && strings.HasSuffix(a, "]"):
			found, err := r.find(t, a[1:len(a)-1])
			if err != nil {
				return err
			}
			rows = append(rows, found...)
		case isNumberList(a) || strings.HasPrefix(a, "numbers="):
			found, err := positions(t, strings.TrimPrefix(a, "numbers="))
			if err != nil {
				return err
			}
			rows = append(rows, found...)
		default:
			k, v, ok := strings.Cut(a, "=")
			if !ok {
				return fmt.Errorf("expected property=value, got %q", a)
			}
			attrs = append(attrs, attr{k, v})
		}
	}
	if len(rows) == 0 {
		// [find] matching nothing is not an error in RouterOS either.
		return nil
	}
	var tr *trap
	switch verb {
	case "enable":
		tr = t.set(rows, []attr{{"disabled", "false"}})
	case "disable":
		tr = t.set(rows, []attr{{"disabled", "true"}})
	case "set":
		tr = t.set(rows, attrs)
	case "remove":
		t.remove(rows)
	}
	if tr != nil {
		return tr
	}
	for range rows {
		if verb == "remove" {
			r.log.add("system,info", "static dns entry removed")
		} else {
			r.log.add("system,info", "static dns entry changed")
		}
	}
	return nil
}

func isNumberList(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && c != ',' {
			return false
		}
	}
	return true
}

// positions picks items by CLI print position, which is what the paper's
// scripts use: fragile, since adding a record renumbers them.
func positions(t *table, list string) ([]row, error) {
	var out []row
	for p := range strings.SplitSeq(list, ",") {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n >= len(t.rows) {
			return nil, fmt.Errorf("no such item (%s)", p)
		}
		out = append(out, t.rows[n])
	}
	return out, nil
}

// find evaluates the inside of [find ...]: "find", an optional "where", then
// property=value conditions that must all hold.
func (r *Router) find(t *table, expr string) ([]row, error) {
	toks, err := tokens(expr)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 || (toks[0] != "find" && !strings.HasSuffix(toks[0], "/find")) {
		return nil, fmt.Errorf("only [find ...] is understood, got [%s]", expr)
	}
	type cond struct {
		key, op, value string
		re             *regexp.Regexp
	}
	var conds []cond
	for _, tok := range toks[1:] {
		if tok == "where" || tok == "and" {
			continue
		}
		i := strings.IndexAny(tok, "!=~")
		if i <= 0 {
			return nil, fmt.Errorf("expected property=value in find, got %q", tok)
		}
		c := cond{key: tok[:i]}
		switch {
		case strings.HasPrefix(tok[i:], "!="):
			c.op, c.value = "!=", tok[i+2:]
		case tok[i] == '~':
			c.op, c.value = "~", tok[i+1:]
		case tok[i] == '=':
			c.op, c.value = "=", tok[i+1:]
		default:
			return nil, fmt.Errorf("expected property=value in find, got %q", tok)
		}
		if c.op == "~" {
			re, err := regexp.Compile(c.value)
			if err != nil {
				return nil, fmt.Errorf("bad regular expression %q", c.value)
			}
			c.re = re
		}
		conds = append(conds, c)
	}
	var out []row
	for _, row := range t.rows {
		match := true
		for _, c := range conds {
			var ok bool
			switch c.op {
			case "=":
				ok = equalValue(row[c.key], c.value)
			case "!=":
				ok = !equalValue(row[c.key], c.value)
			case "~":
				ok = c.re.MatchString(row[c.key])
			}
			if !ok {
				match = false
				break
			}
		}
		if match {
			out = append(out, row)
		}
	}
	return out, nil
}
