package rosim

import "testing"

// /ipv6/route takes IPv6 destinations and gateways, a link-local one with
// its interface, and refuses IPv4 ones and an interface the router lacks.
func TestIPv6Route(t *testing.T) {
	r, _ := seeded(t, Options{Version: "7.18.2 (stable)"})
	id := added(t, r, "/ipv6/route", "gateway", "fe80::1%ether1")
	res := r.exec("admin", "/ipv6/route/print", kvAttrs([]string{".proplist", ".id,dst-address,immediate-gw"}), nil)
	if res.trap != nil || len(res.rows) != 1 || res.rows[0][0] != "=.id="+id || res.rows[0][1] != "=dst-address=::/0" || res.rows[0][2] != "=immediate-gw=fe80::1%ether1" {
		t.Errorf("print %q %v", res.rows, res.trap)
	}
	for _, kv := range [][]string{
		{"gateway", "192.0.2.1"},
		{"dst-address", "0.0.0.0/0", "gateway", "fe80::1%ether1"},
		{"gateway", "fe80::1%ether9"},
	} {
		if res := r.exec("admin", "/ipv6/route/add", kvAttrs(kv), nil); res.trap == nil {
			t.Errorf("add %v was taken", kv)
		}
	}
}
