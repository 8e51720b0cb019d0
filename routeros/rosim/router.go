package rosim

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configure an emulated router. The zero value is a RouterOS 7.18
// router named MikroTik, up for an hour, with user admin and no password.
type Options struct {
	Identity string
	// Version is what /system/resource says, and picks what the router
	// takes and how it answers (see ProfileNames): "6.49.17 (long-term)",
	// "7.13.5 (stable)", "7.18.2 (stable)" (the default).
	Version string
	// Users maps user names to passwords; default admin with "".
	Users map[string]string
	// LegacyLogin answers /login with a challenge, as before 6.43.
	LegacyLogin bool
	// Probe is what netwatch uses to test a host; default: every host up
	// at 1 ms, without sending a packet (see Simulated).
	Probe Probe
	// HTTP is what netwatch's http-get and https-get use; default: the
	// simulated probe's view of the host, answering 200. HTTPGet is the real
	// one, for addresses you own.
	HTTP HTTPProbe
	// LogSize is how many log entries are kept; default 1000.
	LogSize int
	// Zone is the router's time zone (its clock, log times); default UTC.
	Zone *time.Location
	// Uptime is how long the router has been up when the emulator starts;
	// default an hour, past netwatch's startup-delay. A small one is a
	// router that just booted.
	Uptime time.Duration
	// ClockDurations prints durations as 00:00:30 and 1d00:00:00, as some
	// versions and tools show them, instead of 30s and 1d.
	ClockDurations bool
	// Lacks are netwatch properties this router does not take whatever its
	// version says (a build whose menus differ from its version's manual),
	// for tests that a client learns what a router takes before it writes.
	Lacks []string
	// TimeScale runs the router's clock (netwatch intervals and delays,
	// uptime) this many times faster than the wall clock; default 1.
	TimeScale float64
	// Interfaces are the router's interfaces, which interface lists and
	// NAT rules name; default ether1 to ether5.
	Interfaces []string
	// MaxConnections bounds the connection table, as max-entries does on
	// a router (Track refuses past it); default 65536.
	MaxConnections int
	// Addresses are the router's own addresses by interface, as
	// /ip/address holds them (address/prefix): what a masquerade
	// translates to (masquerade.go). None by default, so a masquerade
	// translates nothing.
	Addresses map[string]netip.Prefix
}

// Router is an emulated router. Its methods are safe for concurrent use.
type Router struct {
	opts  Options
	prof  profile
	start time.Time
	// boot is when the router booted, by its own clock.
	boot time.Time

	mu       sync.Mutex
	static   *table
	netwatch *table
	log      logBook
	flushes  int
	// calls counts the commands run, by command.
	calls map[string]int
	// dnsQueries counts the DNS packets received.
	dnsQueries int
	watchers   map[string]*watcher
	// jobs run the scheduler's entries.
	jobs      map[string]*watcher
	scheduler *table
	// The TTL bridge's menus (firewall.go).
	nat, tracked, ifLists, ifMembers *table
	// addrLists is /ip/firewall/address-list (addresslist.go).
	addrLists *table
	// The IPv6 twins (firewall6.go), nil where the version lacks them.
	nat6, tracked6, addrLists6 *table
	// routes is /ip/route, routes6 /ipv6/route (route.go).
	routes, routes6 *table
	faults          map[string]*armedFault
	// forget lists menus whose items take a comment change but keep none.
	forget map[string]bool
	// misprints are what print shows instead of an item's own values, by
	// menu and .id (see Misprint).
	misprints map[string]map[string]map[string]string
	// applied lists the changes applied, as Applied returns them.
	applied  []string
	sessions map[net.Conn]struct{}
	// downUntil ends an outage (see Outage).
	downUntil time.Time
	// observer is told of firewall changes (observe.go).
	observer *firewallObserver

	ctx    context.Context
	cancel context.CancelFunc
	conns  sync.WaitGroup
	lns    []net.Listener
}

// CheckVersion says whether the emulator can be this RouterOS version.
func CheckVersion(version string) error {
	_, err := profileFor(version)
	return err
}

