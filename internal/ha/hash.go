package ha

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/failwatch/failwatch/config"
)

// agreed is the part of a config every instance of a cluster must share to
// make the same decisions: the servers and their checks, the services with
// their records and policy thresholds, and who may do what. Per-host paths
// (audit logs, resolvers) and secrets are left out.
type agreed struct {
	Servers  []config.Server
	Services []agreedService
	Roles    map[string]string
	Auto     config.Auto
	Quorum   int
}

type agreedService struct {
	Name             string
	Layout           config.Layout
	Primary, Standby string
	Records          map[string]config.RecordMatch
	Record           config.RecordMatch
	HoldNetwatch     bool
	Auto             config.Auto
	Bridge           config.Bridge
}

// Hash is the hex SHA-256 of the parts of cfg instances must agree on.
func Hash(cfg *config.Config) (string, error) {
	a := agreed{Servers: cfg.Servers, Auto: cfg.Auto, Roles: map[string]string{"": cfg.Serve.Anonymous}}
	if cfg.HA != nil {
		a.Quorum = cfg.HA.Quorum
	}
	for _, u := range cfg.Serve.Users {
		a.Roles[u.Name] = u.Role
	}
	for _, s := range cfg.Services {
		a.Services = append(a.Services, agreedService{Name: s.Name, Layout: s.Layout, Primary: s.Primary, Standby: s.Standby,
			Records: s.Records, Record: s.Record, HoldNetwatch: s.HoldNetwatch, Auto: s.Auto, Bridge: s.Bridge})
	}
	b, err := json.Marshal(a)
	if err != nil {
		return "", fmt.Errorf("ha: the config's hash: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}
