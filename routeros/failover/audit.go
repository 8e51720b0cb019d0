package failover

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/failwatch/failwatch/internal/buildinfo"
	"github.com/failwatch/failwatch/internal/jsonout"
)

// AuditSchema is the version of an audit line's fields (docs/JSON.md): it
// changes when a field changes meaning or goes away. 1: the first with
// schema_version and failwatch, records with ttl_ms.
const AuditSchema = 1

// DefaultAuditMaxBytes is an audit log's size before it rotates.
const DefaultAuditMaxBytes = 64 << 20

// auditKeep is how many rotated files are kept (PATH.1, the newest, to
// PATH.9).
const auditKeep = 9

// Audit appends every operation to a JSON-lines file, one schema a file:
// it rotates by size, shelves a file of an older schema the same way, and
// refuses to append to one a newer failwatch wrote.
type Audit struct {
	mu   sync.Mutex
	path string
	// MaxBytes is the size past which the file rotates.
	MaxBytes int64
}

// NewAudit returns an audit log writing to path, creating its directory.
func NewAudit(path string) *Audit { return &Audit{path: path, MaxBytes: DefaultAuditMaxBytes} }

// StepJSON is a step as failwatch's machine output writes it.
type StepJSON struct {
	Name   string     `json:"name"`
	Status StepStatus `json:"status"`
	Detail string     `json:"detail,omitempty"`
	At     time.Time  `json:"at"`
	TookMS float64    `json:"took_ms"`
}

// ResultJSON is a result as failover --json writes it; an audit line
// takes the same changes, records and steps.
type ResultJSON struct {
	Operation string           `json:"operation"`
	Service   string           `json:"service"`
	From      string           `json:"from"`
	To        string           `json:"to"`
	Outcome   Outcome          `json:"outcome"`
	Changed   bool             `json:"changed"`
	Changes   []Change         `json:"changes"`
	Records   []jsonout.Record `json:"records,omitempty"`
	Notes     []string         `json:"notes,omitempty"`
	Steps     []StepJSON       `json:"steps"`
	Started   time.Time        `json:"started"`
	Parts     []ResultJSON     `json:"parts,omitempty"`
	TookMS    float64          `json:"took_ms"`
}

// JSON is r as failover --json writes it.
func (r Result) JSON() ResultJSON {
	out := ResultJSON{Operation: r.Operation, Service: r.Service, From: r.From, To: r.To, Outcome: r.Outcome,
		Changed: r.Changed, Changes: r.Changes, Notes: r.Notes, Steps: stepsJSON(r.Steps), Started: r.Started, TookMS: ms(r.Took)}
	if out.Changes == nil {
		out.Changes = []Change{}
	}
	if len(r.Records) > 0 {
		out.Records = jsonout.Records(r.Records)
	}
	for _, p := range r.Parts {
		out.Parts = append(out.Parts, p.JSON())
	}
	return out
}

func stepsJSON(steps []Step) []StepJSON {
	out := make([]StepJSON, len(steps))
	for i, s := range steps {
		out[i] = StepJSON{Name: s.Name, Status: s.Status, Detail: s.Detail, At: s.At, TookMS: ms(s.Took)}
	}
	return out
}

type auditLine struct {
	SchemaVersion int `json:"schema_version"`
	// Failwatch is the failwatch that wrote the line.
	Failwatch string           `json:"failwatch"`
	Time      time.Time        `json:"time"`
	User      string           `json:"user"`
	Op        string           `json:"operation"`
	Service   string           `json:"service"`
	Reason    string           `json:"reason,omitempty"`
	From      string           `json:"from"`
	To        string           `json:"to"`
	Result    string           `json:"result"`
	Error     string           `json:"error,omitempty"`
	Changes   []Change         `json:"changes"`
	Records   []jsonout.Record `json:"records,omitempty"`
	Notes     []string         `json:"notes,omitempty"`
	TookMS    float64          `json:"took_ms"`
	Steps     []StepJSON       `json:"steps"`
	// Count is how many refused requests a refusal line stands for.
	Count int `json:"count,omitempty"`
}

