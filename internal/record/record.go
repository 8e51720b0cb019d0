package record

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/engine"
	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/failover"
)

// line is one event in a recording. Errors travel as their text.
type line struct {
	At     time.Time             `json:"at"`
	Server *monitor.Event        `json:"server,omitempty"`
	Router *routeros.RouterState `json:"router,omitempty"`
	// The facts the engine derived from a router reading: each service's,
	// and the router's netwatch.
	Services       []engine.Facts    `json:"services,omitempty"`
	Held           bool              `json:"held,omitempty"`
	NetwatchByHost map[string]string `json:"netwatch_by_host,omitempty"`
	HeldEntries    map[string]bool   `json:"held_entries,omitempty"`
	// Active, Enabled and Owners are a one-service recording's facts from
	// before services (read, never written).
	Active  string             `json:"active,omitempty"`
	Enabled int                `json:"enabled,omitempty"`
	Owners  map[string]string  `json:"owners,omitempty"`
	Log     *routeros.LogEvent `json:"log,omitempty"`
	DNS     *monitor.DNSAnswer `json:"dns,omitempty"`
	// DNSService is the service whose name the DNS answer is for.
	DNSService string             `json:"dns_service,omitempty"`
	Answer     string             `json:"answer,omitempty"`
	Step       *engine.Step       `json:"step,omitempty"`
	Done       *failover.Result   `json:"done,omitempty"`
	Policy     *engine.PolicyNote `json:"policy,omitempty"`
	Switch     *engine.Switch     `json:"switch,omitempty"`
	// Facts are facts that changed state without a reading (stale).
	Facts []engine.Facts `json:"facts_changed,omitempty"`
	// Servers is the server list after a config reload.
	Servers []config.Server `json:"servers_now,omitempty"`
	// Setup opens each run's part of a recording: what was watched.
	Setup *Setup `json:"setup,omitempty"`
	// Err is the event's error (a router that did not answer, a failed
	// operation), LinkErr the router connection's.
	Err     string `json:"err,omitempty"`
	LinkErr string `json:"link_err,omitempty"`
}

// Setup is what a recording watched: enough to draw the dashboard again.
type Setup struct {
	Services []config.Service `json:"services"`
	Servers  []config.Server  `json:"servers"`
	// Service is a one-service recording's from before services (read,
	// never written).
	Service *config.Service `json:"service,omitempty"`
}

// textError is an error read back from a recording.
type textError string

func (e textError) Error() string { return string(e) }

func errOf(s string) error {
	if s == "" {
		return nil
	}
	return textError(s)
}

