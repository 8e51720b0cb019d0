package config

import (
	"fmt"
	"reflect"
	"slices"

	"go.yaml.in/yaml/v3"
)

// decoder reads a YAML node tree into the config's tagged structs (see
// fields.go), key by key in file order, refusing unknown and repeated keys,
// and keeps every node it read in one index, so that every later check
// places its error where the file says what it checks.
type decoder struct {
	file     string
	errs     Errors
	warnings []string
	// index is each key's path ("servers[1].address") and its nodes.
	index map[string]place
	// listing: a service is being read from services: (a list), where it
	// names its servers; listed: the file has services:.
	listing, listed bool
	// password: look passwords up (false for commands that never log in).
	password bool
}

// place is where a key is written: its key and its value (for a list
// element, the element both times).
type place struct{ key, value *yaml.Node }

// checked is a config struct with checks across its own keys, run once
// its mapping is read.
type checked interface {
	check(d *decoder, path string)
}

func (d *decoder) errorf(n *yaml.Node, key, format string, args ...any) {
	e := &Error{File: d.file, Key: key, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Col = n.Line, n.Column
	}
	d.errs = append(d.errs, e)
}

// has says whether the file gives path.
func (d *decoder) has(path string) bool {
	_, ok := d.index[path]
	return ok
}

// at is the value node of the first of paths the file gives, nil if none.
func (d *decoder) at(paths ...string) *yaml.Node {
	for _, p := range paths {
		if pl, ok := d.index[p]; ok {
			return pl.value
		}
	}
	return nil
}

// elements are the nodes of the list at path: none when the file gives no
// list there.
func (d *decoder) elements(path string) []*yaml.Node {
	if n := d.at(path); n != nil && n.Kind == yaml.SequenceNode {
		return n.Content
	}
	return nil
}

// isValue says whether n is one value, what a scalar key takes (anything
// else is refused where it is read).
func isValue(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag != "!!null"
}

// keyAt is the key node of path, nil if the file does not give it.
func (d *decoder) keyAt(path string) *yaml.Node {
	return d.index[path].key
}

// inFileOrder is those of paths the file gives, in the file's order.
func (d *decoder) inFileOrder(paths ...string) []string {
	var given []string
	for _, p := range paths {
		if d.has(p) {
			given = append(given, p)
		}
	}
	slices.SortStableFunc(given, func(a, b string) int {
		ka, kb := d.keyAt(a), d.keyAt(b)
		if ka.Line != kb.Line {
			return ka.Line - kb.Line
		}
		return ka.Column - kb.Column
	})
	return given
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
		if len(n.Content) == 0 {
			return "an empty list"
		}
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	if n.Tag == "!!null" {
		return "nothing"
	}
	return fmt.Sprintf("%q", n.Value)
}

// mapping reads the mapping n into the struct v: each key to its field, or
// to extra's handler (keys of the file that are no field). A key under
// services: only is unknown in the single service:.
func (d *decoder) mapping(path string, n *yaml.Node, v reflect.Value, extra map[string]func(path string, n *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "want a mapping of keys to values, got %s", describe(n))
		return
	}
	fields := map[string]*field{}
	var known []string
	for _, f := range fieldsOf(v.Type()) {
		if f.listed && !d.listing {
			continue
		}
		fields[f.name] = &f
		known = append(known, f.name)
	}
	for k := range extra {
		known = append(known, k)
	}
	slices.Sort(known)
	known = slices.Compact(known)
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key := join(path, k.Value)
		f, isField := fields[k.Value]
		h, isExtra := extra[k.Value]
		switch {
		case !isField && !isExtra:
			msg := fmt.Sprintf("unknown key %q", k.Value)
			if s := suggest(k.Value, known); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			d.errorf(k, key, "%s", msg)
			continue
		case seen[k.Value]:
			d.errorf(k, key, "%q is given twice", k.Value)
			continue
		}
		seen[k.Value] = true
		d.index[key] = place{k, val}
		switch {
		case isExtra:
			h(key, val)
		case !f.later:
			d.value(key, val, v.Field(f.index), f)
		}
	}
	if c, ok := v.Addr().Interface().(checked); ok {
		c.check(d, path)
	}
}

