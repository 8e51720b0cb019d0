package record

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/failwatch/failwatch/internal/engine"
)

// dataKeys are the objects whose keys are data (record IDs, hosts, server
// names), not field names: their keys count as one, "*".
var dataKeys = map[string]bool{
	"setup.services[].records": true, "router.services[].owners": true, "router.netwatch_by_host": true,
	"router.held_entries": true, "facts_changed[].owners": true,
}

// fieldPaths adds each field of the recording line v to into[kind], as a
// path ("server.check.window.min_ms"); kind is the line's kind.
func fieldPaths(v map[string]any, into map[string]map[string]bool) {
	kind := ""
	for k := range v {
		if !slices.Contains([]string{"at", "err", "by", "schema_version", "failwatch"}, k) {
			kind = k
		}
	}
	if into[kind] == nil {
		into[kind] = map[string]bool{}
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				p := strings.TrimPrefix(path+"."+k, ".")
				if dataKeys[path] {
					p = path + ".*"
				}
				into[kind][p] = true
				walk(p, x)
			}
		case []any:
			for _, x := range v {
				walk(path+"[]", x)
			}
		}
	}
	walk("", v)
}

// The recording example of docs/JSON.md against a recording of every kind
// of event with every part, both ways: each field the recorder writes is
// in the example's line of its kind, and each field there is one it
// writes; and the example plays.
func TestJSONDocExample(t *testing.T) {
	doc, err := os.ReadFile("../../docs/JSON.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := bytes.Cut(doc, []byte("```jsonl recording\n"))
	block, _, closed := bytes.Cut(block, []byte("```"))
	if !ok || !closed {
		t.Fatal("JSON.md has no ```jsonl recording example")
	}
	example := map[string]map[string]bool{}
	var playable bytes.Buffer
	dec := json.NewDecoder(bytes.NewReader(block))
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			t.Fatalf("JSON.md's recording example: %v", err)
		}
		var v map[string]any
		json.Unmarshal(raw, &v)
		fieldPaths(v, example)
		json.Compact(&playable, raw)
		playable.WriteByte('\n')
	}
	var played int
	if err := Play(t.Context(), &playable, 0, func(time.Time, engine.Event) { played++ }); err != nil || played != len(example)-1 {
		t.Errorf("JSON.md's recording example played %d events: %v", played, err)
	}

	at := time.Date(2026, 11, 25, 18, 33, 31, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "rec.jsonl")
	r, err := Open(path, 0, watchedEverything())
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range everyKind(at) {
		r.Write(at, ev)
	}
	r.Close()
	b, _ := os.ReadFile(path)
	written := map[string]map[string]bool{}
	for _, l := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		var v map[string]any
		if err := json.Unmarshal(l, &v); err != nil {
			t.Fatal(err)
		}
		fieldPaths(v, written)
	}
	for kind, fields := range written {
		for f := range fields {
			if !example[kind][f] {
				t.Errorf("a %s line has %s, JSON.md's example does not", kind, f)
			}
		}
	}
	for kind, fields := range example {
		for f := range fields {
			if !written[kind][f] {
				t.Errorf("JSON.md's example %s line has %s, the recorder does not write it", kind, f)
			}
		}
	}
}
