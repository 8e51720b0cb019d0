package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/engine"
	"github.com/failwatch/failwatch/internal/ha"
	"github.com/failwatch/failwatch/internal/safetext"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/failover"
)

// haStatus is the cluster in `status --json` (docs/JSON.md), read once from
// etcd without joining it.
type haStatus struct {
	Cluster   string       `json:"cluster"`
	Leader    string       `json:"leader"`
	Connected bool         `json:"connected"`
	Error     string       `json:"error,omitempty"`
	Instances []haInstance `json:"instances"`
}

type haInstance struct {
	Name       string         `json:"name"`
	Leader     bool           `json:"leader"`
	SameConfig bool           `json:"same_config"`
	Views      []haServerView `json:"views"`
}

type haServerView struct {
	Server string `json:"server"`
	State  string `json:"state"`
}

// readHA is the cluster as etcd holds it now, nil without ha:.
func readHA(ctx context.Context, cfg *config.Config) *haStatus {
	if cfg.HA == nil {
		return nil
	}
	out := &haStatus{Cluster: cfg.HA.Cluster, Instances: []haInstance{}}
	hash, err := ha.Hash(cfg)
	var st ha.Status
	if err == nil {
		router := routeros.OptionsFrom(cfg.Router)
		st, err = ha.Peek(ctx, ha.Options{HA: cfg.HA, Router: router.Address, Hash: hash, CallDeadline: cfg.HA.LeaseTTL / 2})
	}
	if err != nil {
		out.Error = err.Error()
		return out
	}
	out.Leader, out.Connected = st.Leader, st.Connected
	for _, v := range st.Views {
		in := haInstance{Name: v.Name, Leader: v.Leader, SameConfig: v.SameConfig, Views: []haServerView{}}
		for server, state := range v.Verdicts {
			in.Views = append(in.Views, haServerView{Server: safetext.Line(server), State: safetext.Line(state)})
		}
		slices.SortFunc(in.Views, func(a, b haServerView) int { return strings.Compare(a.Server, b.Server) })
		out.Instances = append(out.Instances, in)
	}
	return out
}

// writeHA is the cluster's lines of `status`.
func writeHA(w io.Writer, h *haStatus) {
	if h == nil {
		return
	}
	if h.Error != "" {
		fmt.Fprintf(w, "ha       cluster %s: %s\n", h.Cluster, h.Error)
		return
	}
	leader := h.Leader
	if leader == "" {
		leader = "none"
	}
	fmt.Fprintf(w, "ha       cluster %s, leader %s\n", h.Cluster, leader)
	for _, in := range h.Instances {
		var views []string
		for _, v := range in.Views {
			views = append(views, v.Server+" "+v.State)
		}
		other := ""
		if !in.SameConfig {
			other = " (another config)"
		}
		fmt.Fprintf(w, "  %s%s: %s\n", in.Name, other, strings.Join(views, ", "))
	}
}

// each runs the operation on every chosen service: with ha: the cluster's
// leader runs it (the one-shot never writes to the router itself), one
// service after the other, each printed as it ends; else here.
func (op operation) each(ctx context.Context, c connected, stdout io.Writer) (failover.Result, error) {
	if c.cfg.HA == nil {
		return failover.Each(ctx, op.name, op.parts(c.failovers, stdout))
	}
	hash, err := ha.Hash(c.cfg)
	if err != nil {
		return failover.Result{}, err
	}
	opts := ha.Options{HA: c.cfg.HA, Router: routeros.OptionsFrom(c.cfg.Router).Address, Hash: hash, CallDeadline: c.cfg.HA.LeaseTTL / 2}
	started := time.Now()
	var results []failover.Result
	for _, f := range c.failovers {
		r := engine.Request{Op: engine.OpRestore, Target: f.Service.Name, By: engine.Requester{User: currentUser(), Role: engine.Operator}}
		if op.name == "failover" {
			r.Op = engine.OpFailover
			if f.Service.HoldNetwatch || *op.hold {
				r.Op = engine.OpFailoverHold
			}
		}
		res, err := engine.AskLeader(ctx, opts, r)
		if !*op.asJSON {
			for _, s := range res.Steps {
				fmt.Fprintln(stdout, stepLine(s))
			}
		}
		results = append(results, res)
		if err != nil {
			if len(c.failovers) > 1 {
				return failover.Combine(op.name, started, results), fmt.Errorf("%s: %w", f.Service.Name, err)
			}
			return res, err
		}
	}
	if len(results) == 1 {
		return results[0], nil
	}
	return failover.Combine(op.name, started, results), nil
}
