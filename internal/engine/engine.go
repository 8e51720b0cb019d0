package engine

import (
	"context"
	"errors"
	"fmt"
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
	// DNS is the resolver asked for the service name (host:port).
	DNS string
	// AuditLog is the operations' JSON-lines file.
	AuditLog string
	// User is who asks for operations that no subscriber names.
	User string
	// ReadOnly refuses every operation and keeps the policy off.
	ReadOnly bool
}

// Event is one thing that happened; exactly one of its fields is set.
type Event struct {
	Server *monitor.Event
	Router *routeros.RouterState
	// Active, Held and Netwatch go with Router: the facts derived from it,
	// once (Netwatch: per host address, see failover.NetwatchByHost).
	Active   string
	Held     bool
	Netwatch map[string]string
	// Enabled counts the name's enabled records of the failed-over type:
	// 1 is a defined answer, 0 none, more an undefined one.
	Enabled int
	// Owners names the server of each record (by ID) and HeldEntries the
	// netwatch entries (by ID) failwatch holds, for the router panel.
	Owners      map[string]string
	HeldEntries map[string]bool
	Log         *routeros.LogEvent
	DNS         *monitor.DNSAnswer
	// Answer goes with DNS: the server the answer points at, "" for none.
	Answer string
	Step   *Step
	Done   *Done
	Policy *PolicyNote
	// Switch is the active server changing, by anyone.
	Switch *Switch
	// Servers is the server list after a reload changed it.
	Servers []config.Server
	// Dropped is the number of events this subscriber missed because it
	// did not keep up; the events after it are current again.
	Dropped int
}

// Step is a step of an operation as it starts and ends.
type Step struct {
	Op   string
	Step failover.Step
}

// Done ends an operation.
type Done struct {
	Result failover.Result
	Err    error
}

// Switch is the name's records moving from one server to another, however
// it happened (netwatch, failwatch, an admin). It has one definition of
// fault-to-switch: when the server switched from was DOWN (or DEGRADED) by
// the probes at the moment of the switch, After is from its going so to the
// switch; otherwise (a planned failover, a restore) there was no fault.
type Switch struct {
	From, To string
	At       time.Time
	Fault    bool
	After    time.Duration
}

// PolicyNote is a decision, or a refusal, of the automatic policy.
type PolicyNote struct {
	At      time.Time
	Text    string
	Refused bool
}

// Snapshot is what the engine knows now: a subscriber that joins late
// starts from it.
type Snapshot struct {
	Router routeros.RouterState
	// Active is the server the name's records point at, "" when none or
	// several: derived here once, for every subscriber.
	Active string
	// Held says the router's netwatch entries are held by failwatch.
	Held bool
	// Health is each server's state as the probes say.
	Health map[string]failover.Health
	DNS    monitor.DNSAnswer
	Busy   bool
}

// Engine is a running core.
type Engine struct {
	cfg      *config.Config
	opts     Options
	failover *failover.Failover
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
	snap     Snapshot
	subs     map[*Subscription]struct{}
	recent   []Event
	busy     bool
	last     *Done
	ops      sync.WaitGroup
}

// recentEvents is how many events a late subscriber gets after the
// snapshot: enough for the sparklines and the last events.
const recentEvents = 2000

