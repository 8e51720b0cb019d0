package config

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// services decodes the list form: each service names the servers that
// carry it.
func (d *decoder) services(path string, n *yaml.Node, cfg *Config) {
	if len(cfg.Services) > 0 {
		d.errorf(n, path, "give service: (one) or services: (a list), not both")
		return
	}
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		d.errorf(n, path, "want a list of services, got %s", describe(n))
		return
	}
	d.listed = true
	for i, sn := range n.Content {
		svc := Service{Layout: Toggle}
		d.serviceNodes = append(d.serviceNodes, d.service(fmt.Sprintf("%s[%d]", path, i), sn, &svc, true))
		cfg.Services = append(cfg.Services, svc)
	}
}

// service decodes one service; listed, it also names its servers, their
// records and its own auto settings.
func (d *decoder) service(path string, n *yaml.Node, s *Service, listed bool) serviceNodes {
	nodes := serviceNodes{node: n}
	layout := string(s.Layout)
	handlers := map[string]func(string, *yaml.Node){
		"name":          func(k string, v *yaml.Node) { nodes.name = v; d.str(&s.Name)(k, v) },
		"layout":        d.oneOf(&layout, string(Toggle), string(Rewrite)),
		"record":        func(key string, v *yaml.Node) { d.record(key, v, &s.Record) },
		"hold_netwatch": d.boolean(&s.HoldNetwatch),
		"dns_server":    d.str(&s.DNSServer),
		"audit_log":     d.str(&s.AuditLog),
	}
	if listed {
		handlers["primary"] = func(k string, v *yaml.Node) { nodes.primary = v; d.str(&s.Primary)(k, v) }
		handlers["standby"] = func(k string, v *yaml.Node) { nodes.standby = v; d.str(&s.Standby)(k, v) }
		handlers["auto"] = func(_ string, v *yaml.Node) { nodes.auto = v }
		handlers["records"] = func(k string, v *yaml.Node) {
			if v.Kind != yaml.MappingNode {
				d.errorf(v, k, "want a mapping of server names to record matches, got %s", describe(v))
				return
			}
			s.Records, nodes.records = map[string]RecordMatch{}, map[string]*yaml.Node{}
			for i := 0; i+1 < len(v.Content); i += 2 {
				name, m := v.Content[i].Value, RecordMatch{}
				d.record(join(k, name), v.Content[i+1], &m)
				s.Records[name], nodes.records[name] = m, v.Content[i]
			}
		}
	}
	d.fields(n, path, handlers)
	s.Layout = Layout(layout)
	return nodes
}

// validateServices checks each service against the servers, and the
// services against each other: a name (and so its records) claimed twice,
// a server that is missing, or one that carries nothing.
func (d *decoder) validateServices(cfg *Config) {
	names := map[string]int{}
	carried := map[string]bool{}
	for i := range cfg.Services {
		d.validateService(cfg, i, names, carried)
	}
	if !d.listed {
		return
	}
	for i := range cfg.Services {
		d.validateRecordsClaimed(cfg, i)
	}
	d.serverRoles(cfg, carried)
}

// validateService checks services[i] and completes it from the file: its
// audit log's path, its auto settings, and for the single service its
// servers by role. names holds the services checked before it (by index),
// carried the servers a listed service names.
func (d *decoder) validateService(cfg *Config, i int, names map[string]int, carried map[string]bool) {
	svc, nodes := &cfg.Services[i], d.serviceNodes[i]
	key := "service"
	if d.listed {
		key = fmt.Sprintf("services[%d]", i)
	}
	if svc.AuditLog != "" {
		svc.AuditLog = cfg.resolvePath(svc.AuditLog)
	}
	svc.Auto = cfg.Auto
	if nodes.auto != nil {
		d.auto(key+".auto", nodes.auto, &svc.Auto)
	}
	if !d.listed {
		// The single service: its servers are the primary and the
		// standby by role.
		for _, s := range cfg.Servers {
			switch s.Role {
			case Primary:
				svc.Primary = s.Name
			case Standby:
				svc.Standby = s.Name
			}
		}
	}
	switch j, dup := names[svc.Name]; {
	case svc.Name == "":
		d.errorf(nodes.node, key+".name", "the service needs a name (the DNS name that fails over)")
	case dup:
		d.errorf(nodes.at(nodes.name), key+".name", "%s is also services[%d]: its records would be claimed by two services", svc.Name, j)
	}
	names[svc.Name] = i
	if svc.Layout == Rewrite && svc.Record.IsZero() {
		d.errorf(nodes.node, key+".record", "the rewrite layout needs the record's comment or address")
	}
	if d.listed {
		d.validateCarriers(cfg, svc, nodes, key, carried)
	}
}

