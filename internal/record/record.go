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
	"github.com/failwatch/failwatch/internal/buildinfo"
	"github.com/failwatch/failwatch/internal/engine"
	"github.com/failwatch/failwatch/internal/jsonout"
	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/failover"
)

// Schema is the version of a recording's lines (docs/JSON.md): it changes
// when a field changes meaning or goes away, and replay reads one. 1: the
// first to say it, on each setup line with the failwatch that wrote it,
// and the first under JSON.md's rules: every kind of line has a written
// JSON form (here, or its package's tagged one), never Go field names, so
// that renaming a Go field does not change a recording.
const Schema = 1

// line is one event in a recording. Errors travel as their text.
type line struct {
	At time.Time `json:"at"`
	// SchemaVersion and Failwatch are on setup lines only: a file holds
	// runs of one schema, each saying it.
	SchemaVersion int    `json:"schema_version,omitempty"`
	Failwatch     string `json:"failwatch,omitempty"`
	// Setup opens each run's part of a recording: what was watched.
	Setup  *setupJSON       `json:"setup,omitempty"`
	Server *serverJSON      `json:"server,omitempty"`
	Router *readingJSON     `json:"router,omitempty"`
	Log    *logJSON         `json:"log,omitempty"`
	DNS    *dnsJSON         `json:"dns,omitempty"`
	Step   *stepJSON        `json:"step,omitempty"`
	Done   *failover.Result `json:"done,omitempty"`
	// By is who asked for the operation a done line ends.
	By         string          `json:"by,omitempty"`
	Policy     *policyJSON     `json:"policy,omitempty"`
	Switch     *switchJSON     `json:"switch,omitempty"`
	StatsReset *statsResetJSON `json:"stats_reset,omitempty"`
	// Facts are facts that changed state without a reading (stale).
	Facts []factsJSON `json:"facts_changed,omitempty"`
	// Servers is the server list after a config reload.
	Servers *[]configServerJSON `json:"servers_now,omitempty"`
	// Dropped is how many events the recorder's subscription missed
	// here: the replay shows the gap the recording has.
	Dropped int `json:"dropped,omitempty"`
	// Err is the event's error: a router that did not answer, a failed
	// operation, a log follow that stopped, a resolver that did not answer.
	Err string `json:"err,omitempty"`
}

// Setup is what a recording watched: enough to draw the dashboard again.
type Setup struct {
	Services []config.Service
	Servers  []config.Server
}

type setupJSON struct {
	Services []serviceJSON      `json:"services"`
	Servers  []configServerJSON `json:"servers"`
}

// factsJSON is a service's facts with the records they rest on, which a
// reading carries once for all its services and facts alone do not.
type factsJSON struct {
	engine.Facts
	Records []routeros.Record `json:"records,omitempty"`
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
		l.Server = serverOf(monitor.Event(ev))
	case engine.Reading:
		l.Router, l.Err = readingOf(ev), text(ev.Err)
	case engine.LogLine:
		l.Log, l.Err = logOf(routeros.LogEvent(ev)), text(ev.Err)
	case engine.DNSAnswer:
		l.DNS, l.Err = dnsOf(ev), text(ev.Err)
	case engine.Step:
		s := ev.Step
		l.Step = &stepJSON{Op: ev.Op, Name: s.Name, Status: s.Status, Detail: s.Detail, At: s.At, TookMS: jsonout.Millis(s.Took)}
	case engine.Done:
		r := withLists(ev.Result)
		l.Done, l.Err, l.By = &r, text(ev.Err), ev.By
	case engine.PolicyNote:
		l.Policy = &policyJSON{At: ev.At, Text: ev.Text, Refused: ev.Refused}
	case engine.ServersChanged:
		servers := serversOf(ev)
		l.Servers = &servers
	case engine.Switch:
		c := ev.Cause
		l.Switch = &switchJSON{Service: ev.Service, From: ev.From, To: ev.To, At: ev.At, Fault: ev.Fault,
			Cause: causeJSON{Kind: c.Kind, Who: c.Who, Op: c.Op, Line: c.Line, Why: c.Why}}
		if ev.Fault {
			after := jsonout.Millis(ev.After)
			l.Switch.AfterMS, l.Switch.DownBy = &after, ev.DownBy
		}
	case engine.StatsReset:
		l.StatsReset = &statsResetJSON{By: ev.By, At: ev.At}
	case engine.Dropped:
		l.Dropped = int(ev)
	case engine.FactsChanged:
		for _, f := range ev {
			l.Facts = append(l.Facts, factsJSON{Facts: f, Records: f.Records})
		}
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
		return engine.ServerEvent(l.Server.event())
	case l.Router != nil:
		return l.Router.event(errOf(l.Err))
	case l.Log != nil:
		return engine.LogLine(l.Log.event(errOf(l.Err)))
	case l.DNS != nil:
		return l.DNS.event(errOf(l.Err))
	case l.Step != nil:
		s := l.Step
		return engine.Step{Op: s.Op, Step: failover.Step{Name: s.Name, Status: s.Status, Detail: s.Detail, At: s.At, Took: duration(s.TookMS)}}
	case l.Done != nil:
		r := *l.Done
		tookBack(&r)
		return engine.Done{Result: r, Err: errOf(l.Err), By: l.By}
	case l.Policy != nil:
		return engine.PolicyNote{At: l.Policy.At, Text: l.Policy.Text, Refused: l.Policy.Refused}
	case l.Servers != nil:
		return engine.ServersChanged(configServers(*l.Servers))
	case l.Switch != nil:
		sw, c := l.Switch, l.Switch.Cause
		ev := engine.Switch{Service: sw.Service, From: sw.From, To: sw.To, At: sw.At, Fault: sw.Fault,
			Cause: engine.Cause{Kind: c.Kind, Who: c.Who, Op: c.Op, Line: c.Line, Why: c.Why}}
		if sw.AfterMS != nil {
			ev.After, ev.DownBy = duration(*sw.AfterMS), sw.DownBy
		}
		return ev
	case l.StatsReset != nil:
		return engine.StatsReset{By: l.StatsReset.By, At: l.StatsReset.At}
	case l.Dropped > 0:
		return engine.Dropped(l.Dropped)
	case l.Facts != nil:
		facts := make(engine.FactsChanged, len(l.Facts))
		for i, f := range l.Facts {
			facts[i] = f.Facts
			facts[i].Records = f.Records
		}
		return facts
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
	if err := r.shelveOtherSchema(); err != nil {
		return nil, err
	}
	if err := r.open(); err != nil {
		return nil, err
	}
	return r, r.writeSetup()
}

