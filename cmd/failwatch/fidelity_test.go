package main

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"sync"
	"testing"

	"github.com/failwatch/failwatch/internal/netlab/netlabtest"
)

var pingSummary = regexp.MustCompile(`(\d+) packets transmitted, (\d+) received.*\n` +
	`rtt min/avg/max/mdev = ([\d.]+)/([\d.]+)/([\d.]+)/([\d.]+) ms`)

// failwatch's report and iputils ping, run at the same time against the same
// namespace host for 200 probes, agree: the same loss, and min and avg within
// FAILWATCH_FIDELITY_MS (default 1 ms, a bound for gross errors that holds
// under the race detector on a busy machine). scripts/bench-fidelity runs it
// without the race detector at the 0.1 ms target and takes medians; max and
// mdev follow single outliers, so they are logged side by side.
func TestFidelityWithPing(t *testing.T) {
	bound := 1.0
	if v := os.Getenv("FAILWATCH_FIDELITY_MS"); v != "" {
		var err error
		if bound, err = strconv.ParseFloat(v, 64); err != nil {
			t.Fatalf("FAILWATCH_FIDELITY_MS: %v", err)
		}
	}
	h := netlabtest.TestHost(t)
	if _, err := exec.LookPath("ping"); err != nil {
		t.Fatal("iputils ping is not installed (apt-get install iputils-ping)")
	}
	const count = 200
	var wg sync.WaitGroup
	var pingOut []byte
	var pingErr error
	wg.Go(func() {
		pingOut, pingErr = exec.Command("ping", "-q", "-n", "-c", strconv.Itoa(count), "-i", "0.1", "-W", "1", h.Addr.String()).Output()
	})
	out, errs, code := runCLI("report", "--json", "--count", strconv.Itoa(count), "--interval", "100ms", h.Addr.String())
	wg.Wait()
	if pingErr != nil {
		t.Fatalf("ping: %v\n%s", pingErr, pingOut)
	}
	if code != exitOK {
		t.Fatalf("report exit %d: %s", code, errs)
	}
	m := pingSummary.FindSubmatch(pingOut)
	if m == nil {
		t.Fatalf("cannot read ping's summary:\n%s", pingOut)
	}
	f := func(i int) float64 { v, _ := strconv.ParseFloat(string(m[i]), 64); return v }
	var rep jsonReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Servers) != 1 {
		t.Fatalf("%v: %s", err, out)
	}
	c := rep.Servers[0].Checks[0]
	t.Logf("%d probes to %s over a veth pair, side by side:", count, h.Addr)
	t.Logf("  iputils ping: %s/%s sent/received, rtt min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms", m[1], m[2], f(3), f(4), f(5), f(6))
	t.Logf("  failwatch   : %d/%d sent/received, rtt min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms, jitter %.3f ms",
		c.Sent, c.Received, *c.MinMS, *c.AvgMS, *c.MaxMS, *c.MdevMS, *c.JitterMS)
	if strconv.Itoa(c.Sent) != string(m[1]) || strconv.Itoa(c.Received) != string(m[2]) {
		t.Errorf("loss differs: ping %s/%s, failwatch %d/%d", m[2], m[1], c.Received, c.Sent)
	}
	if d := math.Abs(*c.MinMS - f(3)); d > bound {
		t.Errorf("min differs by %.3f ms (bound %g ms)", d, bound)
	}
	if d := math.Abs(*c.AvgMS - f(4)); d > bound {
		t.Errorf("avg differs by %.3f ms (bound %g ms)", d, bound)
	}
}
