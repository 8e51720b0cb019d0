package failover

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/paper"
	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/rosim"
)

// Other record types on the name (an enabled AAAA, a TXT) are shown but do
// not count: the paper's A records still fail over and back, and the others
// are left as they were.
func TestOtherRecordTypesDoNotBlock(t *testing.T) {
	_, addr := emulator(t, rosim.Options{})
	c := client(t, addr, "admin", "")
	ctx := context.Background()
	for _, add := range [][]string{
		{"=type=AAAA", "=address=2001:db8::7", "=comment=v6 web"},
		{"=type=TXT", "=text=v=spf1 -all"},
	} {
		if _, err := c.Run(ctx, append([]string{"/ip/dns/static/add", "=name=" + paper.Name}, add...)...); err != nil {
			t.Fatal(err)
		}
	}
	f, _, _ := paperFailover(t, c, config.Toggle)
	all, _ := c.StaticRecords(ctx, paper.Name)
	if got := Active(f.Service, all, f.Primary, f.Standby); got != "public" {
		t.Fatalf("active %q with an AAAA and a TXT on the name", got)
	}
	if res, err := f.FailoverToStandby(ctx, false); err != nil || res.Outcome != OutcomeChanged {
		t.Fatalf("failover: %v %+v", err, res)
	}
	if got := enabled(t, c); !slices.Equal(got, []string{paper.PrivateAddress, "2001:db8::7", ""}) {
		t.Errorf("after failover, enabled: %q", got)
	}
	if _, err := f.Restore(ctx); err != nil {
		t.Fatal(err)
	}
	all, _ = c.StaticRecords(ctx, paper.Name)
	if got := Active(f.Service, all, f.Primary, f.Standby); got != "public" {
		t.Errorf("active after restore: %q", got)
	}
	txt := slices.IndexFunc(all, func(r routeros.Record) bool { return r.Type == "TXT" })
	if txt < 0 || all[txt].Data != "v=spf1 -all" || all[txt].Disabled {
		t.Errorf("TXT record: %+v", all)
	}
	// Each A record has its server; the AAAA and the TXT have none.
	owners := Owners(f.Service, all, f.Primary, f.Standby)
	var got []string
	for _, r := range all {
		got = append(got, r.Type+":"+owners[r.ID])
	}
	if !slices.Equal(got, []string{"A:private", "A:public", "AAAA:", "TXT:"}) {
		t.Errorf("owners: %v", got)
	}
}

// A held entry carries the hold mark; one disabled by hand does not.
func TestHeldEntry(t *testing.T) {
	held := routeros.Netwatch{ID: "*1", Disabled: true, Comment: "primary" + HoldMark}
	off := routeros.Netwatch{ID: "*2", Disabled: true, Comment: "primary"}
	if !HeldEntry(held) || HeldEntry(off) || !Held([]routeros.Netwatch{off, held}) || Held([]routeros.Netwatch{off}) {
		t.Errorf("held %v, off %v", HeldEntry(held), HeldEntry(off))
	}
}

