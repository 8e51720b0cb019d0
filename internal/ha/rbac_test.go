package ha_test

import (
	"context"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/ha"
	"github.com/failwatch/failwatch/internal/ha/hatest"
	"github.com/failwatch/failwatch/internal/testkit"
)

// etcd's RBAC as docs/HA.md sets it up: a user per instance, one role with
// read and write on the cluster's prefix. Instances with their users lead
// and follow; a user whose role is on another cluster's prefix never gets
// to publish or lead, and says etcd refused it.
func TestRBACUserPerInstance(t *testing.T) {
	t.Parallel()
	e := hatest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	root, err := clientv3.New(clientv3.Config{Endpoints: []string{e.Endpoint()}, DialTimeout: time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	steps := []func() error{
		func() error { _, err := root.UserAdd(ctx, "root", "rootpw"); return err },
		func() error { _, err := root.UserGrantRole(ctx, "root", "root"); return err },
		func() error { _, err := root.RoleAdd(ctx, "failwatch-site-a"); return err },
		func() error {
			_, err := root.RoleGrantPermission(ctx, "failwatch-site-a", "/failwatch/site-a/", clientv3.GetPrefixRangeEnd("/failwatch/site-a/"),
				clientv3.PermissionType(clientv3.PermReadWrite))
			return err
		},
		func() error { _, err := root.RoleAdd(ctx, "failwatch-site-b"); return err },
		func() error {
			_, err := root.RoleGrantPermission(ctx, "failwatch-site-b", "/failwatch/site-b/", clientv3.GetPrefixRangeEnd("/failwatch/site-b/"),
				clientv3.PermissionType(clientv3.PermReadWrite))
			return err
		},
	}
	for _, u := range []struct{ name, role string }{{"noc-1", "failwatch-site-a"}, {"noc-2", "failwatch-site-a"}, {"other", "failwatch-site-b"}} {
		steps = append(steps,
			func() error { _, err := root.UserAdd(ctx, u.name, u.name+"-pw"); return err },
			func() error { _, err := root.UserGrantRole(ctx, u.name, u.role); return err })
	}
	steps = append(steps, func() error { _, err := root.AuthEnable(ctx); return err })
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("RBAC setup step %d: %v", i, err)
		}
	}
	run := func(name, user string) *ha.Member {
		m, err := ha.New(ha.Options{HA: &config.HA{Endpoints: []string{e.Endpoint()}, Cluster: "site-a", Name: name, LeaseTTL: ttl,
			Quorum: 1, DialTimeout: time.Second, User: user, Password: config.Secret(user + "-pw")},
			Router: "127.0.0.1:8728", Hash: "h1", CallDeadline: 500 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		rctx, stop := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { m.Run(rctx); close(done) }()
		t.Cleanup(func() { stop(); <-done; m.Close() })
		return m
	}
	a, b := run("noc-1", "noc-1"), run("noc-2", "noc-2")
	testkit.Eventually(t, 10*time.Second, "one of noc-1 and noc-2 leads, the other follows", func() bool {
		sa, sb := a.Status(), b.Status()
		return (sa.Role == "leader") != (sb.Role == "leader") && len(sa.Views) == 2 && len(sb.Views) == 2
	})
	intruder := run("intruder", "other")
	testkit.Eventually(t, 10*time.Second, "the other cluster's user says etcd refused it", func() bool {
		return strings.Contains(intruder.Status().Why, "permission denied")
	})
	if intruder.Leading() || len(a.Status().Views) != 2 {
		t.Errorf("a user of another prefix joined: leading %v, noc-1 sees %+v", intruder.Leading(), a.Status().Views)
	}
}
