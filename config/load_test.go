package config

import (
	"errors"
	"net/netip"
	"os"
	"os/user"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// base is a valid file the broken cases are made from.
// servicesBase is three services over three servers, priv carrying two.
const servicesBase = `router:
  address: 192.168.137.2
services:
  - name: www.example.test
    primary: pub1
    standby: priv
    records:
      pub1: {comment: www public}
  - name: api.example.test
    primary: pub2
    standby: priv
  - name: mail.example.test
    primary: pub2
    standby: pub1
servers:
  - {name: pub1, address: 198.51.100.7}
  - {name: pub2, address: 198.51.100.8}
  - {name: priv, address: 192.0.2.7}
`

const base = `router:
  address: 192.168.137.2
servers:
  - name: public
    role: primary
    address: 104.247.193.168
  - name: private
    role: standby
    address: 192.10.10.2
`

func TestParseBroken(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"typo in a top-level key", "rooter:\n  address: 1.2.3.4\n" + base[strings.Index(base, "servers"):],
			[]string{`f.yaml:1:1: rooter: unknown key "rooter" (did you mean "router"?)`}},
		{"typo in a nested key", base + "probe:\n  intervall: 2s\n",
			[]string{`f.yaml:11:3: probe.intervall: unknown key "intervall" (did you mean "interval"?)`}},
		{"bad duration", base + "probe:\n  interval: fast\n",
			[]string{`f.yaml:11:13: probe.interval: bad duration "fast" (use units like 500ms, 10s, 5m, 1d, or 00:00:30)`}},
		{"timeout below the floor", base + "probe:\n  timeout: 5ms\n",
			[]string{`f.yaml:11:12: probe.timeout: must be at least 10ms, got "5ms"`}},
		{"interval below the floor", base + "probe:\n  interval: 1ms\n",
			[]string{`f.yaml:11:13: probe.interval: must be at least 100ms, got "1ms"`}},
		{"duration that overflows", base + "probe:\n  interval: 99999999999w\n",
			[]string{`f.yaml:11:13: probe.interval: duration "99999999999w" out of range`}},
		{"zero interval", base + "probe:\n  interval: 0s\n",
			[]string{`f.yaml:11:13: probe.interval: must be greater than zero, got "0s"`}},
		{"negative interval", base + "probe:\n  interval: -1s\n",
			[]string{`f.yaml:11:13: probe.interval: must be greater than zero, got "-1s"`}},
		{"percentage over 100", base + "probe:\n  down_loss_percent: 150%\n",
			[]string{`f.yaml:11:22: probe.down_loss_percent: percentage "150%" is outside 0%..100%`}},
		{"percentage not a number", base + "probe:\n  down_loss_percent: half\n",
			[]string{`f.yaml:11:22: probe.down_loss_percent: bad percentage "half"`}},
		{"zero down_after", base + "probe:\n  down_after: 0\n",
			[]string{`f.yaml:11:15: probe.down_after: 0 is outside 1..1000`}},
		{"no standby", strings.Replace(base, "role: standby", "role: primary", 1),
			[]string{`f.yaml:4:5: servers: no server has role standby`,
				`f.yaml:8:11: servers[1].role: servers[0] is already the primary`}},
		{"no primary", strings.Replace(base, "role: primary", "role: monitor", 1),
			[]string{`f.yaml:4:5: servers: no server has role primary`}},
		{"two servers with one address", strings.Replace(base, "192.10.10.2", "104.247.193.168", 1),
			[]string{`f.yaml:9:14: servers[1].address: address 104.247.193.168 is also servers[0]'s: two servers with one address cannot fail over`}},
		{"password inline and from env", "router:\n  address: r\n  password: secret\n  password_env: FW_PW\n" + base[strings.Index(base, "servers"):],
			[]string{`f.yaml:4:17: router.password_env: the password is given twice (router.password and router.password_env): keep one`}},
		{"unknown role", strings.Replace(base, "role: standby", "role: backup", 1),
			[]string{`f.yaml:8:11: servers[1].role: "backup" is not one of primary, standby, monitor`}},
		{"unknown check type", strings.Replace(base, "address: 192.10.10.2", "address: 192.10.10.2\n    checks:\n      - type: ping", 1),
			[]string{`f.yaml:11:15: servers[1].checks[0].type: "ping" is not one of icmp, tcp, http`}},
		{"tcp check without port", strings.Replace(base, "address: 192.10.10.2", "address: 192.10.10.2\n    checks:\n      - type: tcp", 1),
			[]string{`f.yaml:11:9: servers[1].checks[0]: a tcp check needs a port`}},
		{"http check with a bad url", strings.Replace(base, "address: 192.10.10.2", "address: 192.10.10.2\n    checks:\n      - type: http\n        url: ftp://x", 1),
			[]string{`f.yaml:11:9: servers[1].checks[0].url: "ftp://x" is not an http:// or https:// URL with a host`}},
		{"bad expect range", strings.Replace(base, "address: 192.10.10.2", "address: 192.10.10.2\n    checks:\n      - type: http\n        url: http://x/\n        expect: 200-999", 1),
			[]string{`f.yaml:13:17: servers[1].checks[0].expect: status range "200-999" is not within 100-599 low to high`}},
		{"servers is not a list", "router:\n  address: r\nservers: public\n",
			[]string{`f.yaml:3:10: servers: want a list of servers, got "public"`}},
		{"yaml syntax error", "router:\n\taddress: r\n",
			[]string{`f.yaml:2:1: yaml: found character that cannot start any token`}},
		{"yaml syntax error, indented", "router:\n  address: r\n  user: [admin\n",
			[]string{`f.yaml:3:3: yaml: did not find expected ',' or ']'`}},
		// The parser names line 1 (the mapping it was in), or none.
		{"yaml syntax error in line 2", "router: r\n- servers\n",
			[]string{`f.yaml:2:1: yaml: did not find expected key`}},
		{"yaml syntax error in a list", "servers:\n  - a\n  b: c\n",
			[]string{`f.yaml:3:3: yaml: did not find expected '-' indicator`}},
		{"yaml syntax error the parser does not place", "router:\n  address: r\n  user: *admin\n",
			[]string{`f.yaml:3:3: yaml: unknown anchor 'admin' referenced`}},
		{"yaml syntax error in a second document", "router:\n  address: r\n---\nrouter: [\n",
			[]string{`f.yaml:4:1: yaml: did not find expected node content`}},
		{"the example as shipped", base + "unedited: true\n",
			[]string{`f.yaml:10:11: unedited: edit f.yaml first: its router, service and servers are the example's; then delete this line`}},
		{"serve user without a role", base + "serve:\n  users:\n    - {name: bob, keys: [\"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJvR0xYk6Tz6F1Km6v2l8a6jvQxk0mZ8Q8n2b2zq7X5Q bob\"]}\n",
			[]string{`f.yaml:12:7: serve.users[0].role: user bob needs a role: viewer or operator`}},
		{"serve user with a bad key", base + "serve:\n  users:\n    - {name: eve, role: viewer, keys: [\"not a key\"]}\n",
			[]string{`f.yaml:12:40: serve.users[0].keys[0]: not a public key: want an authorized_keys line such as "ssh-ed25519 AAAA... alice"`}},
		{"operator slots as many as sessions", base + "serve:\n  max_sessions: 4\n  operator_slots: 4\n",
			[]string{`f.yaml:12:19: serve.operator_slots: 4 must be fewer than max_sessions (4), or viewers get no session`}},
		{"max sessions within the default operator slots", base + "serve:\n  max_sessions: 2\n",
			[]string{`f.yaml:11:17: serve.max_sessions: 2 leaves viewers no session: operator_slots (2 by default) are kept for operators; make it larger or set operator_slots lower`}},
		{"max startups not start:rate:full", base + "serve:\n  max_startups: 10:30\n",
			[]string{`f.yaml:11:17: serve.max_startups: want start:rate:full as sshd's MaxStartups (e.g. 10:30:100), or one number, got "10:30"`}},
		{"max startups full below start", base + "serve:\n  max_startups: 10:30:5\n",
			[]string{`f.yaml:11:17: serve.max_startups: full (5) is less than start (10) in "10:30:5"`}},
		{"max startups rate over 100", base + "serve:\n  max_startups: 10:130:50\n",
			[]string{`f.yaml:11:17: serve.max_startups: rate is a percentage from 1 to 100, got 130 in "10:130:50"`}},
		{"per source max startups neither a number nor none", base + "serve:\n  per_source_max_startups: few\n",
			[]string{`f.yaml:11:28: serve.per_source_max_startups: want a whole number, got "few"`}},
		{"login grace time zero", base + "serve:\n  login_grace_time: 0s\n",
			[]string{`f.yaml:11:21: serve.login_grace_time: must be greater than zero, got "0s"`}},
		{"two documents", "router:\n  address: r\n---\nrouter:\n  address: s\n",
			[]string{`f.yaml:3:1: a second YAML document (after ---): failwatch reads one; put everything in the first`}},
		{"empty file", "",
			[]string{`f.yaml:1:1: the file is empty; see failwatch.example.yaml`}},
		{"repeated key", "router:\n  address: a\n  address: b\n" + base[strings.Index(base, "servers"):],
			[]string{`f.yaml:3:3: router.address: "address" is given twice`}},
		{"loss window larger than window", base + "probe:\n  window: 10\n  loss_window: 20\n",
			[]string{`f.yaml:11:3: probe.loss_window: loss_window (20) is larger than window (10)`}},
		{"bad router port", strings.Replace(base, "192.168.137.2", "192.168.137.2:99999", 1),
			[]string{`f.yaml:2:3: router.address: bad port "99999" in "192.168.137.2:99999"`}},
		{"rewrite without record", base + "service:\n  name: tomtotrading.com\n  layout: rewrite\n",
			[]string{`f.yaml:11:3: service.record: the rewrite layout needs the record's comment or address`}},
		{"host name server without record", base + "service:\n  name: tomtotrading.com\n" + "  layout: toggle\n",
			nil},
		{"toggle with a host name and no record", strings.Replace(base, "address: 192.10.10.2", "address: private.example", 1) + "service:\n  name: tomtotrading.com\n",
			[]string{`f.yaml:7:5: servers[1].record: private.example is a host name: say how to find its static record (record.comment or record.address)`}},
		{"bad auto restore", base + "auto:\n  enabled: yes\n  restore: sometimes\n",
			[]string{`f.yaml:12:12: auto.restore: "sometimes" is not one of manual, auto`}},
		{"bad boolean", base + "ui:\n  ascii: maybe\n",
			[]string{`f.yaml:11:10: ui.ascii: want true or false, got "maybe"`}},
		{"two problems in one file are both reported", base + "probe:\n  interval: 0s\n  up_after: x\n",
			[]string{`f.yaml:11:13: probe.interval: must be greater than zero, got "0s"`,
				`f.yaml:12:13: probe.up_after: want a whole number, got "x"`}},
		{"three services over three servers", servicesBase, nil},
		{"service: and services:", servicesBase + "service:\n  name: x\n",
			[]string{`f.yaml:20:3: service: give service: (one) or services: (a list), not both`}},
		{"a record claimed by two services", strings.Replace(servicesBase, "api.example.test", "www.example.test", 1),
			[]string{`f.yaml:9:11: services[1].name: www.example.test is also services[0]: its records would be claimed by two services`}},
		{"a service whose server is missing", strings.Replace(servicesBase, "standby: pub1", "standby: pub9", 1),
			[]string{`f.yaml:14:14: services[2].standby: no server is named "pub9" in servers:`}},
		{"a service without a standby", strings.Replace(servicesBase, "    standby: pub1\n", "", 1),
			[]string{`f.yaml:12:5: services[2].standby: mail.example.test needs a standby: a server name from servers:`}},
		{"a server with no service", servicesBase + "  - {name: spare, address: 192.0.2.8}\n",
			[]string{`f.yaml:19:5: servers[3]: spare carries no service: name it as a service's primary or standby, or give it role: monitor`}},
		{"a watched server", servicesBase + "  - {name: spare, role: monitor, address: 192.0.2.8}\n", nil},
		{"a role with services:", strings.Replace(servicesBase, "{name: pub1,", "{name: pub1, role: primary,", 1),
			[]string{`f.yaml:16:24: servers[0].role: with services:, a server's role comes from the services that name it; only monitor may be given`}},
		{"a record of a server that does not carry it", strings.Replace(servicesBase, "pub1: {comment", "pub2: {comment", 1),
			[]string{`f.yaml:8:7: services[0].records.pub2: pub2 does not carry www.example.test (its primary is pub1, its standby priv)`}},
		{"one record for both servers", strings.Replace(servicesBase, "pub1: {comment: www public}", "pub1: {comment: www}\n      priv: {comment: www}", 1),
			[]string{`f.yaml:4:5: services[0].records: pub1 and priv would claim one record of www.example.test ({Comment:www Address:}): give each its own`}},
		{"primary and standby the same", strings.Replace(servicesBase, "standby: pub1", "standby: pub2", 1),
			[]string{`f.yaml:14:14: services[2].standby: pub2 is also the primary: a name cannot fail over to the server it is on`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("f.yaml", []byte(tc.yaml))
			if tc.want == nil {
				if err != nil {
					t.Fatalf("want no error, got:\n%v", err)
				}
				return
			}
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("want Errors, got %v", err)
			}
			got := strings.Split(errs.Error(), "\n")
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("errors:\n got  %q\n want %q", got, tc.want)
			}
		})
	}
}

