package rosim

import (
	"fmt"
	"strconv"
)

// pick is :pick <var> <start> [<end>]: "return range of elements or
// substring. If the count is not specified, will return only one element
// from an array ... start - element to start picking from (the first
// element index is 0) end - terminating index (element at this index is
// not included)" (https://help.mikrotik.com/docs/display/ROS/Scripting,
// Global commands). Setup's script picks the first of the rules a [find]
// selects, to place a rule before it. An index past the end picks nothing.
func (in *interp) pick(args []word) (value, error) {
	if len(args) < 2 || len(args) > 3 {
		return nil, fmt.Errorf(":pick takes a value, a start and an optional end")
	}
	v, err := in.eval(args[0].val)
	if err != nil {
		return nil, err
	}
	var bounds []int
	for _, a := range args[1:] {
		n, err := in.eval(a.val)
		if err != nil {
			return nil, err
		}
		i, err := strconv.Atoi(str(n))
		if err != nil || i < 0 {
			return nil, fmt.Errorf(":pick: %q is not an index", str(n))
		}
		bounds = append(bounds, i)
	}
	start := bounds[0]
	if ids, ok := v.([]string); ok {
		if len(bounds) == 1 {
			if start >= len(ids) {
				return nil, nil
			}
			return ids[start], nil
		}
		end := min(bounds[1], len(ids))
		if start >= end {
			return []string{}, nil
		}
		return ids[start:end], nil
	}
	text := str(v)
	end := start + 1
	if len(bounds) == 2 {
		end = bounds[1]
	}
	end = min(end, len(text))
	if start >= end {
		return "", nil
	}
	return text[start:end], nil
}
