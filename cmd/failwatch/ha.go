package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/ha"
	"github.com/failwatch/failwatch/internal/safetext"
	"github.com/failwatch/failwatch/routeros"
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