// New returns an empty router; Seed* methods fill it. The version must pass
// CheckVersion.
func New(opts Options) *Router {
	if opts.Identity == "" {
		opts.Identity = "MikroTik"
	}
	if opts.Version == "" {
		opts.Version = "7.18.2 (stable)"
	}
	if !strings.Contains(opts.Version, "(") {
		// A router says its channel: "7.18 (stable)".
		opts.Version = strings.TrimSpace(opts.Version) + " (stable)"
	}
	prof, err := profileFor(opts.Version)
	if err != nil {
		panic(err)
	}
	prof.netwatch = slices.DeleteFunc(slices.Clone(prof.netwatch), func(p prop) bool { return slices.Contains(opts.Lacks, p.name) })
	if opts.Users == nil {
		opts.Users = map[string]string{"admin": ""}
	}
	if opts.Probe == nil {
		opts.Probe = NewSimulated().Probe
	}
	if opts.LogSize <= 0 {
		opts.LogSize = 1000
	}
	if opts.Zone == nil {
		opts.Zone = time.UTC
	}
	if opts.Uptime <= 0 {
		opts.Uptime = time.Hour
	}
	if opts.TimeScale <= 0 {
		opts.TimeScale = 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &Router{
		opts: opts, prof: prof, start: time.Now(),
		log:      logBook{size: opts.LogSize},
		watchers: map[string]*watcher{}, jobs: map[string]*watcher{},
		sessions: map[net.Conn]struct{}{},
		ctx:      ctx, cancel: cancel,
	}
	r.static, r.netwatch = dnsStaticTable(prof, r.formatDuration), netwatchTable(prof, r.formatDuration)
	r.scheduler = schedulerTable(r.formatDuration)
	r.firewallTables()
	r.firewall6Tables()
	r.boot = r.start.Add(-opts.Uptime)
	r.log.now = r.now
	r.log.add("system,info", "router rebooted")
	return r
}

// Close stops the netwatch engine, the listeners and every session.
func (r *Router) Close() {
	r.cancel()
	r.mu.Lock()
	for _, ln := range r.lns {
		ln.Close()
	}
	watchers := append(valuesOf(r.watchers), valuesOf(r.jobs)...)
	r.watchers, r.jobs = map[string]*watcher{}, map[string]*watcher{}
	r.mu.Unlock()
	for _, w := range watchers {
		w.stop()
	}
	r.conns.Wait()
}

// DropConnections hangs up every API session without a word, as a network
// outage would; the router's state is kept.
func (r *Router) DropConnections() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for c := range r.sessions {
		c.Close()
	}
}

// result is what one command answers: data rows, then done, or a trap.
type result struct {
	rows [][]string
	done []string
	trap *trap
	// extra traps RouterOS sends before the last one (unknown commands).
	pre []*trap
}

// exec runs a non-streaming command. Callers hold no lock.
func (r *Router) exec(user string, cmd string, attrs []attr, q query) result {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.execLocked(user, cmd, attrs, q)
}

// execLocked is exec for a caller that holds r.mu.
func (r *Router) execLocked(user string, cmd string, attrs []attr, q query) result {
	if r.calls == nil {
		r.calls = map[string]int{}
	}
	r.calls[cmd]++
	r.expireLists()
	res := r.command(user, cmd, attrs, q)
	if strings.HasSuffix(cmd, "/print") {
		res.rows = proplist(res.rows, attrs)
	}
	return res
}

// command runs one command of the menus. Caller holds r.mu.
func (r *Router) command(user string, cmd string, attrs []attr, q query) result {
	switch cmd {
	case "/console/inspect":
		if !r.prof.inspect {
			return unknownCommand(cmd)
		}
		return r.inspect(attrs)
	case "/system/identity/print":
		return result{rows: [][]string{{"=name=" + r.opts.Identity}}}
	case "/system/identity/set":
		for _, a := range attrs {
			if a.key == "name" {
				r.opts.Identity = a.value
			}
		}
		return result{}
	case "/system/resource/print":
		up := r.uptime().Truncate(time.Second)
		return result{rows: [][]string{{
			"=uptime=" + r.formatDuration(up), "=version=" + r.opts.Version,
			"=build-time=2025-02-18 10:44:36", "=cpu=QEMU", "=cpu-count=1", "=cpu-load=1",
			"=free-memory=" + strconv.Itoa(200<<20), "=total-memory=" + strconv.Itoa(256<<20),
			"=architecture-name=x86_64", "=board-name=CHR", "=platform=MikroTik",
		}}}
	case "/system/clock/print":
		now := r.now()
		_, offset := now.Zone()
		sign := "+"
		if offset < 0 {
			sign, offset = "-", -offset
		}
		return result{rows: [][]string{{
			"=time=" + now.Format("15:04:05"), "=date=" + r.prof.clockDate(now),
			"=time-zone-autodetect=false", "=time-zone-name=" + r.opts.Zone.String(),
			"=gmt-offset=" + fmt.Sprintf("%s%02d:%02d", sign, offset/3600, offset%3600/60), "=dst-active=" + strconv.FormatBool(now.IsDST()),
		}}}
	case "/ip/dns/cache/flush":
		r.flushes++
		return result{}
	case "/log/print":
		var rows [][]string
		for _, e := range r.log.entries() {
			w := r.logWords(e)
			if ok, tr := q.match(r.logRow(e)); tr != nil {
				return result{trap: tr}
			} else if ok {
				rows = append(rows, w)
			}
		}
		return result{rows: rows}
	}
	i := strings.LastIndexByte(cmd, '/')
	if i <= 0 {
		return unknownCommand(cmd)
	}
	path, verb := cmd[:i], cmd[i+1:]
	t := r.menu(path)
	if t == nil {
		return unknownCommand(cmd)
	}
	defer r.observeChange(t, verb, attrs)()
	res := r.tableCommand(t, user, verb, attrs, q)
	if res.trap == nil && verb != "print" {
		switch t {
		case r.netwatch:
			r.reconcile()
		case r.scheduler:
			r.reconcileJobs()
		}
	}
	return res
}

