package rosim

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/failwatch/failwatch/routeros/wire"
)

// raw is a test client that speaks the wire protocol directly.
type raw struct {
	t    *testing.T
	conn net.Conn
	rd   *wire.Reader
}

func dialRaw(t *testing.T, addr string, login bool) *raw {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &raw{t: t, conn: conn, rd: wire.NewReader(conn)}
	c.rd.Max = maxWord
	if login {
		c.send("/login", "=name=admin", "=password=")
		if got := c.reply(); got[0] != "!done" {
			t.Fatalf("login: %q", got)
		}
	}
	return c
}

func (c *raw) send(words ...string) {
	c.t.Helper()
	if _, err := c.conn.Write(wire.AppendSentence(nil, words...)); err != nil {
		c.t.Fatal(err)
	}
}

func (c *raw) reply() []string {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	words, err := c.rd.ReadSentence()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return words
}

// until reads sentences up to and including the first whose type is word.
func (c *raw) until(word string) [][]string {
	c.t.Helper()
	var out [][]string
	for {
		s := c.reply()
		out = append(out, s)
		if s[0] == word {
			return out
		}
	}
}

// expect sends a command and checks every reply up to its !done.
func (c *raw) expect(words []string, want [][]string) {
	c.t.Helper()
	c.send(words...)
	if got := c.until("!done"); !slices.EqualFunc(got, want, slices.Equal[[]string]) {
		c.t.Errorf("%q:\n got  %q\n want %q", words, got, want)
	}
}

