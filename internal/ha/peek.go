package ha

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/failwatch/failwatch/internal/safetext"
)

// Peek reads the cluster once without joining it (no lease, no campaign):
// who leads and each instance's published view, for a one-shot command. A
// view read once cannot be told fresh: Fresh says its key is there (it is
// under its instance's lease).
func Peek(ctx context.Context, opts Options) (Status, error) {
	m, err := New(opts)
	if err != nil {
		return Status{}, err
	}
	defer m.Close()
	// Bounded even when the caller's context is not: etcd may be down.
	ctx, cancel := context.WithTimeout(ctx, max(opts.HA.DialTimeout, opts.HA.LeaseTTL))
	defer cancel()
	st := Status{Cluster: opts.HA.Cluster, Name: opts.HA.Name, Role: "none", Why: "a one-shot command does not act"}
	resp, err := m.cli.Get(ctx, m.prefix+"members/", clientv3.WithPrefix(), clientv3.WithLimit(maxMembers))
	if err != nil {
		return st, fmt.Errorf("etcd: %w", err)
	}
	lead, err := m.cli.Get(ctx, m.prefix+"leader/", clientv3.WithFirstCreate()...)
	if err != nil {
		return st, fmt.Errorf("etcd: %w", err)
	}
	st.Connected = true
	if len(lead.Kvs) > 0 && len(lead.Kvs[0].Value) <= maxValue {
		st.Leader = safetext.Line(string(lead.Kvs[0].Value))
	}
	for _, kv := range resp.Kvs {
		var p published
		if len(kv.Value) > maxValue || json.Unmarshal(kv.Value, &p) != nil || p.Name == "" || safetext.Line(p.Name) != p.Name {
			continue
		}
		st.Views = append(st.Views, View{Name: p.Name, Leader: p.Name == st.Leader, Fresh: true, SameConfig: p.Hash == opts.Hash, Verdicts: p.Verdicts})
	}
	slices.SortFunc(st.Views, func(a, b View) int { return strings.Compare(a.Name, b.Name) })
	return st, nil
}
