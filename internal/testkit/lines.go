package testkit

import (
	"bufio"
	"io"
)

// Lines reads r (a child process's output) line by line in a goroutine of
// its own, into a channel holding up to n lines, closed when r ends.
func Lines(r io.Reader, n int) <-chan string {
	lines := make(chan string, n)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	return lines
}
