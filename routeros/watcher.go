package routeros

import (
	"context"
	"sync"
	"time"
)

// RouterState is one reading of what the dashboard shows about the router.
type RouterState struct {
	At        time.Time
	Connected bool
	// Err says why the router could not be read; the watcher goes on.
	Err error
	// Link is how the connection stood after the reading: reconnecting
	// (it dropped, the next reading redials) or unreachable since when.
	Link     Link
	Identity Identity
	Records  []Record
	Netwatch []Netwatch
	// Bridges are the watched TTL bridges' readings, by key (bridgewatch.go).
	Bridges map[string]BridgeReading
}

// Watcher reads the router's identity, the services' static records and
// the servers' netwatch entries at an interval, and at once when poked: one
// call per table however many services and servers.
type Watcher struct {
	Client *Client
	// Names are the services' DNS names.
	Names []string
	// Every is the interval; default 2s.
	Every time.Duration
	// Bridges are the TTL bridges each reading takes too; set before Run,
	// changed while it runs by SetBridges.
	Bridges []BridgeWatch

	poke chan struct{}
	soon chan struct{}
	// netwatch is the print of the hosts' netwatch entries (netwatchQuery),
	// made when the hosts change (a reload with other servers), not at
	// every reading.
	mu       sync.Mutex
	netwatch []string
	identity Identity
	connects int
}

// NewWatcher returns a watcher of the services' names and the hosts.
func NewWatcher(c *Client, names, hosts []string, every time.Duration) *Watcher {
	if every <= 0 {
		every = 2 * time.Second
	}
	return &Watcher{Client: c, Names: names, netwatch: netwatchQuery(hosts), Every: every, poke: make(chan struct{}, 1), soon: make(chan struct{}, 1)}
}

// SetHosts changes whose netwatch entries the next readings take.
func (w *Watcher) SetHosts(hosts []string) {
	q := netwatchQuery(hosts)
	w.mu.Lock()
	w.netwatch = q
	w.mu.Unlock()
}

// SetBridges changes which TTL bridges the next readings take.
func (w *Watcher) SetBridges(bridges []BridgeWatch) {
	w.mu.Lock()
	w.Bridges = bridges
	w.mu.Unlock()
}

// MinGap is the least time between two readings that PokeSoon asks for.
const MinGap = time.Second

// PokeSoon asks for a reading at most MinGap after the last one: for the
// router's log lines, which come in bursts (a flapping host, a script in a
// loop) and must not turn into a reading per line.
func (w *Watcher) PokeSoon() {
	select {
	case w.soon <- struct{}{}:
	default:
	}
}

// Poke asks for a reading now, e.g. right after a failover; it never blocks.
func (w *Watcher) Poke() {
	select {
	case w.poke <- struct{}{}:
	default:
	}
}

// Read takes one reading.
func (w *Watcher) Read(ctx context.Context) RouterState {
	st := RouterState{At: time.Now()}
	cctx, cancel := context.WithTimeout(ctx, w.Client.opts.Timeout)
	defer cancel()
	st.Err = func() error {
		recs, err := w.Client.StaticRecords(cctx, w.Names...)
		if err != nil {
			return err
		}
		if n := w.Client.Connects(); n != w.connects {
			if w.identity, err = w.Client.Identity(cctx); err != nil {
				return err
			}
			w.connects = n
		}
		w.mu.Lock()
		query, bridges := w.netwatch, w.Bridges
		w.mu.Unlock()
		nw, err := readRows(cctx, w.Client, "netwatch", query, NetwatchFrom)
		if err != nil {
			return err
		}
		st.Records, st.Netwatch = recs, nw
		st.Bridges = w.Client.readBridges(cctx, bridges)
		return nil
	}()
	st.Identity, st.Connected, st.Link = w.identity, st.Err == nil, w.Client.Link()
	return st
}

// Run emits a RouterState per reading until ctx ends.
func (w *Watcher) Run(ctx context.Context, out chan<- RouterState) {
	t := time.NewTicker(w.Every)
	defer t.Stop()
	for {
		select {
		case out <- w.Read(ctx):
		case <-ctx.Done():
			return
		}
		last := time.Now()
		var due <-chan time.Time
	wait:
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				break wait
			case <-w.poke:
				break wait
			case <-due:
				break wait
			case <-w.soon:
				gap := MinGap - time.Since(last)
				if gap <= 0 {
					break wait
				}
				if due == nil {
					due = time.After(gap)
				}
			}
		}
	}
}