func TestParseDefaults(t *testing.T) {
	cfg, err := Parse("f.yaml", []byte(base+"service:\n  name: tomtotrading.com\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Probe.Interval != time.Second || cfg.Probe.Window != 120 || cfg.Probe.DownAfter != 3 || cfg.Probe.UpAfter != 2 {
		t.Errorf("probe defaults: %+v", cfg.Probe)
	}
	svc := cfg.Services[0]
	if svc.Layout != Toggle || svc.Primary != "public" || svc.Standby != "private" || svc.Auto != cfg.Auto ||
		cfg.Router.User != "admin" || cfg.Router.RouterAddr() != "192.168.137.2:8728" {
		t.Errorf("router/service defaults: %+v %+v", cfg.Router, svc)
	}
	pub, _ := cfg.Server("public")
	if pub.Record.Address != "104.247.193.168" || len(pub.Checks) != 1 || pub.Checks[0].Kind != ICMP {
		t.Errorf("server defaults: %+v", pub)
	}
}

// serve's pre-authentication limits and slots: sshd's defaults, and
// sshd's forms (one number for MaxStartups, none for the per-source cap).
func TestParseServeLimits(t *testing.T) {
	cfg, err := Parse("f.yaml", []byte(base+"service:\n  name: x.test\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s := cfg.Serve; s.LoginGraceTime != 2*time.Minute || s.MaxStartups != (MaxStartups{10, 30, 100}) ||
		s.PerSourceMaxStartups != 10 || s.OperatorSlots != 2 || s.MaxSessions != 50 {
		t.Errorf("serve defaults: %+v", s)
	}
	cfg, err = Parse("f.yaml", []byte(base+"service:\n  name: x.test\nserve:\n  login_grace_time: 30s\n"+
		"  max_startups: 20\n  per_source_max_startups: none\n  max_sessions: 5\n  operator_slots: 0\n"+
		"  users:\n    - {name: a, role: viewer, keys: [\"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJvR0xYk6Tz6F1Km6v2l8a6jvQxk0mZ8Q8n2b2zq7X5Q a\"]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s := cfg.Serve; s.LoginGraceTime != 30*time.Second || s.MaxStartups != (MaxStartups{20, 100, 20}) ||
		s.PerSourceMaxStartups != 0 || s.OperatorSlots != 0 || s.MaxSessions != 5 {
		t.Errorf("serve settings: %+v", s)
	}
	if at := cfg.Serve.Users[0].KeysAt; len(at) != 1 || at[0] != "f.yaml:19:38" {
		t.Errorf("where the inline key is written: %q", at)
	}
}

// Each service knows its servers, their records of its name and its own
// auto settings; a server's role for screens comes from the services.
func TestParseServices(t *testing.T) {
	cfg, err := Parse("f.yaml", []byte(servicesBase+"auto:\n  enabled: true\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Services) != 3 || !cfg.Services[1].Auto.Enabled {
		t.Fatalf("services: %+v", cfg.Services)
	}
	pub1, priv := cfg.Pair(cfg.Services[0])
	if pub1.Record != (RecordMatch{Comment: "www public"}) || priv.Record != (RecordMatch{Address: "192.0.2.7"}) {
		t.Errorf("www's records: %+v %+v", pub1.Record, priv.Record)
	}
	// pub1 carries mail as its standby with its own address.
	_, pub1 = cfg.Pair(cfg.Services[2])
	if pub1.Record != (RecordMatch{Address: "198.51.100.7"}) {
		t.Errorf("mail's standby record: %+v", pub1.Record)
	}
	roles := map[string]Role{}
	for _, s := range cfg.Servers {
		roles[s.Name] = s.Role
	}
	if roles["pub1"] != Primary || roles["pub2"] != Primary || roles["priv"] != Standby {
		t.Errorf("roles: %v", roles)
	}
	own, err := Parse("f.yaml", []byte(strings.Replace(servicesBase, "    standby: pub1\n", "    standby: pub1\n    auto: {enabled: true, fail_after: 1m}\n", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if a := own.Services[2].Auto; !a.Enabled || a.FailAfter != time.Minute || a.HoldDown != 5*time.Minute || own.Services[0].Auto.Enabled {
		t.Errorf("per-service auto: %+v, www %+v", a, own.Services[0].Auto)
	}
}

// The README's example of several services is a valid config, as shown.
func TestReadmeServicesExample(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(b), "## Several services")
	_, rest, _ = strings.Cut(rest, "```yaml\n")
	example, _, ok := strings.Cut(rest, "```")
	if !ok {
		t.Fatal("no yaml example under ## Several services")
	}
	cfg, err := Parse("README.md", []byte("router: {address: 192.0.2.254}\n"+example))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Services) != 2 || cfg.Services[0].Records["pub1"].Comment != "www public" || !cfg.Services[1].Auto.Enabled {
		t.Errorf("services: %+v", cfg.Services)
	}
}

// The example, as the .deb installs it, refuses to run until edited; once
// its marker is gone it is valid, and every address it would reach is a
// documentation address (RFC 5737).
func TestExampleIsValid(t *testing.T) {
	const path = "../failwatch.example.yaml"
	_, err := LoadWithoutPassword(path)
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Key != "unedited" ||
		!strings.HasSuffix(errs[0].Error(), ": unedited: edit "+path+" first: its router, service and servers are the example's; then delete this line") {
		t.Fatalf("the example as shipped: %v", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(data), "\nunedited: true\n", "\n", 1)
	cfg, err := parse(path, []byte(edited), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("warnings: %v", cfg.Warnings)
	}
	if cfg.Router.PasswordFile != "/etc/failwatch/router.password" {
		t.Errorf("password file %q, want the one the README and the units name", cfg.Router.PasswordFile)
	}
	pub, priv := cfg.Pair(cfg.Services[0])
	if pub.Record.Comment != "Server Public" || priv.Record.Comment != "ServerPrivate" {
		t.Errorf("records: %+v %+v", pub.Record, priv.Record)
	}
	if len(pub.Checks) != 2 || pub.Checks[1].Kind != HTTP || pub.Checks[1].Expect.Contains(503) {
		t.Errorf("public checks: %+v", pub.Checks)
	}
	documentation := []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("203.0.113.0/24")}
	for _, addr := range []string{cfg.Router.Address, pub.Address, priv.Address} {
		a, err := netip.ParseAddr(addr)
		if err != nil || !slices.ContainsFunc(documentation, func(p netip.Prefix) bool { return p.Contains(a) }) {
			t.Errorf("%s is not a documentation address", addr)
		}
	}
	if cfg.Services[0].Name != "www.example.com" || pub.Checks[1].URL != "http://www.example.com/" {
		t.Errorf("service %s, url %s: want the example domain", cfg.Services[0].Name, pub.Checks[1].URL)
	}
}

// writer writes files in dir: write returns the path of name, written
// with content and mode.
func writer(t *testing.T, dir string) (write func(name, content string, mode os.FileMode) string) {
	return func(name, content string, mode os.FileMode) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
}

// loadWarned loads path, which must load with one warning, holding
// warning.
func loadWarned(t *testing.T, path, warning string) *Config {
	t.Helper()
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0], warning) {
		t.Errorf("warnings %v", cfg.Warnings)
	}
	return cfg
}

func TestPasswordSources(t *testing.T) {
	servers := base[strings.Index(base, "servers"):]
	dir := t.TempDir()
	write := writer(t, dir)

	t.Run("env", func(t *testing.T) {
		t.Setenv("FW_TEST_PW", "s3cret")
		cfg, err := Load(write("env.yaml", "router:\n  address: r\n  password_env: FW_TEST_PW\n"+servers, 0o600))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Router.Password.Reveal() != "s3cret" || len(cfg.Warnings) != 0 {
			t.Errorf("password %q warnings %v", cfg.Router.Password.Reveal(), cfg.Warnings)
		}
	})
	t.Run("file readable by others warns", func(t *testing.T) {
		write("pw", "fromfile\n", 0o644)
		cfg := loadWarned(t, write("file.yaml", "router:\n  address: r\n  password_file: pw\n"+servers, 0o600), "readable by others (mode 0644)")
		if cfg.Router.Password.Reveal() != "fromfile" {
			t.Errorf("password %q", cfg.Router.Password.Reveal())
		}
	})
	t.Run("inline in a world-readable config warns", func(t *testing.T) {
		cfg := loadWarned(t, write("inline.yaml", "router:\n  address: r\n  password: hunter2\n"+servers, 0o644), "holds a password and is readable by others")
		for _, w := range cfg.Warnings {
			if strings.Contains(w, "hunter2") {
				t.Errorf("warning shows the password: %s", w)
			}
		}
	})
	t.Run("missing password file", func(t *testing.T) {
		_, err := Load(write("missing.yaml", "router:\n  address: r\n  password_file: nope\n"+servers, 0o600))
		want := filepath.Join(dir, "missing.yaml") + ":3:18: router.password_file: password file " + filepath.Join(dir, "nope") +
			" does not exist: write the router's password into it, readable by its owner only (or root:failwatch 0640)"
		if err == nil || err.Error() != want {
			t.Errorf("got %v\nwant %s", err, want)
		}
	})
	t.Run("a command that never logs in reads no password", func(t *testing.T) {
		t.Setenv("FW_UNSET_PW", "")
		os.Unsetenv("FW_UNSET_PW")
		for _, router := range []string{"password_file: nope", "password_env: FW_UNSET_PW", "password: hunter2"} {
			cfg, err := LoadWithoutPassword(write("probes.yaml", "router:\n  address: r\n  "+router+"\n"+servers, 0o644))
			if err != nil || len(cfg.Warnings) != 0 || (cfg.Router.Password != "") != strings.HasPrefix(router, "password:") {
				t.Errorf("%s: %v, warnings %v", router, err, cfg.Warnings)
			}
		}
	})
	t.Run("group-readable file warns unless root:failwatch", func(t *testing.T) {
		pw := write("grouppw", "fromfile\n", 0o640)
		cfg, err := Load(write("group.yaml", "router:\n  address: r\n  password_file: grouppw\n"+servers, 0o600))
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := os.Stat(pw)
		st := fi.Sys().(*syscall.Stat_t)
		g, gerr := user.LookupGroupId(strconv.FormatUint(uint64(st.Gid), 10))
		if gerr != nil {
			t.Skipf("the file's group %d has no name: %v", st.Gid, gerr)
		}
		wantWarning := st.Uid != 0 || g.Name != ServiceGroup
		if got := len(cfg.Warnings) == 1 && strings.Contains(cfg.Warnings[0], "readable by group "+g.Name+" (mode 0640)"); got != wantWarning {
			t.Errorf("owner %d group %s: warnings %v", st.Uid, g.Name, cfg.Warnings)
		}
	})
}

// Without -c a config is looked for where admins look, or where
// FAILWATCH_CONFIG_PATH says.
func TestSearchPath(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", "/home/u/.config")
	t.Setenv("XDG_CONFIG_DIRS", "/etc/xdg:relative/ignored:/opt/etc")
	os.Unsetenv(SearchPathEnv)
	want := []string{"failwatch.yaml", "/home/u/.config/failwatch/config.yaml", "/etc/xdg/failwatch/config.yaml",
		"/opt/etc/failwatch/config.yaml", "/etc/failwatch/config.yaml"}
	if got := SearchPath(); !slices.Equal(got, want) {
		t.Errorf("search path %q\nwant %q", got, want)
	}
	t.Setenv("XDG_CONFIG_DIRS", "")
	if got := SearchPath(); got[2] != "/etc/xdg/failwatch/config.yaml" || got[3] != SystemPath {
		t.Errorf("default XDG_CONFIG_DIRS: %q", got)
	}

	dir := t.TempDir()
	second := filepath.Join(dir, "second.yaml")
	os.WriteFile(second, []byte("x: 1\n"), 0o600)
	t.Setenv(SearchPathEnv, filepath.Join(dir, "first.yaml")+":"+second)
	if got, err := Find(); got != second || err != nil {
		t.Errorf("Find() = %q, %v; want %s", got, err, second)
	}
	t.Setenv(SearchPathEnv, "")
	if _, err := Find(); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "$FAILWATCH_CONFIG_PATH is set and empty") {
		t.Errorf("empty search path: %v", err)
	}
	t.Setenv(SearchPathEnv, filepath.Join(dir, "none.yaml"))
	if _, err := Find(); err == nil || err.Error() != "no config file found (looked for "+filepath.Join(dir, "none.yaml")+"; give one with -c FILE)" {
		t.Errorf("nothing found: %v", err)
	}
}

func TestSecretNeverPrints(t *testing.T) {
	r := Router{Password: "hunter2"}
	for _, s := range []string{
		r.Password.String(), r.Password.GoString(),
		strings.Join([]string{func() string { b, _ := r.Password.MarshalText(); return string(b) }()}, ""),
	} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("secret printed: %s", s)
		}
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"1s", time.Second, false},
		{"500ms", 500 * time.Millisecond, false},
		{"1d", 24 * time.Hour, false},
		{"1w2d3h", 9*24*time.Hour + 3*time.Hour, false},
		{"10", 10 * time.Second, false},
		{"300", 300 * time.Second, false},
		{"00:00:30", 30 * time.Second, false},
		{"00:00:00.4", 400 * time.Millisecond, false},
		{"1d00:00:00", 24 * time.Hour, false},
		{"2w3d04:05:06", 17*24*time.Hour + 4*time.Hour + 5*time.Minute + 6*time.Second, false},
		{"00:61:00", 0, true},
		{"1:2", 0, true},
		{"99999999999w", 0, true},
		{"9223372036854775807", 0, true},
		{"2562048h", 0, true},
		{"106751d23:47:17", 0, true},
		{"", 0, true},
		{"xd", 0, true},
	}
	for _, tc := range tests {
		got, err := ParseDuration(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v", tc.in, got, err)
		}
	}
}

func TestStatusRanges(t *testing.T) {
	rs, err := ParseStatusRanges("200-299, 301")
	if err != nil {
		t.Fatal(err)
	}
	for code, want := range map[int]bool{200: true, 299: true, 301: true, 302: false, 503: false} {
		if rs.Contains(code) != want {
			t.Errorf("Contains(%d) = %v", code, !want)
		}
	}
	if rs.String() != "200-299,301" {
		t.Errorf("String() = %q", rs.String())
	}
}

func FuzzParse(f *testing.F) {
	f.Add(base)
	f.Add(base + "probe:\n  interval: 1w2d\n  down_loss_percent: 50%\n")
	f.Add("servers:\n  - checks:\n      - type: http\n        expect: 200-299,301\n")
	f.Add("router: [1, 2]\n")
	f.Fuzz(func(t *testing.T, s string) {
		cfg, err := Parse("f.yaml", []byte(s))
		if (cfg == nil) == (err == nil) {
			t.Fatalf("want exactly one of config and error, got %v and %v", cfg, err)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "f.yaml") {
			t.Fatalf("error does not name the file: %v", err)
		}
	})
}

func TestFormatDuration(t *testing.T) {
	for in, want := range map[time.Duration]string{
		24 * time.Hour: "1d", 30 * time.Second: "30s", 9*24*time.Hour + 3*time.Hour + 4*time.Second: "1w2d3h4s", 0: "0s", 500 * time.Millisecond: "500ms",
	} {
		if got := FormatDuration(in); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", in, got, want)
		}
		if in >= time.Second {
			if back, err := ParseDuration(want); err != nil || back != in {
				t.Errorf("ParseDuration(%q) = %v, %v", want, back, err)
			}
		}
	}
}

