package testkit

import (
	"bufio"
	"io"
	"testing"
)

// Lines reads r (a child process's output) line by line in a goroutine of
// its own, into a channel holding up to n lines, closed when r ends. Once
// the test is over, lines nobody reads are dropped, so that the goroutine
// ends with r instead of waiting on a full channel for ever.
func Lines(t testing.TB, r io.Reader, n int) <-chan string {
	lines := make(chan string, n)
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-done:
			}
		}
	}()
	return lines
}
