// Package hatest starts a real etcd (Debian's etcd-server) on loopback
// ports for tests, and a TCP proxy a test can cut to partition an instance
// from it; it keeps `testing` out of the ha package.
package hatest

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"golang.org/x/sys/unix"

	"github.com/failwatch/failwatch/internal/testkit"
)

// Etcd is one etcd member a test started.
type Etcd struct {
	t      testing.TB
	bin    string
	dir    string
	name   string
	client string
	peer   string
	// cluster is the --initial-cluster list; scheme and tlsArgs are the
	// client side's: http, or https with StartTLS's certificates.
	cluster string
	scheme  string
	tlsArgs []string
	cmd     *exec.Cmd
	stopped chan struct{}
	// said is what etcd wrote (errors only), shown when the test fails:
	// a member that could not start says why there.
	said *testkit.Buffer
}

// Start runs etcd on two free loopback ports until the test ends. Without
// the etcd binary the test is skipped, except under CI (CI set), where
// scripts/test installed it and every test must run.
func Start(t testing.TB) *Etcd { return StartOn(t, "127.0.0.1") }

// StartOn is Start listening on host's address: a loopback one, or one on
// a link the test made (a namespace's veth) for instances in namespaces.
func StartOn(t testing.TB, host string) *Etcd {
	t.Helper()
	e := newEtcd(t, lookEtcd(t), "t", host)
	e.cluster = e.name + "=http://" + e.peer
	e.start()
	return e
}

// lookEtcd finds the etcd binary. Without it the test is skipped, except
// under CI (CI set), where scripts/test installed it and every test must
// run.
func lookEtcd(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("etcd")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI must run the etcd tests: %v (scripts/test installs etcd-server)", err)
		}
		t.Skipf("no etcd binary (%v): install Debian's etcd-server", err)
	}
	return bin
}

// newEtcd is a member on free ports, not started, stopped when the test
// ends.
func newEtcd(t testing.TB, bin, name, host string) *Etcd {
	e := &Etcd{t: t, bin: bin, dir: filepath.Join(dataDir(t), "etcd"), name: name, scheme: "http",
		client: freePort(t, host), peer: freePort(t, "127.0.0.1"), said: &testkit.Buffer{}}
	t.Cleanup(func() {
		if t.Failed() && e.said.Len() > 0 {
			t.Logf("etcd %s said:\n%s", e.name, e.said.String())
		}
	})
	t.Cleanup(e.Stop)
	return e
}

// shmRoom is the free space /dev/shm needs for a member's data: room for
// several members of parallel tests.
const shmRoom = 1 << 30

// dataDir is where a member keeps its data: in memory (/dev/shm) when the
// machine has room there. etcd syncs every write to disk, and on a busy
// machine a sync can take longer than the half-TTL the members give a call,
// which failed tests that have nothing to do with disks. Durability across
// a machine's crash is not what the tests check; a member stopped and
// started again still finds its data there. A member takes about 123 MB
// (etcd 3.4 makes its 64 MB write-ahead log at once), so /dev/shm is used
// only with shmRoom free: a container's default 64 MB is not enough for
// one.
func dataDir(t testing.TB) string {
	var fs unix.Statfs_t
	if unix.Statfs("/dev/shm", &fs) == nil && fs.Bavail*uint64(fs.Bsize) >= shmRoom {
		if dir, err := os.MkdirTemp("/dev/shm", "failwatch-etcd-"); err == nil {
			t.Cleanup(func() { os.RemoveAll(dir) })
			return dir
		}
	}
	return t.TempDir()
}

// Endpoint is the client URL.
func (e *Etcd) Endpoint() string { return e.scheme + "://" + e.client }

// Addr is the client host:port.
func (e *Etcd) Addr() string { return e.client }

func (e *Etcd) start() {
	e.t.Helper()
	e.launch()
	e.waitListening()
}

// launch starts the etcd process without waiting for it: a cluster's
// members start together.
func (e *Etcd) launch() {
	t := e.t
	t.Helper()
	args := []string{"--name", e.name, "--data-dir", e.dir,
		"--listen-client-urls", e.Endpoint(), "--advertise-client-urls", e.Endpoint(),
		"--listen-peer-urls", "http://" + e.peer, "--initial-advertise-peer-urls", "http://" + e.peer,
		"--initial-cluster", e.cluster, "--heartbeat-interval", "50", "--election-timeout", "500",
		"--log-level", "error"}
	cmd := exec.Command(e.bin, append(args, e.tlsArgs...)...)
	cmd.Stdout, cmd.Stderr = io.Discard, e.said
	if err := cmd.Start(); err != nil {
		t.Fatalf("etcd: %v", err)
	}
	e.cmd, e.stopped = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); close(e.stopped) }()
}

