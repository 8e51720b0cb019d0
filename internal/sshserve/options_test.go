package sshserve

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	gossh "golang.org/x/crypto/ssh"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/testkit"
)

// needOpenSSH skips a test when the OpenSSH client is not installed.
func needOpenSSH(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("ssh"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("CI must run the OpenSSH tests: no ssh client (scripts/test installs openssh-client)")
		}
		t.Skip("needs the OpenSSH client")
	}
}

// opensshKey is a fresh ed25519 key written where OpenSSH reads it: the
// file's path, and the key's authorized_keys line and fingerprint.
func opensshKey(t *testing.T) (path, line, fp string) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := gossh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(t.TempDir(), "id_ed25519")
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	sshPub, err := gossh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return path, strings.TrimSpace(string(gossh.MarshalAuthorizedKey(sshPub))), gossh.FingerprintSHA256(sshPub)
}

// openssh is the OpenSSH client logging in to addr as login with the key
// in file, from the local address from ("" for the system's choice), its
// arguments after the destination.
func openssh(addr, file, login, from string, args ...string) *exec.Cmd {
	host, port, _ := net.SplitHostPort(addr)
	a := []string{"-F", "/dev/null", "-p", port, "-i", file, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"}
	if from != "" {
		a = append(a, "-b", from)
	}
	return exec.Command("ssh", append(append(a, login+"@"+host), args...)...)
}

// from= lets the key in from the addresses its line admits and no other;
// the refusal is logged with the line and the client's address.
func TestFromOption(t *testing.T) {
	needOpenSSH(t)
	file, line, fp := opensshKey(t)
	keys := authorizedKeys(t, `from="127.0.0.0/29,!127.0.0.3" `+line)
	ts := start(t, config.Serve{Users: []config.ServeUser{{Name: "noc", Role: config.RoleViewer, AuthorizedKeys: keys}}}, nil)

	// Logged in, the session without a terminal is told it needs one.
	out, err := openssh(ts.addr, file, "noc", "127.0.0.2", "-T", "wall").CombinedOutput()
	if !strings.Contains(string(out), "needs a terminal: ssh -t") {
		t.Errorf("from 127.0.0.2: %v\n%s", err, out)
	}
	waitLog(t, ts.log, `msg="ssh login accepted"`, "user=noc", "fingerprint="+fp, "remote=127.0.0.2:", "key_at="+keys+":1")
	for _, from := range []string{"127.0.0.3", "127.0.0.9"} {
		out, err := openssh(ts.addr, file, "noc", from, "-T", "wall").CombinedOutput()
		if err == nil || !strings.Contains(string(out), "Permission denied (publickey)") {
			t.Errorf("from %s: %v\n%s", from, err, out)
		}
		waitLog(t, ts.log, `msg="ssh login refused"`, "login=noc", "key_type=ssh-ed25519", "fingerprint="+fp,
			"remote="+from+":", `reason="from= does not admit `+from+" ("+keys+`:1)"`)
	}
	if n := ts.metric(t, "failwatch_ssh_refusals_total", refusedFrom); n < 2 {
		t.Errorf("from= refusals counted: %v", n)
	}
}

// inTerminal runs cmd on a terminal of cols x rows until the test ends:
// what it draws, and its keyboard. exited is its exit code once it has
// exited.
func inTerminal(t *testing.T, cmd *exec.Cmd, cols, rows int) (s *screen, exited func() int) {
	t.Helper()
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: uint16(cols), Rows: uint16(rows)})
	if err != nil {
		t.Fatal(err)
	}
	s = &screen{t: t, out: &testkit.Buffer{}, keys: tty}
	drained := make(chan struct{})
	go func() { io.Copy(s.out, tty); close(drained) }()
	waited := make(chan struct{})
	go func() { cmd.Wait(); close(waited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-waited
		tty.Close()
		<-drained
	})
	return s, func() int {
		select {
		case <-waited:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s never exited; it drew:\n%s", cmd, s.out.String())
		}
		return cmd.ProcessState.ExitCode()
	}
}