// Only a regular file of a sane size is read: a FIFO would block, a device
// or a huge file would fill memory.
func TestLoadRefusesOddFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(dir, "huge.yaml")
	if err := os.WriteFile(huge, []byte("router:\n  address: r\n"+strings.Repeat("# padding\n", MaxFileSize/10+1)), 0o600); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		dir:         "is not a regular file (d",
		fifo:        "is not a regular file (p",
		"/dev/zero": "is not a regular file (D",
		huge:        "is larger than 4 MiB",
	} {
		if _, err := Load(path); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Load(%s): %v, want %q", path, err, want)
		}
	}
}

// The defaults the tags declare are the documented ones.
func TestDefaultsFromTags(t *testing.T) {
	want := Config{
		Router: Router{User: "admin", Timeout: 5 * time.Second},
		Serve: Serve{Listen: "127.0.0.1:2222", MaxSessions: 50, IdleTimeout: 30 * time.Minute, OperatorSlots: 2,
			LoginGraceTime: 2 * time.Minute, MaxStartups: MaxStartups{Start: 10, Rate: 30, Full: 100}, PerSourceMaxStartups: 10},
		Probe: Probe{Interval: time.Second, Timeout: time.Second, Window: 120, DownAfter: 3, UpAfter: 2, LossWindow: 20,
			DownLossPercent: 50, ResolveEvery: time.Minute, ICMPMode: ICMPAuto},
		UI:   UI{Theme: "auto"},
		Auto: Auto{FailAfter: 30 * time.Second, HoldDown: 5 * time.Minute, Restore: "manual", RestoreAfter: 5 * time.Minute},
	}
	if got := Defaults(); !reflect.DeepEqual(got, want) {
		t.Errorf("Defaults()\n got  %+v\n want %+v", got, want)
	}
	if MinInterval != 100*time.Millisecond || MinTimeout != 10*time.Millisecond || !reflect.DeepEqual(DefaultExpect, StatusRanges{{200, 399}}) {
		t.Errorf("floors %v %v, expect %v", MinInterval, MinTimeout, DefaultExpect)
	}
	if h := defaulted[HA](); h.LeaseTTL != 10*time.Second || h.Quorum != 1 || h.DialTimeout != 2*time.Second {
		t.Errorf("ha defaults %+v", h)
	}
}

