package failover

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/paper"
	"github.com/failwatch/failwatch/internal/testkit"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/rosim"
)

// unreadableKind is one way a router's print can be unreadable: the
// property it misprints in a static record and in a netwatch entry (each
// table's own "address" and "name"), and what it prints instead.
type unreadableKind struct {
	name             string
	record, netwatch string
	value            string
}

var unreadableKinds = []unreadableKind{
	{"disabled maybe", "disabled", "disabled", "maybe"},
	{"disabled empty", "disabled", "disabled", ""},
	{"disabled absent", "disabled", "disabled", rosim.Absent},
	{"no .id", ".id", ".id", rosim.Absent},
	{"id not *HEX", ".id", ".id", "7"},
	{"address not one", "address", "host", "104.247.193"},
	{"no name (netwatch: no host)", "name", "host", rosim.Absent},
}

// unreadableOp is an operation and the tables it changes: an unreadable row
// in one of them refuses it, one in another table does not.
type unreadableOp struct {
	name              string
	records, netwatch bool
	prepare           func(ctx context.Context, f *Failover) error
	run               func(ctx context.Context, f *Failover, c *routeros.Client) error
}

var unreadableOps = []unreadableOp{
	{name: "failover", records: true,
		run: func(ctx context.Context, f *Failover, _ *routeros.Client) error {
			_, err := f.FailoverToStandby(ctx, false)
			return err
		}},
	{name: "failover with hold", records: true, netwatch: true,
		run: func(ctx context.Context, f *Failover, _ *routeros.Client) error {
			_, err := f.FailoverToStandby(ctx, true)
			return err
		}},
	{name: "restore", records: true, netwatch: true,
		prepare: func(ctx context.Context, f *Failover) error { _, err := f.FailoverToStandby(ctx, true); return err },
		run:     func(ctx context.Context, f *Failover, _ *routeros.Client) error { _, err := f.Restore(ctx); return err }},
	{name: "hold", netwatch: true,
		run: func(ctx context.Context, f *Failover, _ *routeros.Client) error {
			_, err := f.HoldNetwatch(ctx)
			return err
		}},
	{name: "release", netwatch: true,
		prepare: func(ctx context.Context, f *Failover) error { _, err := f.HoldNetwatch(ctx); return err },
		run: func(ctx context.Context, f *Failover, _ *routeros.Client) error {
			_, err := f.ReleaseNetwatch(ctx)
			return err
		}},
	{name: "setup --apply", records: true, netwatch: true,
		run: func(ctx context.Context, _ *Failover, c *routeros.Client) error {
			p, err := paperSetup(false).Plan(ctx, c)
			if err != nil {
				return err
			}
			return p.Apply(ctx, c)
		}},
}

// A row of the service that cannot be read (each kind, in each table)
// refuses every operation that changes that table, before its first write,
// saying so; the router is untouched. The same row in a table the operation
// does not change does not stop it.
func TestUnreadableRowsRefuseBeforeAnyChange(t *testing.T) {
	ctx := context.Background()
	for _, op := range unreadableOps {
		for _, table := range []string{"/ip/dns/static", "/tool/netwatch"} {
			for _, kind := range unreadableKinds {
				t.Run(op.name+"/"+table+"/"+kind.name, func(t *testing.T) {
					r, addr := emulator(t, rosim.Options{})
					c := client(t, addr, "admin", "")
					f, _, audit := paperFailover(t, c, config.Toggle)
					if op.prepare != nil {
						if err := op.prepare(ctx, f); err != nil {
							t.Fatal(err)
						}
					}
					key := kind.record
					if table == "/tool/netwatch" {
						key = kind.netwatch
					}
					// The public server's record, or its netwatch entry.
					r.Misprint(table, "*1", key, kind.value)
					applied := len(r.Applied())
					prior := len(readAuditOrNone(t, audit))

					err := op.run(ctx, f, c)
					blocks := (table == "/ip/dns/static" && op.records) || (table == "/tool/netwatch" && op.netwatch)
					if !blocks {
						if err != nil {
							t.Errorf("an unreadable row in a table %s does not change stopped it: %v", op.name, err)
						}
						return
					}
					if err == nil || !strings.Contains(err.Error(), "unreadable: ") || !strings.Contains(err.Error(), "nothing was changed") {
						t.Fatalf("err %v, want unreadable and nothing was changed", err)
					}
					if got := r.Applied()[applied:]; len(got) != 0 {
						t.Errorf("the router was changed: %q", got)
					}
					if op.name != "setup --apply" {
						lines := testkit.JSONLines(t, audit)
						if len(lines) != prior+1 || lines[len(lines)-1]["result"] != string(OutcomeFailed) {
							t.Errorf("audit: %v", lines[prior:])
						}
					}
				})
			}
		}
	}
}

