package failover

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/failwatch/failwatch/internal/buildinfo"
	"github.com/failwatch/failwatch/routeros"
)

var auditResult = Result{Operation: "failover", Service: "www.example.test", From: "public", To: "private",
	Outcome: OutcomeChanged, Started: time.Date(2026, 11, 26, 1, 2, 3, 0, time.FixedZone("WIB", 7*3600)),
	Took: 61200 * time.Microsecond, Changes: []Change{{Kind: "record", ID: "*1", What: "enable", Status: "changed"}},
	Records: []routeros.Record{{ID: "*1", Name: "www.example.test", Address: "192.0.2.7", Type: "A", TTL: "1d", Comment: "a <b> & c"}},
	Steps:   []Step{{Name: "verify", Status: StepOK, Detail: "www.example.test -> 192.0.2.7", Took: 1500 * time.Microsecond}}}

// An audit line names its schema and the failwatch that wrote it, writes
// the TTL as milliseconds and times with their zone, and escapes no HTML.
func TestAuditLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	if err := NewAudit(path).Append("alice", "", auditResult, nil); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	var line map[string]any
	if err := json.Unmarshal(data, &line); err != nil {
		t.Fatal(err)
	}
	rec := line["records"].([]any)[0].(map[string]any)
	if line["schema_version"] != float64(AuditSchema) || line["failwatch"] != buildinfo.Name() ||
		line["time"] != "2026-11-26T01:02:03+07:00" || line["took_ms"] != 61.2 || rec["ttl_ms"] != float64(86400000) || rec["ttl"] != nil {
		t.Errorf("audit line: %s", data)
	}
	if !strings.Contains(string(data), `"a <b> & c"`) || !strings.Contains(string(data), `-> 192.0.2.7`) {
		t.Errorf("HTML escaped: %s", data)
	}
}

// The log rotates by size, keeping nine older files.
func TestAuditRotatesBySize(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	a := NewAudit(path)
	a.MaxBytes = 1000
	for i := range 40 {
		if err := a.Append(fmt.Sprintf("user%d", i), "", auditResult, nil); err != nil {
			t.Fatal(err)
		}
	}
	for i := range auditKeep + 2 {
		name := path
		if i > 0 {
			name = fmt.Sprintf("%s.%d", path, i)
		}
		fi, err := os.Stat(name)
		switch {
		case i <= auditKeep && (err != nil || fi.Size() > a.MaxBytes):
			t.Errorf("%s: %v, %d bytes", name, err, fi.Size())
		case i > auditKeep && err == nil:
			t.Errorf("%s kept: more than %d rotated files", name, auditKeep)
		}
	}
	data, _ := os.ReadFile(path)
	if !strings.Contains(string(data), `"user39"`) {
		t.Errorf("the newest line is not in %s:\n%s", path, data)
	}
}

// A file of an older schema (here lines from before schemas) is shelved,
// not mixed; one a newer failwatch wrote is refused, naming it, before and
// at an append.
func TestAuditOneSchemaAFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.jsonl")
	old := `{"time":"2026-11-26T01:02:03Z","user":"bob","operation":"restore","records":[{"ttl":"1d"}]}` + "\n"
	os.WriteFile(path, []byte(old), 0o600)
	if err := NewAudit(path).Append("alice", "", auditResult, nil); err != nil {
		t.Fatal(err)
	}
	if shelved, _ := os.ReadFile(path + ".1"); string(shelved) != old {
		t.Errorf("the old file was not shelved whole: %q", shelved)
	}
	if data, _ := os.ReadFile(path); strings.Count(string(data), "\n") != 1 || !strings.Contains(string(data), `"schema_version":1`) {
		t.Errorf("the new file: %s", data)
	}

	newer := filepath.Join(dir, "newer.jsonl")
	line := `{"schema_version":99,"failwatch":"failwatch v9.9.9","time":"2030-01-01T00:00:00Z"}` + "\n"
	os.WriteFile(newer, []byte(line), 0o600)
	a := NewAudit(newer)
	want := newer + ": its last line is audit schema 99, written by failwatch v9.9.9; this is " + buildinfo.Name() +
		", which writes schema 1: not mixing them in one file (move it aside, or run the newer failwatch)"
	for _, err := range []error{a.Check(), a.Append("alice", "", auditResult, nil)} {
		if se, ok := errors.AsType[*SchemaError](err); !ok || se.Error() != want {
			t.Errorf("got %v\nwant %s", err, want)
		}
	}
	if data, _ := os.ReadFile(newer); string(data) != line {
		t.Errorf("a line was appended to a newer file: %s", data)
	}
}
