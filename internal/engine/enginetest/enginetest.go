// Package enginetest holds what tests that run an engine set it up with:
// the paper's config on an emulated router, the paper's servers as
// simulated probes. It does not import the engine, so that the engine's
// own tests use it too; testkit.Run runs the engine until the test ends.
package enginetest

import (
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/paper"
	"github.com/failwatch/failwatch/internal/paper/papersim"
	"github.com/failwatch/failwatch/monitor"
)

// PaperConfig is the paper's config for the emulated router whose API is
// at api (user admin, no password, calls bounded by 2s), its servers
// probed every 100ms.
func PaperConfig(api string) *config.Config {
	cfg := paper.Config()
	cfg.Router = config.Router{Address: api, User: "admin", Timeout: 2 * time.Second}
	cfg.Probe.Interval = 100 * time.Millisecond
	return cfg
}

// PaperSims are the paper's two servers as simulated probes, by name.
func PaperSims() map[string]*monitor.Simulated {
	return map[string]*monitor.Simulated{"public": papersim.Public(), "private": papersim.Private()}
}

// Monitor is cfg's probe settings with each server's probes answered by
// its simulation in sims; a server sims does not name (one a reload adds,
// a monitor-only one) answers like the paper's private server. No packet
// leaves the process.
func Monitor(cfg *config.Config, sims map[string]*monitor.Simulated) monitor.Options {
	return monitor.Options{Probe: cfg.Probe, Prober: func(s config.Server, _ config.Check) (monitor.Prober, error) {
		if p, ok := sims[s.Name]; ok {
			return p, nil
		}
		return papersim.Private(), nil
	}}
}
