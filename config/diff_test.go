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
