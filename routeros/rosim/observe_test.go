package rosim

import (
	"net/netip"
	"testing"
)

// The data plane is told of every change to what it applies (NAT rules,
// interface lists, connection removals, by a client or a script) and of
// nothing else; the snapshot holds the enabled rules only, in order.
func TestObserveFirewall(t *testing.T) {
	r := New(Options{})
	defer r.Close()
	calls := 0
	r.ObserveFirewall(func() { calls++ })
	lan(t, r)
	for _, tc := range []struct {
		what string
		do   func()
		want int
	}{
		{"a NAT rule added", func() { added(t, r, "/ip/firewall/nat", "chain", "dstnat", "dst-address", "198.51.100.7") }, 1},
		{"a disabled rule added", func() { added(t, r, "/ip/firewall/nat", "chain", "srcnat", "action", "masquerade", "disabled", "yes") }, 1},
		{"NAT printed", func() { run(r, "/ip/firewall/nat/print") }, 0},
		{"a list member disabled", func() { run(r, "/interface/list/member/disable", ".id", "*1") }, 1},
		{"a static record changed", func() { run(r, "/ip/dns/static/add", "name", "x.example", "address", "192.0.2.1") }, 0},
		{"a script's change", func() { r.Import("/ip firewall nat disable [find chain=dstnat]") }, 1},
	} {
		before := calls
		tc.do()
		if got := calls - before; got != tc.want {
			t.Errorf("%s: told %d times, want %d", tc.what, got, tc.want)
		}
	}
	fw := r.Firewall()
	if len(fw.NAT) != 0 || !fw.HasAddressLists || len(fw.AddressLists) != 0 {
		t.Errorf("snapshot %+v: want no enabled rule (both disabled), and the address-list menu with no entry", fw)
	}
	if len(fw.ListMembers) != 1 || fw.ListMembers[0]["interface"] != "ether3" {
		t.Errorf("members %v: want the enabled one, ether3", fw.ListMembers)
	}
}

// Removed connections are kept for the data plane, as print showed them;
// one that ended on its own (Forget) is not, and past MaxConnections the
// removals are counted, not kept.
func TestRemovedConnections(t *testing.T) {
	r := New(Options{MaxConnections: 2})
	defer r.Close()
	r.ObserveFirewall(func() {})
	track := func(src string) string {
		id, err := r.Track(Conn{Protocol: "icmp", Src: netip.MustParseAddrPort(src + ":0"), Dst: netip.MustParseAddrPort("198.51.100.7:0"), ICMPID: 7})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	a, b := track("192.168.88.10"), track("192.168.88.11")
	r.Forget(b)
	if _, trap := run(r, "/ip/firewall/connection/remove", ".id", a); trap != "" {
		t.Fatal(trap)
	}
	rows, lost := r.RemovedConnections()
	if len(rows) != 1 || lost != 0 || rows[0][".id"] != a || rows[0]["src-address"] != "192.168.88.10" || rows[0]["icmp-id"] != "7" {
		t.Fatalf("removed %v (lost %d), want only %s as printed", rows, lost, a)
	}
	if rows, _ := r.RemovedConnections(); len(rows) != 0 {
		t.Errorf("taken twice: %v", rows)
	}
	for range 2 {
		ids := track("192.168.88.12") + "," + track("192.168.88.13")
		run(r, "/ip/firewall/connection/remove", ".id", ids)
	}
	if rows, lost := r.RemovedConnections(); len(rows) != 2 || lost != 2 {
		t.Errorf("kept %d, lost %d; want 2 kept (MaxConnections) and 2 counted", len(rows), lost)
	}
}
