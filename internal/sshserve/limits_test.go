package sshserve

import (
	"bufio"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"io"
	"log/slog"
	"net"
	"os"
	osuser "os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/testkit"
)

// waitLogs waits for n lines of the log holding every part.
func waitLogs(t *testing.T, log *testkit.Buffer, n int, parts ...string) {
	t.Helper()
	eventually(t, strconv.Itoa(n)+" log lines with "+strings.Join(parts, " "), func() bool {
		count := 0
		for _, line := range strings.Split(log.String(), "\n") {
			if containsAll(line, parts) {
				count++
			}
		}
		return count >= n
	})
}

// operator_slots of max_sessions are kept for operators: viewers fill
// the others and are then told, in the login's banner, that the rest are
// kept; operators still log in, until every place is taken. A connection
// without a session (ssh -N) holds its place.
func TestOperatorSlots(t *testing.T) {
	needOpenSSH(t)
	viewerKey, viewerLine, _ := opensshKey(t)
	opKey, opLine, _ := opensshKey(t)
	ts := start(t, config.Serve{MaxSessions: 3, OperatorSlots: 2, Users: []config.ServeUser{
		{Name: "noc", Role: config.RoleViewer, Keys: []string{viewerLine}},
		{Name: "alice", Role: config.RoleOperator, Keys: []string{opLine}},
	}}, nil)
	held := 0
	hold := func(file, user string) {
		t.Helper()
		cmd := openssh(ts.addr, file, user, "", "-N")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		held++
		waitLogs(t, ts.log, held, `msg="ssh login accepted"`)
	}
	hold(viewerKey, "noc")
	out, err := openssh(ts.addr, viewerKey, "noc", "", "-N").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "failwatch serve: all 1 sessions viewers may have are taken (2 more are kept for operators); try again later") {
		t.Errorf("a second viewer: %v\n%s", err, out)
	}
	waitLog(t, ts.log, `msg="ssh login refused"`, "login=noc", `reason="all 1 sessions viewers may have are taken (2 more are kept for operators)"`)
	hold(opKey, "alice")
	hold(opKey, "alice")
	out, err = openssh(ts.addr, opKey, "alice", "", "-N").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "failwatch serve: all 3 sessions are taken; try again later") {
		t.Errorf("a third operator: %v\n%s", err, out)
	}
	waitLog(t, ts.log, `msg="ssh login refused"`, "login=alice", `reason="all 3 sessions are taken"`)
	if n := ts.metric(t, "failwatch_ssh_refusals_total", refusedFull); n != 2 {
		t.Errorf("refusals for want of a place: %v, want 2", n)
	}
}

// A logged-in connection with no session open is closed after
// login_grace_time, and its place freed: one that never opened one, and
// one whose session ended. One with a session open stays.
func TestNoSessionTimesOut(t *testing.T) {
	eng := running(t)
	k, _ := key(t)
	grace := 300 * time.Millisecond
	ts := start(t, config.Serve{Anonymous: config.RoleViewer, MaxSessions: 1, LoginGraceTime: grace}, eng)
	closed := func(c *gossh.Client) {
		t.Helper()
		done := make(chan error, 1)
		go func() { done <- c.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("a connection with no session was never closed")
		}
	}
	c, err := dial(ts.addr, "noc", k)
	if err != nil {
		t.Fatal(err)
	}
	closed(c)
	waitLog(t, ts.log, `msg="ssh connection closed"`, "user=anonymous", `reason="no session for 300ms (serve.login_grace_time)"`)

	// The place is free again: one session, which ends (no terminal).
	c, err = dial(ts.addr, "noc", k)
	if err != nil {
		t.Fatalf("the place of the closed connection: %v", err)
	}
	sess, _ := c.NewSession()
	if out, _ := sess.CombinedOutput("wall"); !strings.Contains(string(out), "needs a terminal") {
		t.Errorf("a session without a terminal: %q", out)
	}
	closed(c)
	waitLogs(t, ts.log, 2, `msg="ssh connection closed"`, "no session for 300ms")

	c = login(t, ts.addr, "noc", k)
	s := open(t, c, "xterm-256color", 100, 30, "")
	s.waitFor("READ-ONLY")
	// A wait, not a poll: three graces pass with the session open.
	time.Sleep(3 * grace)
	if err := s.sess.WindowChange(31, 100); err != nil {
		t.Errorf("a connection with a session open was closed: %v", err)
	}
	if n := ts.metric(t, "failwatch_ssh_dropped_connections_total", dropNoSession); n != 2 {
		t.Errorf("connections closed for want of a session: %v, want 2", n)
	}
}