func text(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// encode turns an event into a line, copying what it changes.
func encode(at time.Time, ev engine.Event) (line, bool) {
	l := line{At: at}
	switch ev := ev.(type) {
	case engine.ServerEvent:
		m := monitor.Event(ev)
		l.Server = &m
	case engine.Reading:
		st := ev.RouterState
		l.Err, l.LinkErr = text(st.Err), text(st.Link.Err)
		st.Err, st.Link.Err = nil, nil
		l.Router = &st
		l.Services, l.Held, l.NetwatchByHost, l.HeldEntries = ev.Services, ev.Held, ev.NetwatchByHost, ev.HeldEntries
	case engine.LogLine:
		lg := routeros.LogEvent(ev)
		l.Err, lg.Err = text(lg.Err), nil
		l.Log = &lg
	case engine.DNSAnswer:
		d := ev.DNSAnswer
		l.Err, d.Err = text(d.Err), nil
		l.DNS, l.DNSService, l.Answer = &d, ev.Service, ev.Server
	case engine.Step:
		l.Step = &ev
	case engine.Done:
		r := ev.Result
		l.Done, l.Err = &r, text(ev.Err)
	case engine.PolicyNote:
		l.Policy = &ev
	case engine.ServersChanged:
		l.Servers = ev
	case engine.Switch:
		l.Switch = &ev
	case engine.FactsChanged:
		l.Facts = ev
	default:
		return l, false
	}
	return l, true
}

// decode turns a line back into the event it was; nil for a line that is
// none (a setup line).
func decode(l line) engine.Event {
	switch {
	case l.Server != nil:
		return engine.ServerEvent(*l.Server)
	case l.Router != nil:
		st := *l.Router
		st.Err, st.Link.Err = errOf(l.Err), errOf(l.LinkErr)
		ev := engine.Reading{RouterState: st, Services: l.Services, Held: l.Held, NetwatchByHost: l.NetwatchByHost, HeldEntries: l.HeldEntries}
		if ev.Services == nil && st.Err == nil {
			// One service, before services: its records are all the
			// reading's.
			ev.Services = []engine.Facts{{Active: l.Active, Enabled: l.Enabled, Owners: l.Owners}}
			if len(st.Records) > 0 {
				ev.Services[0].Service = st.Records[0].Name
			}
		}
		for i, f := range ev.Services {
			if f.State == "" && st.Err == nil {
				// Recorded before facts said what they rest on: a good
				// reading's facts are known.
				ev.Services[i].State, ev.Services[i].ReadAt = engine.FactKnown, st.At
			}
			for _, r := range st.Records {
				if r.Name == f.Service {
					ev.Services[i].Records = append(ev.Services[i].Records, r)
				}
			}
		}
		return ev
	case l.Log != nil:
		lg := *l.Log
		lg.Err = errOf(l.Err)
		return engine.LogLine(lg)
	case l.DNS != nil:
		d := *l.DNS
		d.Err = errOf(l.Err)
		return engine.DNSAnswer{Service: l.DNSService, Server: l.Answer, DNSAnswer: d}
	case l.Step != nil:
		return *l.Step
	case l.Done != nil:
		return engine.Done{Result: *l.Done, Err: errOf(l.Err)}
	case l.Policy != nil:
		return *l.Policy
	case l.Servers != nil:
		return engine.ServersChanged(l.Servers)
	case l.Switch != nil:
		return *l.Switch
	case l.Facts != nil:
		return engine.FactsChanged(l.Facts)
	}
	return nil
}

// Recorder appends events to a file, moving it to FILE.1 when it passes
// MaxBytes (the one before is dropped): a recording runs for weeks on a
// wall without filling the disk.
type Recorder struct {
	Path     string
	MaxBytes int64

	f     *os.File
	w     *bufio.Writer
	size  int64
	setup Setup
}

// DefaultMaxBytes is a recording's size before it rotates.
const DefaultMaxBytes = 64 << 20

// Open starts a recorder, appending to what the file holds, and notes
// what is watched.
func Open(path string, maxBytes int64, watched Setup) (*Recorder, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	r := &Recorder{Path: path, MaxBytes: maxBytes, setup: watched}
	if err := r.open(); err != nil {
		return nil, err
	}
	return r, r.writeLine(line{At: time.Now(), Setup: &r.setup})
}

func (r *Recorder) open() error {
	f, err := os.OpenFile(r.Path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("recording: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("recording: %w", err)
	}
	r.f, r.w, r.size = f, bufio.NewWriter(f), fi.Size()
	return nil
}

// Write appends one event; a snapshot (a recording that starts while the
// engine runs) is written as the events it holds.
func (r *Recorder) Write(at time.Time, ev engine.Event) error {
	if snap, ok := ev.(engine.Snapshot); ok {
		for _, ev := range snap.Events {
			if err := r.Write(at, ev); err != nil {
				return err
			}
		}
		if len(snap.Facts) > 0 {
			return r.Write(at, engine.FactsChanged(snap.Facts))
		}
		return nil
	}
	l, ok := encode(at, ev)
	if !ok {
		return nil
	}
	return r.writeLine(l)
}

func (r *Recorder) writeLine(l line) error {
	b, err := json.Marshal(l)
	if err != nil {
		return err
	}
	if r.size+int64(len(b))+1 > r.MaxBytes && r.size > 0 && l.Setup == nil {
		if err := r.rotate(); err != nil {
			return err
		}
	}
	n, err := r.w.Write(append(b, '\n'))
	r.size += int64(n)
	return err
}

// rotate moves the file aside; the new one starts with what is watched,
// so it plays on its own.
func (r *Recorder) rotate() error {
	if err := r.Close(); err != nil {
		return err
	}
	if err := os.Rename(r.Path, r.Path+".1"); err != nil {
		return fmt.Errorf("recording: %w", err)
	}
	if err := r.open(); err != nil {
		return err
	}
	return r.writeLine(line{At: time.Now(), Setup: &r.setup})
}

// Close flushes and closes the file.
func (r *Recorder) Close() error {
	if r.f == nil {
		return nil
	}
	err := errors.Join(r.w.Flush(), r.f.Close())
	r.f = nil
	return err
}

// Run records a subscription until ctx ends, flushing once a second; at
// the end it takes what is still queued, then closes the file. End it after
// the engine: an operation's last steps come as the engine stops.
func (r *Recorder) Run(ctx context.Context, events <-chan engine.Event) error {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			for {
				select {
				case ev := <-events:
					if err := r.Write(time.Now(), ev); err != nil {
						r.Close()
						return err
					}
				default:
					return r.Close()
				}
			}
		case ev := <-events:
			if err := r.Write(time.Now(), ev); err != nil {
				return err
			}
		case <-t.C:
			if err := r.w.Flush(); err != nil {
				return err
			}
		}
	}
}

// ReadSetup reads what a recording watched, from its first line.
func ReadSetup(rd io.Reader) (Setup, error) {
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	if !sc.Scan() {
		return Setup{}, errors.New("recording: empty")
	}
	var l line
	if err := json.Unmarshal(sc.Bytes(), &l); err != nil || l.Setup == nil {
		return Setup{}, errors.New("recording: line 1 does not say what was watched: not a failwatch recording")
	}
	st := *l.Setup
	if st.Services == nil && st.Service != nil {
		// From before services: one, carried by the primary and the
		// standby by role.
		svc := *st.Service
		for _, s := range st.Servers {
			switch s.Role {
			case config.Primary:
				svc.Primary = s.Name
			case config.Standby:
				svc.Standby = s.Name
			}
		}
		st.Services, st.Service = []config.Service{svc}, nil
	}
	return st, nil
}

// Play reads a recording and hands each event to send with the moment it
// was recorded, waiting between them as they were apart divided by speed
// (0: no waiting). It stops at the end, at ctx's end, or at a line it
// cannot read, saying which.
func Play(ctx context.Context, rd io.Reader, speed float64, send func(time.Time, engine.Event)) error {
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	var prev time.Time
	for n := 1; sc.Scan(); n++ {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return fmt.Errorf("recording line %d: %w", n, err)
		}
		if l.Setup != nil {
			continue
		}
		if speed > 0 && !prev.IsZero() {
			if wait := time.Duration(float64(l.At.Sub(prev)) / speed); wait > 0 {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(wait):
				}
			}
		}
		prev = l.At
		if ev := decode(l); ev != nil {
			send(l.At, ev)
		}
	}
	return sc.Err()
}
