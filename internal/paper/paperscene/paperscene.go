// Package paperscene is a minute of the paper's network as the engine
// tells it, the same every time for a seed and a clock: the public server
// (about 196 ms, 5% loss) and the private one (about 2.7 ms) probed once a
// second, the public one going down, the router's netwatch moving the
// name and the resolver following. `failwatch demo` draws it for the
// README's screenshots, and a test draws it again to see that they are not
// stale. Apart from papersim (which engine's tests use) because it speaks
// in engine events.
package paperscene

import (
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/engine"
	"github.com/failwatch/failwatch/internal/paper"
	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros"
)

// Length is the scene's span: it ends at the clock.
const Length = 60 * time.Second

// downAt is when the public server stops answering, from the start.
const downAt = 40 * time.Second

// Events is the scene ending at clock: every sample and state change of
// both servers, the router's readings with the facts derived from them,
// its log, the switch and the resolver's answers, in order.
func Events(seed uint64, clock time.Time) []engine.Event {
	start := clock.Add(-Length)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	probe := config.Defaults().Probe
	th := monitor.Thresholds{DownAfter: probe.DownAfter, UpAfter: probe.UpAfter, LossWindow: probe.LossWindow, DownLossPercent: probe.DownLossPercent}
	servers := []*server{
		{name: "public", mean: paper.PublicRTT[0], mdev: paper.PublicRTT[1], loss: paper.PublicLoss},
		{name: "private", mean: paper.PrivateRTT[0], mdev: paper.PrivateRTT[1]},
	}
	for _, s := range servers {
		s.series, s.hyst = monitor.NewSeries(probe.Window), monitor.NewHysteresis(th)
	}
	var out []engine.Event
	out = append(out, reading(start, "public", nil), engine.LogLine{Kind: routeros.LogConnected, Reason: "following the router log", At: start},
		answer(start, "public", paper.PublicAddress))
	var wentDown time.Time
	for i := range int(Length / time.Second) {
		at := start.Add(time.Duration(i) * time.Second)
		for j, s := range servers {
			// The private server answers within its round trip; the
			// public one's replies come in order after it.
			down := s.name == "public" && at.Sub(start) >= downAt
			ev, change := s.sample(rng, at.Add(time.Duration(j)*time.Millisecond), down)
			out = append(out, ev...)
			if change == monitor.Down {
				wentDown = at
			}
		}
		if !wentDown.IsZero() && at.Sub(wentDown) == 4*time.Second {
			out = append(out, failover(at, wentDown)...)
		}
	}
	return out
}

// server is one simulated server's statistics and up/down state, as the
// monitor keeps them.
type server struct {
	name       string
	mean, mdev time.Duration
	loss       float64
	series     *monitor.Series
	hyst       *monitor.Hysteresis
}

// sample draws one probe (papersim's profile: a normal round trip, a loss
// at the server's rate or every probe while down) and returns its events
// and the server's new state when it changed.
func (s *server) sample(rng *rand.Rand, at time.Time, down bool) ([]engine.Event, monitor.State) {
	x := monitor.Sample{At: at, OK: !down && rng.Float64() >= s.loss}
	if x.OK {
		x.RTT = max(s.mean+time.Duration(rng.NormFloat64()*float64(s.mdev)), s.mean/4)
	} else {
		x.Err = "timeout"
	}
	s.series.Add(x)
	tr, changed := s.hyst.Observe(x)
	st, since := s.hyst.State()
	cs := monitor.CheckStatus{Label: "icmp", State: st, Since: since, Window: s.series.Window(), Lifetime: s.series.Lifetime(), LastErr: x.Err}
	out := []engine.Event{engine.ServerEvent{Time: at, Server: s.name, Type: monitor.EventSample, Sample: x, Check: cs}}
	if !changed {
		return out, monitor.Unknown
	}
	out = append(out,
		engine.ServerEvent{Time: at, Server: s.name, Type: monitor.EventCheck, Check: cs, Transition: tr, Reason: tr.Reason},
		engine.ServerEvent{Time: at, Server: s.name, Type: monitor.EventServer, Transition: tr, State: tr.To})
	return out, tr.To
}

// records are the paper's two records, the one on active enabled.
func records(active string) []routeros.Record {
	return []routeros.Record{
		{ID: "*1", Name: paper.Name, Type: "A", Address: paper.PrivateAddress, TTL: "1d", Comment: paper.PrivateComment, Disabled: active != "private"},
		{ID: "*2", Name: paper.Name, Type: "A", Address: paper.PublicAddress, TTL: "1d", Comment: paper.PublicComment, Disabled: active != "public"},
	}
}

// reading is a reading of the router with the name on active, and the
// facts the engine derives from it.
func reading(at time.Time, active string, netwatch []routeros.Netwatch) engine.Reading {
	recs := records(active)
	owners := map[string]string{"*1": "private", "*2": "public"}
	byHost := map[string]string{}
	for _, n := range netwatch {
		byHost[n.Host] = n.Status
	}
	return engine.Reading{
		RouterState: routeros.RouterState{At: at, Connected: true, Identity: routeros.Identity{Name: "MikroTik-demo", Version: "7.18.2 (stable)"},
			Records: recs, Netwatch: netwatch},
		NetwatchByHost: byHost,
		Services: []engine.Facts{{Service: paper.Name, State: engine.FactKnown, ReadAt: at, Active: active, Enabled: 1,
			Owners: owners, Records: recs}},
	}
}

func answer(at time.Time, server, addr string) engine.DNSAnswer {
	return engine.DNSAnswer{Service: paper.Name, Server: server,
		DNSAnswer: monitor.DNSAnswer{At: at, Addrs: []netip.Addr{netip.MustParseAddr(addr)}, TTL: 24 * time.Hour}}
}

// failover is the router's netwatch finding the public server down and
// its script moving the name, as its log and the next reading tell it,
// and the resolver answering the private address a second later.
func failover(at, wentDown time.Time) []engine.Event {
	var out []engine.Event
	for i, l := range []struct{ topics, msg string }{
		{"netwatch,info", "event down [ type: simple, host: " + paper.PublicAddress + " ]"},
		{"system,info", "static dns entry changed"},
		{"system,info", "static dns entry changed"},
	} {
		e := routeros.ParseLogEntry(map[string]string{".id": "*" + string(rune('a'+i)), "time": at.Format("2006-01-02 15:04:05"),
			"topics": l.topics, "message": l.msg}, at)
		out = append(out, engine.LogLine{Kind: routeros.LogLine, Entry: e, At: at})
	}
	netwatch := []routeros.Netwatch{
		{ID: "*1", Host: paper.PublicAddress, Type: "simple", Status: "down", Since: at.Format("2006-01-02 15:04:05")},
		{ID: "*2", Host: paper.PrivateAddress, Type: "simple", Status: "up"},
	}
	return append(out, reading(at, "private", netwatch),
		engine.Switch{Service: paper.Name, From: "public", To: "private", At: at, Fault: true, After: at.Sub(wentDown), DownBy: "probes",
			Cause: engine.Cause{Kind: engine.CauseNetwatch, Line: "netwatch,info event down [ type: simple, host: " + paper.PublicAddress + " ]"}},
		answer(at.Add(time.Second), "private", paper.PrivateAddress))
}
