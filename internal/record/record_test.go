package record

import (
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/engine"
	"github.com/failwatch/failwatch/internal/engine/enginetest"
	"github.com/failwatch/failwatch/internal/paper"
	"github.com/failwatch/failwatch/internal/testkit"
	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/failover"
	"github.com/failwatch/failwatch/routeros/rosim"
	"github.com/failwatch/failwatch/tui"
)

// describe is an event in a form two runs can be compared by: times by the
// wall clock and durations to the microsecond, which is what a recording
// keeps of them.
func describe(ev engine.Event) string {
	switch ev := ev.(type) {
	case engine.ServerEvent:
		x, c, tr := ev.Sample, ev.Check, ev.Transition
		return fmt.Sprintf("server %s %s type %d %s %q %s sample {%s %v %v %q %v} check {%q %s %s %s %s %q} transition {%s %s %s %q}",
			ev.Time.Format(time.RFC3339Nano), ev.Server, ev.Type, ev.Addr, ev.Reason, ev.State,
			x.At.Format(time.RFC3339Nano), x.RTT.Truncate(time.Microsecond), x.OK, x.Err, x.NotSent,
			c.Label, c.State, c.Since.Format(time.RFC3339Nano), describeStats(c.Window), describeStats(c.Lifetime), c.LastErr,
			tr.From, tr.To, tr.At.Format(time.RFC3339Nano), tr.Reason)
	case engine.Reading:
		return fmt.Sprintf("router %s %v link {%s %s %v} identity %+v records %+v netwatch %+v services=%+v held=%v err=%v netwatch=%v held_entries=%v",
			ev.At.Format(time.RFC3339Nano), ev.Connected, ev.Link.State, ev.Link.Since.Format(time.RFC3339Nano), ev.Link.Err, ev.Identity, ev.Records, ev.Netwatch,
			ev.Services, ev.Held, ev.Err, ev.NetwatchByHost, ev.HeldEntries)
	case engine.LogLine:
		e := ev.Entry
		return fmt.Sprintf("log %d %s %q %v entry {%s %d %s %q %q %q %+v %v %v}", ev.Kind, ev.At.Format(time.RFC3339Nano), ev.Reason, ev.Err,
			e.ID, e.Seq, e.Time.Format(time.RFC3339Nano), e.RawTime, e.Topics, e.Message, e.Netwatch, e.History, e.ZoneUnknown)
	case engine.DNSAnswer:
		return fmt.Sprintf("dns %s %s %s %v %s ttl %v %s rtt %v %s %v", ev.Service, ev.Name, ev.DNSAnswer.Server, ev.Addrs, ev.Server,
			ev.TTL.Truncate(time.Microsecond), ev.RCode, ev.RTT.Truncate(time.Microsecond), ev.At.Format(time.RFC3339Nano), ev.Err)
	case engine.Step:
		s := ev.Step
		return fmt.Sprintf("step %s %s %s %s %s %v", ev.Op, s.Name, s.Status, s.Detail, s.At.Format(time.RFC3339Nano), s.Took.Truncate(time.Microsecond))
	case engine.Done:
		return fmt.Sprintf("done by %s %v %s", ev.By, ev.Err, describeResult(ev.Result))
	case engine.PolicyNote:
		return fmt.Sprintf("policy %s %s %v", ev.At.Format(time.RFC3339Nano), ev.Text, ev.Refused)
	case engine.StatsReset:
		return fmt.Sprintf("stats reset by %s at %s", ev.By, ev.At.Format(time.RFC3339Nano))
	case engine.Dropped:
		return fmt.Sprintf("dropped %d", ev)
	case engine.ServersChanged:
		return fmt.Sprintf("servers %v", []config.Server(ev))
	case engine.Switch:
		return fmt.Sprintf("switch %s %s->%s at %s fault=%v after %v %+v", ev.Service, ev.From, ev.To, ev.At.Format(time.RFC3339Nano), ev.Fault, ev.After.Truncate(time.Microsecond), ev.Cause)
	case engine.FactsChanged:
		return fmt.Sprintf("facts %+v", []engine.Facts(ev))
	}
	return "other"
}

