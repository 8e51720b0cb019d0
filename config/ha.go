package config

import "time"

// HA is the top-level ha: section: several failwatch instances agreeing
// through etcd, one leader per router acting. Nil in Config means a single
// instance, as before.
type HA struct {
	// Endpoints are etcd's client URLs.
	Endpoints []string
	// Cluster names the group of instances sharing a router's leadership;
	// Name is this instance's own, unique in the cluster.
	Cluster, Name string
	// LeaseTTL is the leader's lease; the leader sends a change only while
	// the time since its last keep-alive answer is below LeaseTTL minus the
	// router call deadline and a margin.
	LeaseTTL time.Duration
	// Quorum is how many live instances' views must see a server down
	// before the policy acts on it (1: this instance's own view).
	Quorum int
	// DialTimeout bounds each connection attempt to etcd.
	DialTimeout time.Duration
	// TLS as etcd clients take it: a CA to verify the servers, and a client
	// certificate and key.
	CAFile, CertFile, KeyFile string
	// User and Password authenticate to etcd (RBAC, a user per instance);
	// the password from a file or the environment, never the config itself.
	User         string
	Password     Secret
	PasswordFile string
	PasswordEnv  string
}
