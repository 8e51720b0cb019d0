package rosim

import (
	"slices"
	"testing"
)

// A NAT rule added with place-before stands before the rule named, in
// print order and so in evaluation: the accept the bridge's exemption is
// takes effect before the dst-nat behind it. An id that names no rule
// adds nothing; a menu whose order does not matter refuses the parameter.
func TestNATPlaceBefore(t *testing.T) {
	r, addr := seeded(t, Options{})
	c := dialRaw(t, addr, true)
	c.expect([]string{"/ip/firewall/nat/add", "=chain=dstnat", "=action=dst-nat", "=dst-address=198.51.100.7", "=to-addresses=192.10.10.2"},
		[][]string{{"!done", "=ret=*1"}})
	c.expect([]string{"/ip/firewall/nat/add", "=chain=dstnat", "=action=accept", "=dst-address=198.51.100.7", "=place-before=*1"},
		[][]string{{"!done", "=ret=*2"}})
	c.expect([]string{"/ip/firewall/nat/print", "=.proplist=.id,action"},
		[][]string{{"!re", "=.id=*2", "=action=accept"}, {"!re", "=.id=*1", "=action=dst-nat"}, {"!done"}})
	for menu, kv := range map[string][]string{
		"/ip/firewall/nat":          {"chain", "dstnat", "action", "accept", "place-before", "*9"},
		"/ip/firewall/address-list": {"list", "x", "address", "192.0.2.1", "place-before", "*1"},
	} {
		if res := r.exec("admin", menu+"/add", kvAttrs(kv), nil); res.trap == nil {
			t.Errorf("%s add %v was taken", menu, kv)
		}
	}
	if n := len(r.nat.rows); n != 2 || !slices.Equal([]string{r.nat.rows[0][".id"], r.nat.rows[1][".id"]}, []string{"*2", "*1"}) {
		t.Errorf("rules %v", r.nat.rows)
	}
}

// A script places a rule before the first of those a [find] selects with
// :pick, as setup's script does; :pick past the end picks nothing.
func TestScriptPlaceBeforePick(t *testing.T) {
	r, _ := seeded(t, Options{})
	if err := r.Import(`/ip firewall nat
add chain=dstnat action=dst-nat dst-address=198.51.100.7 to-addresses=192.10.10.2 comment="b tcp"
add chain=dstnat action=dst-nat dst-address=198.51.100.7 to-addresses=192.10.10.2 comment="b icmp"
:local c [find where comment~"^b (tcp|icmp)"]
:if ([:len [:pick $c 5]] = 0) do={ add chain=dstnat action=accept dst-address=198.51.100.7 comment="b exempt" place-before=[:pick $c 0] }
`); err != nil {
		t.Fatal(err)
	}
	var comments []string
	r.mu.Lock()
	for _, row := range r.nat.rows {
		comments = append(comments, row["comment"])
	}
	r.mu.Unlock()
	if !slices.Equal(comments, []string{"b exempt", "b tcp", "b icmp"}) {
		t.Errorf("rules %q", comments)
	}
}
