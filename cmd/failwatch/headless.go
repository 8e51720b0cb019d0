package main

import (
	"os"
	"runtime/debug"
)

// headlessGCPercent is the garbage collector's target for report and
// exporter: the heap grows to 1.5 times what is live between collections,
// not twice. They keep statistics only, so what is live is small and each
// collection short; at 1,000 servers this is 3 to 4 MB less resident for
// about a collection every 2 s instead of every 5 s (docs/BENCHMARKS.md,
// "Memory in proportion to what is watched", measures both).
const headlessGCPercent = 50

// headlessGC sets headlessGCPercent, unless GOGC in the environment says
// otherwise.
func headlessGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(headlessGCPercent)
	}
}