// describeStats is a check's statistics as describe compares them.
func describeStats(s monitor.Stats) string {
	us := func(d time.Duration) time.Duration { return d.Truncate(time.Microsecond) }
	return fmt.Sprintf("%d/%d/%d last %v %v min %v avg %v max %v mdev %v jitter %v p95 %v", s.Sent, s.Received, s.NotSent,
		us(s.Last), s.LastOK, us(s.Min), us(s.Avg), us(s.Max), us(s.Mdev), us(s.Jitter), us(s.P95))
}

// describeResult is an operation's result as describe compares it: times
// by the wall clock and durations to the microsecond, which is what a
// recording keeps of them.
func describeResult(r failover.Result) string {
	steps := make([]string, len(r.Steps))
	for i, s := range r.Steps {
		steps[i] = describe(engine.Step{Step: s})
	}
	parts := make([]string, len(r.Parts))
	for i, p := range r.Parts {
		parts[i] = describeResult(p)
	}
	return fmt.Sprintf("%s %s %s->%s %s changed=%v changes=%+v records=%+v notes=%q steps=%q started=%s took=%v parts=%q",
		r.Operation, r.Service, r.From, r.To, r.Outcome, r.Changed, r.Changes, r.Records, r.Notes, steps, r.Started.Format(time.RFC3339Nano), r.Took.Truncate(time.Microsecond), parts)
}

// A recording of another schema, or from before recordings said theirs,
// is refused, saying which failwatch made it and which schema this one
// reads; so is a run of another schema appended to one of this.
func TestOtherSchemasAreRefused(t *testing.T) {
	ours := fmt.Sprintf(`{"at":"2026-12-01T10:00:00Z","schema_version":%d,"failwatch":"failwatch v1.0.0","setup":{"services":[],"servers":[]}}`, Schema)
	for _, c := range []struct {
		name, rec    string
		line, played int
		says         []string
	}{
		{"before schemas", `{"at":"2026-10-01T10:00:00Z","setup":{"service":{"Name":"svc.test"},"servers":[]}}`, 1, 0,
			[]string{"line 1 was written by a failwatch from before recordings said their schema", "which reads recording schema 1"}},
		// A newer schema may shape its setup otherwise: it is still
		// refused for its schema, not as a broken line.
		{"newer", `{"at":"2027-10-01T10:00:00Z","schema_version":2,"failwatch":"failwatch v9.0.0","setup":{"services":{"www.example.test":{}},"servers":7}}`, 1, 0,
			[]string{"line 1 is recording schema 2, written by failwatch v9.0.0", "which reads recording schema 1", "that failwatch or a newer one"}},
		{"newer run appended", ours + "\n" + `{"at":"2026-12-01T10:00:01Z","policy":{"at":"2026-12-01T10:00:01Z","text":"x","refused":false}}` + "\n" +
			`{"at":"2027-10-01T10:00:00Z","schema_version":2,"failwatch":"failwatch v9.0.0","setup":{"services":[],"servers":[]}}`, 3, 1,
			[]string{"line 3 is recording schema 2, written by failwatch v9.0.0"}},
	} {
		var schemaErr *SchemaError
		if c.line == 1 {
			_, err := ReadSetup(strings.NewReader(c.rec))
			if !errors.As(err, &schemaErr) {
				t.Errorf("%s: setup read with %v", c.name, err)
				continue
			}
		}
		var played int
		err := Play(context.Background(), strings.NewReader(c.rec), 0, func(time.Time, engine.Event) { played++ })
		if !errors.As(err, &schemaErr) || schemaErr.Line != c.line || played != c.played {
			t.Errorf("%s: played %d events, then %v", c.name, played, err)
			continue
		}
		for _, want := range c.says {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: %q does not say %q", c.name, err, want)
			}
		}
	}
}

