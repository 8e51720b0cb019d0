package netlab_test

import (
	"context"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/failwatch/failwatch/internal/netlab/netlabtest"
	"github.com/failwatch/failwatch/internal/testkit"
)

func TestHostAnswersAndDrops(t *testing.T) {
	h := netlabtest.TestHost(t)
	ping := func() error {
		return exec.Command("ping", "-c", "1", "-W", "1", h.Addr.String()).Run()
	}
	if _, err := exec.LookPath("ping"); err != nil {
		t.Skip("iputils ping is not installed")
	}
	if err := ping(); err != nil {
		t.Fatalf("host %s does not answer: %v", h.Addr, err)
	}
	if err := h.DropEcho(1); err != nil {
		t.Fatal(err)
	}
	if err := ping(); err == nil {
		t.Fatal("echo answered while dropped")
	}
	if err := h.ClearFaults(); err != nil {
		t.Fatal(err)
	}
	if err := ping(); err != nil {
		t.Fatalf("echo still dropped after ClearFaults: %v", err)
	}
	if err := h.SetLink(false); err != nil {
		t.Fatal(err)
	}
	if err := ping(); err == nil {
		t.Fatal("echo answered with the link down")
	}
	if err := h.SetLink(true); err != nil {
		t.Fatal(err)
	}
	// The route comes back with the link; the kernel takes a moment (the
	// old budget: twenty one-second pings a tenth of a second apart).
	testkit.EventuallyLast(t, 22*time.Second, "an echo after the link came back", func() (error, bool) {
		err := ping()
		return err, err == nil
	})

	ln, err := h.Listen("tcp", h.Addr.String()+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Close()
		}
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("dial the host's listener: %v", err)
	}
	c.Close()
}

// A delayed host answers pings after about the delay, in user space.
func TestDelayEcho(t *testing.T) {
	h := netlabtest.TestHost(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := h.DelayEcho(ctx, 50*time.Millisecond, 0); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ping", "-c", "3", "-i", "0.2", "-W", "1", "-q", h.Addr.String()).CombinedOutput()
	if err != nil {
		t.Fatalf("ping: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`= ([\d.]+)/([\d.]+)/`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no rtt in %s", out)
	}
	if avg, _ := strconv.ParseFloat(string(m[2]), 64); avg < 49 || avg > 80 {
		t.Errorf("avg rtt %.3f ms, want about 50 ms:\n%s", avg, out)
	}
	if strings.Contains(string(out), "duplicates") {
		t.Errorf("the kernel answered too:\n%s", out)
	}
}

// A router namespace forwards between the hosts behind it and from this
// namespace to them, has no default route (nothing it forwards leaves the
// lab), and a delayed echo logs who it answered.
func TestRouterForwards(t *testing.T) {
	r := netlabtest.TestRouter(t)
	a, err := r.AddHost()
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.AddHost()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := b.DelayEcho(ctx, 0, 0); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("ip", "netns", "exec", a.NS, "ping", "-n", "-c", "2", "-i", "0.2", "-W", "1", b.Addr.String()).CombinedOutput(); err != nil {
		t.Fatalf("host to host through the router: %v\n%s", err, out)
	}
	if echoes := b.Echoes(a.Addr); len(echoes) != 2 || echoes[0].Seq != 1 || echoes[1].Seq != 2 {
		t.Errorf("b's echo log from a: %+v, want seq 1 and 2", echoes)
	}
	if out, err := exec.Command("ping", "-n", "-c", "1", "-W", "1", a.Addr.String()).CombinedOutput(); err != nil {
		t.Fatalf("this namespace to a host behind the router: %v\n%s", err, out)
	}
	out, err := exec.Command("ip", "-n", r.NS, "route", "show", "default").CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("the router's default route: %q (%v), want none", out, err)
	}
}
