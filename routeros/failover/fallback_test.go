package failover

import (
	"context"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/paper"
	"github.com/failwatch/failwatch/internal/testkit"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/rosim"
)

// fallbackRig is the paper's router of a version, its clock scale times
// faster, the public server 196 ms away losing 5% of its echoes, with
// setup applied over the API for that loss.
func fallbackRig(t *testing.T, version string, scale float64) (*rosim.Router, *routeros.Client, *rosim.Simulated) {
	t.Helper()
	sim := rosim.NewSimulated()
	sim.SetPath(netip.MustParseAddr(paper.PublicAddress), 196*time.Millisecond, 6*time.Millisecond, 5)
	sim.SetPath(netip.MustParseAddr(paper.PrivateAddress), 2700*time.Microsecond, 300*time.Microsecond, 0)
	r, addr := emulator(t, rosim.Options{Version: version, Probe: sim.Probe, TimeScale: scale})
	c := client(t, addr, "admin", "")
	s := paperSetup(false)
	s.Loss = 0.05
	ctx := context.Background()
	plan, err := s.Plan(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if err := plan.Apply(ctx, c); err != nil {
		t.Fatal(err)
	}
	return r, c, sim
}

// watchName samples which server the name points at until stop, and
// returns every value it saw in order (repeats folded).
func watchName(t *testing.T, c *routeros.Client) (stop func() []string) {
	t.Helper()
	f, _, _ := paperFailover(t, c, config.Toggle)
	var mu sync.Mutex
	var seen []string
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		for {
			recs, err := c.StaticRecords(context.Background(), paper.Name)
			if err == nil {
				now := Active(f.Service, recs, f.Primary, f.Standby)
				mu.Lock()
				if len(seen) == 0 || seen[len(seen)-1] != now {
					seen = append(seen, now)
				}
				mu.Unlock()
			}
			select {
			case <-done:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	return func() []string {
		close(done)
		<-finished
		return seen
	}
}

// An hour of the paper's lossy primary (5% of echoes lost), on the
// router's clock, on every version: setup's netwatch never moves the name.
// On 6.49 netwatch itself goes down many times (one echo a test), and the
// scripts' /ping confirmation keeps the name where it is.
func TestSetupLossyPrimaryAnHour(t *testing.T) {
	const scale = 720 // an hour in 5 s
	for _, version := range versions {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			_, c, _ := fallbackRig(t, version, scale)
			stop := watchName(t, c)
			routerWait(t, c, time.Hour, "an hour")
			if seen := stop(); len(seen) != 1 || seen[0] != "public" {
				t.Errorf("the name went %v in an hour", seen)
			}
			logs, err := c.Run(context.Background(), "/log/print", "?topics=netwatch,info")
			if err != nil {
				t.Fatal(err)
			}
			downs := 0
			for _, row := range logs.Rows {
				if strings.HasPrefix(row["message"], "event down") {
					downs++
				}
			}
			if strings.HasPrefix(version, "6.") && downs < 10 {
				t.Errorf("6.x netwatch went down %d times in an hour at 5%% loss: the confirmation was not exercised", downs)
			}
			t.Logf("%s: netwatch down events in the hour: %d", version, downs)
		})
	}
}

// uptime is the router's.
func uptime(t *testing.T, c *routeros.Client) time.Duration {
	t.Helper()
	r, err := c.Run(context.Background(), "/system/resource/print", "=.proplist=uptime")
	if err != nil || len(r.Rows) != 1 {
		t.Fatalf("uptime: %v", err)
	}
	d, err := config.ParseDuration(r.Rows[0]["uptime"])
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// routerWait returns once d has passed on the router's clock (its uptime),
// however fast that clock runs and however loaded the machine is.
func routerWait(t *testing.T, c *routeros.Client, d time.Duration, what string) {
	t.Helper()
	until := uptime(t, c) + d
	testkit.Eventually(t, 30*time.Second, what+" passed on the router's clock", func() bool { return uptime(t, c) >= until })
}

// A reboot on every version: with the name on the standby and the primary
// up, the name is back on the primary within one re-check after the boot
// delay (5m), not before; with the primary down from the boot (a WAN not
// yet up), the name moves to the standby after the boot delay, once, and
// never flips back.
func TestSetupAfterAReboot(t *testing.T) {
	const scale = 300
	limit := 5*time.Minute + time.Minute + 10*time.Second
	for _, version := range versions {
		for _, tc := range []struct {
			name          string
			primaryUp     bool
			from, to      string
			whileDownFrom string
		}{
			{"on the standby, primary up", true, "private", "public", "private"},
			{"primary down from the boot", false, "public", "private", "public"},
		} {
			t.Run(version+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				r, c, sim := fallbackRig(t, version, scale)
				r.Reboot(func() {
					sim.SetUp(netip.MustParseAddr(paper.PublicAddress), tc.primaryUp)
					if tc.whileDownFrom == "private" {
						if err := r.Import(`/ip dns static enable [find comment="ServerPrivate"]; /ip dns static disable [find comment="Server Public"]`); err != nil {
							t.Error(err)
						}
					}
				})
				stop := watchName(t, c)
				// The move happened between the uptime read before the
				// records and the one after: early only if even the later
				// read is before the boot delay, late only if even the
				// earlier one is past the limit (at 300x, a millisecond of
				// a loaded machine is a third of a router second).
				// Polled every 2 ms, not at testkit.Eventually's growing
				// interval, for that precision.
				moved, movedBy := time.Duration(0), time.Duration(0)
				for deadline := time.Now().Add(limit / scale * 2); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
					before := uptime(t, c)
					recs, _ := c.StaticRecords(context.Background(), paper.Name)
					f, _, _ := paperFailover(t, c, config.Toggle)
					if Active(f.Service, recs, f.Primary, f.Standby) == tc.to {
						moved, movedBy = before, uptime(t, c)
						break
					}
				}
				if moved != 0 {
					routerWait(t, c, time.Minute, "a minute in which the name must stay")
				}
				seen := stop()
				switch {
				case moved == 0:
					t.Fatalf("the name never moved to %s (went %v)", tc.to, seen)
				case movedBy < 5*time.Minute:
					t.Errorf("moved to %s by uptime %s, before the boot delay", tc.to, movedBy)
				case moved > limit:
					t.Errorf("moved to %s at uptime %s, later than one re-check after the boot delay", tc.to, moved)
				}
				if len(seen) != 2 || seen[0] != tc.from || seen[1] != tc.to {
					t.Errorf("the name went %v, want %s then %s once", seen, tc.from, tc.to)
				}
			})
		}
	}
}
