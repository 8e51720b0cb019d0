package eventlog

import (
	"strings"
	"testing"

	"github.com/failwatch/failwatch/internal/engine"
	"github.com/failwatch/failwatch/internal/ha"
)

// Who leads and this instance's role are logged once per change: not for
// each published state, whose views and durations change far more often.
func TestHAStateOncePerChange(t *testing.T) {
	st := func(leader, role string, acting bool, why string, views ...ha.View) engine.HAState {
		return engine.HAState{Status: ha.Status{Cluster: "site-a", Name: "noc-2", Leader: leader, Role: role, Acting: acting, Why: why, Views: views}}
	}
	got := logged(t,
		st("", "none", false, "no etcd lease (not connected to etcd yet)"),
		st("", "none", false, "no etcd lease (not connected to etcd yet)", ha.View{Name: "noc-2", Verdicts: map[string]string{"public": "UP"}}),
		st("noc-1", "follower", false, "noc-1 leads"),
		st("noc-1", "follower", false, "noc-1 leads", ha.View{Name: "noc-1", Verdicts: map[string]string{"public": "DOWN"}}),
		st("noc-2", "leader", false, "leader for 120ms: waiting 1.88s more before sending, so no earlier leader can still be sending"),
		st("noc-2", "leader", false, "leader for 620ms: waiting 1.38s more before sending, so no earlier leader can still be sending"),
		st("noc-2", "leader", true, ""),
		st("noc-2", "leader", true, ""),
		st("noc-2", "leader", false, "no etcd keep-alive answer for 1.4s, past the 1.3s bound (lease TTL 2s less the router call deadline and a margin)"),
		st("noc-2", "leader", false, "no etcd keep-alive answer for 1.9s, past the 1.3s bound (lease TTL 2s less the router call deadline and a margin)"),
	)
	want := []string{
		`level=WARN msg="ha leader" cluster=site-a leader=none`,
		`level=WARN msg="ha role" instance=noc-2 role=none acting=false why="no etcd lease (not connected to etcd yet)"`,
		`level=INFO msg="ha leader" cluster=site-a leader=noc-1 was=none`,
		`level=INFO msg="ha role" instance=noc-2 role=follower acting=false why="noc-1 leads"`,
		`level=INFO msg="ha leader" cluster=site-a leader=noc-2 was=noc-1`,
		`level=INFO msg="ha role" instance=noc-2 role=leader acting=false why="leader for 120ms: waiting 1.88s more before sending, so no earlier leader can still be sending"`,
		`level=INFO msg="ha role" instance=noc-2 role=leader acting=true`,
		`level=WARN msg="ha role" instance=noc-2 role=leader acting=false why="no etcd keep-alive answer for 1.4s, past the 1.3s bound (lease TTL 2s less the router call deadline and a margin)"`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
