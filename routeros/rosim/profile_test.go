package rosim

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// add runs an add on r as the API would and returns the trap's message.
func add(r *Router, menu string, kv ...string) string {
	var attrs []attr
	for i := 0; i+1 < len(kv); i += 2 {
		attrs = append(attrs, attr{kv[i], kv[i+1]})
	}
	if res := r.exec("admin", menu+"/add", attrs, nil); res.trap != nil {
		return res.trap.message
	}
	return ""
}

// Each version refuses the properties the manual does not list for it, so
// a wrong property name in failwatch's code fails a test.
func TestProfilesRefuseWhatTheVersionLacks(t *testing.T) {
	nw := []string{"host", "192.0.2.1"}
	for _, tc := range []struct {
		version  string
		refused  []string // netwatch properties
		accepted [][]string
	}{
		{"6.49.17 (long-term)",
			[]string{"type", "start-delay", "startup-delay", "packet-count", "thr-avg", "thr-max", "http-codes", "http-code-min", "ignore-initial-up", "ignore-initial-down", "port"},
			[][]string{{"interval", "10s", "timeout", "1s", "up-script", "/log info up", "down-script", "/log info down", "comment", "x"}}},
		{"7.13.5 (stable)",
			[]string{"ignore-initial-up", "ignore-initial-down", "http-code-min", "http-code-max", "ttl", "early-failure-detection"},
			[][]string{{"type", "icmp", "thr-avg", "300ms", "thr-max", "1s", "packet-count", "5", "start-delay", "0s", "name", "failwatch public"},
				{"type", "http-get", "port", "80", "http-codes", "200-399"}}},
		{"7.18.2 (stable)",
			[]string{"http-code-min", "http-code-max", "thr-rtt-avg", "early-failure-detection", "early-success-detection"},
			[][]string{{"type", "icmp", "thr-avg", "300ms", "ignore-initial-down", "yes", "ttl", "64", "name", "failwatch public"},
				{"type", "http-get", "port", "80", "http-codes", "200-399"}}},
	} {
		r := New(Options{Version: tc.version})
		for _, p := range tc.refused {
			v := "1"
			if got := add(r, "/tool/netwatch", append(nw, p, v)...); got != "unknown parameter "+p {
				t.Errorf("%s: netwatch %s=%s: %q, want unknown parameter", tc.version, p, v, got)
			}
		}
		for _, kv := range tc.accepted {
			if got := add(r, "/tool/netwatch", append(nw, kv...)...); got != "" {
				t.Errorf("%s: netwatch %v: %q", tc.version, kv, got)
			}
		}
		r.Close()
	}
	old := New(Options{Version: "6.49.17 (long-term)"})
	defer old.Close()
	if got := add(old, "/ip/dns/static", "name", "x.test", "address", "192.0.2.1", "match-subdomain", "yes"); got != "unknown parameter match-subdomain" {
		t.Errorf("6.49 match-subdomain: %q", got)
	}
	if got := add(old, "/tool/netwatch", "host", "192.0.2.1", "type", "dns"); got != "unknown parameter type" {
		t.Errorf("6.49 type: %q", got)
	}
	if err := CheckVersion("5.26"); err == nil {
		t.Error("RouterOS 5 taken")
	}
}

// waitStatus waits until a netwatch entry's status is want.
func waitStatus(t *testing.T, r *Router, id, want string, within time.Duration) {
	t.Helper()
	waitUntil(t, within, "netwatch "+id+" never "+want, func() bool { return status(r, id)["status"] == want })
}

func status(r *Router, id string) row {
	r.mu.Lock()
	defer r.mu.Unlock()
	rows, _ := r.netwatch.find(id)
	return cloneRow(rows[0])
}

// An icmp entry applies RouterOS's default thresholds even when none are
// set: the paper's public server (196 ms) is down on every test at the
// default thr-avg of 100 ms, and up once thr-avg and thr-max allow it.
func TestNetwatchThresholdsAlwaysApply(t *testing.T) {
	sim := NewSimulated()
	public := netip.MustParseAddr("198.51.100.7")
	sim.SetPath(public, 196*time.Millisecond, 6*time.Millisecond, 5)
	r := New(Options{Probe: sim.Probe, TimeScale: 100})
	defer r.Close()
	if tr := add(r, "/tool/netwatch", "host", public.String(), "type", "icmp", "interval", "10s", "comment", "defaults"); tr != "" {
		t.Fatal(tr)
	}
	if tr := add(r, "/tool/netwatch", "host", public.String(), "type", "icmp", "interval", "10s", "thr-avg", "300ms", "thr-max", "500ms", "comment", "raised"); tr != "" {
		t.Fatal(tr)
	}
	waitStatus(t, r, "*1", "down", 2*time.Second)
	waitStatus(t, r, "*2", "up", 2*time.Second)
	st := status(r, "*1")
	if st["sent-count"] != "10" || !strings.HasPrefix(st["rtt-avg"], "19") {
		t.Errorf("results of the defaults entry: %v", st)
	}
}

