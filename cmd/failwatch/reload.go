package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"os/signal"
	"reflect"
	"strings"
	"syscall"

	"github.com/failwatch/failwatch/config"
)

// watchHangup makes SIGHUP, a daemon's "read your config again", check the
// config on disk instead of killing the process: a broken file is logged
// problem by problem with its position and the running config stays; a
// changed one is named by section. The running engine keeps its config:
// applying a change needs a restart, and the log says so rather than
// pretending it was applied.
func watchHangup(ctx context.Context, rf routerFlags, running *config.Config, log *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			checkReload(rf, running, log)
		}
	}
}

func checkReload(rf routerFlags, running *config.Config, log *slog.Logger) {
	var problems bytes.Buffer
	onDisk, ok := rf.load(&problems)
	if !ok {
		for line := range strings.Lines(problems.String()) {
			log.Error("config not reloaded, the running one stays", "problem", strings.TrimSpace(line))
		}
		return
	}
	changed := changedSections(running, onDisk)
	if len(changed) == 0 {
		log.Info("config on disk checked: same as running", "path", onDisk.Path)
		return
	}
	log.Warn("config on disk differs from the running one: restart failwatch to apply it",
		"path", onDisk.Path, "sections", strings.Join(changed, ","))
}

// changedSections names the config's sections that differ, never their
// values (the router's holds its password).
func changedSections(a, b *config.Config) []string {
	va, vb := reflect.ValueOf(*a), reflect.ValueOf(*b)
	var out []string
	for i := range va.NumField() {
		name := va.Type().Field(i).Name
		if name == "Path" || name == "Warnings" {
			continue
		}
		if !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			out = append(out, strings.ToLower(name))
		}
	}
	return out
}
