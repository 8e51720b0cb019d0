package rosim

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/failwatch/failwatch/config"
)

// An expression is what stands in (...) and after find [where]:
// comparisons (= != < > <= >= ~) joined by && and || (or "and", "or"),
// negated by ! (or "not"), in parentheses. In find, a bare name is an
// item's property and two conditions side by side must both hold.

type exprKind int

const (
	xVal exprKind = iota
	xOp
	xAnd
	xOr
	xNot
	xParen
)

type exprTok struct {
	kind exprKind
	op   string
	val  token
}

// lexExpr cuts an expression into its tokens.
func lexExpr(src string) ([]exprTok, error) {
	var out []exprTok
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case c == '(' || c == '"' || c == '[' || c == '$':
			tok, next, err := readToken(src, i)
			if err != nil {
				return nil, err
			}
			kind := xVal
			if tok.kind == tokParen {
				kind = xParen
			}
			out = append(out, exprTok{kind: kind, val: tok})
			i = next
		case strings.HasPrefix(src[i:], "&&"):
			out, i = append(out, exprTok{kind: xAnd}), i+2
		case strings.HasPrefix(src[i:], "||"):
			out, i = append(out, exprTok{kind: xOr}), i+2
		case c == '!' && !strings.HasPrefix(src[i:], "!="):
			out, i = append(out, exprTok{kind: xNot}), i+1
		case opAt(src, i) != "":
			op := opAt(src, i)
			out, i = append(out, exprTok{kind: xOp, op: op}), i+len(op)
		default:
			j := i
			for j < len(src) && isNameByte(src[j]) {
				j++
			}
			if j == i {
				return nil, fmt.Errorf("unexpected %q in expression", src[i:])
			}
			switch w := src[i:j]; w {
			case "and":
				out = append(out, exprTok{kind: xAnd})
			case "or":
				out = append(out, exprTok{kind: xOr})
			case "not":
				out = append(out, exprTok{kind: xNot})
			case "where":
			default:
				out = append(out, exprTok{kind: xVal, val: token{kind: tokBare, text: w}})
			}
			i = j
		}
	}
	return out, nil
}

// node is a parsed expression.
type node struct {
	kind exprKind // xVal, xOp (a comparison), xAnd, xOr, xNot
	op   string
	a, b *node
	val  token
}

type exprParser struct {
	toks []exprTok
	i    int
}

func parseExpr(src string) (*node, error) {
	toks, err := lexExpr(src)
	if err != nil {
		return nil, err
	}
	p := &exprParser{toks: toks}
	if len(toks) == 0 {
		return nil, nil
	}
	n, err := p.or()
	if err == nil && p.i < len(p.toks) {
		err = fmt.Errorf("unexpected words at the end of %q", src)
	}
	return n, err
}

func (p *exprParser) peek() (exprTok, bool) {
	if p.i < len(p.toks) {
		return p.toks[p.i], true
	}
	return exprTok{}, false
}

func (p *exprParser) or() (*node, error) {
	return p.join(xOr, p.and, func(k exprKind) bool { return k == xOr })
}

// and joins conditions with && or "and", or side by side.
func (p *exprParser) and() (*node, error) {
	return p.join(xAnd, p.not, func(k exprKind) bool { return k == xAnd || k == xVal || k == xParen || k == xNot })
}

// join reads operands and joins them left to right into nodes of kind
// while the next token is one joins says goes on: a token of kind itself
// is taken, one that starts the next operand (and's side by side) is not.
func (p *exprParser) join(kind exprKind, operand func() (*node, error), joins func(exprKind) bool) (*node, error) {
	a, err := operand()
	for err == nil {
		t, ok := p.peek()
		if !ok || !joins(t.kind) {
			break
		}
		if t.kind == kind {
			p.i++
		}
		var b *node
		b, err = operand()
		a = &node{kind: kind, a: a, b: b}
	}
	return a, err
}

func (p *exprParser) not() (*node, error) {
	if t, ok := p.peek(); ok && t.kind == xNot {
		p.i++
		a, err := p.not()
		return &node{kind: xNot, a: a}, err
	}
	return p.compare()
}

