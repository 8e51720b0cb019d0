package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/failwatch/failwatch/internal/testkit"
)

// anyList stands for an example's [...]: a list whose items it does not
// show.
const anyList = "<any list>"

// docExamples reads the examples of docs/JSON.md, each a ```json NAME
// block, as values: comments are dropped, a key on a line whose comment
// says "only" or "absent" becomes "?key" (it may be left out), and [...]
// becomes anyList.
func docExamples(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile("../../docs/JSON.md")
	if err != nil {
		t.Fatal(err)
	}
	key := regexp.MustCompile(`"([a-z0-9_]+)"(\s*):`)
	out := map[string]any{}
	var name string
	var block []string
	for _, line := range strings.Split(string(data), "\n") {
		switch {
		case strings.HasPrefix(line, "```json "):
			name, block = strings.TrimPrefix(line, "```json "), nil
		case name != "" && line == "```":
			text := strings.ReplaceAll(strings.Join(block, "\n"), "[...]", strconv.Quote(anyList))
			var v any
			if err := json.Unmarshal([]byte(text), &v); err != nil {
				t.Fatalf("JSON.md example %q: %v\n%s", name, err, text)
			}
			out[name], name = v, ""
		case name != "":
			code, comment := splitComment(line)
			if strings.Contains(comment, "only") || strings.Contains(comment, "absent") {
				code = key.ReplaceAllString(code, `"?$1"$2:`)
			}
			block = append(block, code)
		}
	}
	return out
}

// splitComment cuts a line at a // outside a string.
func splitComment(line string) (code, comment string) {
	in, escaped := false, false
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case escaped:
			escaped = false
		case in && c == '\\':
			escaped = true
		case c == '"':
			in = !in
		case !in && c == '/' && i+1 < len(line) && line[i+1] == '/':
			return line[:i], line[i+2:]
		}
	}
	return line, ""
}

// sameShape lists how real differs from the example doc: a field missing
// (unless optional), a field the example lacks, a value of another type.
func sameShape(path string, doc, real any) []string {
	switch d := doc.(type) {
	case map[string]any:
		r, ok := real.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %T, the example has an object", path, real)}
		}
		var out []string
		for k, dv := range d {
			name, optional := strings.CutPrefix(k, "?")
			rv, present := r[name]
			switch {
			case present:
				out = append(out, sameShape(path+"."+name, dv, rv)...)
			case !optional:
				out = append(out, path+"."+name+": in the example, not in the output")
			}
		}
		for k := range r {
			_, plain := d[k]
			_, optional := d["?"+k]
			if !plain && !optional {
				out = append(out, path+"."+k+": in the output, not in the example")
			}
		}
		return out
	case []any:
		r, ok := real.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %T, the example has a list", path, real)}
		}
		var out []string
		if len(d) > 0 {
			for i, rv := range r {
				out = append(out, sameShape(fmt.Sprintf("%s[%d]", path, i), d[0], rv)...)
			}
		}
		return out
	case string:
		if _, isList := real.([]any); d == anyList && isList {
			return nil
		}
	}
	if fmt.Sprintf("%T", doc) != fmt.Sprintf("%T", real) {
		return []string{fmt.Sprintf("%s: %T %v, the example has %T %v", path, real, real, doc, doc)}
	}
	return nil
}

// Every example of docs/JSON.md against the real output of the command it
// shows, and the audit log's against every line those commands wrote.
func TestJSONDocExamples(t *testing.T) {
	examples := docExamples(t)
	outputs := map[string][]string{}
	run := func(name string, args ...string) {
		t.Helper()
		out, errs, code := runCLI(args...)
		if code == exitUsage || !json.Valid([]byte(out)) {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errs)
		}
		outputs[name] = append(outputs[name], out)
	}

	// report: a server that answers and one that refuses.
	ln := testkit.AcceptTCP(t)
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	dir := t.TempDir()
	reportCfg := filepath.Join(dir, "report.yaml")
	os.WriteFile(reportCfg, []byte(`service:
  name: www.example.test
servers:
  - {name: up, role: primary, address: 127.0.0.1, record: {comment: up}, checks: [{type: tcp, port: `+port+`}]}
  - {name: down, role: standby, address: 127.0.0.2, record: {comment: down}, checks: [{type: tcp, port: 1}]}
`), 0o600)
	run("report", "report", "--json", "-c", reportCfg, "--count", "2", "--interval", "100ms")
	run("report", "report", "--json", "--count", "1", "tcp://127.0.0.1:"+port)

	// status, failover and restore on the paper's router.
	cfg, _, audit := paperRouter(t)
	run("status", "status", "--json", "-c", cfg)
	run("failover", "failover", "--json", "--yes", "-c", cfg)
	run("status", "status", "--json", "-c", cfg)
	run("failover", "restore", "--json", "--yes", "-c", cfg)
	run("failover", "restore", "--json", "--yes", "-c", cfg)

	// Several services in one run.
	_, api, dns := testkit.ServicesEmulator(t, testkit.ThreeServices)
	servicesAudit := filepath.Join(dir, "services-audit.jsonl")
	servicesCfg := filepath.Join(dir, "services.yaml")
	os.WriteFile(servicesCfg, []byte(`router:
  address: `+api+`
services:
  - {name: www.example.test, primary: core, standby: backup, dns_server: "`+dns+`", audit_log: `+servicesAudit+`}
  - {name: api.example.test, primary: core, standby: edge, dns_server: "`+dns+`", audit_log: `+servicesAudit+`}
`+testkit.ThreeServicesServers), 0o600)
	run("failover-services", "failover", "--json", "--yes", "-c", servicesCfg)

	for _, path := range []string{audit, servicesAudit} {
		fh, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			outputs["audit"] = append(outputs["audit"], sc.Text())
		}
		fh.Close()
	}

	var names []string
	for name := range examples {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if len(outputs[name]) == 0 {
			t.Errorf("JSON.md example %q: no command of this test writes it", name)
		}
		for _, out := range outputs[name] {
			var real any
			if err := json.Unmarshal([]byte(out), &real); err != nil {
				t.Fatalf("%s: %v\n%s", name, err, out)
			}
			for _, diff := range sameShape(name, examples[name], real) {
				t.Errorf("JSON.md example %s", diff)
			}
		}
	}
	for name := range outputs {
		if examples[name] == nil {
			t.Errorf("no JSON.md example %q", name)
		}
	}
}
