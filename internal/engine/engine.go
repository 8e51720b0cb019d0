package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/failwatch/failwatch/config"
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
	state    State
	// facts are each service's, by name; defined the server the last
	// defined reading found, for switches.
	facts   map[string]Facts
	defined map[string]string
	// marks are failwatch's operations by service, and log what the log
	// follower said, for attributing switches.
	marks map[string]opMark
	log   struct {
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
		servers: cfg.Servers, monitors: map[string]*probing{}, refused: map[string]*refusal{},
		facts: map[string]Facts{}, defined: map[string]string{}, marks: map[string]opMark{}, hist: newHistory()}
	audits := map[string]*failover.Audit{}
	e.audit = auditFor(audits, opts.AuditLog)
	var names []string
	for _, svc := range cfg.Services {
		names = append(names, svc.Name)
		e.facts[svc.Name] = Facts{Service: svc.Name, State: FactUnknown, Why: "no reading yet"}
	}
	for _, svc := range cfg.Services {
		primary, standby := cfg.Pair(svc)
		path := opts.AuditLog
		if svc.AuditLog != "" {
			path = svc.AuditLog
		}
		auditFor(audits, path)
		dns := opts.DNS
		if svc.DNSServer != "" {
			dns = svc.DNSServer
		}
		siblings := slices.DeleteFunc(slices.Clone(names), func(n string) bool { return n == svc.Name })
		e.services = append(e.services, &service{cfg: svc, dns: dns, failover: &failover.Failover{Client: client, Service: svc,
			Primary: primary, Standby: standby, User: opts.User, Audit: audits[path], Siblings: siblings}})
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
	return e, warnings, nil
}

// probing is one server's monitor and how to stop it.
type probing struct {
	m      *monitor.Server
	cancel context.CancelFunc
	done   chan struct{}
}

func (e *Engine) newProbing(s config.Server, i, n int) (*probing, error) {
	mo := e.opts.Monitor
	mo.Phase = monitor.Spread(i, n, e.cfg.Probe.Interval)
	m, err := monitor.NewServer(s, mo)
	if err != nil {
		return nil, err
	}
	return &probing{m: m}, nil
}

// start runs a monitor until ctx ends or it is stopped, publishing what it
// sees and keeping each server's health for the policy and the snapshot.
func (e *Engine) start(ctx context.Context, p *probing) {
	ctx, p.cancel = context.WithCancel(ctx)
	p.done = make(chan struct{})
	events := make(chan monitor.Event, 64)
	e.running.Go(func() { p.m.Run(ctx, events); close(events) })
	e.running.Go(func() {
		defer close(p.done)
		for ev := range events {
			if ev.Type == monitor.EventServer {
				e.mu.Lock()
				if e.monitors[ev.Server] == p {
					e.state.Health[ev.Server] = failover.Health{State: ev.Transition.To, Since: ev.Transition.At}
				}
				e.mu.Unlock()
			}
			e.publish(ServerEvent(ev))
		}
	})
}