// A key whose line says no-pty, or restrict, gets no terminal and is told
// the dashboard needs one; restrict,pty gets its dashboard.
func TestNoPty(t *testing.T) {
	needOpenSSH(t)
	eng := running(t)
	noPty, noPtyLine, _ := opensshKey(t)
	restricted, restrictedLine, _ := opensshKey(t)
	withPty, withPtyLine, _ := opensshKey(t)
	ts := start(t, config.Serve{Users: []config.ServeUser{
		{Name: "a", Role: config.RoleViewer, Keys: []string{"no-pty " + noPtyLine}, KeysAt: []string{"f.yaml:3:9"}},
		{Name: "b", Role: config.RoleViewer, Keys: []string{"restrict " + restrictedLine}},
		{Name: "c", Role: config.RoleViewer, Keys: []string{"restrict,pty " + withPtyLine}},
	}}, eng)
	for _, k := range []struct{ file, user string }{{noPty, "a"}, {restricted, "b"}} {
		// Asked with -t, OpenSSH takes a refused terminal as the end of
		// the session and shows only its own line; asked as ssh does by
		// default from a terminal, it goes on and shows serve's.
		s, exited := inTerminal(t, openssh(ts.addr, k.file, k.user, ""), 100, 30)
		s.waitFor("PTY allocation request failed")
		s.waitFor("this key's authorized_keys line says restrict or no-pty, so it gets no terminal, and the dashboard needs one")
		if code := exited(); code != 1 {
			t.Errorf("%s: exit %d, want 1", k.user, code)
		}
		waitLog(t, ts.log, `msg="ssh session refused"`, "user="+k.user, `reason="restrict or no-pty key"`)
		waitLog(t, ts.log, `msg="ssh session end"`, "user="+k.user, "how=refused")
	}
	waitLog(t, ts.log, `msg="ssh request refused"`, "user=a", "request=pty-req", `reason="restrict or no-pty at f.yaml:3:9: serve.users[0].keys[0]"`)
	s, _ := inTerminal(t, openssh(ts.addr, withPty, "c", ""), 100, 30)
	s.waitFor("READ-ONLY")
	waitLog(t, ts.log, `msg="ssh session start"`, "user=c", "width=100", "height=30")
}

// A line with command=, environment= or an option serve does not know is
// not loaded, with a warning naming the line and the option; that key is
// refused, saying which line; the file's other keys log in.
func TestRefusedOptions(t *testing.T) {
	needOpenSSH(t)
	cmdFile, cmdLine, cmdFP := opensshKey(t)
	okFile, okLine, _ := opensshKey(t)
	_, envLine, _ := opensshKey(t)
	keys := authorizedKeys(t, `command="/bin/sh" `+cmdLine, `environment="LD_PRELOAD=/tmp/x.so" `+envLine, okLine)
	ts := start(t, config.Serve{Users: []config.ServeUser{{Name: "ops", Role: config.RoleOperator, AuthorizedKeys: keys}}}, nil)
	waitLog(t, ts.log, "level=WARN", `msg="ssh key not loaded"`, "at="+keys+":1",
		`problem="option command is not supported: failwatch serve runs only the dashboard, never a forced command; the key is not loaded"`)
	waitLog(t, ts.log, "level=WARN", `msg="ssh key not loaded"`, "at="+keys+":2", "option environment is not supported")

	out, err := openssh(ts.addr, cmdFile, "ops", "", "-T", "wall").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "Permission denied (publickey)") {
		t.Errorf("the command= key: %v\n%s", err, out)
	}
	waitLog(t, ts.log, `msg="ssh login refused"`, "fingerprint="+cmdFP,
		`reason="its line `+keys+`:1 is not loaded: option command is not supported`)
	out, _ = openssh(ts.addr, okFile, "ops", "", "-T", "wall").CombinedOutput()
	if !strings.Contains(string(out), "needs a terminal") {
		t.Errorf("the file's other key: %s", out)
	}
	waitLog(t, ts.log, `msg="ssh login accepted"`, "user=ops", "role=operator", "key_at="+keys+":3")
}

