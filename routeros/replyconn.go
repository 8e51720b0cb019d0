package routeros

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"

	"github.com/failwatch/failwatch/routeros/wire"
)

// ErrReplyTooLarge is a reply over the bounds below: the connection is
// dropped (and redialled by the next call) rather than read forever.
var ErrReplyTooLarge = errors.New("router reply too large")

// Reply bounds, sized from what a real router can hold: a RouterOS row has
// a few dozen properties, and the largest table failwatch reads is the log
// (RouterOS keeps at most 65,535 memory lines; 100,000 leaves room), at a
// few hundred bytes a line.
const (
	maxReplyWords = 1024
	maxReplyWord  = 1 << 20
	// DefaultMaxReplyRows and DefaultMaxReplyBytes bound one call's reply
	// unless Options say otherwise.
	DefaultMaxReplyRows  = 100_000
	DefaultMaxReplyBytes = 64 << 20
)

// replyConn sits between the router and go-routeros. It re-frames each
// reply: go-routeros's reader fails on a !fatal, whose reason RouterOS
// sends as a bare word ("!fatal", "not logged in"), so the bare words
// become =message= and the library reports the reason. And it bounds what
// one call can make us read: words per sentence and bytes per word always,
// rows and bytes per call (a call starts with each command written) until
// the connection turns into a stream (a log follow).
type replyConn struct {
	net.Conn
	rd  *wire.Reader
	buf []byte

	maxRows, maxBytes int

	mu        sync.Mutex
	rows      int
	bytes     int
	streaming bool
}

func newReplyConn(c net.Conn, opts Options) *replyConn {
	rd := wire.NewReader(c)
	rd.Max, rd.MaxWords = maxReplyWord, maxReplyWords
	return &replyConn{Conn: c, rd: rd, maxRows: opts.MaxReplyRows, maxBytes: opts.MaxReplyBytes}
}

// Stream lifts the per-call bounds: a follow's rows never end.
func (c *replyConn) Stream() {
	c.mu.Lock()
	c.streaming = true
	c.mu.Unlock()
}

func (c *replyConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.rows, c.bytes = 0, 0
	c.mu.Unlock()
	return c.Conn.Write(p)
}

func (c *replyConn) Read(p []byte) (int, error) {
	for len(c.buf) == 0 {
		words, err := c.rd.ReadSentence()
		if err != nil {
			if errors.Is(err, wire.ErrWordTooLong) || errors.Is(err, wire.ErrTooManyWords) {
				return 0, fmt.Errorf("%w: %v", ErrReplyTooLarge, err)
			}
			return 0, err
		}
		if len(words) > 0 && words[0] == "!fatal" {
			var reason []string
			kept := words[:1]
			for _, w := range words[1:] {
				if strings.HasPrefix(w, "=") || strings.HasPrefix(w, ".") {
					kept = append(kept, w)
				} else {
					reason = append(reason, w)
				}
			}
			words = append(kept, "=message="+strings.Join(reason, " "))
		}
		c.buf = wire.AppendSentence(c.buf[:0], words...)
		if err := c.count(len(c.buf)); err != nil {
			c.buf = c.buf[:0]
			return 0, err
		}
	}
	n := copy(p, c.buf)
	c.buf = c.buf[n:]
	return n, nil
}

// count adds one sentence of n bytes to the call's budget.
func (c *replyConn) count(n int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.streaming {
		return nil
	}
	c.rows++
	c.bytes += n
	switch {
	case c.rows > c.maxRows:
		return fmt.Errorf("%w: more than %d rows", ErrReplyTooLarge, c.maxRows)
	case c.bytes > c.maxBytes:
		return fmt.Errorf("%w: more than %d KiB", ErrReplyTooLarge, c.maxBytes>>10)
	}
	return nil
}
