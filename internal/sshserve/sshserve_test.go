package sshserve

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/prometheus/client_golang/prometheus"
	gossh "golang.org/x/crypto/ssh"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/engine"
	"github.com/failwatch/failwatch/internal/engine/enginetest"
	"github.com/failwatch/failwatch/internal/paper"
	"github.com/failwatch/failwatch/internal/testkit"
	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/rosim"
	"github.com/failwatch/failwatch/tui"
)

// asking is the engine with its requests taken down instead of run: a
// test sees who asked for what, and the emulated router is never changed.
type asking struct {
	*engine.Engine
	mu    sync.Mutex
	asked []string
}

func (a *asking) Request(r engine.Request) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.asked = append(a.asked, fmt.Sprintf("%s %s by %s as %s", r.Op, r.Target, r.By, r.By.Role))
	return nil
}

func (a *asking) requests() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.asked...)
}

// running is the paper's engine on the emulated router and simulated
// servers, run until the test ends, once its first reading says which
// server is active and both servers are UP.
func running(t *testing.T) *asking {
	t.Helper()
	_, api := testkit.Emulator(t, rosim.Options{})
	cfg := enginetest.PaperConfig(api)
	cfg.Services[0].Auto.Enabled = false
	e := runEngine(t, cfg)
	testkit.EventuallyLast(t, 10*time.Second, "the engine read the router and probed both servers", func() (engine.State, bool) {
		snap := e.State()
		return snap, snap.Active[paper.Name] == "public" && snap.Health["public"].State == monitor.Up && snap.Health["private"].State == monitor.Up
	})
	return &asking{Engine: e}
}

// runEngine runs an engine for cfg, the paper's servers simulated, until
// the test ends.
func runEngine(t *testing.T, cfg *config.Config) *engine.Engine {
	t.Helper()
	e, _, err := engine.New(cfg, engine.Options{Router: routeros.OptionsFrom(cfg.Router), User: "tester",
		AuditLog: filepath.Join(t.TempDir(), "audit.jsonl"), Monitor: enginetest.Monitor(cfg, enginetest.PaperSims())})
	if err != nil {
		t.Fatal(err)
	}
	testkit.Run(t, e.Run)
	return e
}

// testServer is a Server on loopback for a test: its address, its log,
// its metrics, and how to stop it before the test ends.
type testServer struct {
	*Server
	addr string
	log  *testkit.Buffer
	reg  *prometheus.Registry
	stop func()
}

// start serves serve with eng on loopback until the test ends (or stop);
// setup changes the server before it serves.
func start(t *testing.T, serve config.Serve, eng Engine, setup ...func(*Server)) *testServer {
	t.Helper()
	if serve.HostKey == "" {
		serve.HostKey = filepath.Join(t.TempDir(), "host_key")
	}
	ts := &testServer{log: &testkit.Buffer{}, reg: prometheus.NewRegistry()}
	cfg := paper.Config()
	srv, err := New(Options{Serve: serve, Engine: eng, Log: slog.New(slog.NewTextHandler(ts.log, nil)), Metrics: ts.reg,
		UI: func() tui.Options {
			return tui.Options{Services: cfg.Services, Servers: cfg.Servers, RouterAddr: cfg.Router.RouterAddr()}
		}})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range setup {
		f(srv)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Serve(ctx, ln); close(done) }()
	ts.Server, ts.addr = srv, ln.Addr().String()
	ts.stop = func() { cancel(); <-done }
	t.Cleanup(ts.stop)
	return ts
}

// serving is start for a test that needs only the address and the log.
func serving(t *testing.T, serve config.Serve, eng Engine) (addr string, log *testkit.Buffer) {
	t.Helper()
	ts := start(t, serve, eng)
	return ts.addr, ts.log
}

