package routeros

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/paper"
	"github.com/failwatch/failwatch/internal/testkit"
	"github.com/failwatch/failwatch/routeros/rosim"
)

// adminClient starts a router seeded with the paper's setup on loopback
// and logs in to it as admin.
func adminClient(t *testing.T, opts rosim.Options) (*rosim.Router, *Client) {
	t.Helper()
	r, addr := testkit.Emulator(t, opts)
	return r, client(t, addr, "admin", "")
}

func client(t *testing.T, addr, user, password string) *Client {
	t.Helper()
	c, _, err := New(Options{Address: addr, User: user, Password: config.Secret(password), Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestReadIdentityRecordsNetwatch(t *testing.T) {
	for _, legacy := range []bool{false, true} {
		_, c := adminClient(t, rosim.Options{Identity: "edge-1", LegacyLogin: legacy})
		ctx := context.Background()
		id, err := c.Identity(ctx)
		if err != nil {
			t.Fatalf("legacy=%v: %v", legacy, err)
		}
		if id.Name != "edge-1" || !strings.HasPrefix(id.Version, "7.") || id.Board != "CHR" {
			t.Errorf("identity %+v", id)
		}
		recs, err := c.StaticRecords(ctx, "tomtotrading.com")
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 2 || recs[0].Comment != "ServerPrivate" || !recs[0].Disabled || recs[0].Type != "A" ||
			recs[1].Address != "104.247.193.168" || recs[1].Disabled || recs[1].TTL != "1d" {
			t.Errorf("records %+v", recs)
		}
		nw, err := c.NetwatchEntries(ctx, "104.247.193.168")
		if err != nil {
			t.Fatal(err)
		}
		if len(nw) != 2 || nw[0].UpScript != "/ip dns static disable numbers=0" || nw[0].Type != "simple" {
			t.Errorf("netwatch %+v", nw)
		}
	}
}

func TestWrongPassword(t *testing.T) {
	for _, legacy := range []bool{false, true} {
		_, addr := testkit.Emulator(t, rosim.Options{Users: map[string]string{"admin": "right"}, LegacyLogin: legacy})
		c := client(t, addr, "admin", "wrong-secret")
		_, err := c.Identity(context.Background())
		var le *LoginError
		if !errors.As(err, &le) || le.Message != "invalid user name or password (6)" {
			t.Fatalf("legacy=%v: %v", legacy, err)
		}
		if strings.Contains(err.Error(), "wrong-secret") {
			t.Errorf("the error shows the password: %v", err)
		}
	}
}

func TestTrapKeepsConnection(t *testing.T) {
	_, c := adminClient(t, rosim.Options{})
	ctx := context.Background()
	err := c.SetRecordDisabled(ctx, "*99", true)
	var trap *TrapError
	if !errors.As(err, &trap) || trap.Message != "no such item" || trap.Category != "0" {
		t.Fatalf("set on a missing item: %v", err)
	}
	_, err = c.Run(ctx, "/ip/dns/statik/print")
	if !errors.As(err, &trap) || trap.Message != "no such command prefix" {
		t.Fatalf("unknown command: %v", err)
	}
	err = c.Set(ctx, "/ip/dns/static", "*1", "disabled", "maybe")
	if !errors.As(err, &trap) || trap.Category != "1" || trap.Message != "value of disabled must be yes or no" {
		t.Fatalf("bad value: %v", err)
	}
	if c.Connects() != 1 {
		t.Errorf("traps reconnected the client: %d connects", c.Connects())
	}
}

// A !fatal (here the answer to /quit) is reported with its reason, and the
// next call reconnects.
func TestFatalAndReconnect(t *testing.T) {
	_, c := adminClient(t, rosim.Options{})
	ctx := context.Background()
	_, err := c.Run(ctx, "/quit")
	var fatal *FatalError
	if !errors.As(err, &fatal) || fatal.Reason != "session terminated on request" {
		t.Fatalf("quit: %v", err)
	}
	if _, err := c.Identity(ctx); err != nil {
		t.Fatalf("after the fatal: %v", err)
	}
	if c.Connects() != 2 {
		t.Errorf("connects %d, want 2", c.Connects())
	}
}

func TestDialFailures(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().String()
	ln.Close()
	c := client(t, closed, "admin", "")
	_, err := c.Identity(context.Background())
	if err == nil || !strings.Contains(err.Error(), "refused the connection: is the API service enabled") {
		t.Errorf("refused: %v", err)
	}
	_, err = c.Identity(context.Background())
	if err == nil || !strings.Contains(err.Error(), "retrying in") {
		t.Errorf("second call within the backoff: %v", err)
	}

	// A router that accepts and never answers: the call ends at the timeout.
	silent := silentRouter(t)
	s, _, _ := New(Options{Address: silent, User: "admin", Timeout: 300 * time.Millisecond})
	defer s.Close()
	start := time.Now()
	_, err = s.Identity(context.Background())
	if err == nil || time.Since(start) > 3*time.Second {
		t.Errorf("silent router: %v after %s", err, time.Since(start))
	}
}

// silentRouter accepts connections and never says a word.
func silentRouter(t *testing.T) string {
	t.Helper()
	return testkit.Serve(t, func(net.Conn) {}).Addr().String()
}

// A call whose context ends is cut short even though go-routeros' sync
// calls ignore the context.
func TestContextCancelsCall(t *testing.T) {
	silent := silentRouter(t)
	c, _, _ := New(Options{Address: silent, User: "admin", Timeout: time.Minute})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := c.Identity(ctx); err == nil {
		t.Fatal("no error from a silent router")
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %s, the context allowed 200ms", took)
	}
}

func TestTLSWithoutCertificate(t *testing.T) {
	// A server that answers the ClientHello with a handshake_failure alert,
	// as RouterOS does when it has no certificate and so only anonymous DH.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 4096)
			conn.Read(buf)
			conn.Write([]byte{0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28})
			conn.Close()
		}
	}()
	c, _, _ := New(Options{Address: ln.Addr().String(), TLS: true, User: "admin", Timeout: time.Second})
	defer c.Close()
	_, err := c.Identity(context.Background())
	if err == nil || !strings.Contains(err.Error(), "anonymous Diffie-Hellman") || !strings.Contains(err.Error(), "add a certificate") {
		t.Errorf("got %v", err)
	}
}

// The command connection never goes asynchronous (go-routeros can lose a
// fast reply there): many goroutines share one client and every call gets
// its own answer.
func TestConcurrentCallsShareOneConnection(t *testing.T) {
	_, c := adminClient(t, rosim.Options{})
	errs := make(chan error, 400)
	done := make(chan struct{})
	for i := range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 50 {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				var err error
				if i%2 == 0 {
					var recs []Record
					recs, err = c.StaticRecords(ctx, paper.Name)
					if err == nil && len(recs) != 2 {
						err = errors.New("wrong reply to a print")
					}
				} else {
					var id Identity
					id, err = c.Identity(ctx)
					if err == nil && id.Name != "MikroTik" {
						err = errors.New("wrong reply to identity")
					}
				}
				cancel()
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	for range 8 {
		<-done
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if c.Connects() != 1 {
		t.Errorf("%d connects", c.Connects())
	}
}

// A cancelled call costs the connection, not the client: the next call
// reconnects.
func TestCancelledCallThenReconnect(t *testing.T) {
	_, c := adminClient(t, rosim.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Identity(ctx); err == nil {
		t.Fatal("a cancelled call succeeded")
	}
	if _, err := c.Identity(context.Background()); err != nil {
		t.Fatalf("after a cancelled call: %v", err)
	}
}

// The router drops an idle session: the next read redials and answers at
// once, without an error and without "unreachable"; a failover pressed
// right then works. Only a failed redial makes the link unreachable, since
// when it first failed.
func TestStaleConnectionIsRetriedOnce(t *testing.T) {
	r, c := adminClient(t, rosim.Options{})
	ctx := context.Background()
	w := NewWatcher(c, []string{paper.Name}, []string{paper.PublicAddress}, time.Second)
	if st := w.Read(ctx); st.Err != nil || c.Link().State != LinkUp {
		t.Fatalf("first reading: %v, link %v", st.Err, c.Link().State)
	}
	testkit.Hangup(t, r)
	if st := w.Read(ctx); st.Err != nil || !st.Connected || st.Link.State != LinkUp {
		t.Fatalf("reading after the drop: %v, link %+v", st.Err, st.Link)
	}
	if c.Connects() != 2 {
		t.Errorf("connects %d, want 2 (one redial)", c.Connects())
	}
	// A change is never resent: after a drop it fails, unknown to the
	// caller, and the link says reconnecting until the next call.
	testkit.Hangup(t, r)
	if err := c.SetRecordDisabled(ctx, "*1", false); err == nil {
		t.Error("a set on a dropped connection succeeded: it must not be resent")
	} else if l := c.Link(); l.State != LinkReconnecting {
		t.Errorf("link after a failed set: %v", l.State)
	}

	r.Close()
	before := time.Now()
	st := w.Read(ctx)
	if st.Err == nil || st.Link.State != LinkUnreachable || st.Link.Since.Before(before) {
		t.Errorf("router gone: err %v, link %+v", st.Err, st.Link)
	}
	// Readings within the backoff do not dial; the first after it dials
	// again and fails again, and the link keeps when it first failed.
	since := st.Link.Since
	testkit.EventuallyLast(t, 5*time.Second, "a reading after the backoff dialled the gone router again", func() (RouterState, bool) {
		st := w.Read(ctx)
		if st.Link.State != LinkUnreachable || !st.Link.Since.Equal(since) {
			t.Fatalf("still gone: link %+v, want since %v kept", st.Link, since)
		}
		return st, st.Err != nil && !strings.Contains(st.Err.Error(), "retrying in")
	})
}