// Rows of another service, or of a name nobody fails over, do not make a
// service unreadable; a row whose name cannot be read, or that carries a
// server's comment, does.
func TestUnreadableBelongsToTheService(t *testing.T) {
	svc := paper.Service()
	servers := paper.Servers(paper.PublicAddress, paper.PrivateAddress)
	bad := func(r routeros.Record) routeros.Record {
		r.Unreadable = "disabled \"maybe\" is not true or false"
		return r
	}
	for _, tc := range []struct {
		name string
		rec  routeros.Record
		want bool
	}{
		{"its own name", bad(routeros.Record{Name: svc.Name}), true},
		{"its name in capitals", bad(routeros.Record{Name: strings.ToUpper(svc.Name)}), true},
		{"no name", bad(routeros.Record{}), true},
		{"a sibling's", bad(routeros.Record{Name: "other.example", Comment: servers[0].Record.Comment}), false},
		{"another name with a server's comment", bad(routeros.Record{Name: "mistyped.example", Comment: servers[0].Record.Comment}), true},
		{"another name", bad(routeros.Record{Name: "unrelated.example"}), false},
		{"a regexp record", bad(routeros.Record{Regexp: ".*\\.lan"}), false},
		{"its own, readable", routeros.Record{Name: svc.Name}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Unreadable(svc, []string{"other.example"}, []routeros.Record{tc.rec}, servers...)
			if (err != nil) != tc.want {
				t.Errorf("unreadable %v, want %v", err, tc.want)
			}
		})
	}
}

// The strict reader: each kind of value a router never sends is named,
// with the row; what a router sends is read.
func TestRecordFromIsStrict(t *testing.T) {
	good := map[string]string{".id": "*1A", "name": "x.example", "address": "192.0.2.1", "disabled": "false", "dynamic": "false", "ttl": "30s"}
	if r := routeros.RecordFrom(good); r.Unreadable != "" || r.ID != "*1A" || r.Disabled || r.Type != "A" {
		t.Fatalf("a good row read as %+v", r)
	}
	for _, tc := range []struct{ key, value, want string }{
		{"disabled", "maybe", `disabled "maybe" is not true or false`},
		{"disabled", "", `disabled "" is not true or false`},
		{"disabled", "yes", `disabled "yes" is not true or false`},
		{"disabled", rosim.Absent, "no disabled"},
		{"dynamic", "1", `dynamic "1" is not true or false`},
		{".id", rosim.Absent, "no .id"},
		{".id", "*1g", `.id "*1g" is not *HEX`},
		{".id", "*a", `.id "*a" is not *HEX`},
		{".id", "1", `.id "1" is not *HEX`},
		{"address", "192.0.2", `address "192.0.2" is not an IP address`},
		{"address", "2001:db8::1", `address "2001:db8::1" of an A record is not IPv4`},
		{"name", rosim.Absent, "no name"},
		{"type", "B", `type "B" is not one RouterOS has`},
	} {
		row := map[string]string{}
		for k, v := range good {
			row[k] = v
		}
		if tc.value == rosim.Absent {
			delete(row, tc.key)
		} else {
			row[tc.key] = tc.value
		}
		r := routeros.RecordFrom(row)
		if !strings.HasPrefix(r.Unreadable, tc.want+" in [") {
			t.Errorf("%s=%q: unreadable %q, want %q with the row", tc.key, tc.value, r.Unreadable, tc.want)
		}
	}
	long := map[string]string{".id": "*1", "name": "x", "address": "192.0.2.1", "disabled": "maybe", "comment": strings.Repeat("c", 10000)}
	if r := routeros.RecordFrom(long); len(r.Unreadable) > 400 {
		t.Errorf("a router's long row is quoted whole: %d bytes", len(r.Unreadable))
	}
}