func (p *exprParser) compare() (*node, error) {
	a, err := p.primary()
	if err != nil {
		return nil, err
	}
	if t, ok := p.peek(); ok && t.kind == xOp {
		p.i++
		b, err := p.primary()
		return &node{kind: xOp, op: t.op, a: a, b: b}, err
	}
	return a, nil
}

func (p *exprParser) primary() (*node, error) {
	t, ok := p.peek()
	if !ok {
		return nil, fmt.Errorf("an expression ends too soon")
	}
	p.i++
	switch t.kind {
	case xParen:
		return parseExpr(t.val.text)
	case xVal:
		return &node{kind: xVal, val: t.val}, nil
	}
	return nil, fmt.Errorf("unexpected operator in expression")
}

// eval evaluates an expression; with a row (find), a bare name is the
// row's property.
func (in *interp) evalNode(n *node, r row) (value, error) {
	if n == nil {
		return true, nil
	}
	switch n.kind {
	case xAnd, xOr:
		a, err := in.evalBool(n.a, r)
		if err != nil || (n.kind == xAnd && !a) || (n.kind == xOr && a) {
			return a, err
		}
		return in.evalBool(n.b, r)
	case xNot:
		a, err := in.evalBool(n.a, r)
		return !a, err
	case xOp:
		if r != nil && n.a.kind == xVal && n.a.val.kind == tokBare {
			want, err := in.eval(n.b.val)
			if err != nil {
				return nil, err
			}
			got, has := r[n.a.val.text]
			return propMatch(got, has, n.op, str(want))
		}
		a, err := in.evalNode(n.a, r)
		if err != nil {
			return nil, err
		}
		b, err := in.evalNode(n.b, r)
		if err != nil {
			return nil, err
		}
		return compareValues(a, n.op, b)
	}
	if r != nil && n.val.kind == tokBare {
		// A property alone: true when it is a boolean that is true.
		return r[n.val.text] == "true", nil
	}
	return in.eval(n.val)
}

func (in *interp) evalBool(n *node, r row) (bool, error) {
	v, err := in.evalNode(n, r)
	if err != nil {
		return false, err
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("%s is not true or false", str(v))
	}
	return b, nil
}

// propMatch compares an item's property as the console does: yes and no
// are true and false, durations equal in any form.
func propMatch(got string, has bool, op, want string) (bool, error) {
	switch op {
	case "=":
		return has && sameProp(got, want), nil
	case "!=":
		return !has || !sameProp(got, want), nil
	case "~":
		re, err := regexp.Compile(want)
		if err != nil {
			return false, fmt.Errorf("bad regular expression %q", want)
		}
		return re.MatchString(got), nil
	}
	c := compare(got, want)
	return has && map[string]bool{"<": c < 0, ">": c > 0, "<=": c <= 0, ">=": c >= 0}[op], nil
}

func sameProp(got, want string) bool {
	if equalValue(got, want) {
		return true
	}
	a, err1 := config.ParseDuration(got)
	b, err2 := config.ParseDuration(want)
	return err1 == nil && err2 == nil && a == b
}

// compareValues compares two script values.
func compareValues(a value, op string, b value) (bool, error) {
	switch op {
	case "=":
		return str(a) == str(b), nil
	case "!=":
		return str(a) != str(b), nil
	case "~":
		re, err := regexp.Compile(str(b))
		if err != nil {
			return false, fmt.Errorf("bad regular expression %q", str(b))
		}
		return re.MatchString(str(a)), nil
	}
	x, kx := number(a)
	y, ky := number(b)
	if kx == "" || kx != ky {
		return false, fmt.Errorf("cannot compare %q %s %q", str(a), op, str(b))
	}
	return map[string]bool{"<": x < y, ">": x > y, "<=": x <= y, ">=": x >= y}[op], nil
}

// number is a number or a duration as a number to compare, and which of
// the two it is ("" for neither).
func number(v value) (int64, string) {
	switch x := v.(type) {
	case int64:
		return x, "num"
	case time.Duration:
		return int64(x), "time"
	}
	return 0, ""
}