// New builds an engine for a config; Run starts it.
func New(cfg *config.Config, opts Options) (*Engine, []string, error) {
	client, warnings, err := routeros.New(opts.Router)
	if err != nil {
		return nil, nil, err
	}
	primary, _ := cfg.Server(config.Primary)
	standby, _ := cfg.Server(config.Standby)
	if opts.User == "" {
		opts.User = "unknown"
	}
	e := &Engine{cfg: cfg, opts: opts, subs: map[*Subscription]struct{}{},
		snap:    Snapshot{Health: map[string]failover.Health{}},
		servers: cfg.Servers, monitors: map[string]*probing{},
		failover: &failover.Failover{Client: client, Service: cfg.Service, Primary: primary, Standby: standby,
			User: opts.User, Audit: failover.NewAudit(opts.AuditLog)}}
	for i, s := range cfg.Servers {
		p, err := e.newProbing(s, i, len(cfg.Servers))
		if err != nil {
			client.Close()
			return nil, nil, err
		}
		e.monitors[s.Name] = p
	}
	e.watcher = routeros.NewWatcher(client, cfg.Service.Name, hosts(cfg.Servers), 2*time.Second)
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
					e.snap.Health[ev.Server] = failover.Health{State: ev.Transition.To, Since: ev.Transition.At}
				}
				e.mu.Unlock()
			}
			e.publish(Event{Server: &ev})
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
	if e.cfg.Auto.Enabled && !e.opts.ReadOnly {
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
				e.mu.Lock()
				e.snap.Router = st
				was := e.snap.Active
				servers := e.servers
				// The entries failwatch holds, for the panel; held is any.
				heldEntries := map[string]bool{}
				for _, n := range st.Netwatch {
					if failover.HeldEntry(n) {
						heldEntries[n.ID] = true
					}
				}
				if st.Err == nil {
					e.snap.Active = failover.Active(e.cfg.Service, st.Records, servers...)
					e.snap.Held = len(heldEntries) > 0
				}
				active, held := e.snap.Active, e.snap.Held
				var sw *Switch
				if st.Err == nil && was != "" && active != was {
					sw = &Switch{From: was, To: active, At: st.At}
					if h := e.snap.Health[was]; h.State == monitor.Down || h.State == monitor.Degraded {
						sw.Fault, sw.After = true, st.At.Sub(h.Since)
					}
				}
				e.mu.Unlock()
				enabled := 0
				for _, r := range failover.OfType(st.Records, failover.RecordType(servers...)) {
					if !r.Disabled {
						enabled++
					}
				}
				e.publish(Event{Router: &st, Active: active, Held: held, Enabled: enabled,
					Netwatch: failover.NetwatchByHost(st.Netwatch, hosts(servers)...),
					Owners:   failover.Owners(e.cfg.Service, st.Records, servers...), HeldEntries: heldEntries})
				if sw != nil {
					e.publish(Event{Switch: sw})
				}
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
				e.publish(Event{Log: &ev})
			case <-ctx.Done():
				return
			}
		}
	})
	family := failover.RecordType(e.cfg.Servers...)
	wg.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			qctx, cancel := context.WithTimeout(ctx, time.Second)
			ans := monitor.Query(qctx, e.opts.DNS, e.cfg.Service.Name, family)
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
			e.snap.DNS = ans
			e.mu.Unlock()
			e.publish(Event{DNS: &ans, Answer: answer})
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
	<-ctx.Done()
	// No reload starts a monitor once Run waits for them.
	e.mu.Lock()
	e.stopping = true
	e.mu.Unlock()
	e.ops.Wait()
	done := make(chan struct{})
	go func() { wg.Wait(); e.running.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
	}
	e.failover.Client.Close()
}

// Snapshot is what the engine knows now.
func (e *Engine) Snapshot() Snapshot {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.snapshotLocked()
}

func (e *Engine) snapshotLocked() Snapshot {
	s := e.snap
	s.Health = make(map[string]failover.Health, len(e.snap.Health))
	for k, v := range e.snap.Health {
		s.Health[k] = v
	}
	s.Busy = e.busy
	return s
}

// publish hands an event to every subscriber without waiting for any.
func (e *Engine) publish(ev Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.recent) >= 2*recentEvents {
		e.recent = append(e.recent[:0], e.recent[len(e.recent)-recentEvents:]...)
	}
	e.recent = append(e.recent, ev)
	for s := range e.subs {
		s.offer(ev)
	}
}

// Op is an operation a subscriber can ask for.
type Op string

// The operations.
const (
	OpFailover     Op = "failover"
	OpFailoverHold Op = "failover with hold"
	OpRestore      Op = "restore"
	OpHold         Op = "hold"
	OpRelease      Op = "release"
)

// ErrBusy is an operation asked for while another runs.
var ErrBusy = errors.New("another operation is under way")

// ErrReadOnly is an operation asked of a read-only engine.
var ErrReadOnly = errors.New("read-only: no operations")