// Keys only services: takes are unknown in the single service:.
func TestSingleServiceKeys(t *testing.T) {
	_, err := Parse("f.yaml", []byte(base+"service:\n  name: x.test\n  standby: private\n"))
	if err == nil || err.Error() != `f.yaml:12:3: service.standby: unknown key "standby"` {
		t.Errorf("got %v", err)
	}
}

// uncomment removes the "# " of the commented block that starts at the
// line head, keeping its indentation; nested comments stay comments.
func uncomment(t *testing.T, s, head string) string {
	t.Helper()
	lines := strings.Split(s, "\n")
	i := slices.Index(lines, head)
	if i < 0 {
		t.Fatalf("no line %q", head)
	}
	indent := head[:strings.Index(head, "#")]
	for ; i < len(lines) && strings.HasPrefix(lines[i], indent+"#"); i++ {
		lines[i] = indent + strings.TrimPrefix(lines[i][len(indent):], "# ")
	}
	return strings.Join(lines, "\n")
}

// The example's commented bridge and ha: sections are valid as shown.
func TestExampleBridgeAndHA(t *testing.T) {
	const path = "../failwatch.example.yaml"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(data), "\nunedited: true\n", "\n", 1)
	edited = uncomment(t, uncomment(t, edited, "  # bridge:"), "# ha:")
	cfg, err := parse(path, []byte(edited), false)
	if err != nil {
		t.Fatal(err)
	}
	if b := cfg.Services[0].Bridge; !b.On() || len(b.TCP) != 2 || b.Comment != "failwatch bridge www.example.com" {
		t.Errorf("bridge: %+v", b)
	}
	if h := cfg.HA; h == nil || h.Cluster != "noc" || h.Name != "jump1" || h.PasswordFile != "/etc/failwatch/etcd.password" {
		t.Errorf("ha: %+v", h)
	}
}

// Every struct a file can reach reads its tags: a malformed tag would
// panic here rather than on an admin's file.
func TestEveryTagReads(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(ty reflect.Type) {
		for ty.Kind() == reflect.Pointer || ty.Kind() == reflect.Slice || ty.Kind() == reflect.Map {
			ty = ty.Elem()
		}
		if ty.Kind() != reflect.Struct || seen[ty] || parsers[ty] != nil {
			return
		}
		seen[ty] = true
		setDefaults(reflect.New(ty).Elem())
		for _, f := range fieldsOf(ty) {
			walk(f.typ)
		}
	}
	walk(reflect.TypeFor[Config]())
	for _, want := range []reflect.Type{reflect.TypeFor[Bridge](), reflect.TypeFor[HA](), reflect.TypeFor[Check](), reflect.TypeFor[ServeUser]()} {
		if !seen[want] {
			t.Errorf("%s is not reached from Config's keys", want)
		}
	}
}