// metric is the value of a failwatch_ssh_* series of ts with the label
// value given (or the one series without labels).
func (ts *testServer) metric(t *testing.T, name, label string) float64 {
	t.Helper()
	families, err := ts.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if len(m.GetLabel()) > 0 && m.GetLabel()[0].GetValue() != label {
				continue
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("no series %s{%s}", name, label)
	return 0
}

// key is a fresh ed25519 key: its signer, and its authorized_keys line.
func key(t *testing.T) (gossh.Signer, string) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return signer, strings.TrimSpace(string(gossh.MarshalAuthorizedKey(signer.PublicKey())))
}

func dial(addr, user string, signer gossh.Signer) (*gossh.Client, error) {
	return gossh.Dial("tcp", addr, &gossh.ClientConfig{User: user, Auth: []gossh.AuthMethod{gossh.PublicKeys(signer)},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second})
}

// anonymous serves the paper's engine to anyone, as a viewer, with
// serve's other settings, and opens a session of w x h: the server, the
// connection and the session.
func anonymous(t *testing.T, serve config.Serve, w, h int) (*testServer, *gossh.Client, *screen) {
	t.Helper()
	serve.Anonymous = config.RoleViewer
	eng := running(t)
	k, _ := key(t)
	ts := start(t, serve, eng)
	c := login(t, ts.addr, "noc", k)
	return ts, c, open(t, c, "xterm-256color", w, h, "")
}

