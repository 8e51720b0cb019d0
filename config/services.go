package config

import (
	"fmt"
	"reflect"
)

// check completes the service's bridge: off carries nothing, and a rule
// with no comment of its own is found by one naming the service.
func (s *Service) check(*decoder, string) {
	switch {
	case !s.Bridge.On():
		s.Bridge = Bridge{}
	case s.Bridge.Comment == "":
		s.Bridge.Comment = "failwatch bridge " + s.Name
	}
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
	svc, key := &cfg.Services[i], d.servicePath(i)
	node := d.at(key)
	if svc.AuditLog != "" {
		svc.AuditLog = cfg.resolvePath(svc.AuditLog)
	}
	svc.Auto = cfg.Auto
	if d.has(key + ".auto") {
		d.mapping(key+".auto", d.at(key+".auto"), reflect.ValueOf(&svc.Auto).Elem(), nil)
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
		d.errorf(node, key+".name", "the service needs a name (the DNS name that fails over)")
	case dup:
		d.errorf(d.at(key+".name", key), key+".name", "%s is also services[%d]: its records would be claimed by two services", svc.Name, j)
	}
	names[svc.Name] = i
	if svc.Layout == Rewrite && svc.Record.IsZero() {
		d.errorf(node, key+".record", "the rewrite layout needs the record's comment or address")
	}
	if d.listed {
		d.validateCarriers(cfg, svc, key, carried)
	}
}

// servicePath is where services[i] is in the file: the single service:,
// or an element of services:.
func (d *decoder) servicePath(i int) string {
	if d.listed {
		return fmt.Sprintf("services[%d]", i)
	}
	return "service"
}

// validateCarriers checks the servers a listed service names: its primary
// and standby exist and differ, and its records are only theirs. Each named
// server goes into carried.
func (d *decoder) validateCarriers(cfg *Config, svc *Service, key string, carried map[string]bool) {
	for _, role := range []struct{ name, what string }{{svc.Primary, "primary"}, {svc.Standby, "standby"}} {
		switch _, ok := cfg.Server(role.name); {
		case role.name == "":
			d.errorf(d.at(key), key+"."+role.what, "%s needs a %s: a server name from servers:", svc.Name, role.what)
		case !ok:
			d.errorf(d.at(key+"."+role.what), key+"."+role.what, "no server is named %q in servers:", role.name)
		}
		carried[role.name] = true
	}
	if svc.Primary != "" && svc.Primary == svc.Standby {
		d.errorf(d.at(key+".standby"), key+".standby", "%s is also the primary: a name cannot fail over to the server it is on", svc.Standby)
	}
	for name := range svc.Records {
		if !svc.Carries(name) {
			d.errorf(d.keyAt(key+".records."+name), key+".records."+name, "%s does not carry %s (its primary is %s, its standby %s)", name, svc.Name, svc.Primary, svc.Standby)
		}
	}
}

// validateRecordsClaimed checks that the toggle layout can find, for
// services[i], each of its servers' static records and that the two are not
// one record.
func (d *decoder) validateRecordsClaimed(cfg *Config, i int) {
	svc, key := cfg.Services[i], d.servicePath(i)
	if svc.Layout != Toggle {
		return
	}
	primary, standby := cfg.Pair(svc)
	for _, s := range []Server{primary, standby} {
		if s.Name != "" && s.Record.IsZero() {
			d.errorf(d.at(key), key, "%s's address %s is a host name: say how to find its static record of %s (records.%s.comment or .address)", s.Name, s.Address, svc.Name, s.Name)
		}
	}
	if primary.Name != "" && standby.Name != "" && primary.Name != standby.Name && !primary.Record.IsZero() && primary.Record == standby.Record {
		d.errorf(d.at(key), key+".records", "%s and %s would claim one record of %s (%+v): give each its own", primary.Name, standby.Name, svc.Name, primary.Record)
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
			d.errorf(d.at(fmt.Sprintf("servers[%d]", i)), fmt.Sprintf("servers[%d]", i),
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