func hosts(servers []config.Server) []string {
	out := make([]string, len(servers))
	for i, s := range servers {
		out[i] = s.Address
	}
	return out
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
	e.mu.Lock()
	e.ctx = ctx
	e.mu.Unlock()
	var wg sync.WaitGroup
	if !e.opts.ReadOnly && slices.ContainsFunc(e.services, func(s *service) bool { return s.cfg.Auto.Enabled }) {
		wg.Go(func() { e.autoPolicy(ctx) })
	}
	e.mu.Lock()
	for _, p := range e.monitors {
		e.start(ctx, p)
	}
	e.mu.Unlock()
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
	wg.Go(func() { e.flushRefusalsEvery(ctx, time.Minute) })
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

// dnsPerSecond is how many names the resolver is asked a second: with more
// services each is asked less often (50 names: each every 5 s), so the
// router's DNS is not asked 50 times a second.
const dnsPerSecond = 10

// askDNS asks what the services' names resolve to, up to dnsPerSecond of
// them a second in turn, those of one second at once: a resolver that does
// not answer costs one timeout a second, not one per name.
func (e *Engine) askDNS(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	next := 0
	for {
		var wg sync.WaitGroup
		for i := range min(dnsPerSecond, len(e.services)) {
			svc := e.services[(next+i)%len(e.services)]
			wg.Go(func() {
				f := svc.failover
				qctx, cancel := context.WithTimeout(ctx, time.Second)
				ans := monitor.Query(qctx, svc.dns, svc.cfg.Name, failover.RecordType(f.Primary, f.Standby))
				cancel()
				if ctx.Err() != nil {
					return
				}
				answer := ""
				for _, s := range e.Servers() {
					if len(ans.Addrs) > 0 && ans.Addrs[0].String() == s.Address {
						answer = s.Name
					}
				}
				e.mu.Lock()
				e.state.DNS[svc.cfg.Name] = ans
				e.mu.Unlock()
				e.publish(DNSAnswer{Service: svc.cfg.Name, Server: answer, DNSAnswer: ans})
			})
		}
		wg.Wait()
		next = (next + dnsPerSecond) % max(len(e.services), 1)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
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
	e.hist.keep(ev)
	for s := range e.subs {
		s.offer(ev)
	}
}

// Op is an operation a subscriber can ask for.
type Op string

// The operations. The first five act on one service; the last two on
// every service they concern, one service after the other.
const (
	OpFailover     Op = "failover"
	OpFailoverHold Op = "failover with hold"
	OpRestore      Op = "restore"
	OpHold         Op = "hold"
	OpRelease      Op = "release"
	// OpEvacuate moves every service whose records point at the server
	// named by the target to its other server (maintenance of that server).
	OpEvacuate Op = "move off"
	// OpPrimaries restores every service not on its primary.
	OpPrimaries Op = "back to primaries"
	// OpResetStats clears every server's displayed and lifetime
	// statistics (not what the up/down state and the policy decide from):
	// an operator's request, audited and announced, that changes nothing
	// on the router and takes no operation's turn.
	OpResetStats Op = "reset statistics"
)

// serviceOps are what the one-service operations do to a service.
var serviceOps = map[Op]func(*failover.Failover, context.Context) (failover.Result, error){
	OpFailover: func(f *failover.Failover, ctx context.Context) (failover.Result, error) {
		return f.FailoverToStandby(ctx, false)
	},
	OpFailoverHold: func(f *failover.Failover, ctx context.Context) (failover.Result, error) {
		return f.FailoverToStandby(ctx, true)
	},
	OpRestore: (*failover.Failover).Restore,
	OpHold:    (*failover.Failover).HoldNetwatch,
	OpRelease: (*failover.Failover).ReleaseNetwatch,
}

// part is one service's share of an operation.
type part struct {
	svc *service
	op  Op
}

// Request starts an operation, one at a time whoever asks; its steps and
// end reach every subscriber. A viewer's request is refused, and so is one
// made while another operation runs ("busy: alice's failover is running");
// refusals are audited, one line per requester and reason with a count.
func (e *Engine) Request(r Request) error {
	if e.opts.ReadOnly {
		return ErrReadOnly
	}
	e.mu.Lock()
	if err := r.By.allowed(); err != nil {
		defer e.mu.Unlock()
		return e.refuse(r, err)
	}
	if e.ctx == nil || e.ctx.Err() != nil {
		e.mu.Unlock()
		return ErrBusy
	}
	if r.Op == OpResetStats {
		e.mu.Unlock()
		return e.resetStats(r.By)
	}
	if e.busy {
		defer e.mu.Unlock()
		current := e.current
		return e.refuse(r, &current)
	}
	if r.Move != "" {
		if q := Ask(r.Asked, r.Target, e.cfg.Services, e.facts); q.Nothing != "" || q.Move != r.Move || q.Op != r.Op {
			e.mu.Unlock()
			return &ChangedError{Now: q}
		}
	}
	parts, err := e.plan(r.Op, r.Target)
	if err != nil {
		e.mu.Unlock()
		return err
	}
	if r.Name == "" {
		r.Name = string(r.Op)
		if r.Op == OpEvacuate {
			r.Name += " " + r.Target
		}
	}
	who := r.By.String()
	if who == "" {
		who = e.opts.User
	}
	e.busy, e.current = true, BusyError{Who: who, Op: r.Name}
	started := time.Now()
	e.started(parts, who, r.Name, started)
	ctx := e.ctx
	e.ops.Add(1)
	e.mu.Unlock()
	go func() {
		defer e.ops.Done()
		done := e.run(ctx, r.Name, who, r.Reason, parts)
		done.By = who
		e.mu.Lock()
		e.busy, e.last = false, done
		e.ended(done.Result, time.Now())
		e.mu.Unlock()
		e.flushRefusals()
		e.publish(*done)
		e.watcher.Poke()
	}()
	return nil
}

// plan is what op on target means service by service, from the records as
// last read; the engine's lock is held.
func (e *Engine) plan(op Op, target string) ([]part, error) {
	var parts []part
	switch op {
	case OpEvacuate:
		if _, ok := e.cfg.Server(target); !ok {
			return nil, fmt.Errorf("no server is named %q", target)
		}
		for _, svc := range e.services {
			switch active := e.state.Active[svc.cfg.Name]; {
			case active != target:
			case target == svc.cfg.Primary && svc.cfg.HoldNetwatch:
				parts = append(parts, part{svc, OpFailoverHold})
			case target == svc.cfg.Primary:
				parts = append(parts, part{svc, OpFailover})
			default:
				parts = append(parts, part{svc, OpRestore})
			}
		}
		if len(parts) == 0 {
			return nil, fmt.Errorf("no service's records point at %s: nothing to move", target)
		}
	case OpPrimaries:
		for _, svc := range e.services {
			// Only those a fresh reading puts elsewhere: nothing is moved
			// on facts the engine does not have.
			if f := e.facts[svc.cfg.Name]; f.State == FactKnown && f.Active != svc.cfg.Primary {
				parts = append(parts, part{svc, OpRestore})
			}
		}
		if len(parts) == 0 {
			return nil, errors.New("every service is on its primary: nothing to restore")
		}
	case OpFailover, OpFailoverHold, OpRestore, OpHold, OpRelease:
		svc, err := e.service(target)
		if err != nil {
			return nil, err
		}
		parts = []part{{svc, op}}
	default:
		return nil, fmt.Errorf("unknown operation %q", op)
	}
	return parts, nil
}

// service finds a service by name; "" is the only one.
func (e *Engine) service(name string) (*service, error) {
	if name == "" && len(e.services) == 1 {
		return e.services[0], nil
	}
	for _, svc := range e.services {
		if svc.cfg.Name == name {
			return svc, nil
		}
	}
	if name == "" {
		return nil, fmt.Errorf("%d services: name the one to act on", len(e.services))
	}
	return nil, fmt.Errorf("no service is named %q", name)
}

// run carries out the parts one after the other (failover.Each): each
// verified, rolled back alone, audited; a failure stops the rest.
func (e *Engine) run(ctx context.Context, name, who, reason string, parts []part) *Done {
	var each []failover.Part
	for _, p := range parts {
		f := *p.svc.failover
		f.User, f.Reason = who, reason
		f.Progress = func(s failover.Step) { e.publish(Step{Op: name, Step: s}) }
		each = append(each, failover.Part{Failover: &f, Do: serviceOps[p.op]})
	}
	res, err := failover.Each(ctx, name, each)
	return &Done{Result: res, Err: err}
}

// LastDone is how the latest operation ended, nil before the first.
func (e *Engine) LastDone() *Done {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.last
}

// Busy says whether an operation is under way.
func (e *Engine) Busy() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.busy
}

// resetStats clears every server's displayed and lifetime statistics for
// by, audits it and tells every subscriber.
func (e *Engine) resetStats(by Requester) error {
	at := time.Now()
	e.mu.Lock()
	for _, p := range e.monitors {
		p.m.Reset()
	}
	e.mu.Unlock()
	res := failover.Result{Operation: string(OpResetStats), Outcome: failover.OutcomeChanged, Started: at,
		Changes: []failover.Change{}, Steps: []failover.Step{}}
	if err := e.audit.Append(by.String(), "", res, nil); err != nil {
		e.note(true, "audit log: "+err.Error())
	}
	e.publish(StatsReset{By: by.String(), At: at})
	return nil
}

// autoPolicy asks each service's policy once a second and carries out its
// decisions, one operation at a time: a service whose decision meets
// another's operation asks again at the next tick.
func (e *Engine) autoPolicy(ctx context.Context) {
	type watched struct {
		svc    *service
		policy *failover.Policy
	}
	var all []watched
	for _, svc := range e.services {
		a := svc.cfg.Auto
		if !a.Enabled {
			continue
		}
		all = append(all, watched{svc, failover.NewPolicy(a, svc.cfg.Primary, svc.cfg.Standby)})
		e.note(false, e.about(svc.cfg.Name, fmt.Sprintf("automatic failover on: after %s down, hold-down %s, restore %s",
			config.FormatDuration(a.FailAfter), config.FormatDuration(a.HoldDown), a.Restore)))
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			s := e.State()
			for _, w := range all {
				f, name := w.svc.failover, w.svc.cfg.Name
				mine := failover.Own(s.Router.Netwatch, name, f.Siblings)
				mine = slices.DeleteFunc(mine, func(n routeros.Netwatch) bool { return n.Host != f.Primary.Address && n.Host != f.Standby.Address })
				d := w.policy.Decide(failover.PolicyInput{Now: now, RouterConnected: s.Router.Connected, Busy: s.Busy, Active: s.Active[name],
					Primary: s.Health[f.Primary.Name], Standby: s.Health[f.Standby.Name], Switching: failover.Switching(mine)})
				switch {
				case d.Refused != "":
					e.note(true, e.about(name, d.Refused))
				case d.Action == failover.ActionFailover:
					e.act(OpFailover, name, "auto failover", "failing over: ", d.Reason)
					s.Busy = true
				case d.Action == failover.ActionRestore:
					e.act(OpRestore, name, "auto restore", "restoring: ", d.Reason)
					s.Busy = true
				}
			}
		}
	}
}