// A recorder given a file of another schema moves it to FILE.1 and starts
// the file again, so one file holds one schema.
func TestRecorderShelvesAnotherSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.jsonl")
	old := `{"at":"2026-10-01T10:00:00Z","setup":{"service":{"Name":"svc.test"},"servers":[]}}` + "\n"
	os.WriteFile(path, []byte(old), 0o600)
	r, err := Open(path, 0, Setup{Services: []config.Service{{Name: "svc.test"}}})
	if err != nil {
		t.Fatal(err)
	}
	r.Write(time.Now(), engine.PolicyNote{Text: "a note"})
	r.Close()
	if b, err := os.ReadFile(path + ".1"); err != nil || string(b) != old {
		t.Errorf("the old recording: %q %v", b, err)
	}
	f, _ := os.Open(path)
	defer f.Close()
	if s, err := ReadSetup(f); err != nil || len(s.Services) != 1 {
		t.Errorf("the new recording: %+v %v", s, err)
	}
}

// everyKind is an event of every kind the recorder writes, with every
// part each can have, at.
func everyKind(at time.Time) []engine.Event {
	return []engine.Event{
		engine.ServerEvent{Time: at, Server: "public", Type: monitor.EventSample, Addr: netip.MustParseAddr("192.0.2.1"), State: monitor.Up,
			Sample: monitor.Sample{At: at, OK: true, RTT: 196001 * time.Microsecond},
			Check: monitor.CheckStatus{Label: "icmp", State: monitor.Up, Since: at,
				Window:   monitor.Stats{Sent: 20, Received: 19, NotSent: 1, Last: 196001 * time.Microsecond, LastOK: true, Min: 192100 * time.Microsecond, Avg: 196 * time.Millisecond, Max: 201300 * time.Microsecond, Mdev: 2900 * time.Microsecond, Jitter: 2700 * time.Microsecond, P95: 200200 * time.Microsecond},
				Lifetime: monitor.Stats{Sent: 40, Received: 39, Last: 196001 * time.Microsecond, LastOK: true, Min: 1 * time.Microsecond}}},
		engine.ServerEvent{Time: at, Server: "public", Type: monitor.EventSample, State: monitor.Down,
			Sample: monitor.Sample{At: at, Err: "timeout", NotSent: true}, Check: monitor.CheckStatus{Label: "tcp/443", State: monitor.Down, LastErr: "timeout"}},
		engine.ServerEvent{Time: at, Server: "public", Type: monitor.EventServer, State: monitor.Down, Reason: "icmp down",
			Transition: monitor.Transition{From: monitor.Up, To: monitor.Down, At: at, Reason: "3 probes lost"}},
		engine.ServerEvent{Time: at, Server: "web3", Type: monitor.EventUnresolved, State: monitor.Unresolved, Reason: "no such host"},
		engine.Reading{RouterState: routeros.RouterState{At: at, Err: errors.New("router 192.0.2.254:8728: EOF"), Link: routeros.Link{State: routeros.LinkReconnecting, Err: errors.New("EOF")}}},
		engine.Reading{RouterState: routeros.RouterState{At: at, Connected: true, Link: routeros.Link{State: routeros.LinkUp, Since: at},
			Identity: routeros.Identity{Name: "MikroTik", Version: "7.18.2 (stable)", Board: "CHR", Uptime: "1h5s"},
			Records: []routeros.Record{{ID: "*1", Name: "svc.test", Address: "192.0.2.1", Type: "A", TTL: "1d", Comment: "Server Public"}, {ID: "*3", Name: "other.test", Address: "192.0.2.3", Type: "A", Disabled: true},
				{ID: "*4", Regexp: `^api\.`, Type: "CNAME", Data: "svc.test", TTL: "1d", Unreadable: "disabled is \"maybe\""}},
			Netwatch: []routeros.Netwatch{{ID: "*7", Host: "192.0.2.1", Type: "simple", Interval: "10s", Timeout: "1s", Status: "up", Since: "nov/26/2026 08:02:03", UpScript: "/ip dns static enable *1", Disabled: true}}},
			Services: []engine.Facts{{Service: "svc.test", State: engine.FactKnown, ReadAt: at, Active: "public", Enabled: 1, Owners: map[string]string{"*1": "public"}, Held: true,
				Records: []routeros.Record{{ID: "*1", Name: "svc.test", Address: "192.0.2.1", Type: "A", TTL: "1d", Comment: "Server Public"}}}},
			Held: true, NetwatchByHost: map[string]string{"192.0.2.1": "held"}, HeldEntries: map[string]bool{"*7": true}},
		engine.LogLine{Kind: routeros.LogLine, Entry: routeros.LogEntry{ID: "*1f", Seq: 31, Time: at, Topics: []string{"netwatch", "info"},
			Message: "event down [ type: simple, host: 192.0.2.1 ]", Netwatch: &routeros.NetwatchEvent{Status: "down", Type: "simple", Host: "192.0.2.1"}, History: true}},
		engine.LogLine{Kind: routeros.LogLine, Entry: routeros.LogEntry{ID: "*20", Seq: 32, RawTime: "18:33:31", Topics: []string{"system"}, Message: "dns changed", ZoneUnknown: true}},
		engine.LogLine{Kind: routeros.LogConnected, Reason: "following"},
		engine.LogLine{Kind: routeros.LogGap, At: at, Reason: "router log lines *21 to *22 were missed"},
		engine.LogLine{Kind: routeros.LogDisconnected, Err: errors.New("EOF")},
		engine.DNSAnswer{DNSAnswer: monitor.DNSAnswer{Server: "192.0.2.254:53", Name: "svc.test", Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.2")},
			TTL: 30 * time.Second, RCode: "NOERROR", RTT: 1001 * time.Microsecond, At: at}, Server: "private", Service: "svc.test"},
		engine.DNSAnswer{DNSAnswer: monitor.DNSAnswer{Server: "192.0.2.254:53", Name: "svc.test", At: at, Err: errors.New("i/o timeout")}, Service: "svc.test"},
		engine.Step{Op: "failover", Step: failover.Step{Name: "verify", Status: failover.StepOK, Detail: "*2 enabled", At: at, Took: 1001 * time.Microsecond}},
		engine.Done{Result: failover.Result{Operation: "failover", Service: "svc.test", From: "public", To: "private", Outcome: failover.OutcomeRolledBack,
			Changes: []failover.Change{{Kind: "record", ID: "*2", What: "enable", Status: "undone", Undo: "/ip dns static set *2 disabled=yes"}},
			Notes:   []string{"the router's netwatch may move the name back"}, Steps: []failover.Step{{Name: "verify", Status: failover.StepRolledBack, Detail: "*2 disabled again", At: at, Took: 1003 * time.Microsecond}},
			Started: at, Took: 1005 * time.Microsecond, TookMS: 1.005},
			Err: errors.New("router: trap (rolled back)"), By: "ssh:alice"},
		engine.Done{Result: failover.Result{Operation: "restore", Service: "svc.test", Outcome: failover.OutcomeChanged, Changes: []failover.Change{}, Steps: []failover.Step{},
			Parts:   []failover.Result{{Operation: "restore", Service: "svc.test", Changes: []failover.Change{}, Steps: []failover.Step{}, Started: at, Took: 5500 * time.Microsecond, TookMS: 5.5}},
			Started: at, Took: 5500 * time.Microsecond, TookMS: 5.5}, By: "auto"},
		engine.PolicyNote{At: at, Text: "failing over: public DOWN for 30s"},
		engine.PolicyNote{At: at, Text: "not failing over: the router's facts are stale", Refused: true},
		engine.StatsReset{By: "ssh:alice", At: at},
		engine.Dropped(12),
		engine.ServersChanged{{Name: "public", Role: config.Primary, Address: "192.0.2.1", Record: config.RecordMatch{Comment: "Server Public"},
			Checks: []config.Check{{Kind: config.ICMP}, {Kind: config.HTTP, URL: "http://192.0.2.1/", Expect: config.StatusRanges{{Lo: 200, Hi: 299}, {Lo: 301, Hi: 301}}, Insecure: true}}},
			{Name: "web3", Role: config.Monitor, Checks: []config.Check{{Kind: config.TCP, Port: 443}}}},
		engine.Switch{Service: "svc.test", From: "public", To: "private", At: at, Fault: true, After: 3 * time.Second, DownBy: "netwatch",
			Cause: engine.Cause{Kind: engine.CauseNetwatch, Line: "netwatch,info event down [ type: simple, host: 192.0.2.1 ]"}},
		engine.FactsChanged{{Service: "svc.test", State: engine.FactStale, Why: "no reading since 10:00:00", ReadAt: at, Active: "private", Enabled: 1,
			Records: []routeros.Record{{ID: "*2", Name: "svc.test", Address: "192.0.2.2", Type: "A"}}}},
		engine.Switch{Service: "svc.test", From: "private", To: "public", At: at,
			Cause: engine.Cause{Kind: engine.CauseFailwatch, Who: "ssh:alice", Op: "restore"}},
		engine.Switch{Service: "svc.test", From: "public", To: "private", At: at,
			Cause: engine.Cause{Kind: engine.CauseUnknown, Why: "the router's log is not followed"}},
	}
}

