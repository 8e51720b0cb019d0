package rosim

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/failwatch/failwatch/config"
)

// value is a script value: string, int64, time.Duration, bool, []string
// (item ids, as find returns them) or nil.
type value = any

// interp runs scripts: /import, netwatch's up and down scripts and the
// scheduler's on-event. It takes the router's lock for each command, never
// for a whole script: a script that pings or waits does not stop the
// router.
type interp struct {
	r   *Router
	ctx context.Context
	// user runs the commands: admin for an import, *sys for netwatch and
	// the scheduler.
	user string
	menu string
	vars map[string]value
	// failAt, when positive, makes the failAt-th change of this run be
	// refused (see ImportFailing); changes counts them.
	failAt, changes int
}

func (r *Router) newInterp(ctx context.Context, user string) *interp {
	return &interp{r: r, ctx: ctx, user: user, vars: map[string]value{}}
}

// scriptError is a statement that failed, with the statement.
type scriptError struct {
	line int
	stmt string
	err  error
}

func (e *scriptError) Error() string {
	if e.line > 0 {
		return fmt.Sprintf("line %d: %v (in: %s)", e.line, e.err, e.stmt)
	}
	return fmt.Sprintf("%v (in: %s)", e.err, e.stmt)
}

// errInjected is a change refused by ImportFailing.
var errInjected = errors.New("failure: injected")

// run runs a script, stopping at the first error as a router does.
func (in *interp) run(src string) error {
	_, err := in.runBlock(src, false)
	return err
}

// runBlock runs statements; its value is the last one's. top marks a
// whole script, whose errors name their line.
func (in *interp) runBlock(src string, top bool) (value, error) {
	stmts, err := splitScript(src)
	if err != nil {
		return nil, err
	}
	var last value
	for _, s := range stmts {
		if err := in.ctx.Err(); err != nil {
			return nil, err
		}
		last, err = in.exec(s)
		if err == nil {
			continue
		}
		var se *scriptError
		if !errors.As(err, &se) {
			se = &scriptError{stmt: s.text, err: err}
		}
		if top && se.line == 0 {
			se.line = s.line
		}
		return nil, se
	}
	return last, nil
}

// exec runs one statement.
func (in *interp) exec(s statement) (value, error) {
	if len(s.words) == 0 {
		return nil, nil
	}
	w := s.words[0]
	switch {
	case w.key == "" && w.val.kind == tokBare && strings.HasPrefix(w.val.text, ":"):
		return in.builtin(w.val.text[1:], s.words[1:])
	case w.key == "" && w.val.kind == tokBlock && len(s.words) == 1:
		return in.inMenu(in.menu, func() (value, error) { return in.runBlock(w.val.text, false) })
	}
	return in.command(s)
}

// inMenu runs fn in a menu and comes back to the current one.
func (in *interp) inMenu(menu string, fn func() (value, error)) (value, error) {
	saved := in.menu
	in.menu = menu
	defer func() { in.menu = saved }()
	return fn()
}

// eval is a word's value.
func (in *interp) eval(t token) (value, error) {
	switch t.kind {
	case tokQuoted:
		return unquote(t.text, in.lookup)
	case tokVar:
		v, ok := in.vars[t.text]
		if !ok {
			return nil, fmt.Errorf("undefined variable $%s", t.text)
		}
		return v, nil
	case tokSub:
		return in.inMenu(in.menu, func() (value, error) { return in.runBlock(t.text, false) })
	case tokParen:
		n, err := parseExpr(t.text)
		if err != nil {
			return nil, err
		}
		return in.evalNode(n, nil)
	case tokBlock:
		return t.text, nil
	}
	return literal(t.text), nil
}

func (in *interp) lookup(name string) (string, bool) {
	v, ok := in.vars[name]
	return str(v), ok
}

// literal reads bare text: yes/no and true/false, a number, a duration,
// else the text itself.
func literal(s string) value {
	switch s {
	case "yes", "true":
		return true
	case "no", "false":
		return false
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n
	}
	if d, err := config.ParseDuration(s); err == nil && strings.IndexFunc(s, func(r rune) bool { return r >= 'a' && r <= 'z' || r == ':' }) >= 0 {
		return d
	}
	return s
}