// A connection that never completes its login, silent or having sent
// only its version, is closed at login_grace_time; the log sums them up
// in one line, not one each.
func TestLoginGraceTime(t *testing.T) {
	grace := 500 * time.Millisecond
	ts := start(t, config.Serve{Anonymous: config.RoleViewer, LoginGraceTime: grace}, nil,
		func(s *Server) { s.drops.every = 200 * time.Millisecond })
	var ends []chan time.Duration
	for _, hello := range []string{"", "SSH-2.0-flood\r\n", "", "SSH-2.0-flood\r\n"} {
		c, err := net.Dial("tcp", ts.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, hello)
		begun, end := time.Now(), make(chan time.Duration, 1)
		go func() { io.Copy(io.Discard, c); end <- time.Since(begun) }()
		ends = append(ends, end)
	}
	for i, end := range ends {
		select {
		case took := <-end:
			if took < grace-50*time.Millisecond {
				t.Errorf("connection %d closed after %s, before login_grace_time", i, took)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("connection %d still open", i)
		}
	}
	waitLog(t, ts.log, `msg="ssh connections closed before login"`, "count=4", "login_grace_time=4", "sources=1", "busiest=127.0.0.1", "busiest_count=4")
	if n := strings.Count(ts.log.String(), "closed before login"); n != 1 {
		t.Errorf("%d summaries of 4 connections, want 1:\n%s", n, ts.log.String())
	}
	if n := ts.metric(t, "failwatch_ssh_dropped_connections_total", dropGrace); n != 4 {
		t.Errorf("dropped at login_grace_time: %v, want 4", n)
	}
}

// max_startups full refuses a connection at once, and says so before
// closing it; per_source_max_startups bounds one address and not others.
func TestMaxStartups(t *testing.T) {
	ts := start(t, config.Serve{Anonymous: config.RoleViewer, MaxStartups: config.MaxStartups{Start: 3, Rate: 100, Full: 3}, PerSourceMaxStartups: 2}, nil,
		func(s *Server) { s.drops.every = 200 * time.Millisecond })
	from := func(ip string) net.Conn {
		t.Helper()
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
		c, err := d.Dial("tcp", ts.addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	// The server's version line: a connection it took in.
	taken := func(c net.Conn) bool {
		line, _ := bufio.NewReader(c).ReadString('\n')
		return strings.HasPrefix(line, "SSH-2.0-")
	}
	refused := func(c net.Conn) bool {
		b, _ := io.ReadAll(c)
		return string(b) == "failwatch serve: too many connections waiting to log in; try again later\r\n"
	}
	for _, ip := range []string{"127.0.0.2", "127.0.0.2", "127.0.0.3"} {
		if c := from(ip); !taken(c) {
			t.Fatalf("a connection from %s, within both bounds, was refused", ip)
		}
	}
	eventually(t, "three waiting", func() bool { return ts.metric(t, "failwatch_ssh_unauthenticated_connections", "") == 3 })
	if c := from("127.0.0.4"); !refused(c) {
		t.Error("a connection past max_startups was taken")
	}
	waitLog(t, ts.log, `msg="ssh connections closed before login"`, "count=1", "max_startups=1", "busiest=127.0.0.4")

	ts = start(t, config.Serve{Anonymous: config.RoleViewer, PerSourceMaxStartups: 2}, nil,
		func(s *Server) { s.drops.every = 200 * time.Millisecond })
	from("127.0.0.2")
	from("127.0.0.2")
	eventually(t, "two waiting", func() bool { return ts.metric(t, "failwatch_ssh_unauthenticated_connections", "") == 2 })
	if c := from("127.0.0.2"); !refused(c) {
		t.Error("a third connection from one address was taken")
	}
	if c := from("127.0.0.3"); !taken(c) {
		t.Error("a connection from another address was refused")
	}
	waitLog(t, ts.log, `msg="ssh connections closed before login"`, "count=1", "per_source_max_startups=1", "busiest=127.0.0.2")
}

// A session idle past idle_timeout is told why before it closes, and
// ends with status 1; the log says it ended idle.
func TestIdleTimeout(t *testing.T) {
	ts, _, s := anonymous(t, config.Serve{IdleTimeout: 500 * time.Millisecond}, 100, 30)
	s.waitFor("no key pressed for 500ms (serve.idle_timeout): session closed")
	if err := s.sess.Wait(); err == nil || err.(*gossh.ExitError).ExitStatus() != 1 {
		t.Errorf("an idle session ended with %v, want status 1", err)
	}
	waitLog(t, ts.log, `msg="ssh session end"`, "user=anonymous", "how=idle_timeout")
	if n := ts.metric(t, "failwatch_ssh_session_ends_total", endIdle); n != 1 {
		t.Errorf("idle session ends: %v", n)
	}
}

// A server shutting down tells each dashboard why it ends.
func TestShutdownTellsSessions(t *testing.T) {
	ts, _, s := anonymous(t, config.Serve{}, 100, 30)
	s.waitFor("READ-ONLY")
	go ts.stop()
	s.waitFor("failwatch serve is shutting down: session closed")
	waitLog(t, ts.log, `msg="ssh session end"`, "how=server_shutdown")
}

// hostKey writes a private key at path with mode perm.
func hostKey(t *testing.T, path string, perm os.FileMode) {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	block, err := gossh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), perm); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, perm)
}