// Append writes one line for an operation.
func (a *Audit) Append(user, reason string, r Result, opErr error) error {
	line := auditLine{Time: r.Started, User: user, Reason: reason, Op: r.Operation, Service: r.Service, From: r.From, To: r.To,
		TookMS: ms(r.Took), Steps: stepsJSON(r.Steps), Result: string(r.Outcome),
		Changes: r.Changes, Records: jsonout.Records(r.Records), Notes: r.Notes}
	if opErr != nil {
		line.Error = opErr.Error()
	}
	return a.write(line)
}

// Refused writes one line for count requests of user refused for why (a
// viewer's, or one made while another operation ran), from the first at.
func (a *Audit) Refused(at time.Time, user, op, service, why string, count int) error {
	return a.write(auditLine{Time: at, User: user, Op: op, Service: service, Result: "refused", Error: why, Count: count, Steps: []StepJSON{}})
}

// SchemaError is an audit log written by a newer failwatch, in a schema
// this one does not write: appending would mix two in one file.
type SchemaError struct {
	Path string
	// Schema and Failwatch are the last line's.
	Schema    int
	Failwatch string
}

func (e *SchemaError) Error() string {
	return fmt.Sprintf("%s: its last line is audit schema %d, written by %s; this is %s, which writes schema %d: "+
		"not mixing them in one file (move it aside, or run the newer failwatch)", e.Path, e.Schema, e.Failwatch, buildinfo.Name(), AuditSchema)
}

// Check says whether lines can be appended: nil, or a *SchemaError when a
// newer failwatch wrote the file. Run it before an operation that would be
// audited, so that nothing is changed that could not be.
func (a *Audit) Check() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, err := a.lastSchema()
	return err
}

// lastSchema is the schema of the file's last line: 0 for none (an empty
// or missing file, or a line from before schemas), or a *SchemaError.
func (a *Audit) lastSchema() (int, error) {
	fh, err := os.Open(a.path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer fh.Close()
	last, err := lastLine(fh)
	if err != nil || len(last) == 0 {
		return 0, err
	}
	var head struct {
		SchemaVersion int    `json:"schema_version"`
		Failwatch     string `json:"failwatch"`
	}
	if json.Unmarshal(last, &head) != nil {
		// Not a line of ours at all (cut short by a crash, say): the
		// next line starts the file's own.
		return 0, nil
	}
	if head.SchemaVersion > AuditSchema {
		if head.Failwatch == "" {
			head.Failwatch = "an unnamed failwatch"
		}
		return 0, &SchemaError{Path: a.path, Schema: head.SchemaVersion, Failwatch: head.Failwatch}
	}
	return head.SchemaVersion, nil
}

// lastLine is the last non-empty line of f, up to 1 MiB long.
func lastLine(f *os.File) ([]byte, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := fi.Size()
	start := max(0, size-1<<20)
	buf := make([]byte, size-start)
	if _, err := f.ReadAt(buf, start); err != nil && err != io.EOF {
		return nil, err
	}
	buf = bytes.TrimRight(buf, "\n")
	if i := bytes.LastIndexByte(buf, '\n'); i >= 0 {
		buf = buf[i+1:]
	}
	return buf, nil
}

func (a *Audit) write(line auditLine) error {
	line.SchemaVersion, line.Failwatch = AuditSchema, buildinfo.Name()
	if line.Changes == nil {
		line.Changes = []Change{}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(line); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(a.path), 0o700); err != nil {
		return err
	}
	schema, err := a.lastSchema()
	if err != nil {
		return err
	}
	fi, err := os.Stat(a.path)
	switch {
	case err == nil && fi.Size() > 0 && (schema < AuditSchema || fi.Size()+int64(b.Len()) > a.MaxBytes):
		// A file of an older schema is shelved as a full one is.
		if err := a.rotate(); err != nil {
			return err
		}
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return err
	}
	fh, err := os.OpenFile(a.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := fh.Write(b.Bytes()); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}

// rotate moves the file to PATH.1, and each older one a number up; the
// oldest beyond auditKeep goes.
func (a *Audit) rotate() error {
	for i := auditKeep - 1; i >= 1; i-- {
		from := fmt.Sprintf("%s.%d", a.path, i)
		if err := os.Rename(from, fmt.Sprintf("%s.%d", a.path, i+1)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return os.Rename(a.path, a.path+".1")
}
