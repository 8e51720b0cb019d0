package testkit

import (
	"io"
	"testing"
	"time"
)

func TestLinesInOrderThenClosed(t *testing.T) {
	pr, pw := io.Pipe()
	lines := Lines(t, pr, 4)
	go func() {
		_, _ = io.WriteString(pw, "one\ntwo\n")
		_ = pw.Close()
	}()
	var got []string
	for l := range lines {
		got = append(got, l)
	}
	if len(got) != 2 || got[0] != "one" || got[1] != "two" {
		t.Fatalf("read %q, want one, two", got)
	}
}

// A child that goes on writing after its test is over is read to its end:
// its writes do not wait on a channel nobody reads.
func TestLinesUnreadAfterTheTest(t *testing.T) {
	pr, pw := io.Pipe()
	var lines <-chan string
	t.Run("reads one line of many", func(t *testing.T) {
		lines = Lines(t, pr, 1)
		_, _ = io.WriteString(pw, "first\n")
		if l := <-lines; l != "first" {
			t.Fatalf("read %q", l)
		}
	})
	wrote := make(chan struct{})
	go func() {
		for range 10 {
			_, _ = io.WriteString(pw, "more\n")
		}
		_ = pw.Close()
		close(wrote)
	}()
	select {
	case <-wrote:
	case <-time.After(10 * time.Second):
		t.Fatal("the child's writes wait on lines nobody reads")
	}
	for range lines {
	}
}
