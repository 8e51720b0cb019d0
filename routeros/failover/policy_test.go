package failover

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/paper"
	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/rosim"
)

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func auto() config.Auto {
	return config.Auto{Enabled: true, FailAfter: 30 * time.Second, HoldDown: 5 * time.Minute, Restore: "manual", RestoreAfter: 5 * time.Minute}
}

func in(at time.Duration, active string, primary, standby Health) PolicyInput {
	return PolicyInput{Now: t0.Add(at), RouterConnected: true, Active: active, Primary: primary, Standby: standby}
}

func h(st monitor.State, since time.Duration) Health { return Health{State: st, Since: t0.Add(since)} }

func TestDecide(t *testing.T) {
	up, down := monitor.Up, monitor.Down
	tests := []struct {
		name   string
		cfg    func(*config.Auto)
		steps  []PolicyInput
		want   []Action
		refuse string
	}{
		{"fails over after fail_after, not before", nil,
			[]PolicyInput{in(29*time.Second, "public", h(down, 0), h(up, 0)), in(30*time.Second, "public", h(down, 0), h(up, 0))},
			[]Action{None, ActionFailover}, ""},
		{"not while the standby is down", nil,
			[]PolicyInput{in(time.Minute, "public", h(down, 0), h(down, 0))},
			[]Action{None}, "public is DOWN but private is DOWN"},
		{"manual restore never restores", nil,
			[]PolicyInput{in(time.Hour, "private", h(up, 0), h(up, 0))},
			[]Action{None}, ""},
		{"auto restore after restore_after", func(a *config.Auto) { a.Restore = "auto" },
			[]PolicyInput{in(4*time.Minute, "private", h(up, 0), h(up, 0)), in(5*time.Minute, "private", h(up, 0), h(up, 0))},
			[]Action{None, ActionRestore}, ""},
		{"hold-down after a switch by anyone", func(a *config.Auto) { a.Restore = "auto" },
			[]PolicyInput{
				in(0, "public", h(up, -time.Hour), h(up, -time.Hour)),
				in(time.Second, "private", h(up, -time.Hour), h(up, -time.Hour)), // someone switched
				in(4*time.Minute, "private", h(up, -time.Hour), h(up, -time.Hour)),
				in(5*time.Minute+time.Second, "private", h(up, -time.Hour), h(up, -time.Hour)),
			},
			[]Action{None, None, None, ActionRestore}, ""},
		{"refuses while netwatch would fight", nil,
			[]PolicyInput{func() PolicyInput {
				x := in(time.Minute, "public", h(down, 0), h(up, 0))
				x.Switching = []routeros.Netwatch{{ID: "*1"}, {ID: "*2"}}
				return x
			}()},
			[]Action{None}, "the router's netwatch *1, *2 would fight it"},
		{"nothing while the router is away", nil,
			[]PolicyInput{func() PolicyInput {
				x := in(time.Minute, "public", h(down, 0), h(up, 0))
				x.RouterConnected = false
				return x
			}()},
			[]Action{None}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := auto()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			e := NewPolicy(cfg, "public", "private")
			var refused []string
			for i, step := range tc.steps {
				d := e.Decide(step)
				if d.Action != tc.want[i] {
					t.Errorf("step %d: %q (%s), want %q", i, d.Action, d.Reason, tc.want[i])
				}
				if d.Refused != "" {
					refused = append(refused, d.Refused)
				}
			}
			if tc.refuse == "" && len(refused) > 0 || tc.refuse != "" && (len(refused) != 1 || !strings.Contains(refused[0], tc.refuse)) {
				t.Errorf("refusals %q, want one with %q", refused, tc.refuse)
			}
		})
	}
}

// A primary that goes up and down every second for ten minutes never makes
// the policy act: it is never down for fail_after.
func TestNoFlapping(t *testing.T) {
	cfg := auto()
	cfg.Restore = "auto"
	e := NewPolicy(cfg, "public", "private")
	state, since := monitor.Up, t0
	for s := range 600 {
		now := t0.Add(time.Duration(s) * time.Second)
		state = map[monitor.State]monitor.State{monitor.Up: monitor.Down, monitor.Down: monitor.Up}[state]
		since = now
		if d := e.Decide(PolicyInput{Now: now, RouterConnected: true, Active: "public", Primary: Health{state, since}, Standby: Health{monitor.Up, t0}}); d.Action != None {
			t.Fatalf("acted at %ds: %s (%s)", s, d.Action, d.Reason)
		}
	}
}

// Two failwatch instances with the policy on, pointed at one router, see the
// primary go down at the same moment: the name moves once, both end on the
// standby, and neither moves it back.
func TestTwoInstancesDoNotFight(t *testing.T) {
	_, addr := emulator(t, rosim.Options{})
	primary := config.Server{Name: "public", Role: config.Primary, Address: paper.PublicAddress, Record: config.RecordMatch{Comment: "Server Public"}}
	standby := config.Server{Name: "private", Role: config.Standby, Address: paper.PrivateAddress, Record: config.RecordMatch{Comment: "ServerPrivate"}}
	svc := config.Service{Name: paper.Name, Layout: config.Toggle}

	// The paper's netwatch would fight: hold it first, as the policy asks.
	setupClient, _, _ := routeros.New(routeros.Options{Address: addr, User: "admin"})
	defer setupClient.Close()
	holder := &Failover{Client: setupClient, Service: svc, Primary: primary, Standby: standby}
	if _, err := holder.HoldNetwatch(context.Background()); err != nil {
		t.Fatal(err)
	}

	type outcome struct {
		changed bool
		err     error
	}
	results := make([]outcome, 2)
	var wg sync.WaitGroup
	for i := range 2 {
		c, _, _ := routeros.New(routeros.Options{Address: addr, User: "admin"})
		defer c.Close()
		f := &Failover{Client: c, Service: svc, Primary: primary, Standby: standby, User: "instance"}
		e := NewPolicy(auto(), "public", "private")
		wg.Go(func() {
			for s := 0; s < 120; s++ {
				now := t0.Add(time.Duration(s) * time.Second)
				recs, err := c.StaticRecords(context.Background(), svc.Name)
				if err != nil {
					results[i].err = err
					return
				}
				nw, _ := c.NetwatchEntries(context.Background())
				d := e.Decide(PolicyInput{Now: now, RouterConnected: true, Active: Active(svc, recs, primary, standby),
					Primary: Health{monitor.Down, t0}, Standby: Health{monitor.Up, t0}, Switching: Switching(nw)})
				switch d.Action {
				case ActionFailover:
					f.Reason = d.Reason
					res, err := f.FailoverToStandby(context.Background(), false)
					results[i] = outcome{results[i].changed || res.Changed, err}
				case ActionRestore:
					t.Errorf("instance %d restored", i)
				}
			}
		})
	}
	wg.Wait()
	for i, o := range results {
		if o.err != nil {
			t.Errorf("instance %d: %v", i, o.err)
		}
	}
	if !results[0].changed && !results[1].changed {
		t.Error("neither instance switched the name")
	}
	recs, _ := setupClient.StaticRecords(context.Background(), svc.Name)
	var enabled []string
	for _, rec := range recs {
		if !rec.Disabled {
			enabled = append(enabled, rec.Address)
		}
	}
	if !slices.Equal(enabled, []string{paper.PrivateAddress}) {
		t.Errorf("enabled records %v, want only the private one", enabled)
	}
}
