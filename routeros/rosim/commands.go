package rosim

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// tableVerbs are what a script can do in a menu of items.
var tableVerbs = []string{"add", "set", "enable", "disable", "remove", "find", "get", "print"}

// scriptMenus are the menus scripts reach, with their commands.
var scriptMenus = map[string][]string{
	"/ip/dns/static":            tableVerbs,
	"/tool/netwatch":            tableVerbs,
	"/system/scheduler":         tableVerbs,
	"/ip/firewall/nat":          tableVerbs,
	"/ip/firewall/address-list": tableVerbs,
	// Setup's netwatch scripts remove the tracked connections to a dead
	// primary; traffic alone adds them.
	"/ip/firewall/connection": {"remove", "find", "get", "print"},
	// Their IPv6 twins, where the version has them (firewall6.go).
	"/ipv6/firewall/nat":          tableVerbs,
	"/ipv6/firewall/address-list": tableVerbs,
	"/ipv6/firewall/connection":   {"remove", "find", "get", "print"},
	"/interface/list":             tableVerbs,
	"/interface/list/member":      tableVerbs,
	"/ip/dns/cache":               {"flush", "print"},
	"/system/resource":            {"get", "print"},
	"":                            {"ping"},
}

func isMenu(path string) bool {
	for m := range scriptMenus {
		if m != "" && (m == path || strings.HasPrefix(m, path+"/")) {
			return true
		}
	}
	return false
}

// command runs a menu command: its path (from the root when it starts
// with /, else from the current menu), then its arguments. A path alone
// changes the current menu.
func (in *interp) command(s statement) (value, error) {
	menu := in.menu
	if w := s.words[0]; w.key == "" && strings.HasPrefix(w.val.text, "/") {
		menu = ""
	}
	verb, i := "", 0
	for ; i < len(s.words) && verb == ""; i++ {
		w := s.words[i]
		if w.key != "" || w.val.kind != tokBare {
			break
		}
		for _, part := range strings.Split(w.val.text, "/") {
			switch {
			case part == "":
			case verb != "":
				return nil, fmt.Errorf("bad command name %s/%s/%s", menu, verb, part)
			case isMenu(menu + "/" + part):
				menu += "/" + part
			case slices.Contains(scriptMenus[menu], part):
				verb = part
			default:
				return nil, fmt.Errorf("bad command name %s/%s", menu, part)
			}
		}
	}
	if verb == "" {
		if i == len(s.words) {
			in.menu = menu
			return nil, nil
		}
		return nil, fmt.Errorf("bad command name %s", menu)
	}
	return in.inMenu(menu, func() (value, error) { return in.run1(menu, verb, s, s.words[i:]) })
}

func (in *interp) run1(menu, verb string, s statement, args []word) (value, error) {
	switch menu + "/" + verb {
	case "/ping":
		return in.ping(args)
	case "/ip/dns/cache/flush":
		return nil, in.change(menu+"/flush", nil)
	case "/system/resource/get":
		return in.resource(args)
	}
	switch verb {
	case "print":
		return nil, nil
	case "find":
		expr := ""
		if len(args) > 0 {
			expr = s.text[args[0].at:]
		}
		return in.find(menu, expr)
	case "get":
		return in.get(menu, args)
	case "add":
		attrs, err := in.attrs(args)
		if err != nil {
			return nil, err
		}
		return nil, in.change(menu+"/add", attrs)
	}
	ids, rest, err := in.selection(menu, args)
	if err != nil || len(ids) == 0 {
		// A [find] that matches nothing selects nothing: not an error.
		return nil, err
	}
	attrs, err := in.attrs(rest)
	if err != nil {
		return nil, err
	}
	return nil, in.change(menu+"/"+verb, append([]attr{{".id", strings.Join(ids, ",")}}, attrs...))
}

// change runs one change through the menus, as the API would.
func (in *interp) change(cmd string, attrs []attr) error {
	in.changes++
	if in.changes == in.failAt {
		return errInjected
	}
	in.r.mu.Lock()
	defer in.r.mu.Unlock()
	if res := in.r.execLocked(in.user, cmd, attrs, nil); res.trap != nil {
		return res.trap
	}
	return nil
}

// attrs are key=value arguments.
func (in *interp) attrs(args []word) ([]attr, error) {
	var out []attr
	for _, a := range args {
		if a.key == "" || a.op != "=" {
			return nil, fmt.Errorf("expected property=value, got %q", a.val.text)
		}
		v, err := in.eval(a.val)
		if err != nil {
			return nil, err
		}
		out = append(out, attr{a.key, str(v)})
	}
	return out, nil
}

