package engine

import (
	"slices"
	"testing"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/monitor"
)

// A reload adds a watched server and later removes it while the others go
// on probing with their statistics; a change to what the failover is built
// on is not applied but named.
func TestReloadKeepsUnchangedServers(t *testing.T) {
	e, _ := paperEngine(t, false)
	sub := e.Subscribe(4096)
	defer sub.Close()
	sample := func(server string) monitor.CheckStatus {
		t.Helper()
		return until(t, sub, func(ev ServerEvent) bool {
			return ev.Type == monitor.EventSample && ev.Server == server
		}).Check
	}
	for sample("public").Lifetime.Sent < 5 {
	}
	before := sample("public").Lifetime.Sent

	next := *e.Config()
	next.Servers = append(slices.Clone(next.Servers), config.Server{Name: "web3", Role: config.Monitor, Address: "192.0.2.30",
		Checks: []config.Check{{Kind: config.ICMP}}})
	res, err := e.Reload(&next)
	if err != nil || !slices.Equal(res.Added, []string{"web3"}) || len(res.Removed)+len(res.Changed)+len(res.NeedsRestart) != 0 {
		t.Fatalf("reload: %+v %v", res, err)
	}
	if ev := until(t, sub, func(ServersChanged) bool { return true }); len(ev) != 3 {
		t.Errorf("servers event: %+v", ev)
	}
	if got := sample("web3"); got.Lifetime.Sent == 0 {
		t.Errorf("web3 not probed: %+v", got)
	}
	// public's monitor was never restarted: its count went on from before.
	if after := sample("public").Lifetime.Sent; after <= before {
		t.Errorf("public's statistics restarted: %d probes before the reload, %d after", before, after)
	}

	// The same file again changes nothing.
	if res, err := e.Reload(&next); err != nil || res.Applied() || len(res.NeedsRestart) != 0 {
		t.Errorf("the same config: %+v %v", res, err)
	}

	// web3 goes; the primary's address changes, which needs a restart.
	again := *e.Config()
	again.Servers = slices.Clone(again.Servers)
	again.Servers[0].Address = "192.0.2.99"
	res, err = e.Reload(&again)
	if err != nil || !slices.Equal(res.Removed, []string{"web3"}) || !slices.Equal(res.NeedsRestart, []string{"servers (a service's primary or standby)"}) {
		t.Fatalf("second reload: %+v %v", res, err)
	}
	servers := e.Servers()
	if len(servers) != 2 || servers[0].Address == "192.0.2.99" {
		t.Errorf("servers after: %+v", servers)
	}
	if _, ok := e.State().Health["web3"]; ok {
		t.Error("a removed server keeps its health")
	}
}
