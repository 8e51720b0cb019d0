package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

type decoder struct {
	file     string
	errs     Errors
	warnings []string
	// positions of the nodes later checks point at
	serverNodes []serverNodes
	routerNode  *yaml.Node
	// serviceNodes are each service's; listed: they came from services:
	// (a list), not the single service:.
	serviceNodes []serviceNodes
	listed       bool
	passwords    []passwordSource
	// password: look the router's password up (false for commands that
	// never log in).
	password bool
}

type serviceNodes struct {
	node, name, primary, standby *yaml.Node
	records                      map[string]*yaml.Node
	// auto is the service's own auto: decoded once the file's is known,
	// which it starts from.
	auto *yaml.Node
}

type serverNodes struct {
	node, role, address *yaml.Node
}

type passwordSource struct {
	key  string
	node *yaml.Node
}

func (d *decoder) errorf(n *yaml.Node, key, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Line: n.Line, Col: n.Column, Key: key, Msg: fmt.Sprintf(format, args...)})
}

// fields decodes a mapping, calling the handler of each known key and
// reporting unknown and repeated keys.
func (d *decoder) fields(n *yaml.Node, path string, handlers map[string]func(key string, v *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "want a mapping of keys to values, got %s", describe(n))
		return
	}
	known := make([]string, 0, len(handlers))
	for k := range handlers {
		known = append(known, k)
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := join(path, k.Value)
		h, ok := handlers[k.Value]
		switch {
		case !ok:
			msg := fmt.Sprintf("unknown key %q", k.Value)
			if s := suggest(k.Value, known); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			d.errorf(k, key, "%s", msg)
		case seen[k.Value]:
			d.errorf(k, key, "%q is given twice", k.Value)
		default:
			seen[k.Value] = true
			h(key, v)
		}
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	if n.Tag == "!!null" {
		return "nothing"
	}
	return fmt.Sprintf("%q", n.Value)
}

func (d *decoder) scalar(key string, n *yaml.Node) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.errorf(n, key, "want a value, got %s", describe(n))
		return "", false
	}
	return n.Value, true
}

func (d *decoder) str(dst *string) func(string, *yaml.Node) {
	return func(key string, n *yaml.Node) {
		if v, ok := d.scalar(key, n); ok {
			*dst = v
		}
	}
}

func (d *decoder) boolean(dst *bool) func(string, *yaml.Node) {
	return func(key string, n *yaml.Node) {
		v, ok := d.scalar(key, n)
		if !ok {
			return
		}
		switch strings.ToLower(v) {
		case "true", "yes", "on":
			*dst = true
		case "false", "no", "off":
			*dst = false
		default:
			d.errorf(n, key, "want true or false, got %q", v)
		}
	}
}

func (d *decoder) integer(dst *int, lo, hi int) func(string, *yaml.Node) {
	return func(key string, n *yaml.Node) {
		v, ok := d.scalar(key, n)
		if !ok {
			return
		}
		i, err := strconv.Atoi(v)
		switch {
		case err != nil:
			d.errorf(n, key, "want a whole number, got %q", v)
		case i < lo || i > hi:
			d.errorf(n, key, "%d is outside %d..%d", i, lo, hi)
		default:
			*dst = i
		}
	}
}

func (d *decoder) duration(dst *time.Duration) func(string, *yaml.Node) {
	return d.durationAtLeast(dst, 0)
}

// durationAtLeast reads a duration no shorter than floor.
func (d *decoder) durationAtLeast(dst *time.Duration, floor time.Duration) func(string, *yaml.Node) {
	return func(key string, n *yaml.Node) {
		v, ok := d.scalar(key, n)
		if !ok {
			return
		}
		dur, err := ParseDuration(v)
		switch {
		case err != nil:
			d.errorf(n, key, "%v", err)
		case dur <= 0:
			d.errorf(n, key, "must be greater than zero, got %q", v)
		case dur < floor:
			d.errorf(n, key, "must be at least %s, got %q", floor, v)
		default:
			*dst = dur
		}
	}
}

func (d *decoder) percent(dst *float64) func(string, *yaml.Node) {
	return func(key string, n *yaml.Node) {
		v, ok := d.scalar(key, n)
		if !ok {
			return
		}
		p, err := ParsePercent(v)
		switch {
		case err != nil:
			d.errorf(n, key, "%v", err)
		case p == 0:
			d.errorf(n, key, "must be greater than 0%%")
		default:
			*dst = p
		}
	}
}

