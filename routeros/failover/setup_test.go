package failover

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/paper"
	"github.com/failwatch/failwatch/internal/testkit"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/rosim"
)

var versions = []string{"6.49.17 (long-term)", "7.13.5 (stable)", "7.18.2 (stable)"}

// paperSetup is setup for the paper's servers, records matched as the
// config says: by comment, or (the config's default) by address.
func paperSetup(byAddress bool) *Setup {
	s := &Setup{Service: config.Service{Name: paper.Name, Layout: config.Toggle},
		Primary: config.Server{Name: "public", Role: config.Primary, Address: paper.PublicAddress, Record: config.RecordMatch{Comment: "Server Public"}},
		Standby: config.Server{Name: "private", Role: config.Standby, Address: paper.PrivateAddress, Record: config.RecordMatch{Comment: "ServerPrivate"}},
		Probe:   config.Defaults().Probe, RTT: 196 * time.Millisecond}
	if byAddress {
		s.Primary.Record = config.RecordMatch{Address: paper.PublicAddress}
		s.Standby.Record = config.RecordMatch{Address: paper.PrivateAddress}
	}
	return s
}

// state is what setup changes, keyed so two routers can be compared: the
// records by address, the netwatch entries by host and comment.
func state(t *testing.T, c *routeros.Client) string {
	t.Helper()
	ctx := context.Background()
	var lines []string
	recs, err := c.Run(ctx, "/ip/dns/static/print")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs.Rows {
		lines = append(lines, fmt.Sprintf("record %s %s ttl=%s comment=%q disabled=%s", r["name"], r["address"], r["ttl"], r["comment"], r["disabled"]))
	}
	nw, err := c.Run(ctx, "/tool/netwatch/print")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range nw.Rows {
		var props []string
		for k, v := range r {
			switch k {
			case ".id", "status", "since", "done-tests", "failed-tests", "sent-count", "response-count", "loss-count", "loss-percent":
				continue
			}
			if strings.HasPrefix(k, "rtt-") {
				continue
			}
			props = append(props, k+"="+v)
		}
		sort.Strings(props)
		lines = append(lines, "netwatch "+strings.Join(props, " "))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// applySetup plans setup on the router and applies the plan.
func applySetup(t *testing.T, s *Setup, c *routeros.Client) {
	t.Helper()
	plan, err := s.Plan(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if err := plan.Apply(context.Background(), c); err != nil {
		t.Fatalf("apply: %v", err)
	}
}

func versionRouter(t *testing.T, version string) (*rosim.Router, *routeros.Client) {
	t.Helper()
	r, addr := emulator(t, rosim.Options{Version: version})
	return r, client(t, addr, "admin", "")
}

// On every version: the printed script, run by the emulator's script
// engine, and --apply over the API reach the same router state; running
// either again changes nothing; every property written is one the version
// takes (the emulator refuses the others).
func TestSetupScriptAndApplyAgree(t *testing.T) {
	ctx := context.Background()
	for _, version := range versions {
		for _, byAddress := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/by address %v", version, byAddress), func(t *testing.T) {
				caps, err := CapsOf(version)
				if err != nil {
					t.Fatal(err)
				}
				scripted, sc := versionRouter(t, version)
				script := paperSetup(byAddress).Script(caps)
				if err := scripted.Import(script); err != nil {
					t.Fatalf("script: %v\n%s", err, script)
				}
				_, ac := versionRouter(t, version)
				applySetup(t, paperSetup(byAddress), ac)
				if a, b := state(t, sc), state(t, ac); a != b {
					t.Errorf("script and apply disagree:\nscript:\n%s\napply:\n%s", a, b)
				}
				once := state(t, sc)
				if err := scripted.Import(script); err != nil {
					t.Fatal(err)
				}
				if again := state(t, sc); again != once {
					t.Errorf("the script changed something the second time:\n%s\n->\n%s", once, again)
				}
				if plan, err := paperSetup(byAddress).Plan(ctx, ac); err != nil || len(plan.Steps) != 0 {
					t.Errorf("apply again: %v %+v", err, plan)
				}
				recs, _ := ac.StaticRecords(ctx, paper.Name)
				if len(recs) != 2 || len(enabledRecords(recs)) != 1 {
					t.Errorf("records after setup: %+v", recs)
				}
				if strings.Contains(script, "ignore-initial-down=\"yes\"") {
					t.Error("ignore-initial-down without being asked")
				}
				if strings.Contains(script, "ignore-initial-up=\"yes\"") {
					t.Error("ignore-initial-up=yes: a reboot on the standby would keep the name there")
				}
			})
		}
	}
}

// --apply refuses, before changing anything, a name it cannot make safe:
// a third enabled record, or two records for one server.
func TestSetupRefusesAndLeavesTheRouter(t *testing.T) {
	ctx := context.Background()
	for _, version := range versions {
		for name, prepare := range map[string][]string{
			"third record":     {"/ip/dns/static/add", "=name=" + paper.Name, "=address=192.0.2.99"},
			"duplicate record": {"/ip/dns/static/add", "=name=" + paper.Name, "=address=192.0.2.98", "=comment=Server Public", "=disabled=yes"},
		} {
			t.Run(version+"/"+name, func(t *testing.T) {
				_, c := versionRouter(t, version)
				if _, err := c.Run(ctx, prepare...); err != nil {
					t.Fatal(err)
				}
				before := state(t, c)
				_, err := paperSetup(false).Plan(ctx, c)
				if err == nil || !strings.Contains(err.Error(), "nothing was changed") {
					t.Errorf("err %v", err)
				}
				if after := state(t, c); after != before {
					t.Errorf("the router changed:\n%s\n->\n%s", before, after)
				}
			})
		}
	}
}

