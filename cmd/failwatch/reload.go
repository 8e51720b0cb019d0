package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/engine"
)

// watchHangup makes SIGHUP, a daemon's "read your config again", reload
// the config instead of killing the process: a broken file is logged problem
// by problem with its position and the running config stays; servers added,
// removed or changed are applied at once (the others keep probing, with
// their statistics); what cannot change while running is named by section
// and applies at the next start.
func watchHangup(ctx context.Context, rf routerFlags, running *config.Config, eng *engine.Engine, log *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			reloadConfig(rf, running, eng, log)
		}
	}
}

func reloadConfig(rf routerFlags, running *config.Config, eng *engine.Engine, log *slog.Logger) {
	o := out{log: log}
	onDisk, err := rf.load(o)
	if err != nil {
		o.error(err)
		log.Error("config not reloaded, the running one stays")
		return
	}
	res, err := eng.Reload(onDisk)
	if err != nil {
		log.Error("servers not reloaded, the running ones stay", "path", onDisk.Path, "err", err)
	}
	if res.Applied() {
		log.Info("config reloaded: servers applied, the others keep their statistics", "path", onDisk.Path,
			"added", strings.Join(res.Added, ","), "removed", strings.Join(res.Removed, ","), "changed", strings.Join(res.Changed, ","),
			"bridges", strings.Join(res.Bridges, ","))
	}
	if len(res.Bridges) > 0 {
		log.Warn("a service's bridge changed: run failwatch setup so the router's rules and address lists match it",
			"services", strings.Join(res.Bridges, ","))
	}
	restart := restartSections(running, onDisk, res)
	switch {
	case len(restart) > 0:
		log.Warn("config on disk differs from the running one: restart failwatch to apply it",
			"path", onDisk.Path, "sections", strings.Join(restart, ","))
	case !res.Applied() && err == nil:
		log.Info("config on disk checked: same as running", "path", onDisk.Path)
	}
}

// restartSections are the sections of the config on disk that apply only
// at a restart: those that differ from the running config, but servers and
// the services' bridges, which the engine's reload applied or named in
// NeedsRestart.
func restartSections(running, onDisk *config.Config, res engine.Reloaded) []string {
	restart := slices.DeleteFunc(config.ChangedSections(withoutBridges(running), withoutBridges(onDisk)),
		func(s string) bool { return s == "servers" })
	return append(restart, res.NeedsRestart...)
}

// withoutBridges is a copy of cfg whose services have no bridge.
func withoutBridges(cfg *config.Config) *config.Config {
	c := *cfg
	c.Services = slices.Clone(cfg.Services)
	for i := range c.Services {
		c.Services[i].Bridge = config.Bridge{}
	}
	return &c
}
