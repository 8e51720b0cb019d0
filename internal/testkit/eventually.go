package testkit

import (
	"testing"
	"time"
)

// Eventually polls cond, at an interval growing from a millisecond to a
// tenth of a second, until it is true; if within passes first the test
// fails with what never happened and how long it waited.
func Eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	EventuallyLast(t, within, what, func() (struct{}, bool) { return struct{}{}, cond() })
}

// EventuallyLast is Eventually for a condition that reads a state: it
// returns the state that satisfied it, or fails with the last one seen.
func EventuallyLast[T any](t testing.TB, within time.Duration, what string, read func() (T, bool)) T {
	t.Helper()
	start := time.Now()
	deadline := start.Add(within)
	for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		v, ok := read()
		if ok {
			return v
		}
		if time.Now().After(deadline) {
			if _, none := any(v).(struct{}); none {
				t.Fatalf("%s: not after %v", what, time.Since(start).Round(time.Millisecond))
			} else {
				t.Fatalf("%s: not after %v; last seen:\n%+v", what, time.Since(start).Round(time.Millisecond), v)
			}
			return v
		}
		time.Sleep(min(wait, time.Until(deadline)+time.Millisecond))
	}
}

// Receive takes values from ch until until accepts one, and returns it; if
// within passes first the test fails with what never came. until may look
// at (or keep) the values it passes over.
func Receive[T any](t testing.TB, ch <-chan T, within time.Duration, what string, until func(T) bool) T {
	t.Helper()
	timeout := time.NewTimer(within)
	defer timeout.Stop()
	for {
		select {
		case v := <-ch:
			if until(v) {
				return v
			}
		case <-timeout.C:
			t.Fatalf("%s: not after %v", what, within)
			var zero T
			return zero
		}
	}
}
