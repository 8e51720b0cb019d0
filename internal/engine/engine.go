package engine

import (
	"context"
	"maps"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/ha"
	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/failover"
)

// Options say where the engine's parts reach.
type Options struct {
	Router  routeros.Options
	Monitor monitor.Options
	// DNS is the resolver asked for the services' names (host:port), unless
	// a service names its own.
	DNS string
	// AuditLog is the operations' JSON-lines file.
	AuditLog string
	// User is who asks for operations that no subscriber names.
	User string
	// ReadOnly refuses every operation and keeps the policy off.
	ReadOnly bool
	// LocalAddr is failwatch's own source address towards an address,
	// for the TTL bridge's start-up check; default the kernel's choice.
	LocalAddr func(netip.Addr) (netip.Addr, error)
	// HA is this instance in its cluster (ha:), nil for a single instance;
	// Run runs it and closes it.
	HA *ha.Member
}

// State is what the engine knows now, for the policy and the plans.
type State struct {
	Router routeros.RouterState
	// Active is, by service name, the server its records point at as a
	// fresh reading says, "" when none, several, or not known: derived
	// here once, for every subscriber and the policy.
	Active map[string]string
	// Facts are each service's facts with what they rest on, by name.
	Facts map[string]Facts
	// Held says some of the router's netwatch entries are held by failwatch.
	Held bool
	// Health is each server's state as the probes say.
	Health map[string]failover.Health
	// DNS is each service's last answer, by name.
	DNS  map[string]monitor.DNSAnswer
	Busy bool
}

// Engine is a running core.
type Engine struct {
	cfg  *config.Config
	opts Options
	// services are the config's, in its order, each with its failover.
	services []*service
	client   *routeros.Client
	watcher  *routeros.Watcher
	ctx      context.Context
	// running waits for the monitors, which a reload starts and stops;
	// stopping (under mu) ends reloads once Run waits.
	running  sync.WaitGroup
	stopping bool

	mu sync.Mutex
	// servers is the server list now (a reload changes it) and monitors
	// their probes, by name.
	servers  []config.Server
	monitors map[string]*probing
	// probes runs every server's monitor on one goroutine (probes.go).
	probes *monitor.Group
	state  State
	// facts are each service's, by name; defined the server the last
	// defined reading found, for switches.
	facts   map[string]Facts
	defined map[string]string
	// marks are failwatch's operations by service, and log what the log
	// follower said, for attributing switches.
	marks map[string]opMark
	// losing is, by server and check, when its probes began losing
	// without a reply since.
	losing map[string]map[string]time.Time
	log    struct {
		followed bool
		since    time.Time
		lines    []seenLine
	}
	subs map[*Subscription]struct{}
	// hist is what a subscriber that joins late starts from.
	hist *history
	busy bool
	// current is the operation under way, for a refusal to name.
	current BusyError
	last    *Done
	ops     sync.WaitGroup
	// audit takes the refusals; refused are those not yet written.
	audit   *failover.Audit
	refused map[string]*refusal
	// bridgeChecks are the TTL bridges' start-up checks by service: why
	// one is refused, "" when allowed, absent before it ran; bridgeEnded
	// when a ttl bridge past its end was last asked to end (bridge.go).
	bridgeChecks map[string]string
	bridgeEnded  map[string]time.Time
	// bridges are the bridges a reload set, by service (the config's
	// otherwise), and bridgeGen counts them, so a start-up check of a
	// bridge since replaced is dropped (bridgereload.go).
	bridges   map[string]config.Bridge
	bridgeGen map[string]int
	// bridgeRetries are the bridges that failed to come on, tried again
	// bridgeRetryAfter apart (bridgeretry.go).
	bridgeRetries    map[string]bridgeRetry
	bridgeRetryAfter time.Duration
	// ha is nil without ha: (leader.go).
	ha *leader
	// policyNow asks the automatic policy at once, when a server's state
	// changed, besides its tick every policyEvery (policy.go).
	policyNow   chan struct{}
	policyEvery time.Duration
}

// service is one name the engine fails over.
type service struct {
	cfg config.Service
	// failover is its primary and standby, each with its record of this
	// name; copied for each operation.
	failover *failover.Failover
	// dns is the resolver asked for the name.
	dns string
}