// writeSetup opens a run's part of the file, or a rotated file: what is
// watched, in which schema, by which failwatch.
func (r *Recorder) writeSetup() error {
	return r.writeLine(line{At: time.Now(), SchemaVersion: Schema, Failwatch: buildinfo.Name(),
		Setup: &setupJSON{Services: servicesOf(r.setup.Services), Servers: serversOf(r.setup.Servers)}})
}

// shelveOtherSchema moves a file that does not start with a setup line of
// this schema to FILE.1, as rotation does, so that every run in a file can
// be played by the failwatch that plays its first.
func (r *Recorder) shelveOtherSchema() error {
	f, err := os.Open(r.Path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("recording: %w", err)
	}
	_, err = ReadSetup(f)
	f.Close()
	var empty *emptyError
	if err == nil || errors.As(err, &empty) {
		return nil
	}
	if err := os.Rename(r.Path, r.Path+".1"); err != nil {
		return fmt.Errorf("recording: %w", err)
	}
	return nil
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
	return r.writeSetup()
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

// SchemaError is a recording this failwatch does not read: one of another
// schema, or from before recordings said theirs (Schema 0).
type SchemaError struct {
	// Line is the setup line that says so.
	Line int
	// Schema and Failwatch are that line's.
	Schema    int
	Failwatch string
}

func (e *SchemaError) Error() string {
	this := fmt.Sprintf("this is %s, which reads recording schema %d", buildinfo.Name(), Schema)
	if e.Schema == 0 {
		return fmt.Sprintf("line %d was written by a failwatch from before recordings said their schema; %s: "+
			"play it with the failwatch that made it", e.Line, this)
	}
	hint := "play it with the failwatch that made it"
	if e.Schema > Schema {
		hint = "play it with that failwatch or a newer one"
	}
	failwatch := e.Failwatch
	if failwatch == "" {
		failwatch = "an unnamed failwatch"
	}
	return fmt.Sprintf("line %d is recording schema %d, written by %s; %s: %s", e.Line, e.Schema, failwatch, this, hint)
}

// emptyError is a recording with no line at all.
type emptyError struct{}

func (*emptyError) Error() string { return "recording: empty" }

// head is what every schema's setup line says of itself, read before the
// rest: a newer schema may shape its setup otherwise.
type head struct {
	SchemaVersion int             `json:"schema_version"`
	Failwatch     string          `json:"failwatch"`
	Setup         json.RawMessage `json:"setup"`
}

// setupOf reads line n, which opens a run: a *SchemaError when it is of
// another schema.
func setupOf(n int, b []byte) (Setup, error) {
	var h head
	if json.Unmarshal(b, &h) != nil || h.Setup == nil {
		return Setup{}, fmt.Errorf("recording: line %d does not say what was watched: not a failwatch recording", n)
	}
	if h.SchemaVersion != Schema {
		return Setup{}, &SchemaError{Line: n, Schema: h.SchemaVersion, Failwatch: h.Failwatch}
	}
	var st setupJSON
	if err := json.Unmarshal(h.Setup, &st); err != nil {
		return Setup{}, fmt.Errorf("recording line %d: %w", n, err)
	}
	return Setup{Services: configServices(st.Services), Servers: configServers(st.Servers)}, nil
}

// ReadSetup reads what a recording watched, from its first line: a
// *SchemaError when this failwatch does not read it.
func ReadSetup(rd io.Reader) (Setup, error) {
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return Setup{}, fmt.Errorf("recording: %w", err)
		}
		return Setup{}, &emptyError{}
	}
	return setupOf(1, sc.Bytes())
}

// Play reads a recording and hands each event to send with the moment it
// was recorded, waiting between them as they were apart divided by speed
// (0: no waiting). It stops at the end, at ctx's end, or at a line it
// cannot read, saying which: a run's setup line of another schema is one
// (a *SchemaError).
func Play(ctx context.Context, rd io.Reader, speed float64, send func(time.Time, engine.Event)) error {
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	var prev time.Time
	for n := 1; sc.Scan(); n++ {
		var h head
		if err := json.Unmarshal(sc.Bytes(), &h); err != nil {
			return fmt.Errorf("recording line %d: %w", n, err)
		}
		if h.Setup != nil || n == 1 {
			if _, err := setupOf(n, sc.Bytes()); err != nil {
				return err
			}
			continue
		}
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return fmt.Errorf("recording line %d: %w", n, err)
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
