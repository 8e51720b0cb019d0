package rosim

import (
	"context"
	"strconv"
	"time"
)

// The scheduler (/system/scheduler) runs an entry's on-event as *sys. The
// manual (https://help.mikrotik.com/docs/display/ROS/Scheduler): "startup -
// execute the script 3 seconds after the system startup"; "If the interval
// is set to value other than 0 scheduler will not run at startup". So an
// entry with start-time=startup runs 3 s after the boot when its interval
// is 0, else first an interval after that, then every interval; one added
// while the router runs first an interval later (an entry with a clock
// start-time is taken the same way).

// startupRun is how long after the boot a startup entry runs.
const startupRun = 3 * time.Second

func schedulerTable(duration func(time.Duration) string) *table {
	return &table{
		path:     "/system/scheduler",
		duration: duration,
		props: []prop{
			{name: "name"},
			{name: "start-date"},
			{name: "start-time", def: "startup"},
			{name: "interval", def: "0s", kind: kindDuration},
			{name: "policy", def: "ftp,reboot,read,write,policy,test,password,sniff,sensitive,romon"},
			{name: "on-event"},
			{name: "owner", def: "admin", readOnly: true},
			{name: "run-count", def: "0", readOnly: true},
			{name: "disabled", def: "false", kind: kindBool},
			{name: "comment"},
		},
		check: func(r row) *trap {
			if r["name"] == "" {
				return trapf(catValue, "name must be set")
			}
			return nil
		},
	}
}

// reconcileJobs starts, restarts and stops scheduler jobs to match the
// menu. The caller holds r.mu.
func (r *Router) reconcileJobs() {
	want := map[string]string{}
	for _, row := range r.scheduler.rows {
		if row["disabled"] != "true" {
			want[row[".id"]] = row["start-time"] + "|" + row["interval"]
		}
	}
	r.reconcileRuns(r.jobs, r.scheduler.rows, want, func(ctx context.Context, w *watcher, row row) {
		interval := duration(row, "interval", 0)
		first := interval
		if row["start-time"] == "startup" && r.uptime() < startupRun {
			first = startupRun - r.uptime() + interval
		}
		go r.job(ctx, w, row[".id"], first, interval)
	})
}

// job runs one entry's on-event when due, on the router's clock.
func (r *Router) job(ctx context.Context, w *watcher, id string, first, interval time.Duration) {
	defer close(w.done)
	if first <= 0 {
		return
	}
	for wait := first; ; wait = interval {
		if !sleepCtx(ctx, r.wall(wait)) {
			return
		}
		r.mu.Lock()
		script := ""
		if rows, tr := r.scheduler.find(id); tr == nil {
			rows[0]["run-count"] = incr(rows[0]["run-count"])
			script = rows[0]["on-event"]
		}
		r.mu.Unlock()
		r.runScript(ctx, script, "scheduler")
		if interval <= 0 {
			return
		}
	}
}

// Reboot restarts the router as a power cycle does: its configuration
// stays; its uptime starts again from zero; netwatch starts over (every
// entry unknown, waiting out its startup-delay); the scheduler's startup
// entries run, their run-counts from zero. The API sessions are hung up.
// whileDown, when set, runs while the router is off and nothing on it
// runs: a test's moment to change what the router wakes up to.
func (r *Router) Reboot(whileDown func()) {
	r.mu.Lock()
	running := append(valuesOf(r.watchers), valuesOf(r.jobs)...)
	r.watchers, r.jobs = map[string]*watcher{}, map[string]*watcher{}
	for c := range r.sessions {
		c.Close()
	}
	r.mu.Unlock()
	for _, w := range running {
		w.stop()
	}
	if whileDown != nil {
		whileDown()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.boot = r.now()
	for _, row := range r.netwatch.rows {
		row["status"] = "unknown"
		delete(row, "since")
		if r.prof.netwatchTypes != nil {
			row["done-tests"], row["failed-tests"] = "0", "0"
		}
	}
	for _, row := range r.scheduler.rows {
		row["run-count"] = "0"
	}
	r.log.add("system,info", "router rebooted")
	r.reconcile()
	r.reconcileJobs()
}

func valuesOf(m map[string]*watcher) []*watcher {
	out := make([]*watcher, 0, len(m))
	for _, w := range m {
		out = append(out, w)
	}
	return out
}

// schedulerRuns counts an entry's runs, for tests.
func (r *Router) schedulerRuns(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	rows, tr := r.scheduler.find(id)
	if tr != nil {
		return 0
	}
	n, _ := strconv.Atoi(rows[0]["run-count"])
	return n
}
