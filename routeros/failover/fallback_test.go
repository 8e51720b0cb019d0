package failover

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
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
	applySetup(t, s, c)
	return r, c, sim
}

// sighting is a server the name pointed at, first seen by a records read
// between two readings of the router's uptime: after, just before that
// read, and by, just after it. The change came before by, and at most one
// sample (2 ms) before after.
type sighting struct {
	server    string
	after, by time.Duration
}

// nameWatch samples which server the name points at, every 2 ms (at 300x
// a millisecond of a loaded machine is a third of a router second), with
// the router's uptime around each read that saw a change.
type nameWatch struct {
	mu             sync.Mutex
	seen           []sighting
	done, finished chan struct{}
}

func watchName(t *testing.T, c *routeros.Client) *nameWatch {
	t.Helper()
	f, _, _ := paperFailover(t, c, config.Toggle)
	w := &nameWatch{done: make(chan struct{}), finished: make(chan struct{})}
	go func() {
		defer close(w.finished)
		for {
			w.sample(c, f)
			select {
			case <-w.done:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	return w
}

func (w *nameWatch) sample(c *routeros.Client, f *Failover) {
	ctx := context.Background()
	after, err := routerUptime(ctx, c)
	if err != nil {
		return
	}
	recs, err := c.StaticRecords(ctx, paper.Name)
	if err != nil {
		return
	}
	now := Active(f.Service, recs, f.Primary, f.Standby)
	w.mu.Lock()
	changed := len(w.seen) == 0 || w.seen[len(w.seen)-1].server != now
	w.mu.Unlock()
	if !changed {
		return
	}
	by, err := routerUptime(ctx, c)
	if err != nil {
		return
	}
	w.mu.Lock()
	w.seen = append(w.seen, sighting{now, after, by})
	w.mu.Unlock()
}

// sightings are the changes seen so far.
func (w *nameWatch) sightings() []sighting {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.seen)
}

// first is the first sighting of server so far.
func (w *nameWatch) first(server string) (sighting, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, s := range w.seen {
		if s.server == server {
			return s, true
		}
	}
	return sighting{}, false
}

// stop ends the sampling and returns every server seen, in order.
func (w *nameWatch) stop() []string {
	close(w.done)
	<-w.finished
	var servers []string
	for _, s := range w.seen {
		servers = append(servers, s.server)
	}
	return servers
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
			w := watchName(t, c)
			routerWait(t, c, time.Hour, "an hour")
			if seen := w.stop(); len(seen) != 1 || seen[0] != "public" {
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
	d, err := routerUptime(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func routerUptime(ctx context.Context, c *routeros.Client) (time.Duration, error) {
	r, err := c.Run(ctx, "/system/resource/print", "=.proplist=uptime")
	if err != nil {
		return 0, fmt.Errorf("uptime: %w", err)
	}
	if len(r.Rows) != 1 {
		return 0, fmt.Errorf("uptime: %d rows", len(r.Rows))
	}
	return config.ParseDuration(r.Rows[0]["uptime"])
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
				w := watchName(t, c)
				// Early only if even the uptime read after the move was
				// seen is before the boot delay, late only if even the one
				// before is past the limit.
				var moved sighting
				testkit.EventuallyLast(t, limit/scale*2, "the name moved to "+tc.to, func() (seen []sighting, ok bool) {
					moved, ok = w.first(tc.to)
					return w.sightings(), ok
				})
				routerWait(t, c, time.Minute, "a minute in which the name must stay")
				seen := w.stop()
				switch {
				case moved.by < 5*time.Minute:
					t.Errorf("moved to %s by uptime %s, before the boot delay", tc.to, moved.by)
				case moved.after > limit:
					t.Errorf("moved to %s at uptime %s, later than one re-check after the boot delay", tc.to, moved.after)
				}
				if len(seen) != 2 || seen[0] != tc.from || seen[1] != tc.to {
					t.Errorf("the name went %v, want %s then %s once", seen, tc.from, tc.to)
				}
			})
		}
	}
}
