package main

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/failwatch/failwatch/routeros/rosim"
)

// setup --apply on the paper's router: shorter TTLs, the paper's
// position-based netwatch entries disabled, a comment-based one added; a
// second run changes nothing; cutting the public host moves the name.
func TestSetupApply(t *testing.T) {
	sim := rosim.NewSimulated()
	cfg, _, _ := paperRouter(t, sim.Probe)

	out, errs, code := runCLI("setup", "-c", cfg)
	if code != exitOK || !strings.Contains(out, `ttl=30s comment="Server Public"`) || !strings.Contains(out, "ignore-initial-down=yes") {
		t.Fatalf("script: exit %d\n%s%s", code, out, errs)
	}

	out, errs, code = runCLI("setup", "-c", cfg, "--apply", "--yes", "--interval", "200ms")
	for _, want := range []string{
		`~ /ip/dns/static *2 ("Server Public"): ttl 1d -> 30s`,
		`~ /ip/dns/static *1 ("ServerPrivate"): ttl 1d -> 30s`,
		`+ /tool/netwatch add host=104.247.193.168 type=icmp packet-count=5 thr-loss-percent=50% interval=200ms`,
		`- /tool/netwatch *1 (104.247.193.168, comment ""): disable`,
		`- /tool/netwatch *2 (104.247.193.168, comment ""): disable`,
		"applied 5 change(s) and read them back",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("apply output lacks %q:\nexit %d\n%s%s", want, code, out, errs)
		}
	}
	out, _, code = runCLI("setup", "-c", cfg, "--apply", "--yes", "--interval", "200ms")
	if code != exitOK || !strings.Contains(out, "nothing to change") {
		t.Errorf("second apply: exit %d\n%s", code, out)
	}

	// The setup's netwatch runs on the router: take the public host down.
	time.Sleep(500 * time.Millisecond)
	sim.SetUp(netip.MustParseAddr(rosim.PaperPublic), false)
	waitActive(t, cfg, "private")
	sim.SetUp(netip.MustParseAddr(rosim.PaperPublic), true)
	waitActive(t, cfg, "public")
}

func waitActive(t *testing.T, cfg, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var rep statusReport
	for time.Now().Before(deadline) {
		if rep = status(t, cfg); rep.Active == want && len(rep.DNS) == 1 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("active never became %s: %+v", want, rep)
}
