package engine

import (
	"context"
	"errors"
	"reflect"
	"slices"

	"github.com/failwatch/failwatch/config"
)

// Reloaded says what a reload did: the servers it added, removed and
// changed (their probes start afresh), the services whose TTL bridge it
// changed, and what differs in the servers and bridges but applies only at
// a restart.
type Reloaded struct {
	Added, Removed, Changed []string
	Bridges                 []string
	NeedsRestart            []string
}

// Applied says whether the reload changed anything.
func (r Reloaded) Applied() bool {
	return len(r.Added)+len(r.Removed)+len(r.Changed)+len(r.Bridges) > 0
}

// Reload applies a new config's servers and bridges to the running engine:
// servers added, removed or changed get their probes started, stopped or
// restarted, and every other server keeps running with its statistics; a
// service's changed bridge is read and checked from now on
// (reloadBridges). What the
// failover is built on (the primary's and standby's role, address and
// record) applies at the next start, as do the other sections, which the
// caller compares (it knows which defaults it filled in).
func (e *Engine) Reload(next *config.Config) (Reloaded, error) {
	var r Reloaded
	e.mu.Lock()
	ctx := e.ctx
	e.mu.Unlock()
	if ctx == nil || ctx.Err() != nil {
		return r, errors.New("the engine is not running")
	}
	// What the failovers are built on (the servers that carry each
	// service, their addresses and records): a change needs a restart. The
	// caller compares the services' own settings.
	if !reflect.DeepEqual(carriers(e.cfg), carriers(next)) {
		r.NeedsRestart = append(r.NeedsRestart, "servers (a service's primary or standby)")
	}
	servers := reloadServers(e.Servers(), next, &r)
	if r.Applied() {
		if err := e.restartProbes(ctx, servers, r); err != nil {
			return Reloaded{NeedsRestart: r.NeedsRestart}, err
		}
	}
	checks := e.reloadBridges(next, &r)
	if len(r.Bridges) == 0 {
		return r, nil
	}
	if !e.recheckBridges(ctx, checks) {
		return r, errors.New("the engine is stopping")
	}
	e.watcher.Poke()
	return r, nil
}

// reloadServers is the servers the engine runs after a reload from old to
// next; r gets which of them were added, removed and changed.
func reloadServers(old []config.Server, next *config.Config, r *Reloaded) []config.Server {
	// The failover's servers stay; a change to their checks applies now.
	var servers []config.Server
	for _, was := range old {
		if was.Role == config.Monitor {
			continue
		}
		now, ok := serverNamed(next.Servers, was.Name)
		if ok && sameFailoverServer(was, now) && !reflect.DeepEqual(was, now) {
			servers = append(servers, now)
			r.Changed = append(r.Changed, now.Name)
		} else {
			servers = append(servers, was)
		}
	}
	// Servers that are only watched come and go as the config says.
	for _, s := range next.Servers {
		if s.Role != config.Monitor {
			continue
		}
		was, ok := serverNamed(old, s.Name)
		switch {
		case ok && was.Role != config.Monitor:
			// A failover server turned monitor: noted above, kept as it is.
		case ok && reflect.DeepEqual(was, s):
			servers = append(servers, was)
		case ok:
			servers = append(servers, s)
			r.Changed = append(r.Changed, s.Name)
		default:
			servers = append(servers, s)
			r.Added = append(r.Added, s.Name)
		}
	}
	for _, s := range old {
		if _, ok := serverNamed(servers, s.Name); !ok {
			r.Removed = append(r.Removed, s.Name)
		}
	}
	return servers
}

func serverNamed(list []config.Server, name string) (config.Server, bool) {
	i := slices.IndexFunc(list, func(s config.Server) bool { return s.Name == name })
	if i < 0 {
		return config.Server{}, false
	}
	return list[i], true
}

// restartProbes stops the probes of the servers r removed or changed,
// starts those of the ones it added or changed, and makes servers the
// running set.
func (e *Engine) restartProbes(ctx context.Context, servers []config.Server, r Reloaded) error {
	// Build the new monitors before stopping anything: a server that
	// cannot be probed leaves the running set as it was.
	fresh := map[string]*probing{}
	for i, s := range servers {
		if slices.Contains(r.Added, s.Name) || slices.Contains(r.Changed, s.Name) {
			p, err := e.newProbing(s, i, len(servers))
			if err != nil {
				return err
			}
			fresh[s.Name] = p
		}
	}
	var stopped []*probing
	e.mu.Lock()
	if e.stopping {
		e.mu.Unlock()
		return errors.New("the engine is stopping")
	}
	gone := append(slices.Clone(r.Removed), r.Changed...)
	for _, name := range gone {
		if p := e.monitors[name]; p != nil {
			p.cancel()
			stopped = append(stopped, p)
		}
		delete(e.monitors, name)
		delete(e.state.Health, name)
		delete(e.losing, name)
	}
	e.hist.forget(gone)
	for name, p := range fresh {
		e.monitors[name] = p
		e.start(ctx, p)
	}
	e.servers = servers
	e.mu.Unlock()
	for _, p := range stopped {
		<-p.done
	}
	e.watcher.SetHosts(hosts(servers))
	e.watcher.Poke()
	e.publish(ServersChanged(servers))
	return nil
}

// carriers is, per service, the name, address and record match of its
// primary and standby.
func carriers(cfg *config.Config) []any {
	var out []any
	for _, svc := range cfg.Services {
		p, s := cfg.Pair(svc)
		out = append(out, p.Name, p.Address, p.Record, s.Name, s.Address, s.Record)
	}
	return out
}

// sameFailoverServer: what the failover and the watcher were built on is
// unchanged (the name and the checks may differ).
func sameFailoverServer(a, b config.Server) bool {
	return a.Role == b.Role && a.Address == b.Address && a.Record == b.Record
}