// A router that just booted tests nothing before startup-delay (5m), and a
// new entry waits its start-delay (3s); ignore-initial-down keeps a host
// that is down from the start from ever running its down-script.
func TestNetwatchDelaysAndInitialState(t *testing.T) {
	sim := NewSimulated()
	host := netip.MustParseAddr("198.51.100.9")
	sim.SetUp(host, false)
	// 100x: the 5 minute startup-delay is 3 s of wall time.
	r := New(Options{Probe: sim.Probe, TimeScale: 100, Uptime: time.Second})
	defer r.Close()
	for _, name := range []string{"plain", "ignoring"} {
		if tr := add(r, "/ip/dns/static", "name", name+".test", "address", "192.0.2.1", "comment", name); tr != "" {
			t.Fatal(tr)
		}
	}
	add(r, "/tool/netwatch", "host", host.String(), "down-script", `/ip dns static disable [find comment="plain"]`, "comment", "plain")
	add(r, "/tool/netwatch", "host", host.String(), "down-script", `/ip dns static disable [find comment="ignoring"]`, "ignore-initial-down", "yes", "comment", "ignoring")
	start := time.Now()
	waitStatus(t, r, "*1", "down", 6*time.Second)
	if waited := time.Since(start); waited < 2*time.Second {
		t.Errorf("first test after %s of wall time: startup-delay not kept", waited)
	}
	waitStatus(t, r, "*2", "down", time.Second)
	// A down-script runs after the status is set, outside the lock.
	waitUntil(t, time.Second, "the down-script of plain never ran", func() bool { return records(r)["plain"] == "true" })
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rec := range r.static.rows {
		if want := rec["comment"] == "plain"; (rec["disabled"] == "true") != want {
			t.Errorf("record %s disabled=%s: the down-script of %q", rec["comment"], rec["disabled"], rec["comment"])
		}
	}
}

// Netwatch's http-get sends no Host header: against a server with
// name-based virtual hosts it tests the default host, not the service, so
// an entry for a service that answers only to its name is down.
func TestNetwatchHTTPGetSendsNoHost(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Host != "www.example.test" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.WriteHeader(http.StatusOK)
	})}
	go srv.Serve(ln)
	defer srv.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	host := netip.MustParseAddr("127.0.0.1")
	status, _, err := HTTPGet(context.Background(), host, port, false)
	if err != nil || status != http.StatusNotFound {
		t.Fatalf("HTTPGet: %d %v", status, err)
	}
	r := New(Options{HTTP: HTTPGet, TimeScale: 100})
	defer r.Close()
	add(r, "/tool/netwatch", "host", "127.0.0.1", "type", "http-get", "port", strconv.Itoa(port), "comment", "default codes")
	add(r, "/tool/netwatch", "host", "127.0.0.1", "type", "http-get", "port", strconv.Itoa(port), "http-codes", "200-404", "comment", "404 taken")
	waitStatus(t, r, "*1", "down", 2*time.Second)
	waitStatus(t, r, "*2", "up", 2*time.Second)
}

// A router reports its version as a router does, with its channel, lists
// a command's arguments on /console/inspect (7.x; 6.49 has none), and one
// built without a property (Lacks) neither lists nor takes it.
func TestVersionAndInspect(t *testing.T) {
	for version, want := range map[string]string{"7.18": "7.18 (stable)", "7.13.5 (stable)": "7.13.5 (stable)"} {
		r := New(Options{Version: version})
		res := r.exec("admin", "/system/resource/print", []attr{{".proplist", "version"}}, nil)
		if len(res.rows) != 1 || !slices.Equal(res.rows[0], []string{"=version=" + want}) {
			t.Errorf("%s prints %q", version, res.rows)
		}
		r.Close()
	}
	args := func(r *Router) ([]string, string) {
		res := r.exec("admin", "/console/inspect", []attr{{"request", "child"}, {"path", "tool,netwatch,add"}}, nil)
		if res.trap != nil {
			return nil, res.trap.message
		}
		var names []string
		for _, row := range res.rows {
			for _, w := range row {
				if name, ok := strings.CutPrefix(w, "=name="); ok {
					names = append(names, name)
				}
			}
		}
		return names, ""
	}
	old := New(Options{Version: "6.49.17 (long-term)"})
	defer old.Close()
	if _, tr := args(old); tr != "no such command prefix" {
		t.Errorf("6.49 inspect: %q", tr)
	}
	r := New(Options{Lacks: []string{"ignore-initial-up"}})
	defer r.Close()
	names, tr := args(r)
	if tr != "" || !slices.Contains(names, "ignore-initial-down") || !slices.Contains(names, "thr-avg") || slices.Contains(names, "ignore-initial-up") || slices.Contains(names, "status") {
		t.Errorf("7.18 without ignore-initial-up lists %q (%s)", names, tr)
	}
	if got := add(r, "/tool/netwatch", "host", "192.0.2.1", "ignore-initial-up", "no"); got != "unknown parameter ignore-initial-up" {
		t.Errorf("the lacking router took it: %q", got)
	}
}