// A host key group or others may read is refused in sshd's words, and
// one another user owns is refused; the key made on first start, and one
// its owner alone reads, serve.
func TestHostKeyMode(t *testing.T) {
	dir := t.TempDir()
	build := func(path string) error {
		_, err := New(Options{Serve: config.Serve{HostKey: path}, Log: slog.New(slog.DiscardHandler)})
		return err
	}
	for _, perm := range []os.FileMode{0o644, 0o640, 0o604} {
		path := filepath.Join(dir, "key"+strconv.FormatUint(uint64(perm), 8))
		hostKey(t, path, perm)
		want := "host key " + path + ": permissions 0" + strconv.FormatUint(uint64(perm), 8) + " are too open: a private key must be readable by its owner only (chmod 600 " + path + ")"
		if err := build(path); err == nil || err.Error() != want {
			t.Errorf("mode %04o: %v, want %s", perm, err, want)
		}
	}
	made := filepath.Join(dir, "made", "host_key")
	if err := build(made); err != nil {
		t.Fatalf("a key made on first start: %v", err)
	}
	if fi, err := os.Stat(made); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the key made: %v %v, want mode 0600", fi, err)
	}
	if err := build(made); err != nil {
		t.Errorf("the key made, on the next start: %v", err)
	}

	if os.Geteuid() != 0 {
		t.Skip("giving a key to another user needs root")
	}
	nobody, err := osuser.Lookup("nobody")
	if err != nil {
		t.Skip("no user nobody to give a key to")
	}
	uid, _ := strconv.Atoi(nobody.Uid)
	theirs := filepath.Join(dir, "theirs")
	hostKey(t, theirs, 0o600)
	if err := os.Chown(theirs, uid, -1); err != nil {
		t.Fatal(err)
	}
	want := "host key " + theirs + " is owned by nobody, not by root, whom failwatch serve runs as (chown root " + theirs + ")"
	if err := build(theirs); err == nil || err.Error() != want {
		t.Errorf("another user's key: %v, want %s", err, want)
	}
}
