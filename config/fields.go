package config

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// A key of the file is declared once: a field of the config's structs with
// its tags, which say everything the decoder and Defaults need:
//
//	yaml:"name[,listed][,later]"  the key; "-" for a field no file sets.
//	                              listed: only under services: (a list);
//	                              later: decoded by validation, not in order.
//	default:"text"                the value when the key is left out, read as
//	                              the file's text is.
//	min:"duration"                a duration's floor; "0s" allows zero.
//	range:"lo..hi"                a whole number's (or each list element's);
//	                              every whole number has one.
//	oneof:"a,b,word=value"        the words a setting takes; word=value
//	                              stores value for word.
//	none:"0"                      the word none stands for 0.
//	list:"noun"                   a list's noun in errors (default: the key).
//	nonempty:"true"               a list must hold at least one entry.
//	map:"noun"                    a mapping's noun in errors.
type field struct {
	name          string
	index         int
	listed, later bool
	def           string
	hasDef        bool
	min           time.Duration
	hasMin        bool
	lo, hi        int
	oneof         []string
	none          bool
	list, mapNoun string
	nonempty      bool
	typ           reflect.Type
}

var fieldCache sync.Map // reflect.Type -> []field

// fieldsOf is the keys of a struct type, in declaration order.
func fieldsOf(t reflect.Type) []field {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.([]field)
	}
	var out []field
	for i := range t.NumField() {
		sf := t.Field(i)
		tag, ok := sf.Tag.Lookup("yaml")
		if !ok || tag == "-" {
			continue
		}
		out = append(out, newField(sf, i, tag))
	}
	fieldCache.Store(t, out)
	return out
}

// newField reads one field's tags; a malformed tag is the program's mistake,
// which every test that loads a config would show.
func newField(sf reflect.StructField, i int, tag string) field {
	parts := strings.Split(tag, ",")
	f := field{name: parts[0], index: i, typ: sf.Type,
		listed: slices.Contains(parts[1:], "listed"), later: slices.Contains(parts[1:], "later")}
	f.def, f.hasDef = sf.Tag.Lookup("default")
	if m, ok := sf.Tag.Lookup("min"); ok {
		d, err := ParseDuration(m)
		if err != nil {
			panic(fmt.Sprintf("config: field %s: min: %v", sf.Name, err))
		}
		f.min, f.hasMin = d, true
	}
	if r, ok := sf.Tag.Lookup("range"); ok {
		lo, hi, _ := strings.Cut(r, "..")
		var err1, err2 error
		f.lo, err1 = strconv.Atoi(lo)
		f.hi, err2 = strconv.Atoi(hi)
		if err1 != nil || err2 != nil {
			panic(fmt.Sprintf("config: field %s: range %q is not lo..hi", sf.Name, r))
		}
	}
	if o, ok := sf.Tag.Lookup("oneof"); ok {
		f.oneof = strings.Split(o, ",")
	}
	if _, ok := sf.Tag.Lookup("range"); !ok && (sf.Type.Kind() == reflect.Int ||
		(sf.Type.Kind() == reflect.Slice && sf.Type.Elem().Kind() == reflect.Int)) {
		panic(fmt.Sprintf("config: field %s: a whole number needs its range", sf.Name))
	}
	_, f.none = sf.Tag.Lookup("none")
	f.list = cmp.Or(sf.Tag.Get("list"), f.name)
	f.mapNoun = cmp.Or(sf.Tag.Get("map"), "keys to values")
	f.nonempty = sf.Tag.Get("nonempty") == "true"
	return f
}

// parsers read the types whose value is one scalar but whose Go kind is not
// a plain string, number or bool.
var parsers = map[reflect.Type]func(f *field, s string) (any, error){
	reflect.TypeFor[time.Duration](): parseDurationField,
	reflect.TypeFor[StatusRanges]():  func(_ *field, s string) (any, error) { return ParseStatusRanges(s) },
	reflect.TypeFor[MaxStartups]():   func(_ *field, s string) (any, error) { return ParseMaxStartups(s) },
	reflect.TypeFor[netip.Prefix]():  func(_ *field, s string) (any, error) { return parsePrefix(s) },
}

