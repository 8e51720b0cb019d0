// Package ha makes several failwatch instances watching one router agree
// through etcd: one leader per router acts, through an election on a lease;
// every instance publishes its config's hash and its view of each server
// under its own lease; the leader sends a change to the router only while
// time says its lease still stands (the fence, fence.go); operator requests
// reach the leader through keys it watches (requests.go) and operations
// keep a journal a new leader finishes or undoes from (journal.go).
package ha

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
	"go.uber.org/zap"

	"github.com/failwatch/failwatch/config"
)

// Options say which cluster and router a Member is for.
type Options struct {
	HA *config.HA
	// Router is the router's address: one election per router.
	Router string
	// Hash is this instance's config hash (Hash).
	Hash string
	// CallDeadline is the router call deadline: a change sent at the
	// fence's last moment must be over before the lease can expire.
	CallDeadline time.Duration
	// Margin covers clock rate differences and etcd's own delay; zero is
	// a tenth of the lease TTL, at least 200ms.
	Margin time.Duration
}

// Member is this instance in its cluster. Run drives it; the rest is safe
// from any goroutine.
type Member struct {
	opts   Options
	ttl    time.Duration
	prefix string
	cli    *clientv3.Client
	// tls is the etcd client's TLS, nil without; kept to say why etcd
	// refuses it.
	tls *tls.Config

	mu sync.Mutex
	st state
	// changed is closed and replaced whenever the state changes.
	changed chan struct{}
	// verdicts are this instance's views, published under its lease.
	verdicts map[string]string
	// routerDown is when the router was last found unreachable, zero
	// while it is reachable.
	routerDown time.Time
	requests   chan Incoming
}

// state is what a Member knows now, under mu.
type state struct {
	connected bool
	// lease is this term's lease, 0 without one; alive is when the last
	// keep-alive that was answered was sent.
	lease  clientv3.LeaseID
	alive  time.Time
	leader string
	// elected is set while this instance holds the leader key: the key and
	// its create revision, which fenced transactions compare.
	elected  *concurrency.Election
	leaderAt time.Time
	members  map[string]*peer
	why      string
	closed   bool
	// etcdErr is why etcd refused this instance's last publication or
	// reading, "" once one succeeds.
	etcdErr string
}

// New connects a Member's etcd client (lazily: etcd may be down now).
func New(opts Options) (*Member, error) {
	h := opts.HA
	if h == nil {
		return nil, errors.New("ha: no ha section")
	}
	if opts.Margin <= 0 {
		opts.Margin = max(h.LeaseTTL/10, 200*time.Millisecond)
	}
	if h.LeaseTTL < time.Second || h.LeaseTTL%time.Second != 0 {
		return nil, fmt.Errorf("ha: lease_ttl %s: etcd leases are whole seconds, at least 1s", h.LeaseTTL)
	}
	if bound := h.LeaseTTL - opts.CallDeadline - opts.Margin; bound <= 0 {
		return nil, fmt.Errorf("ha: lease_ttl %s leaves no time to send: the router call deadline (%s) and the margin (%s) take it all",
			h.LeaseTTL, opts.CallDeadline, opts.Margin)
	}
	cc := clientv3.Config{Endpoints: h.Endpoints, DialTimeout: h.DialTimeout, Username: h.User, Password: h.Password.Reveal(),
		Logger: zap.NewNop(), AutoSyncInterval: 0}
	if h.CAFile != "" || h.CertFile != "" {
		t, err := (transport.TLSInfo{TrustedCAFile: h.CAFile, CertFile: h.CertFile, KeyFile: h.KeyFile}).ClientConfig()
		if err != nil {
			return nil, fmt.Errorf("ha: etcd TLS: %w", err)
		}
		t.MinVersion = tls.VersionTLS12
		cc.TLS = t
	}
	cli, err := clientv3.New(cc)
	if err != nil {
		return nil, fmt.Errorf("ha: etcd client: %w", err)
	}
	m := &Member{opts: opts, ttl: h.LeaseTTL, cli: cli, tls: cc.TLS, changed: make(chan struct{}), verdicts: map[string]string{},
		prefix:   "/failwatch/" + url.PathEscape(h.Cluster) + "/" + url.PathEscape(opts.Router) + "/",
		requests: make(chan Incoming, 16)}
	m.st.why = "not connected to etcd yet"
	m.st.members = map[string]*peer{}
	return m, nil
}

// Name is this instance's name in the cluster.
func (m *Member) Name() string { return m.opts.HA.Name }

