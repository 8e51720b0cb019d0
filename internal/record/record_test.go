package record

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/engine"
	"github.com/failwatch/failwatch/internal/paper"
	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/failover"
	"github.com/failwatch/failwatch/routeros/rosim"
)

// describe is an event in a form two runs can be compared by.
func describe(ev engine.Event) string {
	switch ev := ev.(type) {
	case engine.ServerEvent:
		return fmt.Sprintf("server %s %d %v %s", ev.Server, ev.Type, ev.Sample.OK, ev.Transition.To)
	case engine.Reading:
		return fmt.Sprintf("router %v services=%+v held=%v err=%v netwatch=%v held_entries=%v",
			ev.Connected, ev.Services, ev.Held, ev.Err, ev.NetwatchByHost, ev.HeldEntries)
	case engine.LogLine:
		return fmt.Sprintf("log %d %s %v", ev.Kind, ev.Entry.Message, ev.Err)
	case engine.DNSAnswer:
		return fmt.Sprintf("dns %s %v %s %v", ev.Service, ev.Addrs, ev.Server, ev.Err)
	case engine.Step:
		return fmt.Sprintf("step %s %s %s", ev.Op, ev.Step.Name, ev.Step.Status)
	case engine.Done:
		return fmt.Sprintf("done %s %s %v", ev.Result.Operation, ev.Result.Outcome, ev.Err)
	case engine.PolicyNote:
		return "policy " + ev.Text
	case engine.ServersChanged:
		return fmt.Sprintf("servers %v", []config.Server(ev))
	case engine.Switch:
		return fmt.Sprintf("switch %+v", ev)
	case engine.FactsChanged:
		return fmt.Sprintf("facts %+v", []engine.Facts(ev))
	}
	return "other"
}

// A recording made before services (one service, its facts beside the
// reading) plays as that one service.
func TestOneServiceRecording(t *testing.T) {
	old := `{"at":"2026-10-01T10:00:00Z","setup":{"service":{"Name":"svc.test"},"servers":[{"Name":"a","Role":"primary"},{"Name":"b","Role":"standby"}]}}
{"at":"2026-10-01T10:00:01Z","router":{"At":"2026-10-01T10:00:01Z","Connected":true,"Records":[{"id":"*1","name":"svc.test","address":"192.0.2.1","type":"A"}]},"active":"a","enabled":1,"owners":{"*1":"a"}}
`
	s, err := ReadSetup(strings.NewReader(old))
	if err != nil || len(s.Services) != 1 || s.Services[0].Primary != "a" || s.Services[0].Standby != "b" {
		t.Fatalf("setup %+v %v", s, err)
	}
	var facts []engine.Facts
	if err := Play(context.Background(), strings.NewReader(old), 0, func(_ time.Time, ev engine.Event) { facts = ev.(engine.Reading).Services }); err != nil {
		t.Fatal(err)
	}
	if len(facts) != 1 || facts[0].Service != "svc.test" || facts[0].Active != "a" || facts[0].Owners["*1"] != "a" || len(facts[0].Records) != 1 {
		t.Errorf("facts %+v", facts)
	}
}

