package config

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"go.yaml.in/yaml/v3"
)

func (d *decoder) servers(path string, n *yaml.Node, cfg *Config) {
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, path, "want a list of servers, got %s", describe(n))
		return
	}
	for i, sn := range n.Content {
		key := fmt.Sprintf("%s[%d]", path, i)
		var s Server
		var role string
		nodes := serverNodes{node: sn}
		d.fields(sn, key, map[string]func(string, *yaml.Node){
			"name": d.str(&s.Name),
			"role": func(k string, v *yaml.Node) {
				nodes.role = v
				d.oneOf(&role, string(Primary), string(Standby), "monitor")(k, v)
			},
			"address": func(k string, v *yaml.Node) { nodes.address = v; d.str(&s.Address)(k, v) },
			"record":  func(k string, v *yaml.Node) { d.record(k, v, &s.Record) },
			"checks":  func(k string, v *yaml.Node) { s.Checks = d.checks(k, v) },
		})
		s.Role = Role(role)
		cfg.Servers = append(cfg.Servers, s)
		d.serverNodes = append(d.serverNodes, nodes)
	}
}

func (d *decoder) checks(path string, n *yaml.Node) []Check {
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, path, "want a list of checks, got %s", describe(n))
		return nil
	}
	var out []Check
	for i, cn := range n.Content {
		key := fmt.Sprintf("%s[%d]", path, i)
		c := Check{Expect: DefaultExpect}
		var kind string
		var kindNode *yaml.Node
		d.fields(cn, key, map[string]func(string, *yaml.Node){
			"type": func(k string, v *yaml.Node) {
				kindNode = v
				d.oneOf(&kind, string(ICMP), string(TCP), string(HTTP))(k, v)
			},
			"port": d.integer(&c.Port, 1, 65535),
			"url":  d.str(&c.URL),
			"expect": func(k string, v *yaml.Node) {
				s, ok := d.scalar(k, v)
				if !ok {
					return
				}
				rs, err := ParseStatusRanges(s)
				if err != nil {
					d.errorf(v, k, "%v", err)
					return
				}
				c.Expect = rs
			},
			"insecure": d.boolean(&c.Insecure),
		})
		c.Kind = CheckKind(kind)
		switch {
		case kindNode == nil && cn.Kind == yaml.MappingNode:
			d.errorf(cn, key, "a check needs a type (icmp, tcp or http)")
		case c.Kind == TCP && c.Port == 0:
			d.errorf(cn, key, "a tcp check needs a port")
		case c.Kind == HTTP:
			d.checkURL(cn, key, c.URL)
		}
		out = append(out, c)
	}
	return out
}

func (d *decoder) checkURL(n *yaml.Node, key, raw string) {
	if raw == "" {
		d.errorf(n, key, "an http check needs a url")
		return
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		d.errorf(n, key+".url", "%q is not an http:// or https:// URL with a host", raw)
	}
}

func (d *decoder) validateServers(cfg *Config) {
	if len(cfg.Servers) == 0 {
		d.errs = append(d.errs, &Error{File: d.file, Line: 1, Col: 1, Key: "servers",
			Msg: "no servers: list the primary and the standby"})
		return
	}
	roles := map[Role]int{}
	names := map[string]int{}
	addrs := map[string]int{}
	for i := range cfg.Servers {
		s := &cfg.Servers[i]
		nodes := d.serverNodes[i]
		key := fmt.Sprintf("servers[%d]", i)
		if s.Name == "" {
			s.Name = s.Address
		}
		if j, dup := names[s.Name]; dup && s.Name != "" {
			d.errorf(nodes.node, key+".name", "name %q is also used by servers[%d]", s.Name, j)
		}
		names[s.Name] = i
		if s.Address == "" {
			d.errorf(nodes.node, key+".address", "the server needs an address (IP or host name)")
		} else {
			norm := normalizeHost(s.Address)
			if j, dup := addrs[norm]; dup {
				d.errorf(nodes.address, key+".address", "address %s is also servers[%d]'s: two servers with one address cannot fail over", s.Address, j)
			}
			addrs[norm] = i
		}
		switch j, dup := roles[s.Role]; {
		case d.listed && s.Role != "" && s.Role != Monitor:
			d.errorf(nodes.role, key+".role", "with services:, a server's role comes from the services that name it; only monitor may be given")
		case d.listed:
		case s.Role == "":
			d.errorf(nodes.node, key+".role", "the server needs a role (primary, standby or monitor)")
		case dup && s.Role != Monitor:
			d.errorf(nodes.role, key+".role", "servers[%d] is already the %s", j, s.Role)
		}
		roles[s.Role] = i
		if len(s.Checks) == 0 {
			s.Checks = []Check{{Kind: ICMP}}
		}
		if s.Record.IsZero() && net.ParseIP(s.Address) != nil {
			s.Record.Address = s.Address
		}
		if !d.listed && len(cfg.Services) > 0 && cfg.Services[0].Layout == Toggle && s.Role != Monitor && s.Record.IsZero() && s.Address != "" {
			d.errorf(nodes.node, key+".record", "%s is a host name: say how to find its static record (record.comment or record.address)", s.Address)
		}
	}
	if d.listed {
		return
	}
	for _, role := range []Role{Primary, Standby} {
		if _, ok := roles[role]; !ok {
			d.errs = append(d.errs, &Error{File: d.file, Line: d.serverNodes[0].node.Line, Col: d.serverNodes[0].node.Column,
				Key: "servers", Msg: fmt.Sprintf("no server has role %s", role)})
		}
	}
}

func normalizeHost(h string) string {
	if ip := net.ParseIP(h); ip != nil {
		return ip.String()
	}
	return strings.ToLower(strings.TrimSuffix(h, "."))
}
