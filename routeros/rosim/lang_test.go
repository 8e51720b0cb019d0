package rosim

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/failwatch/failwatch/config"
)

func records(r *Router) map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]string{}
	for _, row := range r.static.rows {
		out[row["comment"]] = row["disabled"]
	}
	return out
}

// The language setup's scripts use: :if/else, :do with on-error, :local
// and $variables, :len, find where with or, ! and parentheses, /ping with
// a count, /system resource get uptime; a failure stops the script where
// it is.
func TestScriptLanguage(t *testing.T) {
	sim := NewSimulated()
	down := netip.MustParseAddr("198.51.100.1")
	sim.SetUp(down, false)
	r := New(Options{Probe: sim.Probe, TimeScale: 1000})
	defer r.Close()
	ctx := context.Background()
	if err := r.Import(`/ip dns static
add name=a.test address=192.0.2.1 comment=one
add name=a.test address=192.0.2.2 comment=two disabled=yes
add name=b.test address=192.0.2.3 comment=three`); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ script, want string }{
		{`/ip dns static disable [find where name="a.test" and (comment="one" or comment="two")]`, "one=true three=false two=true"},
		{`/ip dns static enable [find where !disabled or comment~"^th"]`, "one=true three=false two=true"},
		{`:local ids [/ip dns static find where disabled]; /ip dns static enable $ids`, "one=false three=false two=false"},
		{`:if ([:len [/ip dns static find name=a.test]] = 2) do={ /ip dns static disable [find comment=one] } else={ /ip dns static disable [find] }`, "one=true three=false two=false"},
		{`:if ([/ping 198.51.100.1 count=3 interval=100ms] = 0) do={ /ip dns static disable [find comment=two] }`, "one=true three=false two=true"},
		{`:if ([/system resource get uptime] > 30m) do={ /ip dns static enable [find comment=one] }`, "one=false three=false two=true"},
		{`:do { /ip dns static enable [find comment=two]; :error "stop" } on-error={ /ip dns static disable [find comment=three] }`, "one=false three=true two=false"},
	} {
		r.runScript(ctx, tc.script, "test")
		var got []string
		for _, k := range []string{"one", "three", "two"} {
			got = append(got, k+"="+records(r)[k])
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%s:\n got %s\nwant %s\nlog: %v", tc.script, strings.Join(got, " "), tc.want, r.log.entries())
		}
	}
	// The third change of a script is refused: the two before it stay, the
	// rest never runs, and the count says how many the script tried.
	n, err := r.ImportFailing("/ip dns static\nenable [find comment=one]\nenable [find comment=three]\ndisable [find comment=two]\nenable [find comment=two]", 3)
	if err == nil || !strings.Contains(err.Error(), "line 4: failure: injected") || n != 3 {
		t.Errorf("fault at the third change: %d changes, %v", n, err)
	}
	if got := records(r); got["one"] != "false" || got["three"] != "false" || got["two"] != "false" {
		t.Errorf("after the fault: %v", got)
	}
	start := time.Now()
	r.runScript(ctx, `:delay 60s; /ip dns static disable [find comment=one]`, "test")
	if took := time.Since(start); took > time.Second || records(r)["one"] != "true" {
		t.Errorf(":delay 60s at 1000x took %s", took)
	}
	for script, want := range map[string]string{
		`:if (1) do={ /ip dns static disable [find] }`: "1 is not true or false",
		`/ip dns static enable $nothing`:               "undefined variable $nothing",
		`/ping 198.51.100.1`:                           "ping needs an address and count",
		`:if ([:len [find]] = 0) do={}`:                "bad command name /find",
	} {
		in := r.newInterp(ctx, sysUser)
		if err := in.run(script); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", script, err, want)
		}
	}
}

// The scheduler runs a startup entry 3 s after a boot, an entry with an
// interval every interval (not at startup), each as *sys through the
// script engine; a reboot starts uptime and netwatch over and keeps the
// configuration.
func TestSchedulerAndReboot(t *testing.T) {
	r := New(Options{TimeScale: 1000})
	defer r.Close()
	if err := r.Import(`/ip dns static add name=a.test address=192.0.2.1 comment=one
/system scheduler
add name=boot start-time=startup on-event="/ip dns static disable [find comment=one]"
add name=tick start-time=startup interval=1m on-event=":log info tick"
/tool netwatch add host=192.0.2.9`); err != nil {
		t.Fatal(err)
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		waitUntil(t, 3*time.Second, what, ok)
	}
	// Added while running: the startup entry waits for a boot; the other
	// runs every minute (60 ms here).
	waitFor("the interval entry never ran", func() bool { return r.schedulerRuns("*2") >= 2 })
	if r.schedulerRuns("*1") != 0 || records(r)["one"] != "false" {
		t.Fatal("a startup entry ran without a boot")
	}
	waitStatus(t, r, "*1", "up", 3*time.Second)
	r.Reboot(nil)
	if st := status(r, "*1"); st["status"] != "unknown" {
		t.Errorf("netwatch after the reboot: %v", st)
	}
	waitFor("the startup entry never ran after the boot", func() bool { return records(r)["one"] == "true" })
	if n := r.schedulerRuns("*1"); n != 1 {
		t.Errorf("startup entry ran %d times", n)
	}
	r.mu.Lock()
	up := r.uptime()
	r.mu.Unlock()
	if up > time.Hour {
		t.Errorf("uptime %s after the reboot", up)
	}
}

// A config's IPv6 pair is seeded as AAAA records, and its netwatch entry
// switches them.
func TestSeedConfigIPv6(t *testing.T) {
	cfg := config.Defaults()
	cfg.Services = []config.Service{{Name: "v6.example.test", Primary: "one", Standby: "two"}}
	cfg.Servers = []config.Server{
		{Name: "one", Role: config.Primary, Address: "2001:db8::1"},
		{Name: "two", Role: config.Standby, Address: "2001:db8::2"},
	}
	r := New(Options{})
	defer r.Close()
	if err := r.SeedConfig(&cfg, "10s"); err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.static.rows) != 2 || r.static.rows[0]["type"] != "AAAA" || r.static.rows[1]["address"] != "2001:db8::2" {
		t.Errorf("records %v", r.static.rows)
	}
}