// selection is the items a set, enable, disable or remove names: the
// first argument or numbers=, as ids (from find or a variable) or print
// positions (the paper's numbers=0).
func (in *interp) selection(menu string, args []word) ([]string, []word, error) {
	var sel *word
	var rest []word
	for i := range args {
		switch {
		case sel == nil && (args[i].key == "" || args[i].key == "numbers"):
			sel = &args[i]
		default:
			rest = append(rest, args[i])
		}
	}
	if sel == nil {
		return nil, nil, fmt.Errorf("no such item")
	}
	v, err := in.eval(sel.val)
	if err != nil {
		return nil, nil, err
	}
	switch x := v.(type) {
	case []string:
		return x, rest, nil
	case int64:
		v = strconv.FormatInt(x, 10)
	}
	s := str(v)
	if strings.HasPrefix(s, "*") {
		return strings.Split(s, ","), rest, nil
	}
	in.r.mu.Lock()
	defer in.r.mu.Unlock()
	t := in.r.menu(menu)
	rows, err := positions(t, s)
	ids := make([]string, len(rows))
	for i, row := range rows {
		ids[i] = row[".id"]
	}
	return ids, rest, err
}

// positions picks items by print position, which is what the paper's
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

// find is the ids of the menu's items an expression selects.
func (in *interp) find(menu, expr string) ([]string, error) {
	n, err := parseExpr(expr)
	if err != nil {
		return nil, err
	}
	in.r.mu.Lock()
	rows := make([]row, len(in.r.menu(menu).rows))
	for i, r := range in.r.menu(menu).rows {
		rows[i] = cloneRow(r)
	}
	in.r.mu.Unlock()
	ids := []string{}
	for _, row := range rows {
		ok, err := in.evalBool(n, row)
		if err != nil {
			return nil, err
		}
		if ok {
			ids = append(ids, row[".id"])
		}
	}
	return ids, nil
}

// get is one property of one item, typed as the console types it.
func (in *interp) get(menu string, args []word) (value, error) {
	ids, rest, err := in.selection(menu, args)
	if err != nil {
		return nil, err
	}
	if len(ids) != 1 || len(rest) != 1 || rest[0].key != "" {
		return nil, fmt.Errorf("get takes one item and one property")
	}
	in.r.mu.Lock()
	rows, tr := in.r.menu(menu).find(ids[0])
	var v string
	var has bool
	if tr == nil {
		v, has = rows[0][rest[0].val.text]
	}
	in.r.mu.Unlock()
	if tr != nil {
		return nil, tr
	}
	if !has {
		return nil, nil
	}
	return literal(v), nil
}

// resource is /system resource get uptime (or version).
func (in *interp) resource(args []word) (value, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("get takes one property")
	}
	in.r.mu.Lock()
	defer in.r.mu.Unlock()
	switch args[0].val.text {
	case "uptime":
		return in.r.uptime().Truncate(time.Second), nil
	case "version":
		return in.r.opts.Version, nil
	}
	return nil, fmt.Errorf("no such property %s", args[0].val.text)
}

// ping is /ping ADDRESS count=N interval=T: N echoes T apart (1s by
// default) on the router's clock, each waiting up to a second; its value is
// how many were answered, as the manual's scripts use it.
func (in *interp) ping(args []word) (value, error) {
	count, interval := int64(0), time.Second
	var host netip.Addr
	for _, a := range args {
		v, err := in.eval(a.val)
		if err != nil {
			return nil, err
		}
		switch a.key {
		case "", "address":
			if host, err = netip.ParseAddr(str(v)); err != nil {
				return nil, fmt.Errorf("invalid value for argument address")
			}
		case "count":
			n, ok := v.(int64)
			if !ok || n < 1 {
				return nil, fmt.Errorf("invalid value for argument count")
			}
			count = n
		case "interval":
			d, ok := v.(time.Duration)
			if !ok || d <= 0 {
				return nil, fmt.Errorf("invalid value for argument interval")
			}
			interval = d
		default:
			return nil, fmt.Errorf("unknown parameter %s", a.key)
		}
	}
	if !host.IsValid() || count == 0 {
		// Without count, ping runs until interrupted: never in a script.
		return nil, fmt.Errorf("ping needs an address and count")
	}
	received := int64(0)
	for i := range count {
		if i > 0 && !sleepCtx(in.ctx, in.r.wall(interval)) {
			return nil, in.ctx.Err()
		}
		if _, ok := in.r.opts.Probe(in.ctx, host, time.Second); ok {
			received++
		}
	}
	return received, nil
}