// Every kind of event, errors included, comes back as it went in.
func TestRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 25, 18, 33, 31, 0, time.UTC)
	events := []engine.Event{
		engine.ServerEvent{Server: "public", Type: monitor.EventSample, Addr: netip.MustParseAddr("192.0.2.1"), Sample: monitor.Sample{OK: true, RTT: 196 * time.Millisecond}},
		engine.Reading{RouterState: routeros.RouterState{At: at, Err: errors.New("router 192.0.2.254:8728: EOF"), Link: routeros.Link{State: routeros.LinkReconnecting, Err: errors.New("EOF")}}},
		engine.Reading{RouterState: routeros.RouterState{At: at, Connected: true, Records: []routeros.Record{{ID: "*1", Name: "svc.test", Address: "192.0.2.1", Type: "A"}}},
			Services: []engine.Facts{{Service: "svc.test", State: engine.FactKnown, ReadAt: at, Active: "public", Enabled: 1, Owners: map[string]string{"*1": "public"},
				Records: []routeros.Record{{ID: "*1", Name: "svc.test", Address: "192.0.2.1", Type: "A"}}}},
			Held: true, NetwatchByHost: map[string]string{"192.0.2.1": "held"}, HeldEntries: map[string]bool{"*7": true}},
		engine.LogLine{Kind: routeros.LogLine, Entry: routeros.LogEntry{Message: "event down [ type: simple, host: 192.0.2.1 ]", Time: at}},
		engine.DNSAnswer{DNSAnswer: monitor.DNSAnswer{Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.2")}, TTL: 30 * time.Second}, Server: "private", Service: "svc.test"},
		engine.Step{Op: "failover", Step: failover.Step{Name: "verify", Status: failover.StepOK}},
		engine.Done{Result: failover.Result{Operation: "failover", Outcome: failover.OutcomeRolledBack}, Err: errors.New("router: trap (rolled back)")},
		engine.PolicyNote{Text: "failing over: public DOWN for 30s"},
		engine.ServersChanged{{Name: "public", Role: config.Primary}, {Name: "web3", Role: config.Monitor}},
		engine.Switch{Service: "svc.test", From: "public", To: "private", At: at, Fault: true, After: 3 * time.Second,
			Cause: engine.Cause{Kind: engine.CauseNetwatch, Line: "netwatch,info event down [ type: simple, host: 192.0.2.1 ]"}},
		engine.FactsChanged{{Service: "svc.test", State: engine.FactStale, Why: "no reading since 10:00:00", ReadAt: at, Active: "private", Enabled: 1}},
	}
	var buf bytes.Buffer
	path := filepath.Join(t.TempDir(), "rec.jsonl")
	r, err := Open(path, 0, Setup{Services: []config.Service{{Name: "svc.test"}}})
	if err != nil {
		t.Fatal(err)
	}
	for i, ev := range events {
		if err := r.Write(at.Add(time.Duration(i)*time.Second), ev); err != nil {
			t.Fatal(err)
		}
	}
	r.Close()
	b, _ := os.ReadFile(path)
	buf.Write(b)
	var got []string
	var times []time.Time
	if err := Play(context.Background(), &buf, 0, func(at time.Time, ev engine.Event) {
		got, times = append(got, describe(ev)), append(times, at)
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(events) {
		t.Fatalf("%d events back, want %d", len(got), len(events))
	}
	for i, ev := range events {
		if want := describe(ev); got[i] != want || !times[i].Equal(at.Add(time.Duration(i)*time.Second)) {
			t.Errorf("event %d: %q at %v, want %q", i, got[i], times[i], want)
		}
	}
	if err := Play(context.Background(), bytes.NewBufferString("{}\nnot json\n"), 0, func(time.Time, engine.Event) {}); err == nil {
		t.Error("a broken line was read")
	}
	if s, err := ReadSetup(bytes.NewReader(b)); err != nil || len(s.Services) != 1 || s.Services[0].Name != "svc.test" {
		t.Errorf("setup %+v %v", s, err)
	}
	if _, err := ReadSetup(bytes.NewBufferString("{}\n")); err == nil {
		t.Error("a file without a setup line was taken")
	}
}

// A recording past its size moves to FILE.1 and starts again.
func TestRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.jsonl")
	r, err := Open(path, 2000, Setup{})
	if err != nil {
		t.Fatal(err)
	}
	for range 100 {
		r.Write(time.Now(), engine.PolicyNote{Text: "a note of some length to fill the file"})
	}
	r.Close()
	cur, err1 := os.Stat(path)
	old, err2 := os.Stat(path + ".1")
	if err1 != nil || err2 != nil || cur.Size() > 2000 || old.Size() > 2000 || old.Size() < 1000 {
		t.Errorf("after rotation: %v %v %v %v", cur, old, err1, err2)
	}
}

// The demo's outage (the public server taken down; the router's netwatch
// moves the name): the recording replays with the same events in order.
func TestRecordingReplaysTheOutage(t *testing.T) {
	netsim := rosim.NewSimulated()
	r := rosim.New(rosim.Options{Probe: netsim.Probe, TimeScale: 10})
	t.Cleanup(r.Close)
	if err := r.SeedPaper(); err != nil {
		t.Fatal(err)
	}
	api, _ := r.ListenAndServe("127.0.0.1:0")
	dns, _ := r.ServeDNS("127.0.0.1:0")
	cfg := paper.Config()
	cfg.Router = config.Router{Address: api.String(), User: "admin", Timeout: 2 * time.Second}
	cfg.Probe.Interval = 100 * time.Millisecond
	public := monitor.PaperPublic()
	sims := map[string]*monitor.Simulated{"public": public, "private": monitor.PaperPrivate()}
	e, _, err := engine.New(cfg, engine.Options{Router: routeros.OptionsFrom(cfg.Router), DNS: dns.String(), AuditLog: filepath.Join(t.TempDir(), "a.jsonl"),
		Monitor: monitor.Options{Probe: cfg.Probe, Prober: func(s config.Server, _ config.Check) (monitor.Prober, error) { return sims[s.Name], nil }}})
	if err != nil {
		t.Fatal(err)
	}
	live := e.Subscribe(100000)
	recSub := e.Subscribe(100000)
	path := filepath.Join(t.TempDir(), "outage.jsonl")
	rec, err := Open(path, 0, Setup{Services: cfg.Services, Servers: cfg.Servers})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	recorded := make(chan error, 1)
	go func() { recorded <- rec.Run(ctx, recSub.C()) }()
	engineDone := make(chan struct{})
	go func() { e.Run(ctx); close(engineDone) }()

	var want []string
	wait := func(ok func(engine.Event) bool) {
		t.Helper()
		timeout := time.After(15 * time.Second)
		for {
			select {
			case ev := <-live.C():
				if snap, isSnap := ev.(engine.Snapshot); isSnap {
					// Recorded as the events it holds.
					for _, e := range snap.Events {
						want = append(want, describe(e))
					}
					want = append(want, describe(engine.FactsChanged(snap.Facts)))
					continue
				}
				want = append(want, describe(ev))
				if ok(ev) {
					return
				}
			case <-timeout:
				t.Fatal("the outage never played out")
			}
		}
	}
	wait(func(ev engine.Event) bool {
		r, ok := ev.(engine.Reading)
		return ok && len(r.Services) == 1 && r.Services[0].Active == "public"
	})
	public.SetDown(true)
	netsim.SetUp(netip.MustParseAddr(paper.PublicAddress), false)
	wait(func(ev engine.Event) bool {
		r, ok := ev.(engine.Reading)
		return ok && len(r.Services) == 1 && r.Services[0].Active == "private"
	})
	live.Close()
	// Let the recorder take what the live subscriber took, then stop.
	time.Sleep(200 * time.Millisecond)
	cancel()
	<-engineDone
	if err := <-recorded; err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []string
	if err := Play(context.Background(), f, 0, func(_ time.Time, ev engine.Event) { got = append(got, describe(ev)) }); err != nil {
		t.Fatal(err)
	}
	if len(got) < len(want) {
		t.Fatalf("replayed %d events, saw %d live", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("event %d replayed as %q, was %q", i, got[i], want[i])
		}
	}
}
