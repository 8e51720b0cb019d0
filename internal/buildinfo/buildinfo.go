// Package buildinfo says which failwatch this is: its version, the commit
// it was built from and when. The command line prints it, metrics carry
// it, and every audit line names the failwatch that wrote it.
package buildinfo

import "runtime/debug"

// version and date are set by a release build (scripts/release: -ldflags
// "-X github.com/failwatch/failwatch/internal/buildinfo.version=v1.2.3
// -X ...date=2026-11-26T00:00:00Z"); otherwise the version is the module's
// from the build info, or "devel".
var version, date = "", ""

// Build is which failwatch this is.
type Build struct {
	Version string
	// Commit is the VCS revision, with "+dirty" for a modified tree.
	Commit string
	// Committed is the commit's time (RFC 3339), Date the build's.
	Committed, Date string
}

// Read returns this binary's build.
func Read() Build {
	b := Build{Version: version, Date: date}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if b.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			b.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				b.Commit = s.Value
			case "vcs.time":
				b.Committed = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					b.Commit += "+dirty"
				}
			}
		}
	}
	if b.Version == "" {
		b.Version = "devel"
	}
	return b
}

// Name is "failwatch VERSION", how a line written by this binary names it.
func Name() string { return "failwatch " + Read().Version }