// watchedEverything is a setup with every setting a recording keeps.
func watchedEverything() Setup {
	return Setup{Services: []config.Service{
		{Name: "svc.test", Layout: config.Toggle, Primary: "public", Standby: "private", HoldNetwatch: true, DNSServer: "192.0.2.254:53", AuditLog: "/var/lib/failwatch/audit.jsonl",
			Records: map[string]config.RecordMatch{"public": {Comment: "Server Public"}, "private": {Address: "192.0.2.2"}},
			Auto:    config.Auto{Enabled: true, FailAfter: 30 * time.Second, HoldDown: 5 * time.Minute, Restore: "auto", RestoreAfter: 10 * time.Minute},
			Bridge: config.Bridge{Mode: config.BridgeNAT, SrcAddresses: []netip.Prefix{netip.MustParsePrefix("192.168.88.0/24")}, InInterfaceList: "LAN",
				TCP: []int{80, 443}, UDP: []int{53}, ICMP: true, Exempt: []netip.Prefix{netip.MustParsePrefix("192.168.88.5/32")}, ExemptAddressList: "mgmt",
				Until: config.UntilTTL, Margin: 30 * time.Second, Comment: "fw bridge"}},
		{Name: "api.test", Layout: config.Rewrite, Primary: "public", Standby: "private", Record: config.RecordMatch{Comment: "api"}}},
		Servers: []config.Server{{Name: "public", Role: config.Primary, Address: "192.0.2.1", Record: config.RecordMatch{Comment: "Server Public"},
			Checks: []config.Check{{Kind: config.ICMP}, {Kind: config.TCP, Port: 443}, {Kind: config.HTTP, URL: "https://192.0.2.1/", Expect: config.StatusRanges{{Lo: 200, Hi: 399}}, Insecure: true}}},
			{Name: "private", Role: config.Standby, Address: "192.0.2.2"}}}
}

