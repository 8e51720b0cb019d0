package config

import (
	"reflect"
	"strings"
)

// ChangedSections names the sections of the config (router, probe, serve,
// ...) in which a and b differ, never their values: the router's holds
// its password. Where the file is and its warnings are not sections. A
// service's auto that follows the file's auto is not the service's own
// setting: a change of it is the auto section's alone.
func ChangedSections(a, b *Config) []string {
	va, vb := reflect.ValueOf(*a), reflect.ValueOf(*b)
	var out []string
	for i := range va.NumField() {
		name := va.Type().Field(i).Name
		if name == "Path" || name == "Warnings" {
			continue
		}
		if name == "Services" && !ownSettingsDiffer(a, b) {
			continue
		}
		if !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			out = append(out, strings.ToLower(name))
		}
	}
	return out
}

// ownSettingsDiffer says whether the services differ in more than an auto
// they take from the file's.
func ownSettingsDiffer(a, b *Config) bool {
	if len(a.Services) != len(b.Services) {
		return true
	}
	for i := range a.Services {
		x, y := a.Services[i], b.Services[i]
		if x.Auto == a.Auto && y.Auto == b.Auto {
			x.Auto, y.Auto = Auto{}, Auto{}
		}
		if !reflect.DeepEqual(x, y) {
			return true
		}
	}
	return false
}
