package tui

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/engine"
	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros"
)

// threeServices is three names over three servers, core carrying two:
// www on its standby after a switch, api and mail on their primaries.
func threeServices(opts Options) (Model, []tea.Msg) {
	opts.Services = []config.Service{
		{Name: "www.example.test", Primary: "core", Standby: "backup", HoldNetwatch: true},
		{Name: "api.example.test", Primary: "core", Standby: "edge"},
		{Name: "mail.example.test", Primary: "edge", Standby: "backup"},
	}
	opts.Servers = []config.Server{
		{Name: "core", Role: config.Primary, Address: "192.0.2.1"},
		{Name: "edge", Role: config.Primary, Address: "192.0.2.2"},
		{Name: "backup", Role: config.Standby, Address: "192.0.2.3"},
	}
	opts.RouterAddr = "192.0.2.254:8728"
	opts.Now = func() time.Time { return t0.Add(time.Minute) }
	opts.Zone = time.UTC
	if opts.Actions == nil {
		opts.Actions = &recorder{}
	}
	var msgs []tea.Msg
	for _, s := range opts.Servers {
		msgs = append(msgs, engine.ServerEvent{Time: t0, Server: s.Name, Type: monitor.EventServer,
			Transition: monitor.Transition{From: monitor.Unknown, To: monitor.Up, At: t0}})
	}
	record := func(id, name, addr string, off bool) routeros.Record {
		return routeros.Record{ID: id, Name: name, Type: "A", Address: addr, TTL: "30s", Disabled: off}
	}
	www := []routeros.Record{record("*1", "www.example.test", "192.0.2.1", true), record("*2", "www.example.test", "192.0.2.3", false)}
	api := []routeros.Record{record("*3", "api.example.test", "192.0.2.1", false), record("*4", "api.example.test", "192.0.2.2", true)}
	mail := []routeros.Record{record("*5", "mail.example.test", "192.0.2.2", false), record("*6", "mail.example.test", "192.0.2.3", true)}
	msgs = append(msgs,
		engine.Reading{RouterState: routeros.RouterState{At: t0, Connected: true, Identity: routeros.Identity{Name: "edge-1", Version: "7.18.2 (stable)"},
			Records: append(append(append([]routeros.Record{}, www...), api...), mail...)},
			Services: []engine.Facts{
				{Service: "www.example.test", State: engine.FactKnown, ReadAt: t0, Active: "backup", Enabled: 1, Records: www, Owners: map[string]string{"*1": "core", "*2": "backup"}},
				{Service: "api.example.test", State: engine.FactKnown, ReadAt: t0, Active: "core", Enabled: 1, Records: api, Owners: map[string]string{"*3": "core", "*4": "edge"}},
				{Service: "mail.example.test", State: engine.FactKnown, ReadAt: t0, Active: "edge", Enabled: 1, Records: mail, Owners: map[string]string{"*5": "edge", "*6": "backup"}},
			}},
		engine.Switch{Service: "www.example.test", From: "core", To: "backup", At: t0.Add(-time.Hour)},
		engine.DNSAnswer{Service: "www.example.test", Server: "backup", DNSAnswer: monitor.DNSAnswer{At: t0, Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.3")}, TTL: 30 * time.Second}},
		engine.DNSAnswer{Service: "api.example.test", Server: "core", DNSAnswer: monitor.DNSAnswer{At: t0, Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.1")}, TTL: 30 * time.Second}},
	)
	return New(opts), msgs
}

// The services view: a line per name with its active server, both its
// servers' states, the DNS answer and the last switch; s moves the
// selection, and the header, the router panel and the keys follow it.
func TestServicesView(t *testing.T) {
	m, msgs := threeServices(Options{})
	m = update(m, tea.WindowSizeMsg{Width: 160, Height: 50})
	m = update(m, msgs...)
	out := plain(m)
	for _, want := range []string{
		"▸ www.example.test   backup      core UP · backup UP  dns 192.0.2.3 (backup)  switched Oct 23 17:33:31",
		"  api.example.test   core        core UP · edge UP  dns 192.0.2.1 (core)",
		"  mail.example.test  edge        edge UP · backup UP  dns not asked yet",
		"www.example.test → 192.0.2.3 (backup) ttl 30s  ACTIVE backup",
		"ACTIVE api.example.test",
		"Records www.example.test",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
	m = update(m, press("s"))
	if out := plain(m); !strings.Contains(out, "▸ api.example.test") || !strings.Contains(out, "ACTIVE core") || !strings.Contains(out, "Records api.example.test") {
		t.Errorf("after s:\n%s", out)
	}
	rec := m.opts.Actions.(*recorder)
	m = update(m, press("f"), press("y"))
	if got := strings.Join(rec.calls, ","); got != "failover api.example.test" {
		t.Errorf("f on api: %s", got)
	}
}

// m on a server moves every name on it, after a question naming each; a
// target that is not UP needs the server's name typed.
func TestEvacuateAsksForEveryName(t *testing.T) {
	m, msgs := threeServices(Options{})
	rec := m.opts.Actions.(*recorder)
	m = update(m, tea.WindowSizeMsg{Width: 160, Height: 50})
	m = update(m, msgs...)
	// The selection is on core, which carries api; www is already off it.
	m = update(m, press("m"))
	if out := plain(m); !strings.Contains(out, "Move every service off core: api.example.test to edge?") {
		t.Fatalf("the question:\n%s", out)
	}
	m = update(m, press("y"))
	m = update(m, engine.ServerEvent{Time: t0, Server: "backup", Type: monitor.EventServer,
		Transition: monitor.Transition{From: monitor.Up, To: monitor.Down, At: t0}})
	m = update(m, press("R"))
	// The question's words, without the frame it is wrapped in.
	oneLine := func() string {
		return strings.Join(strings.Fields(strings.NewReplacer("┃", " ", "│", " ").Replace(plain(m))), " ")
	}
	if out := oneLine(); !strings.Contains(out, "Restore every service to its primary and release netwatch: www.example.test to core?") ||
		strings.Contains(out, "WARNING") {
		t.Errorf("back to the primaries:\n%s", plain(m))
	}
	m = update(m, press("y"))
	// Off edge, mail would go to backup, which is DOWN: y is not enough.
	m = update(m, press("j"), press("m"))
	if out := oneLine(); !strings.Contains(out, "Move every service off edge: mail.example.test to backup?") ||
		!strings.Contains(out, "WARNING: backup is DOWN for 1m0s") || !strings.Contains(out, "type edge and enter to confirm") {
		t.Errorf("towards a DOWN server:\n%s", plain(m))
	}
	m = update(m, press("y"), press("enter"))
	if got := strings.Join(rec.calls, ","); got != "move off core,back to primaries" {
		t.Errorf("calls: %s", got)
	}
}

// The services view alone, golden, at the three sizes.
func TestGoldenServicesView(t *testing.T) {
	for _, size := range []int{80, 120, 200} {
		for _, plainText := range []bool{false, true} {
			name := fmt.Sprintf("%d", size)
			if plainText {
				name += "-ascii-nocolor"
			}
			t.Run(name, func(t *testing.T) {
				m, msgs := threeServices(Options{ASCII: plainText, NoColor: plainText})
				m = update(m, tea.WindowSizeMsg{Width: size, Height: 40})
				m = update(m, msgs...)
				m.servicesView.SetSize(size, 0)
				golden.RequireEqual(t, m.servicesView.View())
			})
		}
	}
}

// manyServices is n services over m servers, each server probed, each
// service's records read: the dashboard of a router carrying many names.
func manyServices(n, m int) Model {
	var opts Options
	for i := range m {
		opts.Servers = append(opts.Servers, config.Server{Name: fmt.Sprintf("web%02d", i+1), Role: config.Primary, Address: fmt.Sprintf("192.0.2.%d", i+1)})
	}
	var facts []engine.Facts
	var records []routeros.Record
	for i := range n {
		svc := config.Service{Name: fmt.Sprintf("svc%02d.example.test", i+1), Primary: opts.Servers[i%m].Name, Standby: opts.Servers[(i+1)%m].Name}
		opts.Services = append(opts.Services, svc)
		recs := []routeros.Record{
			{ID: fmt.Sprintf("*%d", 2*i+1), Name: svc.Name, Type: "A", Address: opts.Servers[i%m].Address},
			{ID: fmt.Sprintf("*%d", 2*i+2), Name: svc.Name, Type: "A", Address: opts.Servers[(i+1)%m].Address, Disabled: true},
		}
		records = append(records, recs...)
		facts = append(facts, engine.Facts{Service: svc.Name, State: engine.FactKnown, Active: svc.Primary, Enabled: 1, Records: recs})
	}
	opts.Now = func() time.Time { return t0.Add(time.Minute) }
	opts.Zone = time.UTC
	opts.Actions = &recorder{}
	model := update(New(opts), tea.WindowSizeMsg{Width: 200, Height: 60})
	msgs := []tea.Msg{engine.Reading{RouterState: routeros.RouterState{At: t0, Connected: true, Records: records}, Services: facts}}
	for _, s := range opts.Servers {
		msgs = append(msgs, engine.ServerEvent{Time: t0, Server: s.Name, Type: monitor.EventServer, Transition: monitor.Transition{To: monitor.Up, At: t0}})
		for j := range 60 {
			at := t0.Add(time.Duration(j) * time.Second)
			msgs = append(msgs, engine.ServerEvent{Time: at, Server: s.Name, Type: monitor.EventSample,
				Sample: monitor.Sample{At: at, RTT: 2 * time.Millisecond, OK: true},
				Check: monitor.CheckStatus{Label: "icmp", State: monitor.Up, Window: monitor.Stats{Sent: j + 1, Received: j + 1, LastOK: true,
					Last: 2 * time.Millisecond, Min: 2 * time.Millisecond, Avg: 2 * time.Millisecond, Max: 2 * time.Millisecond}}})
		}
	}
	return update(model, msgs...)
}

// BenchmarkViewServices is a frame of the dashboard at 200x60 with one
// service over two servers and with 50 services over 20 servers.
func BenchmarkViewServices(b *testing.B) {
	for _, size := range [][2]int{{1, 2}, {50, 20}} {
		b.Run(fmt.Sprintf("%d-services-%d-servers", size[0], size[1]), func(b *testing.B) {
			m := manyServices(size[0], size[1])
			b.ReportAllocs()
			for b.Loop() {
				_ = m.View()
			}
		})
	}
}

// Fifty services fit a 200x60 screen: the services view takes a third of
// it, around the selected one, and says how many there are.
func TestManyServicesFit(t *testing.T) {
	m := manyServices(50, 20)
	out := plain(m)
	if lines := strings.Count(out, "\n") + 1; lines != 60 {
		t.Errorf("%d lines", lines)
	}
	if !strings.Contains(out, "Services  1-17 of 50 (s for the next)") || !strings.Contains(out, "\n  svc17.example.test ") || strings.Contains(out, "\n  svc18.example.test ") {
		t.Errorf("the services view:\n%s", out)
	}
	// Twenty servers are a line each, as many as half the rest takes,
	// and the router panel and the events keep their room.
	if !strings.Contains(out, "Servers  1-17 of 20, a line each") || !strings.Contains(out, "▸ web01      primary  192.0.2.1       UP") ||
		!strings.Contains(out, "Records svc01.example.test") || !strings.Contains(out, "Events") {
		t.Errorf("the servers:\n%s", out)
	}
	for range 30 {
		m = update(m, press("s"))
	}
	if out := plain(m); !strings.Contains(out, "▸ svc31.example.test") || !strings.Contains(out, "of 50") {
		t.Errorf("after moving to the 31st:\n%s", out)
	}
}

// The wall lists every service beside the clock, then each server's panel.
func TestWallShowsEveryService(t *testing.T) {
	m, msgs := threeServices(Options{Wall: true, ReadOnly: true})
	m = update(m, tea.WindowSizeMsg{Width: 200, Height: 60})
	m = update(m, msgs...)
	out := plain(m)
	for _, want := range []string{"www.example.test   backup", "api.example.test   core", "mail.example.test  edge"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q on the wall:\n%s", want, out)
		}
	}
	if strings.Contains(out, "▸") {
		t.Errorf("a selection on the wall:\n%s", out)
	}
}

// h holds the selected service's netwatch, or releases it when the engine
// says failwatch holds one of its entries.
func TestHoldFollowsTheService(t *testing.T) {
	m, msgs := threeServices(Options{})
	m = update(m, tea.WindowSizeMsg{Width: 160, Height: 50})
	m = update(m, msgs...)
	reading := msgs[len(msgs)-4].(engine.Reading)
	reading.Services = append([]engine.Facts(nil), reading.Services...)
	reading.Services[1].Held = true
	m = update(m, reading, press("h"))
	if out := plain(m); !strings.Contains(out, "www.example.test: Hold the router's netwatch entries") {
		t.Errorf("www is not held:\n%s", out)
	}
	m = update(m, press("n"), press("s"), press("h"))
	if out := plain(m); !strings.Contains(out, "api.example.test: Release the router's netwatch entries") {
		t.Errorf("api is held:\n%s", out)
	}
}