func parseDurationField(f *field, s string) (any, error) {
	d, err := ParseDuration(s)
	switch {
	case err != nil:
		return nil, err
	case f.hasMin && f.min == 0 && d < 0:
		return nil, fmt.Errorf("must not be negative, got %q", s)
	case f.hasMin && f.min == 0:
	case d <= 0:
		return nil, fmt.Errorf("must be greater than zero, got %q", s)
	case d < f.min:
		return nil, fmt.Errorf("must be at least %s, got %q", f.min, s)
	}
	return d, nil
}

// parseScalar reads s as a value of t under f's constraints; the error is
// the message for the file's author.
func (f *field) parseScalar(t reflect.Type, s string) (reflect.Value, error) {
	v := reflect.New(t).Elem()
	if p := parsers[t]; p != nil {
		x, err := p(f, s)
		if err != nil {
			return v, err
		}
		v.Set(reflect.ValueOf(x))
		return v, nil
	}
	switch t.Kind() {
	case reflect.String:
		w, err := f.word(s)
		v.SetString(w)
		return v, err
	case reflect.Bool:
		b, err := parseBool(s)
		v.SetBool(b)
		return v, err
	case reflect.Int:
		i, err := f.parseInt(s)
		v.SetInt(int64(i))
		return v, err
	case reflect.Float64:
		p, err := ParsePercent(s)
		if err == nil && p == 0 {
			err = errors.New("must be greater than 0%")
		}
		v.SetFloat(p)
		return v, err
	}
	panic(fmt.Sprintf("config: no parser for %s", t))
}

// word is s when f takes any text, else the value of the word s is.
func (f *field) word(s string) (string, error) {
	if f.oneof == nil {
		return s, nil
	}
	words := make([]string, len(f.oneof))
	for i, o := range f.oneof {
		w, val, ok := strings.Cut(o, "=")
		if !ok {
			val = w
		}
		if w == s {
			return val, nil
		}
		words[i] = w
	}
	return "", fmt.Errorf("%q is not one of %s", s, strings.Join(words, ", "))
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "true", "yes", "on":
		return true, nil
	case "false", "no", "off":
		return false, nil
	}
	return false, fmt.Errorf("want true or false, got %q", s)
}

func (f *field) parseInt(s string) (int, error) {
	if f.none && s == "none" {
		return 0, nil
	}
	i, err := strconv.Atoi(s)
	switch {
	case err != nil:
		return 0, fmt.Errorf("want a whole number, got %q", s)
	case i < f.lo || i > f.hi:
		return 0, fmt.Errorf("%d is outside %d..%d", i, f.lo, f.hi)
	}
	return i, nil
}

// parsePrefix reads a network (192.168.88.0/24) or an address, which is
// the network of that address alone (/32, /128).
func parsePrefix(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		if p != p.Masked() {
			return netip.Prefix{}, fmt.Errorf("%s has bits set past its /%d: did you mean %s?", s, p.Bits(), p.Masked())
		}
		return p, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("%q is not an address or a network (e.g. 192.168.88.0/24)", s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// setDefaults gives every key of the struct v that has a default its
// default, and the struct-valued keys theirs.
func setDefaults(v reflect.Value) {
	for _, f := range fieldsOf(v.Type()) {
		fv := v.Field(f.index)
		switch {
		case f.hasDef:
			x, err := f.parseScalar(f.typ, f.def)
			if err != nil {
				panic(fmt.Sprintf("config: default of %s: %v", f.name, err))
			}
			fv.Set(x)
		case f.typ.Kind() == reflect.Struct && parsers[f.typ] == nil:
			setDefaults(fv)
		}
	}
}

// defaulted is a T with every default of its keys.
func defaulted[T any]() T {
	var t T
	setDefaults(reflect.ValueOf(&t).Elem())
	return t
}

// Defaults returns the settings used for everything the file leaves out.
func Defaults() Config {
	return defaulted[Config]()
}
