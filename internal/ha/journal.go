package ha

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// JournalStep is one step of an operation as sent and read back.
type JournalStep struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// Journal is the operation under way: its intent (the operation and the
// service), where the name was and where it is going, and each step as
// sent and read back. It is written only by the leader, in transactions
// fenced on its leader key, and deliberately not attached to the lease: a
// key under the lease would vanish with the leader it must outlive, before
// the next leader could read it.
type Journal struct {
	Leader  string        `json:"leader"`
	Op      string        `json:"op"`
	Service string        `json:"service"`
	From    string        `json:"from"`
	To      string        `json:"to"`
	Steps   []JournalStep `json:"steps"`
}

// ErrDeposed is a fenced write refused because this instance no longer
// holds the leader key.
var ErrDeposed = errors.New("no longer the leader: the leader key is another's")

// fenced runs ops only while this instance's leader key is the one it won.
func (m *Member) fenced(ctx context.Context, ops ...clientv3.Op) error {
	if err := m.MaySend(); err != nil {
		return err
	}
	m.mu.Lock()
	e := m.st.elected
	m.mu.Unlock()
	if e == nil {
		return ErrDeposed
	}
	fctx, cancel := context.WithTimeout(ctx, m.ttl/2)
	defer cancel()
	resp, err := m.cli.Txn(fctx).If(clientv3.Compare(clientv3.CreateRevision(e.Key()), "=", e.Rev())).Then(ops...).Commit()
	if err != nil {
		return fmt.Errorf("etcd: %w", err)
	}
	if !resp.Succeeded {
		return ErrDeposed
	}
	return nil
}

// WriteJournal records the operation under way, fenced on the leader key.
func (m *Member) WriteJournal(ctx context.Context, j Journal) error {
	j.Leader = m.Name()
	b, err := json.Marshal(j)
	if err != nil {
		return err
	}
	if len(b) > maxValue {
		return fmt.Errorf("journal of %d bytes: over %d", len(b), maxValue)
	}
	return m.fenced(ctx, clientv3.OpPut(m.prefix+"journal", string(b)))
}

// CloseJournal removes the journal once its operation has ended, fenced.
func (m *Member) CloseJournal(ctx context.Context) error {
	return m.fenced(ctx, clientv3.OpDelete(m.prefix+"journal"))
}

// ReadJournal is the journal left by an operation that did not end, nil
// when none.
func (m *Member) ReadJournal(ctx context.Context) (*Journal, error) {
	rctx, cancel := context.WithTimeout(ctx, m.ttl/2)
	defer cancel()
	resp, err := m.cli.Get(rctx, m.prefix+"journal")
	if err != nil {
		return nil, fmt.Errorf("etcd: %w", err)
	}
	if len(resp.Kvs) == 0 {
		return nil, nil
	}
	if len(resp.Kvs[0].Value) > maxValue {
		return nil, fmt.Errorf("journal over %d bytes", maxValue)
	}
	var j Journal
	if err := json.Unmarshal(resp.Kvs[0].Value, &j); err != nil {
		return nil, fmt.Errorf("journal unreadable: %w", err)
	}
	return &j, nil
}
