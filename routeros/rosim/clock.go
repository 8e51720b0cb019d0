package rosim

import (
	"fmt"
	"strings"
	"time"

	"github.com/failwatch/failwatch/config"
)

// now is the router's clock: the wall clock, run TimeScale times faster
// since the emulator started, in the router's zone.
func (r *Router) now() time.Time {
	elapsed := time.Duration(float64(time.Since(r.start)) * r.opts.TimeScale)
	return r.start.Add(elapsed).In(r.opts.Zone)
}

// uptime is how long the router has been up by its own clock.
func (r *Router) uptime() time.Duration { return r.now().Sub(r.boot) }

// wall turns a span of the router's clock into wall-clock time.
func (r *Router) wall(d time.Duration) time.Duration {
	return time.Duration(float64(d) / r.opts.TimeScale)
}

// formatDuration prints a duration as this router does.
func (r *Router) formatDuration(d time.Duration) string {
	if !r.opts.ClockDurations {
		return config.FormatDuration(d)
	}
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	clock := fmt.Sprintf("%02d:%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second))
	if frac := d % time.Second; frac > 0 {
		clock += strings.TrimRight(fmt.Sprintf(".%09d", frac), "0")
	}
	if days > 0 {
		return fmt.Sprintf("%dd%s", days, clock)
	}
	return clock
}

// stamp prints a moment as this router prints "since" and log times.
func (r *Router) stamp(t time.Time) string {
	t = t.In(r.opts.Zone)
	if r.prof.classicTimes {
		return r.prof.clockDate(t) + " " + t.Format("15:04:05")
	}
	return t.Format("2006-01-02 15:04:05")
}
