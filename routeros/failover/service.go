package failover

import (
	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/routeros"
)

// ForService is the failover of the config's service svc over client:
// its primary and standby with their records of the name, the config's
// other services as siblings, each operation audited to audit in user's
// name. The engine and the one-shot commands build every failover here, so
// a service is the same whichever runs it.
func ForService(cfg *config.Config, svc config.Service, client *routeros.Client, user string, audit *Audit) *Failover {
	primary, standby := cfg.Pair(svc)
	return &Failover{Client: client, Service: svc, Primary: primary, Standby: standby,
		User: user, Audit: audit, Siblings: Siblings(cfg, svc)}
}

// AuditPath is where the operations on svc are appended: its own audit_log,
// else fallback (the command's default).
func AuditPath(svc config.Service, fallback string) string {
	if svc.AuditLog != "" {
		return svc.AuditLog
	}
	return fallback
}

// Siblings are the names of the config's services other than svc, in its
// order: a hold or a setup leaves their netwatch entries alone.
func Siblings(cfg *config.Config, svc config.Service) []string {
	var out []string
	for _, s := range cfg.Services {
		if s.Name != svc.Name {
			out = append(out, s.Name)
		}
	}
	return out
}