func seeded(t *testing.T, opts Options) (*Router, string) {
	t.Helper()
	r := New(opts)
	if err := r.SeedPaper(); err != nil {
		t.Fatal(err)
	}
	addr, err := r.ListenAndServe("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r, addr.String()
}

func TestQueriesAndProplist(t *testing.T) {
	_, addr := seeded(t, Options{})
	c := dialRaw(t, addr, true)
	tests := []struct {
		words []string
		want  [][]string
	}{
		{[]string{"/ip/dns/static/print", "=.proplist=.id,address", "?comment=ServerPrivate"},
			[][]string{{"!re", "=.id=*1", "=address=192.10.10.2"}, {"!done"}}},
		{[]string{"/ip/dns/static/print", "=.proplist=.id", "?disabled=true", "?comment=Server Public", "?#|"},
			[][]string{{"!re", "=.id=*1"}, {"!re", "=.id=*2"}, {"!done"}}},
		{[]string{"/ip/dns/static/print", "=.proplist=.id", "?disabled=false", "?name=tomtotrading.com", "?#&"},
			[][]string{{"!re", "=.id=*2"}, {"!done"}}},
		// A query compares the stored form exactly: yes is not true.
		{[]string{"/ip/dns/static/print", "=.proplist=.id", "?disabled=yes", "?#!"},
			[][]string{{"!re", "=.id=*1"}, {"!re", "=.id=*2"}, {"!done"}}},
		{[]string{"/system/resource/print", "=.proplist=version"},
			[][]string{{"!re", "=version=7.18.2 (stable)"}, {"!done"}}},
		{[]string{"/log/print", "=.proplist=.id", "?message=router rebooted"},
			[][]string{{"!re", "=.id=*1"}, {"!done"}}},
		{[]string{"/ip/dns/static/print", "=.proplist=.id", "?-type"},
			[][]string{{"!re", "=.id=*1"}, {"!re", "=.id=*2"}, {"!done"}}},
		{[]string{"/ip/dns/static/print", "?name=nothing.example"},
			[][]string{{"!empty"}, {"!done"}}},
		// A records print without type; comment only where set.
		{[]string{"/ip/dns/static/print", "?.id=*2"},
			[][]string{{"!re", "=.id=*2", "=name=tomtotrading.com", "=address=104.247.193.168", "=ttl=1d", "=dynamic=false",
				"=disabled=false", "=match-subdomain=false", "=comment=Server Public"}, {"!done"}}},
	}
	for _, tc := range tests {
		c.expect(tc.words, tc.want)
	}
}

func TestNoEmptyBeforeSevenEighteen(t *testing.T) {
	for version, want := range map[string]int{"6.49.17 (long-term)": 1, "7.13.5 (stable)": 1, "7.18.2 (stable)": 2} {
		_, addr := seeded(t, Options{Version: version})
		c := dialRaw(t, addr, true)
		c.send("/ip/dns/static/print", "?name=nothing.example")
		if got := c.until("!done"); len(got) != want {
			t.Errorf("%s: got %q", version, got)
		}
	}
}

func TestAddSetRemoveAndTraps(t *testing.T) {
	_, addr := seeded(t, Options{})
	c := dialRaw(t, addr, true)
	c.send("/ip/dns/static/add", "=name=x.example", "=address=192.0.2.1", ".tag=a")
	if got := c.reply(); !slices.Equal(got, []string{"!done", "=ret=*3", ".tag=a"}) {
		t.Errorf("add: %q", got)
	}
	tests := []struct {
		words []string
		want  [][]string
	}{
		{[]string{"/ip/dns/static/set", "=.id=*3", "=disabled=yes"}, [][]string{{"!done"}}},
		{[]string{"/ip/dns/static/disable", "=numbers=*3,*1"}, [][]string{{"!done"}}},
		{[]string{"/ip/dns/static/set", "=.id=*9", "=disabled=yes"},
			[][]string{{"!trap", "=category=0", "=message=no such item"}, {"!done"}}},
		{[]string{"/ip/dns/static/set", "=.id=*3", "=disabled=perhaps"},
			[][]string{{"!trap", "=category=1", "=message=value of disabled must be yes or no"}, {"!done"}}},
		{[]string{"/ip/dns/static/add", "=name=y.example", "=address=not-an-ip"},
			[][]string{{"!trap", "=category=1", "=message=invalid value for argument address"}, {"!done"}}},
		{[]string{"/ip/dns/static/set", "=.id=*3", "=colour=blue"},
			[][]string{{"!trap", "=message=unknown parameter colour"}, {"!done"}}},
		{[]string{"/ip/dns/statik/print"},
			[][]string{{"!trap", "=category=0", "=message=no such command or directory (print)"}, {"!trap", "=message=no such command prefix"}, {"!done"}}},
		{[]string{"/ip/dns/static/remove", "=.id=*3"}, [][]string{{"!done"}}},
		{[]string{"/ip/dns/static/print", "=.proplist=.id"}, [][]string{{"!re", "=.id=*1"}, {"!re", "=.id=*2"}, {"!done"}}},
	}
	for _, tc := range tests {
		c.expect(tc.words, tc.want)
	}
}

func TestFollowCancel(t *testing.T) {
	r, addr := seeded(t, Options{})
	c := dialRaw(t, addr, true)
	c.send("/log/print", "=follow-only=", ".tag=f")
	waitUntil(t, 2*time.Second, "the follow was never registered", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(r.log.followers) == 1
	})
	r.Log("netwatch,info", "event down [ type: simple, host: 104.247.193.168 ]")
	got := c.reply()
	if got[0] != "!re" || !slices.Contains(got, "=message=event down [ type: simple, host: 104.247.193.168 ]") || got[len(got)-1] != ".tag=f" {
		t.Fatalf("followed line %q", got)
	}
	c.send("/cancel", "=tag=f", ".tag=c")
	want := [][]string{
		{"!trap", "=category=2", "=message=interrupted", ".tag=f"},
		{"!done", ".tag=f"},
		{"!done", ".tag=c"},
	}
	var replies [][]string
	for range 3 {
		replies = append(replies, c.reply())
	}
	if !slices.EqualFunc(replies, want, slices.Equal[[]string]) {
		t.Errorf("cancel:\n got  %q\n want %q", replies, want)
	}
}

func TestFatal(t *testing.T) {
	_, addr := seeded(t, Options{})
	c := dialRaw(t, addr, false)
	c.send("/ip/dns/static/print")
	if got := c.reply(); !slices.Equal(got, []string{"!fatal", "not logged in"}) {
		t.Errorf("before login: %q", got)
	}
	c = dialRaw(t, addr, true)
	c.send("/quit")
	if got := c.reply(); !slices.Equal(got, []string{"!fatal", "session terminated on request"}) {
		t.Errorf("quit: %q", got)
	}
}

