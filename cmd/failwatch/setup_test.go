package main

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/failwatch/failwatch/internal/paper"
	"github.com/failwatch/failwatch/internal/testkit"
	"github.com/failwatch/failwatch/routeros/rosim"
)

// setup --apply on the paper's router: shorter TTLs, the paper's
// position-based netwatch entries disabled, a comment-based one added; a
// second run changes nothing; cutting the public host moves the name.
func TestSetupApply(t *testing.T) {
	sim := rosim.NewSimulated()
	cfg, _, _ := paperRouter(t, sim.Probe)

	out, errs, code := runCLI("setup", "-c", cfg, "--rtt", "196ms")
	for _, want := range []string{`set [find comment="Server Public"] ttl="30s"`, `thr-avg="400ms"`, `ignore-initial-up="no"`, `ignore-initial-down="no"`,
		`down-script~"dns.static"`, "RouterOS 7.18"} {
		if code != exitOK || !strings.Contains(out, want) {
			t.Errorf("script lacks %q: exit %d\n%s%s", want, code, out, errs)
		}
	}
	out, _, _ = runCLI("setup", "-c", cfg, "--routeros", "6.49")
	if strings.Contains(out, "type=") || strings.Contains(out, "ignore-initial-up=") || !strings.Contains(out, "netwatch is simple ICMP") {
		t.Errorf("6.49 script:\n%s", out)
	}
	out, _, _ = runCLI("setup", "-c", cfg, "--routeros", "6.49", "--loss", "5%")
	for _, want := range []string{"[/ping 104.247.193.168 count=10 interval=200ms] <= 2", "at the primary's loss of 5%", "/system scheduler"} {
		if !strings.Contains(out, want) {
			t.Errorf("6.49 script with --loss lacks %q:\n%s", want, out)
		}
	}
	if _, errs, code := runCLI("setup", "-c", cfg, "--loss", "lots"); code != exitUsage || !strings.Contains(errs, "--loss") {
		t.Errorf("--loss lots: exit %d %s", code, errs)
	}
	if _, errs, code := runCLI("setup", "-c", cfg, "--routeros", "5.26"); code != exitUsage || !strings.Contains(errs, "supports 6.x and 7.x") {
		t.Errorf("5.26: exit %d %s", code, errs)
	}

	out, errs, code = runCLI("setup", "-c", cfg, "--apply", "--yes", "--interval", "200ms", "--rtt", "196ms")
	for _, want := range []string{
		`~ /ip/dns/static *2 (public's record): ttl "1d" -> "30s"`,
		`~ /ip/dns/static *1 (private's record): ttl "1d" -> "30s"`,
		`- /tool/netwatch *1 (104.247.193.168, comment ""): disable`,
		`- /tool/netwatch *2 (104.247.193.168, comment ""): disable`,
		`+ /tool/netwatch add host="104.247.193.168" type="icmp" packet-count="10" thr-loss-percent="80%" thr-avg="400ms"`,
		"applied 6 change(s) and read them back",
	} {
		if !strings.Contains(strings.ReplaceAll(out, "\n    ", " "), want) {
			t.Errorf("apply output lacks %q:\nexit %d\n%s%s", want, code, out, errs)
		}
	}
	out, _, code = runCLI("setup", "-c", cfg, "--apply", "--yes", "--interval", "200ms", "--rtt", "196ms")
	if code != exitOK || !strings.Contains(out, "nothing to change") {
		t.Errorf("second apply: exit %d\n%s", code, out)
	}

	// The setup's netwatch runs on the router (after its 3 s start-delay):
	// take the public host down.
	waitNetwatchUp(t, cfg)
	sim.SetUp(netip.MustParseAddr(paper.PublicAddress), false)
	waitActive(t, cfg, "private")
	sim.SetUp(netip.MustParseAddr(paper.PublicAddress), true)
	waitActive(t, cfg, "public")
}

func waitNetwatchUp(t *testing.T, cfg string) {
	t.Helper()
	testkit.EventuallyLast(t, 10*time.Second, "the setup's netwatch entry tested up", func() (statusReport, bool) {
		rep := status(t, cfg)
		for _, n := range rep.Netwatch {
			if n.Comment == "failwatch public" && n.Status == "up" {
				return rep, true
			}
		}
		return rep, false
	})
}

func waitActive(t *testing.T, cfg, want string) {
	t.Helper()
	testkit.EventuallyLast(t, 10*time.Second, "active became "+want, func() (statusReport, bool) {
		rep := status(t, cfg)
		return rep, activeServer(rep.Services[0]) == want && len(rep.Services[0].DNS) == 1
	})
}