// An IPv6 pair: AAAA records fail over and back, in both layouts, and the
// router's DNS answers the AAAA query with the new address.
func TestIPv6PairFailsOver(t *testing.T) {
	const public, private = "2001:db8::1", "2001:db8::2"
	for _, layout := range []config.Layout{config.Toggle, config.Rewrite} {
		t.Run(string(layout), func(t *testing.T) {
			r := rosim.New(rosim.Options{})
			t.Cleanup(r.Close)
			addr, _ := r.ListenAndServe("127.0.0.1:0")
			dns, err := r.ServeDNS("127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			c := client(t, addr.String(), "admin", "")
			ctx := context.Background()
			add := func(words ...string) {
				if _, err := c.Run(ctx, append([]string{"/ip/dns/static/add", "=name=v6.example.test", "=type=AAAA", "=ttl=30s"}, words...)...); err != nil {
					t.Fatal(err)
				}
			}
			add("=address="+public, "=comment=pub")
			if layout == config.Toggle {
				add("=address="+private, "=comment=priv", "=disabled=yes")
			}
			// An A record on the same name is another family: left alone.
			if _, err := c.Run(ctx, "/ip/dns/static/add", "=name=v6.example.test", "=address=127.0.0.9"); err != nil {
				t.Fatal(err)
			}
			f := &Failover{Client: c, Service: config.Service{Name: "v6.example.test", Layout: layout, Record: config.RecordMatch{Comment: "pub"}},
				Primary: config.Server{Name: "public", Role: config.Primary, Address: public, Record: config.RecordMatch{Comment: "pub"}},
				Standby: config.Server{Name: "private", Role: config.Standby, Address: private, Record: config.RecordMatch{Comment: "priv"}}}
			answer := func() []string {
				qctx, cancel := context.WithTimeout(ctx, 2*time.Second)
				defer cancel()
				var out []string
				for _, a := range monitor.Query(qctx, dns.String(), "v6.example.test", RecordType(f.Primary)).Addrs {
					out = append(out, a.String())
				}
				return out
			}
			if got := answer(); !slices.Equal(got, []string{public}) {
				t.Fatalf("AAAA answer before: %v", got)
			}
			if res, err := f.FailoverToStandby(ctx, false); err != nil || res.From != "public" {
				t.Fatalf("failover: %v %+v", err, res)
			}
			if got := answer(); !slices.Equal(got, []string{private}) {
				t.Errorf("AAAA answer after failover: %v", got)
			}
			if _, err := f.Restore(ctx); err != nil {
				t.Fatal(err)
			}
			if got := answer(); !slices.Equal(got, []string{public}) {
				t.Errorf("AAAA answer after restore: %v", got)
			}
			all, _ := c.StaticRecords(ctx, "v6.example.test")
			if a := OfType(all, "A"); len(a) != 1 || a[0].Disabled || a[0].Address != "127.0.0.9" {
				t.Errorf("the A record was touched: %+v", a)
			}
		})
	}
}

// Netwatch per host tells held and disabled from none.
func TestNetwatchByHost(t *testing.T) {
	entries := []routeros.Netwatch{
		{Host: "192.0.2.1", Status: "up"},
		{Host: "192.0.2.1", Status: "down"},
		{Host: "192.0.2.2", Disabled: true, Comment: "x" + HoldMark},
		{Host: "192.0.2.3", Disabled: true},
	}
	got := NetwatchByHost(entries, "192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4")
	want := map[string]string{"192.0.2.1": "up/down", "192.0.2.2": "held", "192.0.2.3": "disabled"}
	if len(got) != len(want) {
		t.Fatalf("%v", got)
	}
	for h, w := range want {
		if got[h] != w {
			t.Errorf("%s: %q, want %q", h, got[h], w)
		}
	}
}

// An operation over several services: every step named with its service,
// the outcome of the part that ended it, each part kept.
func TestCombine(t *testing.T) {
	ok := Result{Service: "www", To: "backup", Outcome: OutcomeChanged, Changed: true, Steps: []Step{{Name: "verify", Status: StepOK}},
		Changes: []Change{{Kind: "record", ID: "*2", Status: "changed"}}}
	same := Result{Service: "mail", To: "edge", Outcome: OutcomeAlreadySo, Steps: []Step{{Name: "read state", Status: StepOK}}}
	back := Result{Service: "api", Outcome: OutcomeRolledBack, Steps: []Step{{Name: "disable core record", Status: StepFailed}}}
	for _, tc := range []struct {
		parts []Result
		want  Outcome
	}{
		{[]Result{same}, OutcomeAlreadySo},
		{[]Result{same, ok}, OutcomeChanged},
		{[]Result{ok, back}, OutcomeRolledBack},
	} {
		res := Combine("move off core", time.Now(), tc.parts)
		if res.Outcome != tc.want || len(res.Parts) != len(tc.parts) || len(res.Steps) != len(tc.parts) {
			t.Errorf("%+v: %+v", tc.parts, res)
		}
		if !strings.HasPrefix(res.Steps[0].Name, tc.parts[0].Service+": ") || tc.parts[0].Steps[0].Name == res.Steps[0].Name {
			t.Errorf("step %q does not say whose it is (and the part's must stay as it was)", res.Steps[0].Name)
		}
	}
	if s := Combine("x", time.Now(), []Result{ok, same}).Summary(); s != "www: www now points at backup; mail: mail is already on edge: nothing changed" {
		t.Errorf("summary %q", s)
	}
}