// str is a value as a command's argument takes it.
func str(v value) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case time.Duration:
		return config.FormatDuration(x)
	case bool:
		return strconv.FormatBool(x)
	case []string:
		return strings.Join(x, ",")
	}
	return fmt.Sprint(v)
}

// builtin runs a :command.
func (in *interp) builtin(name string, args []word) (value, error) {
	switch name {
	case "if":
		return in.ifCmd(args)
	case "do":
		return in.doCmd(args)
	case "local", "global", "set":
		if len(args) == 0 || args[0].key != "" || args[0].val.kind != tokBare {
			return nil, fmt.Errorf(":%s needs a variable name", name)
		}
		var v value
		if len(args) > 1 {
			var err error
			if v, err = in.eval(args[1].val); err != nil {
				return nil, err
			}
		}
		in.vars[args[0].val.text] = v
		return nil, nil
	case "len":
		if len(args) != 1 {
			return nil, fmt.Errorf(":len takes one value")
		}
		v, err := in.eval(args[0].val)
		if ids, ok := v.([]string); ok {
			return int64(len(ids)), err
		}
		return int64(len(str(v))), err
	case "pick":
		return in.pick(args)
	case "log", "error", "put":
		return in.say(name, args)
	case "delay":
		if len(args) != 1 {
			return nil, fmt.Errorf(":delay takes one duration")
		}
		d, err := in.eval(args[0].val)
		if _, ok := d.(time.Duration); !ok || err != nil {
			return nil, fmt.Errorf(":delay takes one duration")
		}
		if !sleepCtx(in.ctx, in.r.wall(d.(time.Duration))) {
			return nil, in.ctx.Err()
		}
		return nil, nil
	}
	return nil, fmt.Errorf("bad command name :%s", name)
}

// ifCmd is :if (condition) do={...} else={...}.
func (in *interp) ifCmd(args []word) (value, error) {
	if len(args) == 0 || args[0].val.kind != tokParen {
		return nil, fmt.Errorf(":if needs a (condition)")
	}
	n, err := parseExpr(args[0].val.text)
	if err != nil {
		return nil, err
	}
	yes, err := in.evalBool(n, nil)
	if err != nil {
		return nil, err
	}
	body, ok := blockArg(args[1:], "do")
	if !ok {
		return nil, fmt.Errorf(":if needs do={...}")
	}
	if !yes {
		if body, ok = blockArg(args[1:], "else"); !ok {
			return nil, nil
		}
	}
	return in.runBlock(body, false)
}

// doCmd is :do {...} on-error={...}: an error in the first block runs the
// second instead of ending the script.
func (in *interp) doCmd(args []word) (value, error) {
	if len(args) == 0 || args[0].val.kind != tokBlock {
		return nil, fmt.Errorf(":do needs a {block}")
	}
	v, err := in.runBlock(args[0].val.text, false)
	if err == nil || in.ctx.Err() != nil {
		return v, err
	}
	handler, ok := blockArg(args[1:], "on-error")
	if !ok {
		return nil, err
	}
	return in.runBlock(handler, false)
}

func blockArg(args []word, key string) (string, bool) {
	for _, a := range args {
		if a.key == key && a.op == "=" && a.val.kind == tokBlock {
			return a.val.text, true
		}
	}
	return "", false
}

// say is :log TOPIC "message", :error "message" and :put.
func (in *interp) say(name string, args []word) (value, error) {
	var parts []string
	for _, a := range args {
		v, err := in.eval(a.val)
		if err != nil {
			return nil, err
		}
		parts = append(parts, str(v))
	}
	switch name {
	case "error":
		return nil, errors.New(strings.Join(parts, " "))
	case "log":
		if len(parts) != 2 {
			return nil, fmt.Errorf(":log takes a level and a message")
		}
		in.r.mu.Lock()
		in.r.log.add("script,"+parts[0], parts[1])
		in.r.mu.Unlock()
	}
	return nil, nil
}
