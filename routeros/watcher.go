package routeros

import (
	"context"
	"time"
)

// RouterState is one reading of what the dashboard shows about the router.
type RouterState struct {
	At        time.Time
	Connected bool
	// Err says why the router could not be read; the watcher goes on.
	Err      error
	Identity Identity
	Records  []Record
	Netwatch []Netwatch
}

// Watcher reads the router's identity, the service's static records and
// the servers' netwatch entries at an interval, and at once when poked.
type Watcher struct {
	Client  *Client
	Service string
	Hosts   []string
	// Every is the interval; default 2s.
	Every time.Duration

	poke chan struct{}
}

// NewWatcher returns a watcher of the service name and hosts.
func NewWatcher(c *Client, service string, hosts []string, every time.Duration) *Watcher {
	if every <= 0 {
		every = 2 * time.Second
	}
	return &Watcher{Client: c, Service: service, Hosts: hosts, Every: every, poke: make(chan struct{}, 1)}
}

// Poke asks for a reading now, e.g. right after a failover; it never blocks.
func (w *Watcher) Poke() {
	select {
	case w.poke <- struct{}{}:
	default:
	}
}

// Run emits a RouterState per reading until ctx ends.
func (w *Watcher) Run(ctx context.Context, out chan<- RouterState) {
	t := time.NewTicker(w.Every)
	defer t.Stop()
	var id Identity
	connects := 0
	for {
		st := RouterState{At: time.Now()}
		err := func() error {
			cctx, cancel := context.WithTimeout(ctx, w.Client.opts.Timeout)
			defer cancel()
			recs, err := w.Client.StaticRecords(cctx, w.Service)
			if err != nil {
				return err
			}
			if n := w.Client.Connects(); n != connects {
				if id, err = w.Client.Identity(cctx); err != nil {
					return err
				}
				connects = n
			}
			nw, err := w.Client.NetwatchEntries(cctx, w.Hosts...)
			if err != nil {
				return err
			}
			st.Records, st.Netwatch = recs, nw
			return nil
		}()
		st.Identity = id
		st.Connected, st.Err = err == nil, err
		select {
		case out <- st:
		case <-ctx.Done():
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-w.poke:
		}
	}
}