// sysUser runs netwatch and scheduler scripts.
const sysUser = "*sys"

func (r *Router) logApplied(user, cmd string, attrs []attr) {
	if user == sysUser {
		// The router's own scripts, not a client's changes.
		return
	}
	words := []string{cmd}
	for _, a := range attrs {
		v := a.value
		if v == "" || strings.ContainsAny(v, " \"\\") {
			v = strconv.Quote(v)
		}
		words = append(words, a.key+"="+v)
	}
	r.applied = append(r.applied, strings.Join(words, " "))
}

func unknownCommand(cmd string) result {
	last := cmd[strings.LastIndexByte(cmd, '/')+1:]
	return result{
		pre:  []*trap{trapf(catMissing, "no such command or directory (%s)", last)},
		trap: trapf(catNone, "no such command prefix"),
	}
}

func (r *Router) tableCommand(t *table, user, verb string, attrs []attr, q query) result {
	ids := func() ([]row, []attr, *trap) {
		var rest []attr
		var sel string
		for _, a := range attrs {
			if a.key == ".id" || a.key == "numbers" {
				sel = a.value
			} else {
				rest = append(rest, a)
			}
		}
		if sel == "" {
			return nil, nil, trapf(catMissing, "no such item")
		}
		rows, tr := t.find(sel)
		return rows, rest, tr
	}
	changed := func(verb string) {
		// A script's change (netwatch, scheduler: *sys) is logged without
		// a user, as the paper's router logs it.
		switch {
		case t != r.static:
		case user == sysUser:
			r.log.add("system,info", "static dns entry "+verb)
		default:
			r.log.add("system,info", "static dns entry "+verb+" by "+user)
		}
	}
	switch verb {
	case "print", "getall":
		return r.printTable(t, attrs, q)
	case "add":
		if t.traffic {
			break
		}
		id, tr := t.orderedAdd(attrs)
		if tr != nil {
			return result{trap: tr}
		}
		r.logApplied(user, t.path+"/"+verb, attrs)
		changed("added")
		return result{done: []string{"=ret=" + id}}
	case "set", "enable", "disable", "remove":
		if t.traffic && verb != "remove" {
			break
		}
		rows, rest, tr := ids()
		if tr != nil {
			return result{trap: tr}
		}
		switch verb {
		case "set":
			if r.forget[t.path] {
				rest = slices.DeleteFunc(rest, func(a attr) bool { return a.key == "comment" })
			}
			tr = t.set(rows, rest)
		case "enable":
			tr = t.set(rows, []attr{{"disabled", "false"}})
		case "disable":
			tr = t.set(rows, []attr{{"disabled", "true"}})
		case "remove":
			t.remove(rows)
		}
		if tr != nil {
			return result{trap: tr}
		}
		r.logApplied(user, t.path+"/"+verb, attrs)
		if verb == "remove" {
			changed("removed")
		} else {
			changed("changed")
		}
		return result{}
	}
	return unknownCommand(t.path + "/" + verb)
}

func randomChallenge() []byte {
	b := make([]byte, 16)
	rand.Read(b)
	return b
}

// printTable prints a menu's items the query selects, with only the
// .proplist properties when one is given.
func (r *Router) printTable(t *table, attrs []attr, q query) result {
	var proplist []string
	for _, a := range attrs {
		if a.key == ".proplist" {
			proplist = strings.Split(a.value, ",")
		}
	}
	var res result
	for _, row := range t.rows {
		ok, tr := q.match(row)
		if tr != nil {
			return result{trap: tr}
		}
		if ok {
			res.rows = append(res.rows, t.words(r.misprinted(t.path, row), proplist))
		}
	}
	return res
}