// at is n, or the service's own node when the key was not given.
func (nodes serviceNodes) at(n *yaml.Node) *yaml.Node {
	if n != nil {
		return n
	}
	return nodes.node
}

// validateCarriers checks the servers a listed service names: its primary
// and standby exist and differ, and its records are only theirs. Each named
// server goes into carried.
func (d *decoder) validateCarriers(cfg *Config, svc *Service, nodes serviceNodes, key string, carried map[string]bool) {
	for _, role := range []struct {
		name string
		node *yaml.Node
		what string
	}{{svc.Primary, nodes.primary, "primary"}, {svc.Standby, nodes.standby, "standby"}} {
		switch _, ok := cfg.Server(role.name); {
		case role.name == "":
			d.errorf(nodes.node, key+"."+role.what, "%s needs a %s: a server name from servers:", svc.Name, role.what)
		case !ok:
			d.errorf(role.node, key+"."+role.what, "no server is named %q in servers:", role.name)
		}
		carried[role.name] = true
	}
	if svc.Primary != "" && svc.Primary == svc.Standby {
		d.errorf(nodes.standby, key+".standby", "%s is also the primary: a name cannot fail over to the server it is on", svc.Standby)
	}
	for name, n := range nodes.records {
		if !svc.Carries(name) {
			d.errorf(n, key+".records."+name, "%s does not carry %s (its primary is %s, its standby %s)", name, svc.Name, svc.Primary, svc.Standby)
		}
	}
}

// validateRecordsClaimed checks that the toggle layout can find, for
// services[i], each of its servers' static records and that the two are not
// one record.
func (d *decoder) validateRecordsClaimed(cfg *Config, i int) {
	svc, nodes := cfg.Services[i], d.serviceNodes[i]
	if svc.Layout != Toggle {
		return
	}
	key := fmt.Sprintf("services[%d]", i)
	primary, standby := cfg.Pair(svc)
	for _, s := range []Server{primary, standby} {
		if s.Name != "" && s.Record.IsZero() {
			d.errorf(nodes.node, key, "%s's address %s is a host name: say how to find its static record of %s (records.%s.comment or .address)", s.Name, s.Address, svc.Name, s.Name)
		}
	}
	if primary.Name != "" && standby.Name != "" && primary.Name != standby.Name && !primary.Record.IsZero() && primary.Record == standby.Record {
		d.errorf(nodes.node, key+".records", "%s and %s would claim one record of %s (%+v): give each its own", primary.Name, standby.Name, svc.Name, primary.Record)
	}
}

// serverRoles, with services:, refuses a server no service carries (unless
// it only monitors) and gives each carrier its role from the services that
// name it.
func (d *decoder) serverRoles(cfg *Config, carried map[string]bool) {
	for i := range cfg.Servers {
		s := &cfg.Servers[i]
		switch {
		case s.Role == Monitor:
		case !carried[s.Name]:
			d.errorf(d.serverNodes[i].node, fmt.Sprintf("servers[%d]", i),
				"%s carries no service: name it as a service's primary or standby, or give it role: monitor", s.Name)
		default:
			// Its role for screens and reports: primary of any service
			// makes it a primary.
			s.Role = Standby
			for _, svc := range cfg.Services {
				if svc.Primary == s.Name {
					s.Role = Primary
				}
			}
		}
	}
}