func (d *decoder) oneOf(dst *string, choices ...string) func(string, *yaml.Node) {
	return func(key string, n *yaml.Node) {
		v, ok := d.scalar(key, n)
		if !ok {
			return
		}
		if !slices.Contains(choices, v) {
			d.errorf(n, key, "%q is not one of %s", v, strings.Join(choices, ", "))
			return
		}
		*dst = v
	}
}

func (d *decoder) config(root *yaml.Node, cfg *Config) {
	d.fields(root, "", map[string]func(string, *yaml.Node){
		"router": func(key string, n *yaml.Node) { d.routerNode = n; d.router(key, n, &cfg.Router) },
		"service": func(key string, n *yaml.Node) {
			if d.listed {
				d.errorf(n, key, "give service: (one) or services: (a list), not both")
				return
			}
			svc := Service{Layout: Toggle}
			d.serviceNodes = append(d.serviceNodes, d.service(key, n, &svc, false))
			cfg.Services = append(cfg.Services, svc)
		},
		"services": func(key string, n *yaml.Node) { d.services(key, n, cfg) },
		"servers":  func(key string, n *yaml.Node) { d.servers(key, n, cfg) },
		"probe":    func(key string, n *yaml.Node) { d.probe(key, n, &cfg.Probe) },
		"ui":       func(key string, n *yaml.Node) { d.ui(key, n, &cfg.UI) },
		"auto":     func(key string, n *yaml.Node) { d.auto(key, n, &cfg.Auto) },
		"serve":    func(key string, n *yaml.Node) { d.serve(key, n, &cfg.Serve) },
		"unedited": func(key string, n *yaml.Node) {
			d.errorf(n, key, "edit %s first: its router, service and servers are the example's; then delete this line", d.file)
		},
	})
}

func (d *decoder) record(path string, n *yaml.Node, m *RecordMatch) {
	d.fields(n, path, map[string]func(string, *yaml.Node){
		"comment": d.str(&m.Comment),
		"address": d.str(&m.Address),
	})
}

func (d *decoder) probe(path string, n *yaml.Node, p *Probe) {
	mode := string(p.ICMPMode)
	d.fields(n, path, map[string]func(string, *yaml.Node){
		"interval":          d.durationAtLeast(&p.Interval, MinInterval),
		"timeout":           d.durationAtLeast(&p.Timeout, MinTimeout),
		"window":            d.integer(&p.Window, 2, 100000),
		"down_after":        d.integer(&p.DownAfter, 1, 1000),
		"up_after":          d.integer(&p.UpAfter, 1, 1000),
		"loss_window":       d.integer(&p.LossWindow, 1, 100000),
		"down_loss_percent": d.percent(&p.DownLossPercent),
		"resolve_every":     d.duration(&p.ResolveEvery),
		"icmp_mode":         d.oneOf(&mode, string(ICMPAuto), string(ICMPPrivileged), string(ICMPUnprivileged)),
	})
	p.ICMPMode = ICMPMode(mode)
	if p.LossWindow > p.Window {
		d.errorf(n, path+".loss_window", "loss_window (%d) is larger than window (%d)", p.LossWindow, p.Window)
	}
}

func (d *decoder) ui(path string, n *yaml.Node, u *UI) {
	d.fields(n, path, map[string]func(string, *yaml.Node){
		"theme":     d.oneOf(&u.Theme, "auto", "dark", "light"),
		"ascii":     d.boolean(&u.ASCII),
		"no_color":  d.boolean(&u.NoColor),
		"read_only": d.boolean(&u.ReadOnly),
		"no_mouse":  d.boolean(&u.NoMouse),
	})
}

func (d *decoder) auto(path string, n *yaml.Node, a *Auto) {
	d.fields(n, path, map[string]func(string, *yaml.Node){
		"enabled":       d.boolean(&a.Enabled),
		"fail_after":    d.duration(&a.FailAfter),
		"hold_down":     d.duration(&a.HoldDown),
		"restore":       d.oneOf(&a.Restore, "manual", "auto"),
		"restore_after": d.duration(&a.RestoreAfter),
	})
}

// validate checks what spans several keys, once every key has decoded.
func (d *decoder) validate(cfg *Config) {
	d.validateRouter(cfg)
	d.validateServers(cfg)
	if cfg.Router.CAFile != "" {
		cfg.Router.CAFile = cfg.resolvePath(cfg.Router.CAFile)
	}
	d.validateServices(cfg)
}
