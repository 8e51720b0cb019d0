package engine

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/failwatch/failwatch/internal/testkit"
	"github.com/failwatch/failwatch/routeros"
)

// Facts carry what they rest on: unknown before a reading or with the
// router unreachable from the start, kept for two reading intervals after
// a failed reading, then stale and saying since when; "no single server"
// only for a reading with 0 or 2+ enabled records.
func TestFactsCarryWhatTheyRestOn(t *testing.T) {
	read := time.Date(2026, 12, 3, 9, 30, 0, 0, time.UTC)
	every := 2 * time.Second
	rec := func(id, addr string, disabled bool) routeros.Record {
		return routeros.Record{ID: id, Name: "www.example.test", Type: "A", Address: addr, Disabled: disabled}
	}
	known := Facts{Service: "www.example.test", State: FactKnown, ReadAt: read, Active: "public", Enabled: 1,
		Records: []routeros.Record{rec("*1", "192.0.2.1", false), rec("*2", "192.0.2.2", true)}}
	failed := routeros.RouterState{At: read.Add(3 * time.Second), Err: errors.New("dial tcp 192.0.2.254:8728: connection refused"),
		Link: routeros.Link{Since: read.Add(time.Second)}}
	never := Facts{Service: "www.example.test", State: FactUnknown, Why: "no reading yet"}
	for _, c := range []struct {
		name  string
		facts Facts
		where string
	}{
		{"no reading yet", never, "unknown (no reading yet)"},
		{"router unreachable from the start", Age(never, failed, failed.At, every),
			"unknown (router unreachable since 09:30:01: dial tcp 192.0.2.254:8728: connection refused)"},
		{"a known value", known, "public"},
		{"a failed reading within two intervals", Age(known, failed, failed.At, every), "public"},
		{"a failed reading after two intervals", Age(known, failed, read.Add(5*time.Second), every),
			"public (stale: read 09:30:00, router unreachable since 09:30:01: dial tcp 192.0.2.254:8728: connection refused)"},
		{"no reading at all after two intervals", Age(known, routeros.RouterState{}, read.Add(5*time.Second), every),
			"public (stale: read 09:30:00, no reading since 09:30:00)"},
		{"stale on another day says the date", Age(known, routeros.RouterState{}, read.Add(24*time.Hour), every),
			"public (stale: read 09:30:00, no reading since Dec 3 09:30:00)"},
		{"no enabled record", Facts{State: FactKnown, Records: []routeros.Record{rec("*1", "192.0.2.1", true)}}, "no single server"},
		{"two enabled records", Facts{State: FactKnown, Enabled: 2, Records: []routeros.Record{rec("*1", "192.0.2.1", false), rec("*2", "192.0.2.2", false)}},
			"no single server"},
		{"no record at all", Facts{State: FactKnown}, "no record"},
		{"one record of no configured server", Facts{State: FactKnown, Enabled: 1, Records: []routeros.Record{rec("*1", "192.0.2.9", false)}},
			"a server not in the config"},
		{"unreadable", Facts{State: FactUnreadable, Why: `unreadable: *1 disabled="maybe"`}, `unreadable: *1 disabled="maybe"`},
	} {
		if got := c.facts.Where(time.UTC); got != c.where {
			t.Errorf("%s: %q, want %q", c.name, got, c.where)
		}
		if c.facts.Defined() != (c.where == "public" && c.facts.State == FactKnown) {
			t.Errorf("%s: Defined() is %v", c.name, c.facts.Defined())
		}
	}
}