// act carries out a policy decision on a service, saying so first.
func (e *Engine) act(op Op, service, name, doing, reason string) {
	e.note(false, e.about(service, doing+reason))
	if err := e.Request(Request{Op: op, Target: service, By: Requester{User: "auto", Role: Operator}, Name: name, Reason: reason}); err != nil {
		e.note(true, e.about(service, name+" not started: "+err.Error()))
	}
}

// about puts a service's name before a note about it when there are
// several.
func (e *Engine) about(service, text string) string {
	if len(e.services) > 1 {
		return service + ": " + text
	}
	return text
}

func (e *Engine) note(refused bool, text string) {
	e.publish(PolicyNote{At: time.Now(), Text: text, Refused: refused})
}

// Subscription is one subscriber's stream of events.
type Subscription struct {
	e  *Engine
	ch chan Event
	// dropped counts events lost since the last one delivered.
	dropped int
	closed  bool
}

// Subscribe joins the stream. The subscriber first gets a Snapshot, the
// whole picture as one event however late it joins, then every new event;
// it must read C. A subscriber that falls more than buffer events behind
// loses the oldest and is told how many (Dropped): it never slows the
// engine or anyone else.
func (e *Engine) Subscribe(buffer int) *Subscription {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := &Subscription{e: e, ch: make(chan Event, 1+max(buffer, 1))}
	snap := Snapshot{Events: e.hist.events(), Busy: e.busy}
	for _, svc := range e.services {
		snap.Facts = append(snap.Facts, e.facts[svc.cfg.Name])
	}
	s.offer(snap)
	e.subs[s] = struct{}{}
	return s
}

// C is the stream.
func (s *Subscription) C() <-chan Event { return s.ch }

// Close leaves the stream.
func (s *Subscription) Close() {
	s.e.mu.Lock()
	defer s.e.mu.Unlock()
	if !s.closed {
		s.closed = true
		delete(s.e.subs, s)
	}
}

// offer queues an event without blocking; the engine's lock is held. A full
// queue drops the event and counts it, and the count goes out as soon as
// there is room.
func (s *Subscription) offer(ev Event) {
	if s.dropped > 0 {
		select {
		case s.ch <- Dropped(s.dropped):
			s.dropped = 0
		default:
			s.dropped++
			return
		}
	}
	select {
	case s.ch <- ev:
	default:
		s.dropped++
	}
}
