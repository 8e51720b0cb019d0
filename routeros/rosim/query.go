package rosim

import (
	"slices"
	"strconv"
	"strings"
)

// query is a print's ?words, evaluated as RouterOS does: each word pushes a
// result on a stack, `?#` operators combine the stack, and an item matches
// when every result left on the stack is true.
type query []string

// match evaluates the query against one item.
func (q query) match(r row) (bool, *trap) {
	var stack []bool
	for _, w := range q {
		switch {
		case strings.HasPrefix(w, "#"):
			var tr *trap
			if stack, tr = stackOps(stack, w[1:]); tr != nil {
				return false, tr
			}
		case strings.HasPrefix(w, "-"):
			_, has := r[w[1:]]
			stack = append(stack, !has)
		case strings.HasPrefix(w, "<"), strings.HasPrefix(w, ">"):
			k, v, ok := strings.Cut(w[1:], "=")
			if !ok {
				return false, trapf(catValue, "invalid query")
			}
			got, has := r[k]
			stack = append(stack, has && compare(got, v) == map[byte]int{'<': -1, '>': 1}[w[0]])
		default:
			k, v, hasValue := strings.Cut(w, "=")
			got, has := r[k]
			if hasValue {
				// The stored form exactly: ?disabled=yes never matches true.
				stack = append(stack, has && got == v)
			} else {
				stack = append(stack, has)
			}
		}
	}
	for _, v := range stack {
		if !v {
			return false, nil
		}
	}
	return true, nil
}

// equalValue compares as RouterOS does, with yes/no equal to true/false.
func equalValue(got, want string) bool {
	switch want {
	case "yes":
		want = "true"
	case "no":
		want = "false"
	}
	return got == want
}

func compare(a, b string) int {
	x, err1 := strconv.ParseFloat(a, 64)
	y, err2 := strconv.ParseFloat(b, 64)
	if err1 == nil && err2 == nil {
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	}
	return strings.Compare(a, b)
}

// stackOps applies a ?# word's operators to the stack.
func stackOps(stack []bool, ops string) ([]bool, *trap) {
	pop := func() (bool, bool) {
		if len(stack) == 0 {
			return false, false
		}
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		return v, true
	}
	for i := 0; i < len(ops); i++ {
		c := ops[i]
		switch {
		case c == '!':
			v, ok := pop()
			if !ok {
				return nil, trapf(catValue, "invalid query")
			}
			stack = append(stack, !v)
		case c == '&' || c == '|':
			a, ok1 := pop()
			b, ok2 := pop()
			if !ok1 || !ok2 {
				return nil, trapf(catValue, "invalid query")
			}
			if c == '&' {
				stack = append(stack, a && b)
			} else {
				stack = append(stack, a || b)
			}
		case c == '.':
			v, ok := pop()
			if !ok {
				return nil, trapf(catValue, "invalid query")
			}
			stack = append(stack, v, v)
		case c >= '0' && c <= '9':
			j := i
			for j < len(ops) && ops[j] >= '0' && ops[j] <= '9' {
				j++
			}
			n, _ := strconv.Atoi(ops[i:j])
			if n >= len(stack) {
				return nil, trapf(catValue, "invalid query")
			}
			stack = append(stack, stack[n])
			i = j - 1
		default:
			return nil, trapf(catValue, "invalid query")
		}
	}
	return stack, nil
}

// proplist keeps only the .proplist properties of a print's rows, when
// one is given: every print honours it.
func proplist(rows [][]string, attrs []attr) [][]string {
	i := slices.IndexFunc(attrs, func(a attr) bool { return a.key == ".proplist" })
	if i < 0 {
		return rows
	}
	keep := strings.Split(attrs[i].value, ",")
	out := make([][]string, len(rows))
	for j, row := range rows {
		out[j] = []string{}
		for _, w := range row {
			k, _, _ := strings.Cut(strings.TrimPrefix(w, "="), "=")
			if slices.Contains(keep, k) {
				out[j] = append(out[j], w)
			}
		}
	}
	return out
}