// With the router unreachable the engine says the facts are unknown and
// why; a router that stops answering leaves the last value stale, never
// "no single server"; the policy and the plans get no active server.
func TestFactsWhenTheRouterIsUnreachable(t *testing.T) {
	e, r, _ := paperRig(t, false)
	sub := e.Subscribe(4096)
	defer sub.Close()
	until(t, sub, func(ev Reading) bool { return ev.Err == nil && active(ev) == "public" })
	r.Outage(time.Minute)
	var stale Facts
	timeout := time.After(15 * time.Second)
	for stale.State != FactStale {
		select {
		case ev := <-sub.C():
			var facts []Facts
			switch ev := ev.(type) {
			case Reading:
				facts = ev.Services
			case FactsChanged:
				facts = ev
			}
			for _, f := range facts {
				if f.Where(time.UTC) == "no single server" || f.State == FactUnknown {
					t.Fatalf("a value read once became %q", f.Where(time.UTC))
				}
				if f.State == FactStale {
					stale = f
				}
			}
		case <-timeout:
			t.Fatal("the facts never went stale")
		}
	}
	if stale.Active != "public" || (!strings.HasPrefix(stale.Why, "router unreachable since") && !strings.HasPrefix(stale.Why, "no reading since")) {
		t.Errorf("stale facts: %+v", stale)
	}
	if s := e.State(); s.Active[stale.Service] != "" || s.Facts[stale.Service].State != FactStale {
		t.Errorf("the snapshot rests on stale facts: active %q, %+v", s.Active[stale.Service], s.Facts[stale.Service])
	}
}

// A row the engine cannot read makes the service's facts unreadable, with
// the row, and no active server.
func TestFactsUnreadable(t *testing.T) {
	e, r, _ := paperRig(t, false)
	sub := e.Subscribe(4096)
	defer sub.Close()
	until(t, sub, func(ev Reading) bool { return ev.Err == nil && active(ev) == "public" })
	r.Misprint("/ip/dns/static", "*1", "disabled", "maybe")
	e.watcher.Poke()
	ev := until(t, sub, func(ev Reading) bool { return len(ev.Services) == 1 && ev.Services[0].State == FactUnreadable })
	if f := ev.Services[0]; f.Active != "" || !strings.HasPrefix(f.Where(time.UTC), "unreadable: ") {
		t.Errorf("unreadable facts: %+v, shown as %q", f, f.Where(time.UTC))
	}
}

// Who did it: a failwatch operation is failwatch's with its requester; the
// router's netwatch moving the name is netwatch's, with its line; an admin
// changing the record in the router is "changed outside failwatch".
func TestSwitchCause(t *testing.T) {
	e, _, _ := paperRig(t, false)
	sub := e.Subscribe(4096)
	defer sub.Close()
	until(t, sub, func(ev Reading) bool { return ev.Err == nil && active(ev) == "public" })
	testkit.Eventually(t, 10*time.Second, "the router's log followed", func() bool {
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.log.followed
	})

	if err := e.Request(Request{Op: OpFailover, By: Requester{User: "alice", Role: Operator}}); err != nil {
		t.Fatal(err)
	}
	sw := until(t, sub, func(Switch) bool { return true })
	if sw.To != "private" || sw.Cause.Kind != CauseFailwatch || sw.Cause.Who != "alice" || sw.Fault {
		t.Errorf("failwatch's failover: %+v", sw)
	}
	testkit.Eventually(t, 10*time.Second, "the failover's operation ended", func() bool { return !e.Busy() })

	// An admin puts the name back over the API, as from the terminal.
	c, _, err := routeros.New(routeros.Options{Address: e.cfg.Router.Address, User: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, cmd := range [][]string{
		{"/ip/dns/static/set", "=.id=*2", "=disabled=no"},
		{"/ip/dns/static/set", "=.id=*1", "=disabled=yes"},
	} {
		if _, err := c.Run(ctx, cmd...); err != nil {
			t.Fatal(err)
		}
	}
	sw = until(t, sub, func(Switch) bool { return true })
	if sw.To != "public" || sw.Cause.Kind != CauseOutside || sw.Cause.Who != "admin" || !strings.Contains(sw.Cause.Line, "static dns entry changed by admin") {
		t.Errorf("an admin's move: %+v", sw)
	}
}