// Every kind of event, errors included, comes back as it went in, its
// durations to the microsecond they are written with (1.001 ms is not
// 1.000999 ms).
func TestRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 25, 18, 33, 31, 0, time.UTC)
	events, watched := everyKind(at), watchedEverything()
	var buf bytes.Buffer
	path := filepath.Join(t.TempDir(), "rec.jsonl")
	r, err := Open(path, 0, watched)
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
	setup, _, _ := bytes.Cut(b, []byte("\n"))
	for _, broken := range []string{"not json", `{"at":"2026-11-25T18:33:31Z","server":{"server":"public","type":"pinged","state":"UP"}}`} {
		var played int
		err := Play(context.Background(), strings.NewReader(string(setup)+"\n"+broken+"\n"), 0, func(time.Time, engine.Event) { played++ })
		if err == nil || !strings.Contains(err.Error(), "line 2") || played != 0 {
			t.Errorf("a broken line %s was read: %d events, %v", broken, played, err)
		}
	}
	if s, err := ReadSetup(bytes.NewReader(b)); err != nil || !reflect.DeepEqual(s, watched) {
		t.Errorf("setup %+v %v, recorded %+v", s, err, watched)
	}
	if _, err := ReadSetup(bytes.NewBufferString("{}\n")); err == nil {
		t.Error("a file without a setup line was taken")
	}
}

