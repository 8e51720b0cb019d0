package routeros

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/failwatch/failwatch/routeros/rosim"
	"github.com/failwatch/failwatch/routeros/wire"
)

// fakeRouter answers a login, then answers each print with what reply
// returns for it: a router that sends more than any real one would.
func fakeRouter(t *testing.T, reply func(n int) [][]string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		calls := 0
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
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
						calls++
						for _, s := range reply(calls) {
							out = wire.AppendSentence(out, s...)
						}
						out = wire.AppendSentence(out, "!done")
					}
					if _, err := conn.Write(out); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// Replies over the bounds are refused with "router reply too large" and the
// connection dropped; the next call redials and works.
func TestReplyBounds(t *testing.T) {
	big := strings.Repeat("x", maxReplyWord-16)
	for _, tc := range []struct {
		name  string
		reply [][]string
		want  string
	}{
		{"words in a sentence", [][]string{append([]string{"!re"}, manyWords(maxReplyWords+1)...)}, "too many words in one sentence"},
		{"one huge word", [][]string{{"!re", "=x=" + strings.Repeat("y", maxReplyWord+1)}}, "word too long"},
		{"bytes in a reply", repeatRows([]string{"!re", "=x=" + big}, maxReplyBytes/len(big)+2), "more than 64 MiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := fakeRouter(t, func(n int) [][]string {
				if n == 1 {
					return tc.reply
				}
				return [][]string{{"!re", "=name=ok"}}
			})
			c := client(t, addr, "admin", "")
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

// A log of more lines than a router keeps is refused by row count.
func TestReplyRowBound(t *testing.T) {
	r, addr := emulator(t, rosim.Options{LogSize: maxReplyRows + 10})
	for i := range maxReplyRows + 1 {
		r.Log("system,info", "line "+strconv.Itoa(i))
	}
	c := client(t, addr, "admin", "")
	c.opts.Timeout = 20 * time.Second
	if _, err := c.Run(context.Background(), "/log/print"); !errors.Is(err, ErrReplyTooLarge) || !strings.Contains(err.Error(), "rows") {
		t.Fatalf("err %v", err)
	}
	if _, err := c.StaticRecords(context.Background(), rosim.PaperName); err != nil {
		t.Errorf("after: %v", err)
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