// The rollback sends only inverses of what the operation sent, and the
// steps it reports and audits are exactly the changes the router applied.
// Every operation, every fault at every change.
func TestRollbackStepsAreWhatWasSent(t *testing.T) {
	for _, fop := range faultOps {
		for i := range fop.sets {
			for _, kind := range allFaults {
				t.Run(fop.name+"/"+strings.Repeat("I", i+1)+"/"+string(kind), func(t *testing.T) {
					r, _, f, audit := faultRig(t, fop.layout)
					ctx := context.Background()
					if fop.prepare != nil {
						if err := fop.prepare(ctx, f); err != nil {
							t.Fatal(err)
						}
					}
					start := len(r.Applied())
					opCtx, cancel := context.WithCancel(ctx)
					defer cancel()
					armFault(r, fop, i, kind, cancel)
					res, _ := fop.run(opCtx, f)
					applied := r.Applied()[start:]

					// Forward changes carry no "set" in their step name;
					// undo steps say "undo ...: set ID k=v ...".
					var undone []string
					for _, s := range res.Steps {
						if s.Status != StepRolledBack {
							continue
						}
						_, cmd, ok := strings.Cut(s.Name, ": set ")
						if !ok || !strings.HasPrefix(s.Name, "undo ") {
							t.Errorf("a rolled back step that does not say what it sent: %q", s.Name)
							continue
						}
						undone = append(undone, cmd)
					}
					var undoApplied []string
					for i, a := range applied {
						if isInverse(a, applied[:i]) {
							undoApplied = append(undoApplied, a)
						}
					}
					for _, u := range undone {
						if !slices.ContainsFunc(undoApplied, func(a string) bool { return sameChange(a, u) }) {
							t.Errorf("step says it sent %q; the router applied these inverses: %q", u, undoApplied)
						}
					}
					for _, a := range undoApplied {
						if !slices.ContainsFunc(undone, func(u string) bool { return sameChange(a, u) }) {
							t.Errorf("the router applied %q, which no undo step reports (steps: %q)", a, undone)
						}
					}
					// The audit line's steps are the result's.
					lines := testkit.JSONLines(t, audit)
					steps, _ := lines[len(lines)-1]["steps"].([]any)
					if len(steps) != len(res.Steps) {
						t.Errorf("audit has %d steps, the result %d", len(steps), len(res.Steps))
					}
				})
			}
		}
	}
}

// isInverse says whether an applied change sets back what an earlier one
// set: the same item, the same properties, other values.
func isInverse(a string, earlier []string) bool {
	id, kv := splitChange(a)
	return slices.ContainsFunc(earlier, func(prev string) bool {
		pid, pkv := splitChange(prev)
		return pid == id && kvKeys(pkv) == kvKeys(kv) && !slices.Equal(pkv, kv)
	})
}

// sameChange compares an applied change ("/menu/set .id=*1 k=v") with a
// step's ("*1 k=v").
func sameChange(applied, step string) bool {
	id, kv := splitChange(applied)
	return step == id+" "+strings.Join(kv, " ")
}

// splitChange splits an applied change into its item and its properties,
// a quoted value kept whole.
func splitChange(a string) (id string, kv []string) {
	_, rest, _ := strings.Cut(a, " ")
	for rest != "" {
		k, v, _ := strings.Cut(rest, "=")
		if strings.HasPrefix(v, `"`) {
			q, err := strconv.QuotedPrefix(v)
			if err != nil {
				panic(err)
			}
			v, rest = q, strings.TrimPrefix(v[len(q):], " ")
		} else {
			v, rest, _ = strings.Cut(v, " ")
		}
		if k == ".id" {
			id = v
		} else {
			kv = append(kv, k+"="+v)
		}
	}
	return id, kv
}

func kvKeys(kv []string) string {
	var keys []string
	for _, p := range kv {
		k, _, _ := strings.Cut(p, "=")
		keys = append(keys, k)
	}
	return strings.Join(keys, ",")
}