// A recording past its size moves to FILE.1 and starts again with what is
// watched and its schema: each file plays on its own.
func TestRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.jsonl")
	r, err := Open(path, 2000, Setup{Services: []config.Service{{Name: "svc.test"}}})
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
	for _, p := range []string{path, path + ".1"} {
		b, _ := os.ReadFile(p)
		var notes int
		err := Play(context.Background(), bytes.NewReader(b), 0, func(time.Time, engine.Event) { notes++ })
		s, setupErr := ReadSetup(bytes.NewReader(b))
		if err != nil || setupErr != nil || notes == 0 || len(s.Services) != 1 {
			t.Errorf("%s: %d notes, setup %+v: %v %v", filepath.Base(p), notes, s, err, setupErr)
		}
	}
}

// screenLines are the lines of a dashboard's screen that tell of switches
// and of operations' durations.
func screenLines(m tui.Model) []string {
	var out []string
	for _, l := range strings.Split(ansi.Strip(m.View().Content), "\n") {
		if strings.Contains(l, "switch") || strings.Contains(l, "done in") || strings.Contains(l, "statistics reset") {
			out = append(out, strings.TrimSpace(l))
		}
	}
	return out
}

// paperEngine is an engine on the paper's setup against the emulator,
// with the public server's probes and the router's view of it to take
// down.
func paperEngine(t *testing.T) (*engine.Engine, *config.Config, *monitor.Simulated, *rosim.Simulated) {
	t.Helper()
	netsim := rosim.NewSimulated()
	r, api := testkit.Emulator(t, rosim.Options{Probe: netsim.Probe, TimeScale: 10})
	cfg := enginetest.PaperConfig(api)
	sims := enginetest.PaperSims()
	e, _, err := engine.New(cfg, engine.Options{Router: routeros.OptionsFrom(cfg.Router), DNS: testkit.DNS(t, r), AuditLog: filepath.Join(t.TempDir(), "a.jsonl"),
		Monitor: enginetest.Monitor(cfg, sims)})
	if err != nil {
		t.Fatal(err)
	}
	return e, cfg, sims["public"], netsim
}

// replayInto plays the recording at path into a dashboard of size screen
// as failwatch replay does, the screen's clock the recording's, and says
// each event it played; the recording must have watched cfg's services
// and servers.
func replayInto(t *testing.T, path string, cfg *config.Config, screen tea.WindowSizeMsg) ([]string, tea.Model) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	watched, err := ReadSetup(f)
	if err != nil || !reflect.DeepEqual(watched, Setup{Services: cfg.Services, Servers: cfg.Servers}) {
		t.Errorf("the recording watched %+v (%v), the run %+v %+v", watched, err, cfg.Services, cfg.Servers)
	}
	f.Seek(0, io.SeekStart)
	var got []string
	var now time.Time
	m, _ := tui.New(tui.Options{Services: watched.Services, Servers: watched.Servers, ReadOnly: true, ASCII: true, NoColor: true, Zone: time.UTC,
		Replay: filepath.Base(path), Now: func() time.Time { return now }}).Update(screen)
	if err := Play(context.Background(), f, 0, func(at time.Time, ev engine.Event) {
		got, now = append(got, describe(ev)), at
		m, _ = m.Update(ev)
	}); err != nil {
		t.Fatal(err)
	}
	return got, m
}

