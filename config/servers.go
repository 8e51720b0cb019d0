package config

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// check refuses a check without what its type needs.
func (c *Check) check(d *decoder, path string) {
	n := d.at(path)
	switch {
	case !d.has(path + ".type"):
		d.errorf(n, path, "a check needs a type (icmp, tcp or http)")
	case c.Kind == TCP && c.Port == 0:
		d.errorf(n, path, "a tcp check needs a port")
	case c.Kind == HTTP && c.URL == "":
		d.errorf(n, path, "an http check needs a url")
	case c.Kind == HTTP:
		if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			d.errorf(n, path+".url", "%q is not an http:// or https:// URL with a host", c.URL)
		}
	}
}

// check refuses a loss window longer than the window it is taken from.
func (p *Probe) check(d *decoder, path string) {
	if p.LossWindow > p.Window {
		d.errorf(d.at(path), path+".loss_window", "loss_window (%d) is larger than window (%d)", p.LossWindow, p.Window)
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
		key := fmt.Sprintf("servers[%d]", i)
		node, roleNode := d.at(key), d.at(key+".role")
		if s.Name == "" {
			s.Name = s.Address
		}
		if j, dup := names[s.Name]; dup && s.Name != "" {
			d.errorf(node, key+".name", "name %q is also used by servers[%d]", s.Name, j)
		}
		names[s.Name] = i
		if s.Address == "" {
			d.errorf(node, key+".address", "the server needs an address (IP or host name)")
		} else {
			norm := normalizeHost(s.Address)
			if j, dup := addrs[norm]; dup {
				d.errorf(d.at(key+".address"), key+".address", "address %s is also servers[%d]'s: two servers with one address cannot fail over", s.Address, j)
			}
			addrs[norm] = i
		}
		switch j, dup := roles[s.Role]; {
		case d.listed && s.Role != "" && s.Role != Monitor:
			d.errorf(roleNode, key+".role", "with services:, a server's role comes from the services that name it; only monitor may be given")
		case d.listed:
		case s.Role == "":
			d.errorf(node, key+".role", "the server needs a role (primary, standby or monitor)")
		case dup && s.Role != Monitor:
			d.errorf(roleNode, key+".role", "servers[%d] is already the %s", j, s.Role)
		}
		roles[s.Role] = i
		if len(s.Checks) == 0 {
			s.Checks = []Check{{Kind: ICMP}}
		}
		if s.Record.IsZero() && net.ParseIP(s.Address) != nil {
			s.Record.Address = s.Address
		}
		if !d.listed && len(cfg.Services) > 0 && cfg.Services[0].Layout == Toggle && s.Role != Monitor && s.Record.IsZero() && s.Address != "" {
			d.errorf(node, key+".record", "%s is a host name: say how to find its static record (record.comment or record.address)", s.Address)
		}
	}
	if d.listed {
		return
	}
	for _, role := range []Role{Primary, Standby} {
		if _, ok := roles[role]; !ok {
			d.errorf(d.at("servers[0]"), "servers", "no server has role %s", role)
		}
	}
}

func normalizeHost(h string) string {
	if ip := net.ParseIP(h); ip != nil {
		return ip.String()
	}
	return strings.ToLower(strings.TrimSuffix(h, "."))
}
