package routeros

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/failwatch/failwatch/internal/paper"
	"github.com/failwatch/failwatch/internal/testkit"
	"github.com/failwatch/failwatch/routeros/rosim"
	"github.com/failwatch/failwatch/routeros/wire"
)

// fakeRouter answers a login, then answers each print with what reply
// returns for it: a router that sends more than any real one would.
func fakeRouter(t *testing.T, reply func(n int) [][]string) string {
	t.Helper()
	var calls atomic.Int32
	return testkit.Serve(t, func(conn net.Conn) {
		defer conn.Close()
		rd := wire.NewReader(conn)
		for {
			words, err := rd.ReadSentence()
			if err != nil {
				return
			}
			if len(words) == 0 {
				continue
			}
			var out []byte
			if words[0] == "/login" {
				out = wire.AppendSentence(out, "!done")
			} else {
				for _, s := range reply(int(calls.Add(1))) {
					out = wire.AppendSentence(out, s...)
				}
				out = wire.AppendSentence(out, "!done")
			}
			if _, err := conn.Write(out); err != nil {
				return
			}
		}
	}).Addr().String()
}

// Replies over the bounds are refused with "router reply too large" and the
// connection dropped; the next call redials and works.
func TestReplyBounds(t *testing.T) {
	big := strings.Repeat("x", 64<<10)
	for _, tc := range []struct {
		name  string
		reply [][]string
		want  string
	}{
		{"words in a sentence", [][]string{append([]string{"!re"}, manyWords(maxReplyWords+1)...)}, "too many words in one sentence"},
		{"one huge word", [][]string{{"!re", "=x=" + strings.Repeat("y", maxReplyWord+1)}}, "word too long"},
		{"bytes in a reply", repeatRows([]string{"!re", "=x=" + big}, testMaxBytes/len(big)+2), "more than 1024 KiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := fakeRouter(t, func(n int) [][]string {
				if n == 1 {
					return tc.reply
				}
				return [][]string{{"!re", "=name=ok"}}
			})
			c := boundedClient(t, addr)
			_, err := c.Run(context.Background(), "/ip/dns/static/print")
			if !errors.Is(err, ErrReplyTooLarge) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v", err)
			}
			r, err := c.Run(context.Background(), "/ip/dns/static/print")
			if err != nil || len(r.Rows) != 1 || r.Rows[0]["name"] != "ok" {
				t.Errorf("after the oversized reply: %v %v", r, err)
			}
		})
	}
}

// Test bounds, small so the tests run fast under the race detector; the
// defaults are checked to be what the docs say.
const (
	testMaxRows  = 1000
	testMaxBytes = 1 << 20
)

func boundedClient(t *testing.T, addr string) *Client {
	t.Helper()
	c, _, err := New(Options{Address: addr, User: "admin", Timeout: 5 * time.Second, MaxReplyRows: testMaxRows, MaxReplyBytes: testMaxBytes})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// A log of more lines than the bound is refused by row count; the defaults
// are a real router's largest log and 64 MiB.
func TestReplyRowBound(t *testing.T) {
	r, addr := testkit.Emulator(t, rosim.Options{LogSize: testMaxRows + 10})
	for i := range testMaxRows + 1 {
		r.Log("system,info", "line "+strconv.Itoa(i))
	}
	c := boundedClient(t, addr)
	if _, err := c.Run(context.Background(), "/log/print"); !errors.Is(err, ErrReplyTooLarge) || !strings.Contains(err.Error(), "more than 1000 rows") {
		t.Fatalf("err %v", err)
	}
	if _, err := c.StaticRecords(context.Background(), paper.Name); err != nil {
		t.Errorf("after: %v", err)
	}
	d, _, _ := New(Options{Address: addr})
	if d.opts.MaxReplyRows != 100_000 || d.opts.MaxReplyBytes != 64<<20 {
		t.Errorf("default bounds %d rows, %d bytes", d.opts.MaxReplyRows, d.opts.MaxReplyBytes)
	}
}

func manyWords(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "=k" + strconv.Itoa(i) + "=v"
	}
	return out
}

func repeatRows(row []string, n int) [][]string {
	out := make([][]string, n)
	for i := range out {
		out[i] = row
	}
	return out
}
