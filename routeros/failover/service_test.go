package failover

import (
	"slices"
	"testing"

	"github.com/failwatch/failwatch/config"
)

// A service's failover has its own pair, the other services as siblings,
// and its own audit log over the command's.
func TestForService(t *testing.T) {
	cfg := &config.Config{
		Servers: []config.Server{{Name: "public", Address: "192.0.2.1"}, {Name: "private", Address: "192.0.2.2"}},
		Services: []config.Service{
			{Name: "www.example.test", Primary: "public", Standby: "private"},
			{Name: "api.example.test", Primary: "private", Standby: "public", AuditLog: "/var/log/api.jsonl"},
			{Name: "mail.example.test", Primary: "public", Standby: "private"},
		},
	}
	audit := NewAudit("/tmp/audit.jsonl")
	f := ForService(cfg, cfg.Services[1], nil, "alice", audit)
	if f.Primary.Name != "private" || f.Standby.Name != "public" || f.User != "alice" || f.Audit != audit {
		t.Errorf("failover: primary %s, standby %s, user %s", f.Primary.Name, f.Standby.Name, f.User)
	}
	if want := []string{"www.example.test", "mail.example.test"}; !slices.Equal(f.Siblings, want) {
		t.Errorf("siblings %v, want %v", f.Siblings, want)
	}
	if got := AuditPath(cfg.Services[1], "/default.jsonl"); got != "/var/log/api.jsonl" {
		t.Errorf("the service's own audit log: %s", got)
	}
	if got := AuditPath(cfg.Services[0], "/default.jsonl"); got != "/default.jsonl" {
		t.Errorf("the command's audit log: %s", got)
	}
}