// Close ends the etcd client at once, without giving the lease back (it
// expires in its TTL, as after a kill -9); a closed member sends nothing
// more.
func (m *Member) Close() error {
	m.update(func(s *state) { s.closed = true })
	return m.cli.Close()
}

// update changes the state under mu and wakes whoever waits on Changed.
func (m *Member) update(fn func(*state)) {
	m.mu.Lock()
	fn(&m.st)
	close(m.changed)
	m.changed = make(chan struct{})
	m.mu.Unlock()
}

// Changed is closed at the next change of what Status says.
func (m *Member) Changed() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.changed
}

// Run keeps this instance in its cluster until ctx ends: one term per
// lease; when a lease is lost (etcd unreachable past the TTL, the lease
// gone) a new one is asked for after a pause.
func (m *Member) Run(ctx context.Context) {
	for ctx.Err() == nil {
		err := m.term(ctx)
		m.update(func(s *state) {
			s.lease, s.elected, s.leader, s.connected = 0, nil, "", false
			s.members = map[string]*peer{}
			if ctx.Err() == nil {
				s.why = err.Error()
			}
		})
		select {
		case <-ctx.Done():
		case <-time.After(m.ttl / 4):
		}
	}
}

// term is one lease's life: granted, kept alive, this instance published
// under it, campaigning when it may; it ends when the lease is lost.
func (m *Member) term(ctx context.Context) error {
	gctx, cancel := context.WithTimeout(ctx, m.ttl)
	sent := time.Now()
	g, err := m.cli.Grant(gctx, int64(m.ttl/time.Second))
	cancel()
	if err != nil {
		dctx, cancel := context.WithTimeout(ctx, m.ttl/2)
		defer cancel()
		if why := tlsRefusal(dctx, m.tls, m.opts.HA.Endpoints); why != "" {
			return fmt.Errorf("etcd unreachable: %v (%s)", err, why)
		}
		return fmt.Errorf("etcd unreachable: %v", err)
	}
	tctx, end := context.WithCancelCause(ctx)
	defer end(nil)
	defer m.revoke(g.ID)
	m.update(func(s *state) { s.lease, s.alive, s.connected, s.why = g.ID, sent, true, "" })
	sess, err := concurrency.NewSession(m.cli, concurrency.WithLease(g.ID), concurrency.WithContext(tctx))
	if err != nil {
		return fmt.Errorf("etcd session: %v", err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { end(m.keepAlive(tctx, g.ID)) })
	wg.Go(func() { m.publishEvery(tctx, g.ID) })
	wg.Go(func() { m.pollEvery(tctx) })
	// Not waited for: an election's Campaign, cut off, resigns on the
	// client's own context, which waits for etcd to come back; the key
	// goes with the lease anyway.
	go m.campaign(tctx, sess)
	wg.Go(func() { m.serveRequests(tctx) })
	wg.Go(func() {
		select {
		case <-sess.Done():
			end(errors.New("the etcd lease ended"))
		case <-tctx.Done():
		}
	})
	wg.Wait()
	if err := context.Cause(tctx); err != nil && ctx.Err() == nil {
		return err
	}
	return ctx.Err()
}

// revoke gives the lease back at the end of a term so others need not
// wait for it to expire; a failure leaves it to expire.
func (m *Member) revoke(id clientv3.LeaseID) {
	ctx, cancel := context.WithTimeout(context.Background(), m.ttl/2)
	defer cancel()
	_, _ = m.cli.Revoke(ctx, id)
}

// keepAlive renews the lease several times a TTL, each time noting when
// the renewal that was answered was sent (a lower bound on when etcd
// renewed it). It ends when the lease is gone or has not been renewed for
// a whole TTL: then it may have expired and this term is over.
func (m *Member) keepAlive(ctx context.Context, id clientv3.LeaseID) error {
	every := max(m.ttl/6, 100*time.Millisecond)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		sent := time.Now()
		kctx, cancel := context.WithTimeout(ctx, m.ttl/3)
		resp, err := m.cli.KeepAliveOnce(kctx, id)
		cancel()
		switch {
		case err == nil && resp.TTL > 0:
			m.update(func(s *state) { s.alive, s.connected = sent, true })
		case errors.Is(err, rpctypes.ErrLeaseNotFound) || (err == nil && resp.TTL <= 0):
			return errors.New("the etcd lease expired")
		default:
			m.update(func(s *state) { s.connected = false })
		}
		m.mu.Lock()
		since := time.Since(m.st.alive)
		m.mu.Unlock()
		if since >= m.ttl {
			return fmt.Errorf("etcd unreachable: no keep-alive answer for %s (lease TTL %s)", since.Round(time.Millisecond), m.ttl)
		}
	}
}