// A key two users list is a warning when serve starts, and logs in as the
// lesser role, a viewer, named as the viewer among them; two operators'
// key is a viewer too.
func TestTwoUsersOneKey(t *testing.T) {
	k, line := key(t)
	both, bothLine := key(t)
	keys := authorizedKeys(t, line)
	ts := start(t, config.Serve{Users: []config.ServeUser{
		{Name: "alice", Role: config.RoleOperator, Keys: []string{line, bothLine}, KeysAt: []string{"f.yaml:8:9", "f.yaml:9:9"}},
		{Name: "noc", Role: config.RoleViewer, AuthorizedKeys: keys},
		{Name: "bob", Role: config.RoleOperator, Keys: []string{bothLine}, KeysAt: []string{"f.yaml:12:9"}},
	}}, nil)
	waitLog(t, ts.log, "level=WARN", `msg="ssh key listed for two users"`, "at="+keys+":1",
		"key "+gossh.FingerprintSHA256(k.PublicKey())+" is listed for alice (f.yaml:8:9: serve.users[0].keys[0]) and for noc: it logs in as a viewer until one user lists it")
	waitLog(t, ts.log, "level=WARN", `msg="ssh key listed for two users"`, `at="f.yaml:12:9: serve.users[2].keys[0]"`, "and for bob")

	login(t, ts.addr, "alice", k).Close()
	waitLog(t, ts.log, `msg="ssh login accepted"`, "user=noc", "role=viewer", "login=alice", "also_listed_for=[alice]")
	login(t, ts.addr, "bob", both).Close()
	waitLog(t, ts.log, `msg="ssh login accepted"`, "user=alice", "role=viewer", "login=bob", "also_listed_for=[bob]")
}

// lose is a signer that empties an authorized_keys file when asked to
// sign: after the server said the key it offered would do.
type lose struct {
	gossh.Signer
	file string
}

func (l lose) Sign(r io.Reader, data []byte) (*gossh.Signature, error) {
	os.WriteFile(l.file, nil, 0o600)
	return l.Signer.Sign(r, data)
}

// The other ways a listed key is refused, each logged with its reason: a
// key past its expiry-time, and one its authorized_keys file lost between
// the offer and the proof (the login is refused at the proof).
func TestRefusedLogins(t *testing.T) {
	expired, expiredLine := key(t)
	lost, lostLine := key(t)
	keys := authorizedKeys(t, lostLine)
	ts := start(t, config.Serve{Users: []config.ServeUser{
		{Name: "temp", Role: config.RoleOperator, Keys: []string{`expiry-time="20200101Z" ` + expiredLine}, KeysAt: []string{"f.yaml:4:9"}},
		{Name: "noc", Role: config.RoleViewer, AuthorizedKeys: keys},
	}}, nil)
	if _, err := dial(ts.addr, "temp", expired); err == nil {
		t.Error("an expired key logged in")
	}
	waitLog(t, ts.log, `msg="ssh login refused"`, "login=temp", "fingerprint="+gossh.FingerprintSHA256(expired.PublicKey()),
		`reason="key expired at 2020-01-01T00:00:00Z (f.yaml:4:9: serve.users[0].keys[0])"`)
	if n := ts.metric(t, "failwatch_ssh_refusals_total", refusedExpired); n != 1 {
		t.Errorf("expired keys refused: %v", n)
	}

	if _, err := dial(ts.addr, "noc", lose{lost, keys}); err == nil {
		t.Error("a key its file lost before the proof logged in")
	}
	waitLog(t, ts.log, `msg="ssh login refused"`, "login=noc", "fingerprint="+gossh.FingerprintSHA256(lost.PublicKey()), `reason="key not listed"`)
	if strings.Contains(ts.log.String(), `msg="ssh login accepted"`) {
		t.Errorf("a login was accepted:\n%s", ts.log.String())
	}
}
