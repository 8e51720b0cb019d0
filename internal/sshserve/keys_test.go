package sshserve

import (
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/failwatch/failwatch/config"
)

// An authorized_keys line as sshd reads it: which options hold, which
// refuse the key (the error naming the option), and what from= admits.
func TestParseListing(t *testing.T) {
	_, line := key(t)
	for _, tc := range []struct {
		opts     string
		noPty    bool
		admitted []string // client addresses from= lets in
		refused  []string // and those it does not
		err      string
	}{
		{opts: "", admitted: []string{"127.0.0.1", "::1"}},
		{opts: "restrict", noPty: true},
		{opts: "restrict,pty", noPty: false},
		{opts: "pty,restrict", noPty: true},
		{opts: "NO-PTY", noPty: true},
		{opts: "no-port-forwarding,no-agent-forwarding,no-X11-forwarding,no-user-rc"},
		{opts: "restrict,port-forwarding,agent-forwarding,x11-forwarding,user-rc,pty"},
		{opts: `from="127.0.0.2"`, admitted: []string{"127.0.0.2"}, refused: []string{"127.0.0.1", "127.0.0.20"}},
		{opts: `from="10.0.0.0/8,!10.1.0.0/16"`, admitted: []string{"10.2.3.4"}, refused: []string{"10.1.2.3", "11.0.0.1"}},
		{opts: `from="127.0.0.*,!127.0.0.9"`, admitted: []string{"127.0.0.1", "127.0.0.10"}, refused: []string{"127.0.0.9", "127.0.1.1"}},
		{opts: `from="192.168.0.?"`, admitted: []string{"192.168.0.7"}, refused: []string{"192.168.0.17"}},
		{opts: `from="!127.0.0.1"`, refused: []string{"127.0.0.1", "127.0.0.2"}},
		{opts: `from="::1,fe80::/10"`, admitted: []string{"::1", "fe80::1"}, refused: []string{"127.0.0.1", "2001:db8::1"}},
		{opts: `FROM="127.0.0.0/8"`, admitted: []string{"127.1.2.3"}},
		{opts: `from="*.example.com"`, err: `from= pattern "*.example.com" is a host name: failwatch serve does not look clients up in DNS; give addresses or address/masklen`},
		{opts: `from="127.0.0.1,jump"`, err: `from= pattern "jump" is a host name`},
		{opts: `from="10.0.0.1/8"`, err: `from= pattern "10.0.0.1/8" has address bits set past /8 (the network is 10.0.0.0/8)`},
		{opts: `from=""`, err: "option from= has an empty pattern"},
		{opts: `from=127.0.0.1`, err: "option from needs its value in double quotes"},
		{opts: `from="127.0.0.1",from="::1"`, err: "option from= is given twice"},
		{opts: `command="/bin/date"`, err: "option command is not supported: failwatch serve runs only the dashboard, never a forced command"},
		{opts: `restrict,command="nethack"`, err: "option command is not supported"},
		{opts: `environment="A=b"`, err: "option environment is not supported: failwatch serve sets no environment"},
		{opts: `cert-authority`, err: "option cert-authority is not supported: certificate authorities are not supported"},
		{opts: `principals="alice"`, err: "option principals is not supported"},
		{opts: `permitopen="127.0.0.1:22"`, err: "option permitopen is not one failwatch serve enforces"},
		{opts: `verify-required`, err: "option verify-required is not one failwatch serve enforces"},
		{opts: `no-pyt`, err: "option no-pyt is not one failwatch serve enforces"},
		{opts: `expiry-time="2099"`, err: `expiry-time "2099" is neither YYYYMMDD[Z] nor YYYYMMDDHHMM[SS][Z]`},
		{opts: `expiry-time="20991341"`, err: `expiry-time "20991341" is not a date`},
	} {
		l := line
		if tc.opts != "" {
			l = tc.opts + " " + line
		}
		got, err := parseListing(l)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err %v, want %q", tc.opts, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.opts, err)
			continue
		}
		if got.noPty != tc.noPty {
			t.Errorf("%s: no pty %v, want %v", tc.opts, got.noPty, tc.noPty)
		}
		for _, a := range tc.admitted {
			if !admits(got.from, netip.MustParseAddr(a)) {
				t.Errorf("%s: %s not admitted", tc.opts, a)
			}
		}
		for _, a := range tc.refused {
			if admits(got.from, netip.MustParseAddr(a)) {
				t.Errorf("%s: %s admitted", tc.opts, a)
			}
		}
	}
	if _, err := parseListing("ssh-ed25519 notbase64"); err == nil {
		t.Error("a line without a key loaded")
	}
}

// expiry-time is a date or a time in the system's zone, or UTC with Z;
// given twice, the earlier holds.
func TestExpiryTime(t *testing.T) {
	_, line := key(t)
	for _, tc := range []struct {
		opts string
		want time.Time
	}{
		{`expiry-time="20300102"`, time.Date(2030, 1, 2, 0, 0, 0, 0, time.Local)},
		{`expiry-time="203001020304Z"`, time.Date(2030, 1, 2, 3, 4, 0, 0, time.UTC)},
		{`expiry-time="20300102030405z"`, time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)},
		{`expiry-time="20300102Z",expiry-time="20290102Z"`, time.Date(2029, 1, 2, 0, 0, 0, 0, time.UTC)},
	} {
		l, err := parseListing(tc.opts + " " + line)
		if err != nil || !l.expires.Equal(tc.want) {
			t.Errorf("%s: %v %v, want %v", tc.opts, l.expires, err, tc.want)
		}
	}
}

// A key that does not load is told with where it is written (the file
// and line, or the config's file:line:col and key) and the others load;
// a key two users list is told once, as such; a file read again is told
// again only when it changed.
func TestKeyringProblems(t *testing.T) {
	signer, line := key(t)
	_, other := key(t)
	file := authorizedKeys(t, "# keys", "", `command="date" `+other, line, "not a key")
	var told []string
	k := newKeyring([]config.ServeUser{
		{Name: "alice", Role: config.RoleOperator, Keys: []string{"restrict,tunnel=\"1\" " + other, line}, KeysAt: []string{"f.yaml:5:9", "f.yaml:6:9"}},
		{Name: "noc", Role: config.RoleViewer, AuthorizedKeys: file},
	}, func(p problem) { told = append(told, p.String()) })
	want := []string{
		"f.yaml:5:9: serve.users[0].keys[0]: option tunnel is not one failwatch serve enforces; the key is not loaded",
		file + ":3: option command is not supported: failwatch serve runs only the dashboard, never a forced command; the key is not loaded",
		file + ":5: not an authorized_keys line (options, key type, key, comment); the key is not loaded",
		file + ":4: key " + gossh.FingerprintSHA256(signer.PublicKey()) + " is listed for alice (f.yaml:6:9: serve.users[0].keys[1]) and for noc",
	}
	if strings.Join(told, "\n") != strings.Join(want, "\n") {
		t.Errorf("told:\n%s\nwant:\n%s", strings.Join(told, "\n"), strings.Join(want, "\n"))
	}
	if all, rejected := k.all(); len(all) != 2 || len(rejected) != 2 {
		t.Errorf("%d keys loaded and %d not, want alice's and noc's listing of one key, and the two with options refused", len(all), len(rejected))
	}
	if len(told) != len(want) {
		t.Errorf("an unchanged file was told again: %q", told[len(want):])
	}
	os.Remove(file)
	k.all()
	if last := told[len(told)-1]; !strings.Contains(last, "authorized_keys of noc: open "+file+": no such file or directory") {
		t.Errorf("a file gone: %q", last)
	}
}
