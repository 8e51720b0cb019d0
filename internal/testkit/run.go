package testkit

import (
	"context"
	"testing"
)

// Run runs run in a goroutine of its own until the test ends or the stop
// it returns is called: either cancels run's context and waits for run to
// return. stop may be called more than once.
func Run(t testing.TB, run func(context.Context)) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { run(ctx); close(done) }()
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}
