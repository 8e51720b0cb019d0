package config

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// withHA is base with one service and an ha: section whose lines start at
// line 13, indented under ha:.
func withHA(body string) string {
	return base + "service:\n  name: x.test\nha:\n" + indent(body, "  ")
}

const haBody = "endpoints: [http://127.0.0.1:2379]\ncluster: noc\nname: jump1\nlease_ttl: 10s\n"

func TestHARefused(t *testing.T) {
	tests := []struct {
		name, file string
		want       []string
	}{
		{"the least ha", withHA(haBody), nil},
		{"no endpoints", withHA("cluster: noc\nname: jump1\nlease_ttl: 10s\n"),
			[]string{`f.yaml:13:3: ha.endpoints: ha needs etcd's endpoints (e.g. [http://127.0.0.1:2379])`}},
		{"an empty list of endpoints", withHA(strings.Replace(haBody, "[http://127.0.0.1:2379]", "[]", 1)),
			[]string{`f.yaml:13:14: ha.endpoints: want a list of etcd endpoints, got an empty list`}},
		{"an endpoint without a scheme", withHA(strings.Replace(haBody, "http://127.0.0.1:2379", "127.0.0.1:2379", 1)),
			[]string{`f.yaml:13:15: ha.endpoints[0]: "127.0.0.1:2379" is not an etcd endpoint: want http:// or https:// and host:port (e.g. http://127.0.0.1:2379)`}},
		{"an endpoint without a port", withHA(strings.Replace(haBody, "http://127.0.0.1:2379]", "https://etcd1:2379, http://etcd2]", 1)),
			[]string{`f.yaml:13:35: ha.endpoints[1]: "http://etcd2" is not an etcd endpoint: want http:// or https:// and host:port (e.g. http://127.0.0.1:2379)`}},
		{"an endpoint of another scheme", withHA(strings.Replace(haBody, "http://", "unix://", 1)),
			[]string{`f.yaml:13:15: ha.endpoints[0]: "unix://127.0.0.1:2379" is not an etcd endpoint: want http:// or https:// and host:port (e.g. http://127.0.0.1:2379)`}},
		{"no cluster", withHA(strings.Replace(haBody, "cluster: noc\n", "", 1)),
			[]string{`f.yaml:13:3: ha.cluster: ha needs the cluster's name (the instances sharing a router's leadership)`}},
		{"a cluster that is no key part", withHA(strings.Replace(haBody, "cluster: noc", "cluster: noc/a", 1)),
			[]string{`f.yaml:14:12: ha.cluster: "noc/a" may hold only letters, digits, '.', '_' and '-': it becomes part of etcd keys`}},
		{"a cluster that is a list", withHA(strings.Replace(haBody, "cluster: noc", "cluster: [noc]", 1)),
			[]string{`f.yaml:14:12: ha.cluster: want a value, got a list`}},
		{"an endpoint that is a mapping", withHA(strings.Replace(haBody, "[http://127.0.0.1:2379]", "[{url: http://127.0.0.1:2379}]", 1)),
			[]string{`f.yaml:13:15: ha.endpoints[0]: want a value, got a mapping`}},
		{"no name", withHA(strings.Replace(haBody, "name: jump1\n", "", 1)),
			[]string{`f.yaml:13:3: ha.name: ha needs this instance's name, unique in the cluster`}},
		{"an empty name", withHA(strings.Replace(haBody, "name: jump1", `name: ""`, 1)),
			[]string{`f.yaml:15:9: ha.name: "" may hold only letters, digits, '.', '_' and '-': it becomes part of etcd keys`}},
		{"a name with a space", withHA(strings.Replace(haBody, "name: jump1", "name: jump 1", 1)),
			[]string{`f.yaml:15:9: ha.name: "jump 1" may hold only letters, digits, '.', '_' and '-': it becomes part of etcd keys`}},
		{"a lease under 2s", withHA(strings.Replace(haBody, "lease_ttl: 10s", "lease_ttl: 1500ms", 1)),
			[]string{`f.yaml:16:14: ha.lease_ttl: must be at least 2s, got "1500ms"`}},
		{"a lease within the router's call timeout", withHA(strings.Replace(haBody, "lease_ttl: 10s", "lease_ttl: 6s", 1)),
			[]string{`f.yaml:16:14: ha.lease_ttl: 6s must be greater than router.timeout (5s) plus 1s: the leader sends a change only while lease_ttl minus (the router call deadline plus a margin) remains, and that must be positive`}},
		{"the default lease with the router's default timeout", withHA(strings.Replace(haBody, "lease_ttl: 10s\n", "", 1)), nil},
		{"the default lease with a long router timeout", strings.Replace(withHA(strings.Replace(haBody, "lease_ttl: 10s\n", "", 1)),
			"address: 192.168.137.2\n", "address: 192.168.137.2\n  timeout: 9s\n", 1),
			[]string{`f.yaml:14:3: ha.lease_ttl: 10s must be greater than router.timeout (9s) plus 1s: the leader sends a change only while lease_ttl minus (the router call deadline plus a margin) remains, and that must be positive`}},
		{"a long lease whose tenth outgrows a second", strings.Replace(withHA(strings.Replace(haBody, "lease_ttl: 10s", "lease_ttl: 22s", 1)),
			"address: 192.168.137.2\n", "address: 192.168.137.2\n  timeout: 20s\n", 1),
			[]string{`f.yaml:17:14: ha.lease_ttl: 22s must be greater than router.timeout (20s) plus 2.2s: the leader sends a change only while lease_ttl minus (the router call deadline plus a margin) remains, and that must be positive`}},
		{"a quorum of 0", withHA(haBody + "quorum: 0\n"),
			[]string{`f.yaml:17:11: ha.quorum: 0 is outside 1..1000`}},
		{"a zero dial timeout", withHA(haBody + "dial_timeout: 0s\n"),
			[]string{`f.yaml:17:17: ha.dial_timeout: must be greater than zero, got "0s"`}},
		{"a certificate without its key", withHA(haBody + "ca_file: ca.pem\ncert_file: jump1.pem\n"),
			[]string{`f.yaml:18:14: ha.cert_file: a client certificate needs its key: give key_file too`}},
		{"a key without its certificate", withHA(haBody + "key_file: jump1.key\n"),
			[]string{`f.yaml:17:13: ha.key_file: a client key needs its certificate: give cert_file too`}},
		{"a password twice", withHA(haBody + "user: u\npassword_env: FW_ETCD_PW\npassword_file: etcd.pw\n"),
			[]string{`f.yaml:19:18: ha.password_file: the password is given twice (ha.password_env and ha.password_file): keep one`}},
		{"a password without a user", withHA(haBody + "password_env: FW_ETCD_PW\n"),
			[]string{`f.yaml:17:17: ha.password_env: a password needs its etcd user: give ha.user too`}},
		{"an inline password", withHA(haBody + "password: hunter2\n"),
			[]string{`f.yaml:17:3: ha.password: unknown key "password" (did you mean "password_env"?)`}},
		{"a typo", withHA(haBody + "leasettl: 5s\n"),
			[]string{`f.yaml:17:3: ha.leasettl: unknown key "leasettl" (did you mean "lease_ttl"?)`}},
		{"not a mapping", base + "service:\n  name: x.test\nha: etcd\n",
			[]string{`f.yaml:12:5: ha: want a mapping of keys to values, got "etcd"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { wantErrors(t, tc.file, tc.want) })
	}
}

// The etcd password is read as the router's: from the environment or a
// file only its owner reads (warned otherwise), never printed; a command
// that never logs in does not read it.
func TestHAPassword(t *testing.T) {
	dir := t.TempDir()
	write := writer(t, dir)
	write("etcd.pw", "s3cret-etcd\n", 0o644)
	path := write("ha.yaml", withHA(haBody+"user: failwatch-jump1\npassword_file: etcd.pw\n"), 0o600)
	cfg := loadWarned(t, path, "etcd.pw is readable by others (mode 0644)")
	if cfg.HA.Password.Reveal() != "s3cret-etcd" {
		t.Errorf("password %q", cfg.HA.Password.Reveal())
	}
	for _, s := range []string{fmt.Sprintf("%v", cfg.HA), fmt.Sprintf("%+v", *cfg.HA), fmt.Sprintf("%#v", *cfg.HA), strings.Join(cfg.Warnings, "")} {
		if strings.Contains(s, "s3cret") {
			t.Errorf("the password printed: %s", s)
		}
	}
	if cfg, err := LoadWithoutPassword(path); err != nil || cfg.HA.Password != "" || len(cfg.Warnings) != 0 {
		t.Errorf("without password: %v, %q, %v", err, cfg.HA.Password.Reveal(), cfg.Warnings)
	}
	t.Setenv("FW_ETCD_PW", "from-env")
	cfg, err := Load(write("env.yaml", withHA(haBody+"user: u\npassword_env: FW_ETCD_PW\n"), 0o600))
	if err != nil || cfg.HA.Password.Reveal() != "from-env" {
		t.Errorf("password_env: %v", err)
	}
	missing := write("missing.yaml", withHA(haBody+"user: u\npassword_file: nope\n"), 0o600)
	_, err = Load(missing)
	want := missing + ":18:18: ha.password_file: password file " + filepath.Join(dir, "nope") +
		" does not exist: write the etcd user's password into it, readable by its owner only (or root:failwatch 0640)"
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

// A file with every key of both new sections reads back as written, the
// defaults filled in, relative files placed beside the config.
func TestBridgeAndHARoundTrip(t *testing.T) {
	file := "router:\n  address: 192.0.2.1\n  timeout: 2s\nservices:\n" +
		"  - name: shop.example.test\n    primary: pub\n    standby: priv\n    bridge:\n" +
		"      mode: nat\n      src_address: [192.168.88.0/24, 10.1.2.3, '172.16.0.0/12']\n      in_interface_list: LAN\n" +
		"      tcp: [80, 443]\n      udp: [53]\n      icmp: yes\n      exempt: [192.168.88.10, 192.168.88.64/26]\n" +
		"      exempt_address_list: mgmt\n      until: ttl\n      margin: 1m30s\n      comment: bridge of the shop\n" +
		"  - name: www.example.test\n    primary: pub\n    standby: priv\n    bridge: {mode: nat, in_interface_list: LAN, tcp: [443]}\n" +
		"servers:\n  - {name: pub, address: 198.51.100.7}\n  - {name: priv, address: 192.0.2.7}\n" +
		"ha:\n  endpoints: [http://127.0.0.1:2379, 'https://[::1]:2379']\n  cluster: noc\n  name: jump1\n  lease_ttl: 00:00:08\n" +
		"  quorum: 2\n  dial_timeout: 1500ms\n  ca_file: tls/ca.pem\n  cert_file: /etc/failwatch/jump1.pem\n  key_file: tls/jump1.key\n" +
		"  user: failwatch-jump1\n  password_env: FW_UNSET_ETCD_PW\n"
	cfg, err := Parse("/etc/failwatch/config.yaml", []byte(file))
	if err != nil {
		t.Fatal(err)
	}
	prefixes := func(ps ...string) []netip.Prefix {
		var out []netip.Prefix
		for _, p := range ps {
			out = append(out, netip.MustParsePrefix(p))
		}
		return out
	}
	wantShop := Bridge{Mode: BridgeNAT, SrcAddresses: prefixes("192.168.88.0/24", "10.1.2.3/32", "172.16.0.0/12"), InInterfaceList: "LAN",
		TCP: []int{80, 443}, UDP: []int{53}, ICMP: true, Exempt: prefixes("192.168.88.10/32", "192.168.88.64/26"),
		ExemptAddressList: "mgmt", Until: UntilTTL, Margin: 90 * time.Second, Comment: "bridge of the shop"}
	wantWWW := Bridge{Mode: BridgeNAT, InInterfaceList: "LAN", TCP: []int{443}, Until: UntilRestore, Margin: 30 * time.Second,
		Comment: "failwatch bridge www.example.test"}
	if got := cfg.Services[0].Bridge; !reflect.DeepEqual(got, wantShop) {
		t.Errorf("shop's bridge\n got  %+v\n want %+v", got, wantShop)
	}
	if got := cfg.Services[1].Bridge; !reflect.DeepEqual(got, wantWWW) {
		t.Errorf("www's bridge\n got  %+v\n want %+v", got, wantWWW)
	}
	wantHA := HA{Endpoints: []string{"http://127.0.0.1:2379", "https://[::1]:2379"}, Cluster: "noc", Name: "jump1",
		LeaseTTL: 8 * time.Second, Quorum: 2, DialTimeout: 1500 * time.Millisecond,
		CAFile: "/etc/failwatch/tls/ca.pem", CertFile: "/etc/failwatch/jump1.pem", KeyFile: "/etc/failwatch/tls/jump1.key",
		User: "failwatch-jump1", PasswordEnv: "FW_UNSET_ETCD_PW"}
	if cfg.HA == nil || !reflect.DeepEqual(*cfg.HA, wantHA) {
		t.Errorf("ha\n got  %+v\n want %+v", cfg.HA, wantHA)
	}
	if len(cfg.Warnings) != 1 || cfg.Warnings[0] != "ha.password_env: FW_UNSET_ETCD_PW is not set; logging in with an empty password" {
		t.Errorf("warnings %q", cfg.Warnings)
	}
	least, err := Parse("f.yaml", []byte(withHA(strings.Replace(haBody, "lease_ttl: 10s\n", "lease_ttl: 7s\n", 1))))
	if err != nil {
		t.Fatal(err)
	}
	if h := least.HA; h.Quorum != 1 || h.DialTimeout != 2*time.Second || h.LeaseTTL != 7*time.Second || h.User != "" {
		t.Errorf("ha defaults: %+v", h)
	}
	if none, _ := Parse("f.yaml", []byte(base+"service:\n  name: x.test\n")); none.HA != nil {
		t.Errorf("without ha: %+v", none.HA)
	}
}
