package rosim

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Import runs a whole RouterOS script as /import would: menu lines
// ("/ip dns static"), then commands relative to the menu or with a full
// path (add, set, enable, disable, remove, with [find ...] selectors), and
// ":if ([:len [find ...]] = 0) do={ ... } else={ ... }". Every command goes
// through the same menus as the API, so a property this version lacks is
// refused here as there. It stops at the first error, saying which line, as
// a router does; what ran before it stays.
func (r *Router) Import(src string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	menu := ""
	for _, line := range scriptLines(src) {
		stmt := strings.TrimSpace(line.text)
		if stmt == "" || strings.HasPrefix(stmt, "#") {
			continue
		}
		if err := r.importStatement(&menu, stmt); err != nil {
			return fmt.Errorf("line %d: %v (in: %s)", line.no, err, stmt)
		}
	}
	return nil
}

type scriptLine struct {
	no   int
	text string
}

// scriptLines joins lines continued with a trailing backslash.
func scriptLines(src string) []scriptLine {
	var out []scriptLine
	var cur strings.Builder
	start := 0
	for i, l := range strings.Split(src, "\n") {
		if cur.Len() == 0 {
			start = i + 1
		}
		if strings.HasSuffix(l, "\\") && !strings.HasSuffix(l, "\\\\") {
			cur.WriteString(strings.TrimSuffix(l, "\\"))
			continue
		}
		cur.WriteString(l)
		out = append(out, scriptLine{start, cur.String()})
		cur.Reset()
	}
	return out
}

// importStatement runs one statement; a bare path changes the menu.
func (r *Router) importStatement(menu *string, stmt string) error {
	if strings.HasPrefix(stmt, ":if") {
		return r.importIf(*menu, stmt)
	}
	toks, err := tokens(stmt)
	if err != nil {
		return err
	}
	path, args := splitPath(toks)
	if len(args) == 0 && strings.HasPrefix(stmt, "/") && !isVerb(path[len(path)-1]) {
		*menu = "/" + strings.Join(path, "/")
		return nil
	}
	full := joinPath(*menu, path, strings.HasPrefix(stmt, "/"))
	return r.importCommand(full, args)
}

var verbs = []string{"add", "set", "enable", "disable", "remove", "flush", "print"}

func isVerb(w string) bool {
	for _, v := range verbs {
		if w == v {
			return true
		}
	}
	return false
}

// splitPath takes the leading path words of a statement.
func splitPath(toks []string) ([]string, []string) {
	i := 0
	var path []string
	for ; i < len(toks); i++ {
		t := toks[i]
		if strings.ContainsAny(t, "=[") || isNumberList(t) {
			break
		}
		for _, p := range strings.Split(strings.Trim(t, "/"), "/") {
			if p != "" {
				path = append(path, p)
			}
		}
	}
	return path, toks[i:]
}

func joinPath(menu string, path []string, absolute bool) string {
	if absolute || menu == "" {
		return "/" + strings.Join(path, "/")
	}
	return menu + "/" + strings.Join(path, "/")
}

// importCommand runs one command through the menus, as the API would.
func (r *Router) importCommand(full string, args []string) error {
	menuPath := full[:strings.LastIndexByte(full, '/')]
	var ids []string
	var attrs []attr
	selected := false
	for _, a := range args {
		switch {
		case strings.HasPrefix(a, "[") && strings.HasSuffix(a, "]"):
			t := r.menu(menuPath)
			if t == nil {
				return fmt.Errorf("bad command name %s", full)
			}
			rows, err := r.find(t, a[1:len(a)-1])
			if err != nil {
				return err
			}
			selected = true
			for _, row := range rows {
				ids = append(ids, row[".id"])
			}
		default:
			k, v, ok := strings.Cut(a, "=")
			if !ok {
				return fmt.Errorf("expected property=value, got %q", a)
			}
			attrs = append(attrs, attr{k, v})
		}
	}
	if selected {
		if len(ids) == 0 {
			// A [find] that matches nothing selects nothing: not an error.
			return nil
		}
		attrs = append([]attr{{".id", strings.Join(ids, ",")}}, attrs...)
	}
	if res := r.execLocked("admin", full, attrs, nil); res.trap != nil {
		return res.trap
	}
	return nil
}

func (r *Router) menu(path string) *table {
	switch path {
	case "/ip/dns/static":
		return r.static
	case "/tool/netwatch":
		return r.netwatch
	}
	return nil
}

var ifForm = regexp.MustCompile(`^:if\s*\(\s*\[\s*:len\s+(\[.*\])\s*\]\s*(=|!=|>|<)\s*(\d+)\s*\)\s*do=\{(.*)\}\s*else=\{(.*)\}\s*$`)

// importIf runs ":if ([:len [find ...]] = 0) do={ A } else={ B }", the
// form "add it unless it is there" takes.
func (r *Router) importIf(menu, stmt string) error {
	m := ifForm.FindStringSubmatch(stmt)
	if m == nil {
		return fmt.Errorf("only :if ([:len [find ...]] OP N) do={...} else={...} is understood")
	}
	t := r.menu(menu)
	if t == nil {
		return fmt.Errorf("[find] outside a menu")
	}
	rows, err := r.find(t, m[1][1:len(m[1])-1])
	if err != nil {
		return err
	}
	n, _ := strconv.Atoi(m[3])
	var yes bool
	switch m[2] {
	case "=":
		yes = len(rows) == n
	case "!=":
		yes = len(rows) != n
	case ">":
		yes = len(rows) > n
	case "<":
		yes = len(rows) < n
	}
	body := m[5]
	if yes {
		body = m[4]
	}
	for _, stmt := range splitStatements(body) {
		if err := r.importStatement(&menu, stmt); err != nil {
			return err
		}
	}
	return nil
}
