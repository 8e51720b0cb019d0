package engine

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/failwatch/failwatch/internal/ha/hatest"
	"github.com/failwatch/failwatch/internal/netlab/netlabtest"
	"github.com/failwatch/failwatch/internal/testkit"
)

// The leader is a process in a network namespace of its own, reaching a
// three-member etcd and the router over a veth; nft in its namespace then
// drops everything to the three members. It stops acting within the lease
// TTL (it says so the moment its fence closes), and the instance outside,
// which still reaches all three, leads.
func TestHAPartitionedByNFT(t *testing.T) {
	h := netlabtest.TestHost(t)
	gw := h.Gateway.String()
	etcd := hatest.StartClusterOn(t, gw, 3)
	endpoints := strings.Join(etcd.Endpoints(), ",")
	g := newHARigOn(t, gw)
	child := exec.Command("ip", "netns", "exec", h.NS, os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), childEnv+"="+endpoints+"|"+g.api+"|"+g.dns+"|cut|"+t.TempDir())
	child.Stderr = os.Stderr
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = child.Process.Kill(); _ = child.Wait() })
	lines := testkit.Lines(t, out, 16)
	next := func(within time.Duration) string {
		select {
		case l := <-lines:
			return l
		case <-time.After(within):
			t.Fatalf("the instance in %s said nothing for %s", h.NS, within)
		}
		return ""
	}
	// A child built with -race on a loaded machine starts slowly.
	if l := next(40 * time.Second); l != "acting true" {
		t.Fatalf("the instance in the namespace: %q, want acting true", l)
	}
	// Its view has the primary DOWN; the one outside sees it UP: the
	// outside one will not fail over, so no change is what shows who acts.
	outside := g.start(t, endpoints, "outside", 1)
	testkit.Eventually(t, 10*time.Second, "outside follows cut", func() bool { s, _ := outside.e.HA(); return s.Leader == "cut" })
	var ports []string
	for _, m := range etcd.Members {
		_, port, _ := net.SplitHostPort(m.Addr())
		ports = append(ports, port)
	}
	if err := h.NFT(fmt.Sprintf("table inet failwatch_fault {\n chain out {\n  type filter hook output priority 0; policy accept;\n  ip daddr %s tcp dport { %s } drop\n }\n}\n",
		gw, strings.Join(ports, ", "))); err != nil {
		t.Fatal(err)
	}
	cut := time.Now()
	if l := next(haTTL + time.Second); l != "acting false" {
		t.Fatalf("after the cut: %q, want acting false", l)
	}
	if took := time.Since(cut); took > haTTL {
		t.Errorf("stopped acting %s after the cut, over the %s lease TTL", took, haTTL)
	}
	t.Logf("the cut-off leader stopped acting %s after the cut", time.Since(cut).Round(time.Millisecond))
	testkit.Eventually(t, 4*haTTL, "the instance outside acts", func() bool { s, _ := outside.e.HA(); return s.Acting })
}
