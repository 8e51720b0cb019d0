package main

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/engine"
	"github.com/failwatch/failwatch/internal/paper"
)

// A reload names for a restart what it did not apply: a service's bridge
// is the engine's to apply (or to name), never "services" on its own; a
// change to a service's other settings still is.
func TestRestartSections(t *testing.T) {
	bridge := config.Bridge{Mode: config.BridgeNAT, SrcAddresses: []netip.Prefix{netip.MustParsePrefix("192.168.88.0/24")}, TCP: []int{443}}
	for _, tc := range []struct {
		name   string
		change func(*config.Config)
		res    engine.Reloaded
		want   []string
	}{
		{"nothing", func(*config.Config) {}, engine.Reloaded{}, nil},
		{"a bridge applied", func(c *config.Config) { c.Services[0].Bridge = bridge }, engine.Reloaded{Bridges: []string{paper.Name}}, nil},
		{"a bridge not applied", func(c *config.Config) { c.Services[0].Bridge = bridge },
			engine.Reloaded{NeedsRestart: []string{"services.x.bridge (on at the router now: reload again once it is off)"}},
			[]string{"services.x.bridge (on at the router now: reload again once it is off)"}},
		{"a bridge and the hold", func(c *config.Config) {
			c.Services[0].Bridge, c.Services[0].HoldNetwatch = bridge, !c.Services[0].HoldNetwatch
		},
			engine.Reloaded{Bridges: []string{paper.Name}}, []string{"services"}},
		{"a server", func(c *config.Config) { c.Servers[0].Address = "192.0.2.99" }, engine.Reloaded{}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			running := paper.Config()
			onDisk := paper.Config()
			onDisk.Services = slices.Clone(onDisk.Services)
			onDisk.Servers = slices.Clone(onDisk.Servers)
			tc.change(onDisk)
			if got := restartSections(running, onDisk, tc.res); !slices.Equal(got, tc.want) {
				t.Errorf("restart %q, want %q", got, tc.want)
			}
			if running.Services[0].Bridge.On() {
				t.Error("the running config was changed")
			}
		})
	}
}
