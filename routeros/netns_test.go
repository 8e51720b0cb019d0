package routeros

import (
	"context"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/netlab/netlabtest"
	"github.com/failwatch/failwatch/internal/testkit"
	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros/rosim"
)

// The emulator's netwatch on real packets: it pings a namespace host with
// real ICMP; nft drops the echoes, netwatch goes down, its script moves the
// name to the standby; lifting the drop moves it back.
func TestNetwatchRealICMP(t *testing.T) {
	public, private := netlabtest.TestHost(t), netlabtest.TestHost(t)
	icmp, err := monitor.NewICMP(config.ICMPAuto)
	if err != nil {
		t.Fatal(err)
	}
	r := rosim.New(rosim.Options{Probe: func(ctx context.Context, host netip.Addr, _ time.Duration) (time.Duration, bool) {
		s := icmp.Probe(ctx, host)
		return s.RTT, s.OK
	}})
	defer r.Close()
	cfg := &config.Config{
		Services: []config.Service{{Name: "svc.test", Primary: "public", Standby: "private"}},
		Servers: []config.Server{
			{Name: "public", Role: config.Primary, Address: public.Addr.String(), Record: config.RecordMatch{Comment: "Server Public"}},
			{Name: "private", Role: config.Standby, Address: private.Addr.String(), Record: config.RecordMatch{Comment: "ServerPrivate"}},
		},
	}
	if err := r.SeedConfig(cfg, "200ms"); err != nil {
		t.Fatal(err)
	}
	addr, _ := r.ListenAndServe("127.0.0.1:0")
	dns, _ := r.ServeDNS("127.0.0.1:0")
	waitFor := func(want string) {
		t.Helper()
		testkit.EventuallyLast(t, 10*time.Second, "DNS answered "+want, func() ([]string, bool) {
			got := testkit.LookupA(t, dns.String(), "svc.test")
			return got, slices.Equal(got, []string{want})
		})
	}
	waitFor(public.Addr.String())
	if err := public.DropEcho(1); err != nil {
		t.Fatal(err)
	}
	waitFor(private.Addr.String())
	if err := public.ClearFaults(); err != nil {
		t.Fatal(err)
	}
	waitFor(public.Addr.String())

	c := client(t, addr.String(), "admin", "")
	nw, err := c.NetwatchEntries(context.Background(), public.Addr.String())
	if err != nil || len(nw) != 1 || nw[0].Status != "up" {
		t.Errorf("netwatch %+v %v", nw, err)
	}
}