// Long values travel with 2-, 3- and 4-byte length prefixes.
func TestLongWords(t *testing.T) {
	_, addr := seeded(t, Options{})
	c := dialRaw(t, addr, true)
	for _, n := range []int{0x80, 0x4000, 0x200000} {
		comment := strings.Repeat("c", n)
		c.send("/ip/dns/static/set", "=.id=*1", "=comment="+comment)
		c.until("!done")
		c.send("/ip/dns/static/print", "=.proplist=comment", "?.id=*1")
		got := c.until("!done")
		if len(got) != 2 || got[0][1] != "=comment="+comment {
			t.Errorf("comment of %d bytes did not come back", n)
		}
	}
}

func TestManyClients(t *testing.T) {
	_, addr := seeded(t, Options{})
	var wg sync.WaitGroup
	errs := make(chan string, 50)
	for range 50 {
		wg.Go(func() {
			c := dialRaw(t, addr, true)
			for range 20 {
				c.send("/ip/dns/static/print", "=.proplist=.id")
				if got := c.until("!done"); len(got) != 3 {
					errs <- strings.Join(got[0], " ")
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// A client that vanishes in the middle of a follow leaves nothing behind.
func TestVanishingFollowerDoesNotLeak(t *testing.T) {
	r, addr := seeded(t, Options{})
	before := runtime.NumGoroutine()
	for range 20 {
		c := dialRaw(t, addr, true)
		c.send("/log/print", "=follow=", ".tag=f")
		c.reply()
		c.conn.Close()
	}
	// A logged line makes a vanished follower's write fail, which ends it.
	waitUntil(t, 5*time.Second, fmt.Sprintf("sessions or goroutines left after 20 vanished followers (%d goroutines before)", before), func() bool {
		r.Log("system,info", "tick")
		return r.Sessions() == 0 && runtime.NumGoroutine() <= before+2
	})
	r.mu.Lock()
	followers := len(r.log.followers)
	r.mu.Unlock()
	if followers != 0 {
		t.Errorf("%d log followers left", followers)
	}
}

func TestScripts(t *testing.T) {
	r := New(Options{})
	defer r.Close()
	if err := r.SeedPaper(); err != nil {
		t.Fatal(err)
	}
	// The seeded netwatch would run its own scripts meanwhile: stop it.
	if res := r.exec("admin", "/tool/netwatch/disable", []attr{{"numbers", "*1,*2"}}, nil); res.trap != nil {
		t.Fatal(res.trap)
	}
	enabledComments := func() []string {
		r.mu.Lock()
		defer r.mu.Unlock()
		var out []string
		for _, row := range r.static.rows {
			if row["disabled"] == "false" {
				out = append(out, row["comment"])
			}
		}
		return out
	}
	ctx := context.Background()
	r.runScript(ctx, `/ip dns static enable numbers=0; /ip dns static disable numbers=1`, "test")
	if got := enabledComments(); !slices.Equal(got, []string{"ServerPrivate"}) {
		t.Errorf("by position: %q", got)
	}
	r.runScript(ctx, "/ip dns static enable [find comment=\"Server Public\"]\n/ip/dns/static/disable [find where comment=ServerPrivate]", "test")
	if got := enabledComments(); !slices.Equal(got, []string{"Server Public"}) {
		t.Errorf("by comment: %q", got)
	}
	r.runScript(ctx, `/ip dns static disable [find name=tomtotrading.com comment!="ServerPrivate" comment~"Public"]; /ip dns static enable [find comment~"Private"]`, "test")
	if got := enabledComments(); !slices.Equal(got, []string{"ServerPrivate"}) {
		t.Errorf("by != and ~: %q", got)
	}
	r.runScript(ctx, `/system reboot`, "netwatch")
	r.runScript(ctx, `/ip dns static enable numbers=7`, "netwatch")
	r.mu.Lock()
	msgs := []string{}
	for _, e := range r.log.entries() {
		if e.topics == "script,error" {
			msgs = append(msgs, e.message)
		}
	}
	r.mu.Unlock()
	want := []string{
		"netwatch script error: bad command name /system/reboot (in: /system reboot)",
		"netwatch script error: no such item (7) (in: /ip dns static enable numbers=7)",
	}
	if !slices.Equal(msgs, want) {
		t.Errorf("script errors %q, want %q", msgs, want)
	}
}