// authorizedKeys writes lines to an authorized_keys file of the test's
// and returns its path.
func authorizedKeys(t *testing.T, lines ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "authorized_keys")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// login is dial for a login that must succeed: the client is closed when
// the test ends.
func login(t *testing.T, addr, user string, signer gossh.Signer) *gossh.Client {
	t.Helper()
	c, err := dial(addr, user, signer)
	if err != nil {
		t.Fatalf("%s's login: %v", user, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// screen is a session with a terminal of w x h running the dashboard (or
// command), and what it has drawn so far, without the escape sequences.
type screen struct {
	t    *testing.T
	sess *gossh.Session
	out  *testkit.Buffer
	keys interface{ Write([]byte) (int, error) }
}

func open(t *testing.T, c *gossh.Client, term string, w, h int, command string) *screen {
	t.Helper()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sess.Close() })
	s := &screen{t: t, sess: sess, out: &testkit.Buffer{}}
	sess.Stdout, sess.Stderr = s.out, s.out
	if s.keys, err = sess.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := sess.RequestPty(term, h, w, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	if command == "" {
		err = sess.Shell()
	} else {
		err = sess.Start(command)
	}
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *screen) waitFor(what string) {
	s.t.Helper()
	testkit.EventuallyLast(s.t, 10*time.Second, fmt.Sprintf("drew %q", what), func() (string, bool) {
		out := ansi.Strip(s.out.String())
		return out[max(0, len(out)-2000):], strings.Contains(out, what)
	})
}

// mark is where what the session has drawn so far ends, for waitSince.
func (s *screen) mark() int { return len(s.out.String()) }

// waitSince waits until what the session drew after mark holds what, and
// returns that drawing.
func (s *screen) waitSince(mark int, what string) string {
	s.t.Helper()
	return testkit.EventuallyLast(s.t, 10*time.Second, fmt.Sprintf("drew %q", what), func() (string, bool) {
		out := ansi.Strip(s.out.String()[mark:])
		return out, strings.Contains(out, what)
	})
}

func (s *screen) press(keys string) {
	s.t.Helper()
	if _, err := s.keys.Write([]byte(keys)); err != nil {
		s.t.Fatal(err)
	}
}

// waitLog waits for a line of the log holding every part.
func waitLog(t *testing.T, log *testkit.Buffer, parts ...string) string {
	t.Helper()
	// The value is the line found, or the whole log for the failure.
	return testkit.EventuallyLast(t, 10*time.Second, fmt.Sprintf("a log line with %q", parts), func() (string, bool) {
		all := log.String()
		for _, line := range strings.Split(all, "\n") {
			if containsAll(line, parts) {
				return line, true
			}
		}
		return all, false
	})
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// A listed key logs in as its user; a key nobody lists is refused, and
// both are logged with the key's type and fingerprint and the client's
// address. An authorized_keys file is read at every login.
func TestLogins(t *testing.T) {
	aliceKey, aliceLine := key(t)
	nocKey, nocLine := key(t)
	eveKey, _ := key(t)
	keys := authorizedKeys(t, "# the wall")
	addr, log := serving(t, config.Serve{Users: []config.ServeUser{
		{Name: "alice", Role: config.RoleOperator, Keys: []string{aliceLine}},
		{Name: "noc", Role: config.RoleViewer, AuthorizedKeys: keys},
	}}, nil)

	login(t, addr, "alice", aliceKey).Close()
	waitLog(t, log, `msg="ssh login accepted"`, "user=alice", "role=operator", "key_type=ssh-ed25519",
		"fingerprint="+gossh.FingerprintSHA256(aliceKey.PublicKey()), "remote=127.0.0.1:")

	if _, err := dial(addr, "eve", eveKey); err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Errorf("a stranger's key: %v", err)
	}
	waitLog(t, log, `msg="ssh login refused"`, "login=eve", "key_type=ssh-ed25519",
		"fingerprint="+gossh.FingerprintSHA256(eveKey.PublicKey()), "remote=127.0.0.1:")

	if _, err := dial(addr, "noc", nocKey); err == nil {
		t.Error("noc's key let in before its authorized_keys listed it")
	}
	os.WriteFile(keys, []byte(nocLine+" noc@wall\n"), 0o600)
	login(t, addr, "noc", nocKey).Close()
	waitLog(t, log, `msg="ssh login accepted"`, "user=noc", "role=viewer")
}

// With serve.anonymous viewer, a key nobody lists watches as anonymous.
func TestAnonymousViewer(t *testing.T) {
	k, _ := key(t)
	addr, log := serving(t, config.Serve{Anonymous: config.RoleViewer}, nil)
	login(t, addr, "someone", k).Close()
	waitLog(t, log, `msg="ssh login accepted"`, "user=anonymous", "role=viewer", "login=someone")
}

// A session without a terminal, or on TERM=dumb, is told why and ends
// with status 1; the refusal is logged.
func TestNeedsTerminal(t *testing.T) {
	k, _ := key(t)
	addr, log := serving(t, config.Serve{Anonymous: config.RoleViewer}, nil)
	c := login(t, addr, "noc", k)
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	out, err := sess.CombinedOutput("wall")
	if ee, ok := err.(*gossh.ExitError); !ok || ee.ExitStatus() != 1 || !strings.Contains(string(out), "needs a terminal: ssh -t") {
		t.Errorf("no terminal: %v %q", err, out)
	}
	waitLog(t, log, `msg="ssh session refused"`, `reason="no terminal"`)

	s := open(t, c, "dumb", 80, 24, "")
	s.waitFor("TERM=dumb cannot draw the dashboard")
	if err := s.sess.Wait(); err == nil {
		t.Error("a TERM=dumb session ended well")
	}
	waitLog(t, log, `msg="ssh session refused"`, `reason="TERM=dumb"`)
}

// serve.max_sessions places at once, taken at login whether or not a
// session follows (ssh -N): one more login is refused, the client told
// why in the login's banner, and the place is free again once a
// connection ends.
func TestSessionCap(t *testing.T) {
	eng := running(t)
	k, _ := key(t)
	addr, log := serving(t, config.Serve{Anonymous: config.RoleViewer, MaxSessions: 2}, eng)
	connect := func() *gossh.Client {
		c := login(t, addr, "noc", k)
		return c
	}
	first := connect()
	open(t, first, "xterm-256color", 100, 30, "").waitFor("READ-ONLY")
	connect() // no session: the place is held all the same
	var banner testkit.Buffer
	_, err := gossh.Dial("tcp", addr, &gossh.ClientConfig{User: "noc", Auth: []gossh.AuthMethod{gossh.PublicKeys(k)},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second,
		BannerCallback: func(m string) error { banner.Write([]byte(m)); return nil }})
	if err == nil || banner.String() != "failwatch serve: all 2 sessions are taken; try again later\n" {
		t.Errorf("a third login: %v, banner %q", err, banner.String())
	}
	waitLog(t, log, `msg="ssh login refused"`, "login=noc", `reason="all 2 sessions are taken"`)
	first.Close()
	waitLog(t, log, `msg="ssh session end"`, "how=client_closed")
	eventually(t, "a place freed by the first connection", func() bool {
		c, err := dial(addr, "noc", k)
		if err == nil {
			t.Cleanup(func() { c.Close() })
		}
		return err == nil
	})
}

// eventually waits up to ten seconds for ok.
func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	testkit.Eventually(t, 10*time.Second, what, ok)
}

// An operator's keys ask the engine in the operator's name, with the key's
// fingerprint; a viewer's dashboard is read-only and asks nothing.
func TestRoles(t *testing.T) {
	eng := running(t)
	opKey, opLine := key(t)
	viewKey, viewLine := key(t)
	addr, log := serving(t, config.Serve{Users: []config.ServeUser{
		{Name: "alice", Role: config.RoleOperator, Keys: []string{opLine}},
		{Name: "noc", Role: config.RoleViewer, Keys: []string{viewLine}},
	}}, eng)

	c := login(t, addr, "noc", viewKey)
	viewer := open(t, c, "xterm-256color", 120, 40, "")
	viewer.waitFor("READ-ONLY")
	// After each key, M (mouse on and off), whose note says the key before
	// it was taken: had f opened a question, M would have cancelled it
	// instead, and no note would come.
	viewer.press("fM")
	viewer.waitFor("the terminal selects text")
	viewer.press("yM")
	viewer.waitFor("a click selects")
	if asked := eng.requests(); len(asked) != 0 {
		t.Errorf("a viewer's keys asked the engine: %q", asked)
	}

	c = login(t, addr, "alice", opKey)
	operator := open(t, c, "xterm-256color", 120, 40, "")
	operator.waitFor("ACTIVE")
	// Until the dashboard has seen the standby UP, a failover asks for its
	// name to be typed: esc cancels that question, and the keys come again.
	want := "failover " + paper.Name + " by ssh:alice " + gossh.FingerprintSHA256(opKey.PublicKey()) + " as operator"
	testkit.EventuallyLast(t, 10*time.Second, fmt.Sprintf("the operator's failover asked %q", want), func() ([]string, bool) {
		asked := eng.requests()
		if len(asked) == 1 && asked[0] == want {
			return asked, true
		}
		if len(asked) > 1 {
			t.Fatalf("the operator's failover: asked %q, want %q", asked, want)
		}
		// Each key lands on the dialog the one before it opened.
		mark := operator.mark()
		operator.press("f")
		if q := operator.waitSince(mark, "Fail over "+paper.Name+" from public to private"); strings.Contains(q, "any other key cancels") {
			operator.press("y")
			// The request comes from the dashboard's own goroutine.
			return testkit.EventuallyLast(t, 10*time.Second, "the operator's y asked", func() ([]string, bool) {
				asked := eng.requests()
				return asked, len(asked) > 0
			}), false
		}
		// The cancel's note says esc was taken alone, not as the start of
		// alt+f with the next f.
		mark = operator.mark()
		operator.press("y")
		operator.press("\x1b")
		operator.waitSince(mark, "cancelled: Fail over")
		return asked, false
	})
	waitLog(t, log, `msg="ssh session start"`, "user=alice", "role=operator", "term=xterm-256color", "width=120", "height=40")
}

// A window of 10000x10000 is drawn at 500x200, and the screen says so.
func TestWindowClamped(t *testing.T) {
	ts, _, s := anonymous(t, config.Serve{}, 10000, 10000)
	log := ts.log
	s.waitFor("window 10000x10000 drawn at 500x200, the most a session gets")
	waitLog(t, log, `msg="ssh window clamped"`, "width=10000", "height=10000", "drawn_width=500", "drawn_height=200")
	// The first frame is written line by line after the screen is cleared:
	// its widest line is the program's width. No cursor move goes beyond
	// the clamped window.
	out := s.out.String()
	first := out[strings.Index(out, "\x1b[2J")+len("\x1b[2J"):]
	moves := regexp.MustCompile(`\x1b\[(\d+);(\d+)H`)
	if m := moves.FindStringIndex(first); m != nil {
		first = first[:m[0]]
	}
	widest := 0
	for _, line := range strings.Split(first, "\n") {
		widest = max(widest, ansi.StringWidth(line))
	}
	if widest != 500 {
		t.Errorf("the first frame is %d columns wide, want 500", widest)
	}
	for _, m := range moves.FindAllStringSubmatch(out, -1) {
		if row, _ := strconv.Atoi(m[1]); row > 200 {
			t.Errorf("the cursor moved to row %d", row)
		}
		if col, _ := strconv.Atoi(m[2]); col > 500 {
			t.Errorf("the cursor moved to column %d", col)
		}
	}
	// A window made smaller than the bound is drawn as it is, and one
	// made larger again is clamped again, said once per time.
	s.sess.WindowChange(40, 120)
	s.sess.WindowChange(300, 1000)
	waitLog(t, log, `msg="ssh window clamped"`, "width=1000", "height=300", "drawn_width=500", "drawn_height=200")
	s.waitFor("window 1000x300 drawn at 500x200")
}

// A session ends when the client closes it, though its connection stays:
// the program stops drawing and leaves the engine.
func TestSessionEnds(t *testing.T) {
	ts, c, s := anonymous(t, config.Serve{}, 100, 30)
	log := ts.log
	s.waitFor("READ-ONLY")
	s.sess.Close()
	waitLog(t, log, `msg="ssh session end"`, "user=anonymous", "duration=")
	// The connection still serves another session.
	open(t, c, "xterm-256color", 100, 30, "").waitFor("READ-ONLY")
}

// Only the dashboard is served: port forwarding either way, agent and X11
// forwarding, a subsystem and a command other than wall are each refused
// and logged.
func TestOnlyTheDashboard(t *testing.T) {
	k, _ := key(t)
	ts := start(t, config.Serve{Anonymous: config.RoleViewer}, nil)
	addr, log := ts.addr, ts.log
	c := login(t, addr, "noc", k)

	if conn, err := c.Dial("tcp", addr); err == nil {
		conn.Close()
		t.Error("direct-tcpip to the server's own address was let through")
	}
	waitLog(t, log, `msg="ssh request refused"`, "request=direct-tcpip")
	if ln, err := c.Listen("tcp", "127.0.0.1:0"); err == nil {
		ln.Close()
		t.Error("tcpip-forward was let through")
	}
	waitLog(t, log, `msg="ssh request refused"`, "request=tcpip-forward")

	session := func() *gossh.Session {
		t.Helper()
		sess, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sess.Close() })
		return sess
	}
	sess := session()
	for _, req := range []struct {
		kind    string
		payload []byte
	}{
		{"auth-agent-req@openssh.com", nil},
		{"x11-req", gossh.Marshal(struct {
			Single           bool
			Protocol, Cookie string
			Screen           uint32
		}{false, "MIT-MAGIC-COOKIE-1", "0123456789abcdef0123456789abcdef", 0})},
	} {
		if ok, err := sess.SendRequest(req.kind, true, req.payload); ok || err != nil {
			t.Errorf("%s: accepted %v, %v", req.kind, ok, err)
		}
		waitLog(t, log, `msg="ssh request refused"`, "request="+req.kind)
	}
	if err := session().RequestSubsystem("sftp"); err == nil {
		t.Error("the sftp subsystem was let through")
	}
	waitLog(t, log, `msg="ssh request refused"`, "request=subsystem")
	if err := session().Start("cat /etc/passwd"); err == nil {
		t.Error("a command other than wall was let through")
	}
	waitLog(t, log, `msg="ssh request refused"`, "request=exec", `command="cat /etc/passwd"`)
	if n := ts.metric(t, "failwatch_ssh_refusals_total", refusedRequest); n != 6 {
		t.Errorf("requests refused: %v, want 6", n)
	}
}