// A change the router refuses half way: what was applied is put back, read
// back, and said ("applied k of n, rolled back").
func TestSetupApplyRollsBack(t *testing.T) {
	ctx := context.Background()
	for _, version := range versions {
		t.Run(version, func(t *testing.T) {
			r, c := versionRouter(t, version)
			before := state(t, c)
			plan, err := paperSetup(true).Plan(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			at := slices.IndexFunc(plan.Steps, func(st PlanStep) bool { return len(st.Words) > 0 && st.Words[0] == "/tool/netwatch/add" })
			r.Inject("/tool/netwatch/add", 0, rosim.Fault{Message: "failure: out of memory"})
			err = plan.Apply(ctx, c)
			if err == nil || !strings.Contains(err.Error(), "rolled back") || !strings.Contains(err.Error(), fmt.Sprintf("applied %d of %d", at, len(plan.Steps))) {
				t.Fatalf("err %v", err)
			}
			if after := state(t, c); after != before {
				t.Errorf("not rolled back:\n%s\n->\n%s", before, after)
			}
		})
	}
}

// The paper's profile after setup (public 196 ms with 5% loss): the name
// stays on the public server through 5 minutes of healthy tests, moves to
// the private one when the public host is cut, and comes back.
// Without the thresholds RouterOS applies by default, the old setup moved
// it on the first test.
func TestSetupOnThePapersProfile(t *testing.T) {
	sim := rosim.NewSimulated()
	public := netip.MustParseAddr(paper.PublicAddress)
	sim.SetPath(public, 196*time.Millisecond, 6*time.Millisecond, 5)
	sim.SetPath(netip.MustParseAddr(paper.PrivateAddress), 2700*time.Microsecond, 300*time.Microsecond, 0)
	// 60x: five minutes of the router's clock in five seconds.
	c := appliedSetup(t, sim)
	ctx := context.Background()
	f, _, _ := paperFailover(t, c, config.Toggle)
	active := func() string {
		recs, err := c.StaticRecords(ctx, paper.Name)
		if err != nil {
			t.Fatal(err)
		}
		return Active(f.Service, recs, f.Primary, f.Standby)
	}
	// Five healthy minutes on the router's clock in which nothing may
	// move, checked as they pass.
	start := uptime(t, c)
	testkit.Eventually(t, 20*time.Second, "five router minutes passed", func() bool {
		if got := active(); got != "public" {
			nw, _ := c.Run(ctx, "/tool/netwatch/print")
			t.Fatalf("moved to %q during healthy tests; netwatch %v\nlog:\n%s", got, nw.Rows, logText(t, c))
		}
		return uptime(t, c) >= start+5*time.Minute
	})
	nw, _ := c.Run(ctx, "/tool/netwatch/print", "?comment=failwatch public")
	if len(nw.Rows) != 1 || nw.Rows[0]["status"] != "up" || nw.Rows[0]["done-tests"] == "0" {
		t.Fatalf("the entry never tested up: %v", nw.Rows)
	}
	sim.SetUp(public, false)
	waitActive(t, 2*time.Second, "private", active)
	sim.SetUp(public, true)
	waitActive(t, 2*time.Second, "public", active)
}

// appliedSetup is the paper's router, its clock 60 times faster, with the
// paper's setup applied over the API.
func appliedSetup(t *testing.T, sim *rosim.Simulated) *routeros.Client {
	t.Helper()
	_, addr := emulator(t, rosim.Options{Probe: sim.Probe, TimeScale: 60})
	c := client(t, addr, "admin", "")
	applySetup(t, paperSetup(false), c)
	return c
}

// A primary already down when the entry is added fails over: no
// ignore-initial-down unless asked.
func TestSetupFailsOverAPrimaryDownFromTheStart(t *testing.T) {
	sim := rosim.NewSimulated()
	sim.SetUp(netip.MustParseAddr(paper.PublicAddress), false)
	c := appliedSetup(t, sim)
	ctx := context.Background()
	f, _, _ := paperFailover(t, c, config.Toggle)
	waitActive(t, 3*time.Second, "private", func() string {
		recs, _ := c.StaticRecords(ctx, paper.Name)
		return Active(f.Service, recs, f.Primary, f.Standby)
	})
}

// waitActive waits for the name to be on want, saying where it stayed.
func waitActive(t *testing.T, within time.Duration, want string, active func() string) {
	t.Helper()
	testkit.EventuallyLast(t, within, "the name moved to "+want, func() (string, bool) {
		got := active()
		return got, got == want
	})
}

func logText(t *testing.T, c *routeros.Client) string {
	r, err := c.Run(context.Background(), "/log/print")
	if err != nil {
		return err.Error()
	}
	var out []string
	for _, row := range r.Rows {
		out = append(out, row["time"]+" "+row["topics"]+" "+row["message"])
	}
	return strings.Join(slices.Clip(out), "\n")
}

// A router that prints durations as 00:00:30 and 1d00:00:00: setup reads
// them as the same values, so a second run changes nothing.
func TestSetupWithClockDurations(t *testing.T) {
	_, addr := emulator(t, rosim.Options{ClockDurations: true})
	c := client(t, addr, "admin", "")
	ctx := context.Background()
	recs, _ := c.StaticRecords(ctx, paper.Name)
	if len(recs) == 0 || recs[0].TTL != "1d00:00:00" {
		t.Fatalf("the emulator prints %+v", recs)
	}
	applySetup(t, paperSetup(false), c)
	if again, err := paperSetup(false).Plan(ctx, c); err != nil || len(again.Steps) != 0 {
		t.Errorf("second plan: %v %+v", err, again.Steps)
	}
}