// Request starts an operation for who, one at a time whoever asks; its
// steps and end reach every subscriber. name is how the events name it
// (the policy says "auto failover"), reason goes to the audit log.
func (e *Engine) Request(op Op, who, name, reason string) error {
	if e.opts.ReadOnly {
		return ErrReadOnly
	}
	e.mu.Lock()
	if e.busy || e.ctx == nil || e.ctx.Err() != nil {
		e.mu.Unlock()
		return ErrBusy
	}
	e.busy = true
	ctx := e.ctx
	e.ops.Add(1)
	e.mu.Unlock()
	if name == "" {
		name = string(op)
	}
	go func() {
		defer e.ops.Done()
		f := *e.failover
		f.User, f.Reason = who, reason
		if who == "" {
			f.User = e.opts.User
		}
		f.Progress = func(s failover.Step) { e.publish(Event{Step: &Step{Op: name, Step: s}}) }
		var res failover.Result
		var err error
		switch op {
		case OpFailover, OpFailoverHold:
			res, err = f.FailoverToStandby(ctx, op == OpFailoverHold)
		case OpRestore:
			res, err = f.Restore(ctx)
		case OpHold:
			res, err = f.HoldNetwatch(ctx)
		case OpRelease:
			res, err = f.ReleaseNetwatch(ctx)
		default:
			err = fmt.Errorf("unknown operation %q", op)
		}
		res.Operation = name
		done := &Done{Result: res, Err: err}
		e.mu.Lock()
		e.busy, e.last = false, done
		e.mu.Unlock()
		e.publish(Event{Done: done})
		e.watcher.Poke()
	}()
	return nil
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

// ResetStats clears every server's statistics.
func (e *Engine) ResetStats() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, p := range e.monitors {
		p.m.Reset()
	}
}

// autoPolicy asks the policy once a second and carries out its decisions.
func (e *Engine) autoPolicy(ctx context.Context) {
	p := failover.NewPolicy(e.cfg.Auto, e.failover.Primary.Name, e.failover.Standby.Name)
	e.note(false, fmt.Sprintf("automatic failover on: after %s down, hold-down %s, restore %s",
		config.FormatDuration(e.cfg.Auto.FailAfter), config.FormatDuration(e.cfg.Auto.HoldDown), e.cfg.Auto.Restore))
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			s := e.Snapshot()
			d := p.Decide(failover.PolicyInput{Now: now, RouterConnected: s.Router.Connected, Busy: s.Busy, Active: s.Active,
				Primary: s.Health[e.failover.Primary.Name], Standby: s.Health[e.failover.Standby.Name],
				Switching: failover.Switching(s.Router.Netwatch)})
			switch {
			case d.Refused != "":
				e.note(true, d.Refused)
			case d.Action == failover.ActionFailover:
				e.note(false, "failing over: "+d.Reason)
				e.Request(OpFailover, "auto", "auto failover", d.Reason)
			case d.Action == failover.ActionRestore:
				e.note(false, "restoring: "+d.Reason)
				e.Request(OpRestore, "auto", "auto restore", d.Reason)
			}
		}
	}
}

func (e *Engine) note(refused bool, text string) {
	e.publish(Event{Policy: &PolicyNote{At: time.Now(), Text: text, Refused: refused}})
}

// Subscription is one subscriber's stream of events.
type Subscription struct {
	e  *Engine
	ch chan Event
	// dropped counts events lost since the last one delivered.
	dropped int
	closed  bool
}

// Subscribe joins the stream. The subscriber first gets the recent events
// (the history behind the snapshot: sparklines, the last log lines), then
// every new one; it must read C. A subscriber that falls more than buffer
// events behind loses the oldest and is told how many (Event.Dropped): it
// never slows the engine or anyone else.
func (e *Engine) Subscribe(buffer int) (*Subscription, Snapshot) {
	e.mu.Lock()
	defer e.mu.Unlock()
	history := e.recent[max(0, len(e.recent)-recentEvents):]
	s := &Subscription{e: e, ch: make(chan Event, len(history)+max(buffer, 1))}
	for _, ev := range history {
		s.offer(ev)
	}
	e.subs[s] = struct{}{}
	return s, e.snapshotLocked()
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
		case s.ch <- Event{Dropped: s.dropped}:
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
