package record

import (
	"fmt"
	"slices"
)

// A kind or state of an event is recorded by its name, from a list of the
// names in its constants' order, so that renumbering them does not change
// a recording. what says in an error which kind of value it is.

// nameOf is v's name.
func nameOf[T ~int](v T, names []string, what string) ([]byte, error) {
	if int(v) < 0 || int(v) >= len(names) {
		return nil, fmt.Errorf("%s %d has no name", what, v)
	}
	return []byte(names[v]), nil
}

// byName sets *v to the value named b.
func byName[T ~int](v *T, b []byte, names []string, what string) error {
	i := slices.Index(names, string(b))
	if i < 0 {
		return fmt.Errorf("%s %q is none of %v", what, b, names)
	}
	*v = T(i)
	return nil
}