// New builds an engine for a config; Run starts it.
func New(cfg *config.Config, opts Options) (*Engine, []string, error) {
	client, warnings, err := routeros.New(opts.Router)
	if err != nil {
		return nil, nil, err
	}
	if opts.User == "" {
		opts.User = "unknown"
	}
	e := &Engine{cfg: cfg, opts: opts, client: client, subs: map[*Subscription]struct{}{},
		state:   State{Health: map[string]failover.Health{}, Active: map[string]string{}, DNS: map[string]monitor.DNSAnswer{}},
		servers: cfg.Servers, monitors: map[string]*probing{}, probes: monitor.NewGroup(), refused: map[string]*refusal{},
		facts: map[string]Facts{}, defined: map[string]string{}, marks: map[string]opMark{}, losing: map[string]map[string]time.Time{}, hist: newHistory(),
		bridgeChecks: map[string]string{}, bridgeEnded: map[string]time.Time{}, bridges: map[string]config.Bridge{}, bridgeGen: map[string]int{},
		bridgeRetries: map[string]bridgeRetry{}, bridgeRetryAfter: time.Minute,
		ha: newLeader(opts.HA), policyNow: make(chan struct{}, 1), policyEvery: time.Second}
	e.hist.noSamples = opts.Monitor.Compact
	audits := map[string]*failover.Audit{}
	e.audit = auditFor(audits, opts.AuditLog)
	var names []string
	for _, svc := range cfg.Services {
		names = append(names, svc.Name)
		e.facts[svc.Name] = Facts{Service: svc.Name, State: FactUnknown, Why: "no reading yet"}
	}
	for _, svc := range cfg.Services {
		dns := svc.Resolver(opts.DNS)
		audit := auditFor(audits, failover.AuditPath(svc, opts.AuditLog))
		e.services = append(e.services, &service{cfg: svc, dns: dns, failover: failover.ForService(cfg, svc, client, opts.User, audit)})
	}
	for i, s := range cfg.Servers {
		p, err := e.newProbing(s, i, len(cfg.Servers))
		if err != nil {
			client.Close()
			return nil, nil, err
		}
		e.monitors[s.Name] = p
	}
	e.watcher = routeros.NewWatcher(client, names, hosts(cfg.Servers), 2*time.Second)
	var fs []*failover.Failover
	for _, s := range e.services {
		fs = append(fs, s.failover)
	}
	e.watcher.Bridges = BridgeWatches(fs)
	return e, warnings, nil
}

// Servers is the server list now: the config's, as reloads changed it.
func (e *Engine) Servers() []config.Server {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.servers
}

// Config is the engine's config.
func (e *Engine) Config() *config.Config { return e.cfg }

// Run runs every part until ctx ends, then waits for an operation under way
// to finish or roll back (it is audited before Run returns) and closes the
// router connection.
func (e *Engine) Run(ctx context.Context) {
	// The context and the monitors started under one hold of the lock: a
	// reload between the two would start its fresh monitors, and then
	// they would be started again here.
	e.mu.Lock()
	e.ctx = ctx
	for _, p := range e.monitors {
		e.start(ctx, p)
	}
	e.mu.Unlock()
	var wg sync.WaitGroup
	if !e.opts.ReadOnly && slices.ContainsFunc(e.services, func(s *service) bool { return s.cfg.Auto.Enabled }) {
		wg.Go(func() { e.autoPolicy(ctx) })
	}
	e.running.Go(func() { e.probes.Run(ctx) })
	states := make(chan routeros.RouterState, 4)
	wg.Go(func() { e.watcher.Run(ctx, states) })
	wg.Go(func() {
		for {
			select {
			case st := <-states:
				e.reading(st)
			case <-ctx.Done():
				return
			}
		}
	})
	logs := make(chan routeros.LogEvent, 64)
	follower := &routeros.LogFollower{Opts: e.opts.Router}
	wg.Go(func() { follower.Run(ctx, logs) })
	wg.Go(func() {
		for {
			select {
			case ev := <-logs:
				if ev.Kind == routeros.LogLine {
					e.watcher.PokeSoon()
				}
				e.sawLog(ev)
				e.publish(LogLine(ev))
			case <-ctx.Done():
				return
			}
		}
	})
	wg.Go(func() { e.askDNS(ctx) })
	wg.Go(func() { e.ageFactsEvery(ctx) })
	wg.Go(func() { e.checkBridges(ctx) })
	wg.Go(func() { e.flushRefusalsEvery(ctx, time.Minute) })
	if e.ha != nil {
		wg.Go(func() { e.runHA(ctx) })
	}
	<-ctx.Done()
	// No reload starts a monitor once Run waits for them.
	e.mu.Lock()
	e.stopping = true
	e.mu.Unlock()
	e.ops.Wait()
	e.flushRefusals()
	done := make(chan struct{})
	go func() { wg.Wait(); e.running.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
	}
	e.client.Close()
}

// State is what the engine knows now.
func (e *Engine) State() State {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.stateLocked()
}

func (e *Engine) stateLocked() State {
	s := e.state
	s.Health, s.Active, s.DNS = maps.Clone(e.state.Health), maps.Clone(e.state.Active), maps.Clone(e.state.DNS)
	s.Facts = maps.Clone(e.facts)
	s.Busy = e.busy
	return s
}

// publish hands an event to every subscriber without waiting for any.
func (e *Engine) publish(ev Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.publishLocked(ev)
}

// publishLocked is publish with the engine's lock held.
func (e *Engine) publishLocked(ev Event) {
	e.hist.keep(ev)
	for s := range e.subs {
		s.offer(ev)
	}
}