func (e *Etcd) waitListening() {
	t := e.t
	t.Helper()
	testkit.Eventually(t, 20*time.Second, "etcd listening on "+e.client, func() bool {
		c, err := net.DialTimeout("tcp", e.client, 200*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

// Stop kills etcd and waits for it; Restart starts it again on the same
// ports and data.
func (e *Etcd) Stop() {
	if e.cmd == nil {
		return
	}
	_ = e.cmd.Process.Signal(syscall.SIGKILL)
	<-e.stopped
	e.cmd = nil
}

// Restart starts a stopped etcd again with its data.
func (e *Etcd) Restart() { e.start() }

// Cluster is several etcd members in one cluster on loopback ports.
type Cluster struct {
	Members []*Etcd
}

// StartCluster runs an n-member etcd cluster on loopback until the test
// ends, and waits until it has a leader (a put answered).
func StartCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	return StartClusterOn(t, "127.0.0.1", n)
}

// StartClusterOn is StartCluster with the members' client ports on host's
// address (a namespace's veth gateway); they talk among themselves on
// loopback.
func StartClusterOn(t testing.TB, host string, n int) *Cluster {
	t.Helper()
	bin := lookEtcd(t)
	c := &Cluster{}
	var peers []string
	for i := range n {
		e := newEtcd(t, bin, fmt.Sprintf("m%d", i), host)
		c.Members = append(c.Members, e)
		peers = append(peers, e.name+"=http://"+e.peer)
	}
	for _, e := range c.Members {
		e.cluster = strings.Join(peers, ",")
		e.launch()
	}
	for _, e := range c.Members {
		e.waitListening()
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: c.Endpoints(), DialTimeout: time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	testkit.Eventually(t, 20*time.Second, "the etcd cluster answers a put", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := cli.Put(ctx, "/hatest/ready", "1")
		return err == nil
	})
	return c
}

// Leader is the index in Members of etcd's own leader now, -1 when no
// running member says it leads; answering is how many members answered.
func (c *Cluster) Leader(t testing.TB) (leader, answering int) {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: c.Endpoints(), DialTimeout: time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	leader = -1
	for i, e := range c.Members {
		if e.cmd == nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		st, err := cli.Status(ctx, e.Endpoint())
		cancel()
		if err != nil {
			continue
		}
		answering++
		if st.Leader == st.Header.MemberId {
			leader = i
		}
	}
	return leader, answering
}

// Endpoints are the members' client URLs.
func (c *Cluster) Endpoints() []string {
	var out []string
	for _, e := range c.Members {
		out = append(out, e.Endpoint())
	}
	return out
}

func freePort(t testing.TB, host string) string {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Proxy forwards loopback TCP connections to a target until cut: a
// partition of whoever dials it, without namespaces.
type Proxy struct {
	l      net.Listener
	target string
	mu     sync.Mutex
	cut    bool
	conns  map[net.Conn]struct{}
}

// NewProxy listens on a free loopback port for target until the test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{l: l, target: target, conns: map[net.Conn]struct{}{}}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { p.serve(ctx) })
	t.Cleanup(func() { cancel(); l.Close(); p.Cut(); wg.Wait() })
	return p
}

// Endpoint is the proxy's client URL.
func (p *Proxy) Endpoint() string { return "http://" + p.l.Addr().String() }

// Cut closes every connection; until Heal new ones are accepted and then
// left silent, as a lost network would.
func (p *Proxy) Cut() { p.set(true) }

// Heal lets connections through again; those held silent are closed, so
// their clients dial again.
func (p *Proxy) Heal() { p.set(false) }

// set cuts or heals, closing every connection: the open ones' clients
// dial again and meet the new state.
func (p *Proxy) set(cut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = cut
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

func (p *Proxy) serve(ctx context.Context) {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		go p.pipe(ctx, c)
	}
}

func (p *Proxy) pipe(ctx context.Context, c net.Conn) {
	p.mu.Lock()
	if p.cut {
		p.conns[c] = struct{}{}
		p.mu.Unlock()
		_, _ = io.Copy(io.Discard, c)
		return
	}
	p.mu.Unlock()
	d := net.Dialer{Timeout: time.Second}
	up, err := d.DialContext(ctx, "tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.cut {
		p.mu.Unlock()
		c.Close()
		up.Close()
		return
	}
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) { _, _ = io.Copy(dst, src); dst.Close(); src.Close(); done <- struct{}{} }
	go cp(up, c)
	go cp(c, up)
	<-done
	<-done
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

// String names the proxy for test messages.
func (p *Proxy) String() string { return fmt.Sprintf("proxy %s -> %s", p.l.Addr(), p.target) }
