package config

import (
	"strings"
	"testing"
)

// A changed password names its section, never itself.
func TestChangedSections(t *testing.T) {
	a := Defaults()
	b := a
	b.Router.Password = "n3w-pw"
	b.Path = "elsewhere.yaml"
	if got := ChangedSections(&a, &b); strings.Join(got, ",") != "router" {
		t.Errorf("got %v", got)
	}
	if got := ChangedSections(&a, &a); len(got) != 0 {
		t.Errorf("same config: %v", got)
	}
}

// ha: is a section; a service's bridge is its service's. A changed etcd
// password names ha, never itself.
func TestChangedSectionsHAAndBridge(t *testing.T) {
	read := func(file string) *Config {
		t.Helper()
		cfg, err := Parse("f.yaml", []byte(file))
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	plain := read(bridged(natBody, ""))
	withTTL := read(bridged(natBody+"until: ttl\n", ""))
	ha := read(bridged(natBody, "") + "ha:\n" + indent(haBody, "  "))
	otherHA := read(bridged(natBody, "") + "ha:\n" + indent(strings.Replace(haBody, "jump1", "jump2", 1), "  "))
	secret := *ha.HA
	secret.Password = "n3w-etcd-pw"
	pw := *ha
	pw.HA = &secret
	for _, tc := range []struct {
		a, b *Config
		want string
	}{
		{plain, withTTL, "services"},
		{plain, ha, "ha"},
		{ha, otherHA, "ha"},
		{ha, &pw, "ha"},
		{ha, read(bridged(natBody, "") + "ha:\n" + indent(haBody, "  ")), ""},
	} {
		if got := strings.Join(ChangedSections(tc.a, tc.b), ","); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}
