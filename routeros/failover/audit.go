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
	// Count is how many refused requests a refusal line stands for.
	Count int `json:"count,omitempty"`
}

// Append writes one line for an operation.
func (a *Audit) Append(user, reason string, r Result, opErr error) error {
	line := auditLine{Time: r.Started, User: user, Reason: reason, Op: r.Operation, Service: r.Service, From: r.From, To: r.To,
		TookMS: ms(r.Took), Steps: r.Steps, Result: string(r.Outcome),
		Changes: r.Changes, Records: r.Records}
	if opErr != nil {
		line.Error = opErr.Error()
	}
	return a.write(line)
}

// Refused writes one line for count requests of user refused for why (a
// viewer's, or one made while another operation ran), from the first at.
func (a *Audit) Refused(at time.Time, user, op, service, why string, count int) error {
	return a.write(auditLine{Time: at, User: user, Op: op, Service: service, Result: "refused", Error: why, Count: count, Steps: []Step{}})
}

func (a *Audit) write(line auditLine) error {
	if line.Changes == nil {
		line.Changes = []Change{}
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
