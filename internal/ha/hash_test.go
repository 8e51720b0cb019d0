package ha_test

import (
	"testing"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/ha"
	"github.com/failwatch/failwatch/internal/paper"
)

func TestHashCoversWhatInstancesMustAgreeOn(t *testing.T) {
	base := func() *config.Config { return paper.Config() }
	tests := []struct {
		name   string
		change func(*config.Config)
		same   bool
	}{
		{"nothing", func(*config.Config) {}, true},
		{"an audit log path (per host)", func(c *config.Config) { c.Services[0].AuditLog = "/elsewhere.jsonl" }, true},
		{"the resolver asked (per host)", func(c *config.Config) { c.Services[0].DNSServer = "127.0.0.1:53" }, true},
		{"a server's address", func(c *config.Config) { c.Servers[0].Address = "192.0.2.99" }, false},
		{"the policy's threshold", func(c *config.Config) { c.Services[0].Auto.FailAfter++ }, false},
		{"a user's role", func(c *config.Config) {
			c.Serve.Users = append(c.Serve.Users, config.ServeUser{Name: "alice", Role: config.RoleOperator})
		}, false},
		{"the primary", func(c *config.Config) {
			c.Services[0].Primary, c.Services[0].Standby = c.Services[0].Standby, c.Services[0].Primary
		}, false},
	}
	want, err := ha.Hash(base())
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		c := base()
		tt.change(c)
		got, err := ha.Hash(c)
		if err != nil {
			t.Fatal(err)
		}
		if (got == want) != tt.same {
			t.Errorf("%s: hash same = %v, want %v", tt.name, got == want, tt.same)
		}
	}
}