// The demo's outage, after an operator's failover and restore by failwatch
// and a reset of the statistics: the recording replays with the same
// events in order, and a dashboard fed the replay shows the same switch
// lines and operation durations as one fed the live run.
func TestRecordingReplaysTheOutage(t *testing.T) {
	e, cfg, public, netsim := paperEngine(t)
	live := e.Subscribe(100000)
	recSub := e.Subscribe(100000)
	path := filepath.Join(t.TempDir(), "outage.jsonl")
	rec, err := Open(path, 0, Setup{Services: cfg.Services, Servers: cfg.Servers})
	if err != nil {
		t.Fatal(err)
	}
	// The recorder ends after the engine, as Run asks: it then has
	// every event the engine offered it, the last steps included.
	recCtx, stopRecorder := context.WithCancel(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	recorded := make(chan error, 1)
	go func() { recorded <- rec.Run(recCtx, recSub.C()) }()
	engineDone := make(chan struct{})
	go func() { e.Run(ctx); close(engineDone) }()

	screen := tea.WindowSizeMsg{Width: 220, Height: 90}
	liveModel, _ := tui.New(tui.Options{Services: cfg.Services, Servers: cfg.Servers, ReadOnly: true, ASCII: true, NoColor: true, Zone: time.UTC}).Update(screen)
	var want []string
	wait := func(ok func(engine.Event) bool) {
		t.Helper()
		testkit.Receive(t, live.C(), 15*time.Second, "the outage played out", func(ev engine.Event) bool {
			liveModel, _ = liveModel.Update(ev)
			if snap, isSnap := ev.(engine.Snapshot); isSnap {
				// Recorded as the events it holds.
				for _, e := range snap.Events {
					want = append(want, describe(e))
				}
				want = append(want, describe(engine.FactsChanged(snap.Facts)))
				return false
			}
			want = append(want, describe(ev))
			return ok(ev)
		})
	}
	active := func(server string) func(engine.Event) bool {
		return func(ev engine.Event) bool {
			r, ok := ev.(engine.Reading)
			return ok && len(r.Services) == 1 && r.Services[0].Active == server
		}
	}
	switched := func(to string) func(engine.Event) bool {
		return func(ev engine.Event) bool {
			sw, ok := ev.(engine.Switch)
			return ok && sw.To == to
		}
	}
	isDone := func(ev engine.Event) bool { _, ok := ev.(engine.Done); return ok }
	alice := engine.Requester{User: "alice", Role: engine.Operator}
	wait(active("public"))
	if err := e.Request(engine.Request{Op: engine.OpResetStats, By: alice}); err != nil {
		t.Fatal(err)
	}
	for _, op := range []struct {
		op engine.Op
		to string
	}{{engine.OpFailover, "private"}, {engine.OpRestore, "public"}} {
		if err := e.Request(engine.Request{Op: op.op, By: alice}); err != nil {
			t.Fatal(err)
		}
		// The switch and the operation's end come in either order.
		wait(func(ev engine.Event) bool { return isDone(ev) || switched(op.to)(ev) })
		wait(func(ev engine.Event) bool { return isDone(ev) || switched(op.to)(ev) })
	}
	public.SetDown(true)
	netsim.SetUp(netip.MustParseAddr(paper.PublicAddress), false)
	wait(switched("private"))
	wait(active("private"))
	live.Close()
	cancel()
	<-engineDone
	stopRecorder()
	if err := <-recorded; err != nil {
		t.Fatal(err)
	}
	got, replayed := replayInto(t, path, cfg, screen)
	if len(got) < len(want) {
		t.Fatalf("replayed %d events, saw %d live", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("event %d replayed as %q, was %q", i, got[i], want[i])
		}
	}
	liveLines, replayLines := screenLines(liveModel.(tui.Model)), screenLines(replayed.(tui.Model))
	t.Logf("live:\n%s", strings.Join(liveLines, "\n"))
	if strings.Join(liveLines, "\n") != strings.Join(replayLines, "\n") {
		t.Errorf("the replay shows\n%s\nthe live run showed\n%s", strings.Join(replayLines, "\n"), strings.Join(liveLines, "\n"))
	}
}
