package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/engine"
	"github.com/failwatch/failwatch/internal/record"
	"github.com/failwatch/failwatch/tui"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func replayCommand() *cobra.Command {
	return newCommand("replay", "FILE", "play a recording (--record) into the dashboard, read-only", `
Play a recording (--record FILE on the dashboard, demo, exporter or serve)
into the dashboard, read-only and marked REPLAY: every probe, router reading,
log line and operation step as it came, with the times it came at, --speed
times faster (0: as fast as it can). Nothing is probed and no router is asked.
A recording of another schema (docs/JSON.md), or from before recordings said
theirs, is refused, naming the failwatch that made it.`, func(fs *pflag.FlagSet) runner {
		speed := fs.Float64("speed", 1, "how many times faster than it happened (0: no waiting)")
		ui := addUIFlags(fs)
		return func(pos []string, stdout, stderr io.Writer) int {
			if err := screenCapable(); err != nil {
				plain(stderr).error(err)
				return exitUsage
			}
			if len(pos) != 1 || *speed < 0 {
				fmt.Fprintln(stderr, "failwatch replay: give one recording FILE, and a --speed of 0 or more")
				return exitUsage
			}
			f, err := os.Open(pos[0])
			if err != nil {
				fmt.Fprintf(stderr, "failwatch replay: %v\n", err)
				return exitUsage
			}
			defer f.Close()
			watched, err := record.ReadSetup(f)
			if err != nil {
				fmt.Fprintf(stderr, "failwatch replay: %s: %v\n", pos[0], err)
				return exitUsage
			}
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				fmt.Fprintf(stderr, "failwatch replay: %v\n", err)
				return exitUsage
			}
			// The screen's clock is the recording's: "DOWN for 18s" as it was then.
			var now atomic.Int64
			cfg := &config.Config{Services: watched.Services, Servers: watched.Servers}
			opts := uiOptions(cfg, ui)
			opts.ReadOnly, opts.Replay = true, filepath.Base(pos[0])
			opts.Now = func() time.Time {
				if n := now.Load(); n != 0 {
					return time.Unix(0, n)
				}
				return time.Now()
			}
			popts := []tea.ProgramOption{}
			if opts.NoColor {
				popts = append(popts, tea.WithColorProfile(colorprofile.Ascii))
			}
			p := tea.NewProgram(tui.New(opts), popts...)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() {
				err := record.Play(ctx, f, *speed, func(at time.Time, ev engine.Event) {
					now.Store(at.UnixNano())
					p.Send(ev)
				})
				text := "end of the recording"
				if err != nil && ctx.Err() == nil {
					text = "the recording stops here: " + err.Error()
				}
				if ctx.Err() == nil {
					p.Send(tui.NoteMsg{At: time.Unix(0, now.Load()), Source: "replay", Text: text})
				}
			}()
			if _, err := p.Run(); err != nil {
				fmt.Fprintf(stderr, "failwatch replay: %v\n", err)
				return exitUnhealthy
			}
			return exitOK
		}
	})
}