// value reads n into v, a field f declares (or an element of its list).
func (d *decoder) value(path string, n *yaml.Node, v reflect.Value, f *field) {
	t := v.Type()
	switch {
	case parsers[t] != nil || (t.Kind() != reflect.Struct && t.Kind() != reflect.Pointer &&
		t.Kind() != reflect.Slice && t.Kind() != reflect.Map):
		d.scalar(path, n, v, f)
	case t.Kind() == reflect.Struct:
		d.mapping(path, n, v, nil)
	case t.Kind() == reflect.Pointer:
		p := reflect.New(t.Elem())
		setDefaults(p.Elem())
		v.Set(p)
		d.mapping(path, n, p.Elem(), nil)
	case t.Kind() == reflect.Slice:
		d.sequence(path, n, v, f)
	default:
		d.dictionary(path, n, v, f)
	}
}

// scalar reads one value: a scalar, not a mapping, list or nothing.
func (d *decoder) scalar(path string, n *yaml.Node, v reflect.Value, f *field) bool {
	if !isValue(n) {
		d.errorf(n, path, "want a value, got %s", describe(n))
		return false
	}
	x, err := f.parseScalar(v.Type(), n.Value)
	if err != nil {
		d.errorf(n, path, "%v", err)
		return false
	}
	v.Set(x)
	return true
}

// sequence reads a list; each struct element starts from its defaults.
func (d *decoder) sequence(path string, n *yaml.Node, v reflect.Value, f *field) {
	switch {
	case n.Kind != yaml.SequenceNode:
		d.errorf(n, path, "want a list of %s, got %s", f.list, describe(n))
		return
	case f.nonempty && len(n.Content) == 0:
		d.errorf(n, path, "want a list of %s, got %s", f.list, describe(n))
		return
	}
	out := reflect.MakeSlice(v.Type(), 0, len(n.Content))
	for i, en := range n.Content {
		key := fmt.Sprintf("%s[%d]", path, i)
		d.index[key] = place{en, en}
		e := reflect.New(v.Type().Elem()).Elem()
		if e.Kind() == reflect.Struct && parsers[e.Type()] == nil {
			setDefaults(e)
			d.mapping(key, en, e, nil)
		} else if !d.scalar(key, en, e, f) {
			continue
		}
		out = reflect.Append(out, e)
	}
	v.Set(out)
}

// dictionary reads a mapping of names (server names) to struct values.
func (d *decoder) dictionary(path string, n *yaml.Node, v reflect.Value, f *field) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "want a mapping of %s, got %s", f.mapNoun, describe(n))
		return
	}
	m := reflect.MakeMap(v.Type())
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, en := n.Content[i], n.Content[i+1]
		key := join(path, k.Value)
		if seen[k.Value] {
			d.errorf(k, key, "%q is given twice", k.Value)
			continue
		}
		seen[k.Value] = true
		d.index[key] = place{k, en}
		e := reflect.New(v.Type().Elem()).Elem()
		setDefaults(e)
		d.mapping(key, en, e, nil)
		m.SetMapIndex(reflect.ValueOf(k.Value), e)
	}
	v.Set(m)
}

// config reads the whole file: the keys of Config, the single service:
// and the example's unedited: marker.
func (d *decoder) config(root *yaml.Node, cfg *Config) {
	d.index[""] = place{root, root}
	d.mapping("", root, reflect.ValueOf(cfg).Elem(), map[string]func(string, *yaml.Node){
		"service": func(key string, n *yaml.Node) {
			if d.has("services") {
				d.errorf(n, key, "give service: (one) or services: (a list), not both")
				return
			}
			svc := defaulted[Service]()
			d.mapping(key, n, reflect.ValueOf(&svc).Elem(), nil)
			cfg.Services = append(cfg.Services, svc)
		},
		"services": func(key string, n *yaml.Node) {
			if d.has("service") {
				d.errorf(n, key, "give service: (one) or services: (a list), not both")
				return
			}
			d.listing, d.listed = true, true
			d.value(key, n, reflect.ValueOf(&cfg.Services).Elem(), fieldNamed[Config]("services"))
			d.listing = false
		},
		"unedited": func(key string, n *yaml.Node) {
			d.errorf(n, key, "edit %s first: its router, service and servers are the example's; then delete this line", d.file)
		},
	})
}

// fieldNamed is T's field for the key name.
func fieldNamed[T any](name string) *field {
	for _, f := range fieldsOf(reflect.TypeFor[T]()) {
		if f.name == name {
			return &f
		}
	}
	panic("config: no key " + name)
}

// validate checks what spans several keys, once every key has decoded.
func (d *decoder) validate(cfg *Config) {
	d.validateRouter(cfg)
	d.validateServers(cfg)
	if cfg.Router.CAFile != "" {
		cfg.Router.CAFile = cfg.resolvePath(cfg.Router.CAFile)
	}
	d.validateServices(cfg)
	d.validateBridges(cfg)
	d.validateHA(cfg)
}
