package engine

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/failwatch/failwatch/monitor"
)

// What a subscriber that joins late starts from is kept per kind, so that
// however many events came before, the picture is whole and its size is
// bounded: a server's state is never pushed out by samples, nor the last
// switch by log lines.
const (
	// keptSamples is how many samples of each server are kept: the
	// sparklines and the detail chart's recent span.
	keptSamples = 300
	// keptPane is how many event-pane lines (log lines, policy notes,
	// refusals) are kept.
	keptPane = 200
	// keptSteps bounds the steps kept of the current or last operation
	// (one over many services has a few per service).
	keptSteps = 512
)

// kept is an event with its place in the order the engine published.
type kept struct {
	seq uint64
	ev  Event
}

// ring keeps the newest n events of one kind.
type ring struct {
	n   int
	buf []kept
}

func (r *ring) add(k kept) {
	// Trimmed by half when full: each add costs O(1) on average.
	if len(r.buf) >= 2*r.n {
		r.buf = append(r.buf[:0], r.buf[len(r.buf)-r.n:]...)
	}
	r.buf = append(r.buf, k)
}

func (r *ring) all() []kept { return r.buf[max(0, len(r.buf)-r.n):] }

// history is what the engine keeps for subscribers that join late; the
// engine's lock guards it.
type history struct {
	seq uint64
	// samples are each server's newest samples; latest the newest event of
	// each kind that a screen's state rests on (a server's address, each
	// check's and each server's last transition, the last reading, each
	// service's DNS answer and last switch, the server list).
	samples map[string]*ring
	latest  map[string]kept
	pane    ring
	// op is the current or last operation's steps, and its end.
	op []kept
	// noSamples: no screen can join (monitor.Options.Compact, the
	// exporter), so no samples are kept for one.
	noSamples bool
}

func newHistory() *history {
	return &history{samples: map[string]*ring{}, latest: map[string]kept{}, pane: ring{n: keptPane}}
}

// keep takes one published event.
func (h *history) keep(ev Event) {
	h.seq++
	k := kept{seq: h.seq, ev: ev}
	switch ev := ev.(type) {
	case ServerEvent:
		switch ev.Type {
		case monitor.EventSample:
			if h.noSamples {
				return
			}
			r := h.samples[ev.Server]
			if r == nil {
				r = &ring{n: keptSamples}
				h.samples[ev.Server] = r
			}
			r.add(k)
		case monitor.EventCheck:
			h.latest["check\x00"+ev.Server+"\x00"+ev.Check.Label] = k
		default:
			h.latest[fmt.Sprintf("server\x00%d\x00%s", ev.Type, ev.Server)] = k
		}
	case Reading:
		h.latest["reading"] = k
	case FactsChanged:
		// The facts now are the engine's, given whole in the snapshot.
	case DNSAnswer:
		h.latest["dns\x00"+ev.Service] = k
	case Switch:
		h.latest["switch\x00"+ev.Service] = k
	case ServersChanged:
		h.latest["servers"] = k
	case HAState:
		h.latest["ha"] = k
	case Step:
		if n := len(h.op); n > 0 {
			if _, done := h.op[n-1].ev.(Done); done {
				h.op = nil
			}
		}
		if len(h.op) < keptSteps {
			h.op = append(h.op, k)
		}
	case Done:
		h.op = append(h.op, k)
	case Dropped:
		// A subscriber's own loss, not the engine's history.
	case StatsReset:
		// The samples before it are not shown again.
		clear(h.samples)
		h.pane.add(k)
	default:
		h.pane.add(k)
	}
}

// forget drops what is kept of the servers a reload removed, in one pass
// over the latest events however many servers go (under the engine's lock,
// which the probes wait for).
func (h *history) forget(servers []string) {
	for _, server := range servers {
		delete(h.samples, server)
	}
	for key, k := range h.latest {
		if ev, ok := k.ev.(ServerEvent); ok && slices.Contains(servers, ev.Server) {
			delete(h.latest, key)
		}
	}
}

// kept is what is kept, unordered: taken under the engine's lock, put in
// order by inOrder outside it (sorting a thousand servers' history under
// the lock held every server's probes up for tens of milliseconds).
func (h *history) kept() []kept {
	var all []kept
	for _, r := range h.samples {
		all = append(all, r.all()...)
	}
	for _, k := range h.latest {
		all = append(all, k)
	}
	all = append(all, h.pane.all()...)
	return append(all, h.op...)
}

// inOrder is what was kept, in the order it was published.
func inOrder(all []kept) []Event {
	slices.SortFunc(all, func(a, b kept) int { return cmp.Compare(a.seq, b.seq) })
	out := make([]Event, len(all))
	for i, k := range all {
		out[i] = k.ev
	}
	return out
}
