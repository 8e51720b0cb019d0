package routeros

import (
	"context"
	"slices"
	"testing"

	"github.com/failwatch/failwatch/routeros/rosim"
)

var versions = []string{"6.49.17 (long-term)", "7.13.5 (stable)", "7.18.2 (stable)"}

// The default route's interface: from immediate-gw where the router prints
// it (7.x), from a gateway that names it, else untold; an interface list's
// enabled members, the predefined all holding every interface.
func TestDefaultRouteAndInterfaceList(t *testing.T) {
	ctx := context.Background()
	for _, version := range versions {
		t.Run(version, func(t *testing.T) {
			_, c := adminClient(t, rosim.Options{Version: version})
			for _, add := range [][]string{
				{"/ip/route", "gateway", "203.0.113.1%ether1"},
				{"/ip/route", "gateway", "ether5", "distance", "2"},
				{"/ip/route", "gateway", "198.51.100.1", "distance", "3"},
				{"/ip/route", "gateway", "ether4", "disabled", "yes"},
				{"/ip/route", "dst-address", "10.0.0.0/8", "gateway", "ether3"},
				{"/interface/list", "name", "LAN"},
				{"/interface/list/member", "list", "LAN", "interface", "ether2"},
				{"/interface/list/member", "list", "LAN", "interface", "ether3", "disabled", "yes"},
			} {
				if _, err := c.Add(ctx, add[0], add[1:]...); err != nil {
					t.Fatalf("%v: %v", add, err)
				}
			}
			if _, err := c.Add(ctx, "/ip/route", "gateway", "203.0.113.1%ether9"); err == nil {
				t.Error("a gateway through an interface the router lacks was taken")
			}
			route, err := c.ReadDefaultRoute(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(route.Interfaces, []string{"ether1", "ether5"}) || !slices.Equal(route.Untold, []string{"198.51.100.1"}) {
				t.Errorf("default route %+v", route)
			}
			lan, err := c.ReadInterfaceList(ctx, "LAN")
			if err != nil || !slices.Equal(lan.Members, []string{"ether2"}) || lan.Holds("ether1") || lan.Unknown != "" {
				t.Errorf("LAN %+v, %v", lan, err)
			}
			if all, _ := c.ReadInterfaceList(ctx, "all"); !all.Holds("ether1") {
				t.Error("the predefined all does not hold ether1")
			}
			r, err := c.Run(ctx, "/ip/route/print", "?gateway=203.0.113.1%ether1")
			if err != nil || len(r.Rows) != 1 {
				t.Fatal(r, err)
			}
			if _, has := r.Rows[0]["immediate-gw"]; has != (version != versions[0]) {
				t.Errorf("%s prints immediate-gw: %v (%v)", version, has, r.Rows[0])
			}
		})
	}
}
