package ha

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Incoming is an operator's request another instance (or a one-shot
// command) put for the leader: its body as the engine encoded it.
type Incoming struct {
	ID   string
	Body []byte
}

// Requests are the requests that reach this instance while it leads; each
// must be answered (Answer).
func (m *Member) Requests() <-chan Incoming { return m.requests }

// Submit puts a request for the leader under this instance's lease (it
// goes with the instance) and waits for the leader's answer or ctx's end.
func (m *Member) Submit(ctx context.Context, body []byte) ([]byte, error) {
	if len(body) > maxValue {
		return nil, fmt.Errorf("request of %d bytes: over the %d a request may take", len(body), maxValue)
	}
	m.mu.Lock()
	lease := m.st.lease
	m.mu.Unlock()
	if lease == 0 {
		return nil, errors.New("no etcd lease: the request cannot reach the leader")
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	id := m.Name() + "-" + hex.EncodeToString(b[:])
	return m.submit(ctx, clientv3.WithLease(lease), id, body)
}

// submit puts the request and waits for its result key, which it removes.
func (m *Member) submit(ctx context.Context, opt clientv3.OpOption, id string, body []byte) ([]byte, error) {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	put, err := m.cli.Put(ctx, m.prefix+"requests/"+id, string(body), opt)
	if err != nil {
		return nil, fmt.Errorf("etcd: %w", err)
	}
	result := m.prefix + "results/" + id
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.ttl)
		defer cancel()
		_, _ = m.cli.Delete(dctx, m.prefix+"requests/"+id)
		_, _ = m.cli.Delete(dctx, result)
	}()
	for wr := range m.cli.Watch(wctx, result, clientv3.WithRev(put.Header.Revision+1)) {
		if err := wr.Err(); err != nil {
			return nil, fmt.Errorf("etcd: %w", err)
		}
		for _, ev := range wr.Events {
			if ev.Type == clientv3.EventTypePut {
				if len(ev.Kv.Value) > maxValue {
					return nil, fmt.Errorf("the leader's answer is over %d bytes", maxValue)
				}
				return ev.Kv.Value, nil
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("no answer from the leader: %w", err)
	}
	return nil, errors.New("no answer from the leader: the etcd watch ended")
}

// Answer puts the leader's result for a request, under its lease.
func (m *Member) Answer(ctx context.Context, id string, result []byte) error {
	m.mu.Lock()
	lease := m.st.lease
	m.mu.Unlock()
	actx, cancel := context.WithTimeout(ctx, m.ttl)
	defer cancel()
	_, err := m.cli.Put(actx, m.prefix+"results/"+id, string(result), clientv3.WithLease(lease))
	return err
}

// serveRequests hands the requests put under requests/ to Requests while
// this instance leads: those waiting when it wins, then those that come.
func (m *Member) serveRequests(ctx context.Context) {
	for ctx.Err() == nil {
		if !m.Leading() {
			m.waitChange(ctx)
			continue
		}
		m.watchRequests(ctx)
	}
}

func (m *Member) watchRequests(ctx context.Context) {
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		for lctx.Err() == nil && m.Leading() {
			m.waitChange(lctx)
		}
		cancel()
	}()
	pfx := m.prefix + "requests/"
	resp, err := m.cli.Get(lctx, pfx, clientv3.WithPrefix(), clientv3.WithLimit(maxMembers))
	if err != nil {
		m.waitChange(lctx)
		return
	}
	seen := map[string]bool{}
	hand := func(key string, value []byte) {
		id := strings.TrimPrefix(key, pfx)
		if seen[id] || len(value) > maxValue {
			return
		}
		seen[id] = true
		select {
		case m.requests <- Incoming{ID: id, Body: value}:
		case <-lctx.Done():
		}
	}
	for _, kv := range resp.Kvs {
		hand(string(kv.Key), kv.Value)
	}
	for wr := range m.cli.Watch(lctx, pfx, clientv3.WithPrefix(), clientv3.WithRev(resp.Header.Revision+1)) {
		for _, ev := range wr.Events {
			if ev.Type == clientv3.EventTypePut {
				hand(string(ev.Kv.Key), ev.Kv.Value)
			} else {
				delete(seen, strings.TrimPrefix(string(ev.Kv.Key), pfx))
			}
		}
	}
}

// Ask sends one request to the leader from outside the cluster (a one-shot
// command): put under a lease of its own, kept alive while it waits and
// given back at the end, so it never counts as an instance or a view.
func Ask(ctx context.Context, opts Options, body []byte) ([]byte, error) {
	if len(body) > maxValue {
		return nil, fmt.Errorf("request of %d bytes: over the %d a request may take", len(body), maxValue)
	}
	m, err := New(opts)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	gctx, cancel := context.WithTimeout(ctx, m.ttl)
	g, err := m.cli.Grant(gctx, int64(m.ttl/time.Second))
	cancel()
	if err != nil {
		return nil, fmt.Errorf("etcd unreachable: %w", err)
	}
	defer m.revoke(g.ID)
	kctx, stop := context.WithCancel(ctx)
	defer stop()
	alive, err := m.cli.KeepAlive(kctx, g.ID)
	if err != nil {
		return nil, fmt.Errorf("etcd: %w", err)
	}
	go func() {
		for range alive {
		}
	}()
	var b [8]byte
	_, _ = rand.Read(b[:])
	return m.submit(ctx, clientv3.WithLease(g.ID), "oneshot-"+m.Name()+"-"+hex.EncodeToString(b[:]), body)
}
