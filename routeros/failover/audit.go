package failover

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/failwatch/failwatch/routeros"
)

// Audit appends every operation to a JSON-lines file.
type Audit struct {
	mu   sync.Mutex
	path string
}

// NewAudit returns an audit log writing to path, creating its directory.
func NewAudit(path string) *Audit { return &Audit{path: path} }

type auditLine struct {
	Time    time.Time         `json:"time"`
	User    string            `json:"user"`
	Op      string            `json:"operation"`
	Service string            `json:"service"`
	Reason  string            `json:"reason,omitempty"`
	From    string            `json:"from"`
	To      string            `json:"to"`
	Result  string            `json:"result"`
	Error   string            `json:"error,omitempty"`
	Changes []Change          `json:"changes"`
	Records []routeros.Record `json:"records,omitempty"`
	TookMS  float64           `json:"took_ms"`
	Steps   []Step            `json:"steps"`
}

// Append writes one line for an operation.
func (a *Audit) Append(user, reason string, r Result, opErr error) error {
	line := auditLine{Time: r.Started, User: user, Reason: reason, Op: r.Operation, Service: r.Service, From: r.From, To: r.To,
		TookMS: ms(r.Took), Steps: r.Steps, Result: string(r.Outcome),
		Changes: r.Changes, Records: r.Records}
	if line.Changes == nil {
		line.Changes = []Change{}
	}
	if opErr != nil {
		line.Error = opErr.Error()
	}
	b, err := json.Marshal(line)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(a.path), 0o700); err != nil {
		return err
	}
	fh, err := os.OpenFile(a.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := fh.Write(append(b, '\n')); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}
