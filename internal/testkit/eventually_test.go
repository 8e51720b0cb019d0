package testkit

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// fakeTB records a failure instead of ending the test.
type fakeTB struct {
	testing.TB
	failed string
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Fatalf(format string, args ...any) { f.failed = fmt.Sprintf(format, args...) }

func TestEventuallyPasses(t *testing.T) {
	n := 0
	f := &fakeTB{}
	Eventually(f, time.Second, "the counter reached 3", func() bool { n++; return n >= 3 })
	if f.failed != "" || n != 3 {
		t.Errorf("failed %q after %d calls, want a pass on the third", f.failed, n)
	}
}

func TestEventuallyFails(t *testing.T) {
	f := &fakeTB{}
	start := time.Now()
	Eventually(f, 50*time.Millisecond, "the door opened", func() bool { return false })
	if took := time.Since(start); took < 50*time.Millisecond || took > time.Second {
		t.Errorf("gave up after %v, want about 50ms", took)
	}
	if !strings.HasPrefix(f.failed, "the door opened: not after ") || strings.Contains(f.failed, "last seen") {
		t.Errorf("failure %q", f.failed)
	}
}

func TestEventuallyLast(t *testing.T) {
	n := 0
	f := &fakeTB{}
	got := EventuallyLast(f, time.Second, "n reached 2", func() (int, bool) { n++; return n, n == 2 })
	if f.failed != "" || got != 2 {
		t.Errorf("got %d, failed %q", got, f.failed)
	}
	f = &fakeTB{}
	EventuallyLast(f, 20*time.Millisecond, "the name moved", func() (string, bool) { return "public", false })
	if !strings.HasPrefix(f.failed, "the name moved: not after ") || !strings.HasSuffix(f.failed, "; last seen:\npublic") {
		t.Errorf("failure %q", f.failed)
	}
}

func TestReceive(t *testing.T) {
	ch := make(chan int, 5)
	for i := range 5 {
		ch <- i
	}
	var passed []int
	f := &fakeTB{}
	got := Receive(f, ch, time.Second, "a 3", func(v int) bool { passed = append(passed, v); return v == 3 })
	if f.failed != "" || got != 3 || len(passed) != 4 || len(ch) != 1 {
		t.Errorf("got %d after %v (%d left), failed %q", got, passed, len(ch), f.failed)
	}
	f = &fakeTB{}
	start := time.Now()
	Receive(f, ch, 50*time.Millisecond, "a 7", func(v int) bool { return v == 7 })
	if took := time.Since(start); took < 50*time.Millisecond || took > time.Second || f.failed != "a 7: not after 50ms" {
		t.Errorf("failure %q after %v", f.failed, took)
	}
}
