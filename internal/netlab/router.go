package netlab

import (
	"bytes"
	"fmt"
	"os/exec"
	"strings"
)

// Router is a namespace that forwards between the hosts behind it and this
// namespace, as a router between a LAN, its servers and the admin's host:
// it is joined to this namespace by a management link (Mgmt, whose Addr is
// the router's and Gateway this namespace's end), and each host added
// behind it has its own link to it, with this namespace routing the host's
// subnet through the router.
type Router struct {
	// NS is the router's namespace, as `ip netns` knows it.
	NS string
	// Mgmt is the link to this namespace, as a host would be: its Addr is
	// the router's address there, its NS the router's namespace.
	Mgmt  *Host
	hosts []*Host
}

// NewRouter builds a router namespace that forwards IPv4.
func NewRouter() (*Router, error) {
	mgmt, err := NewHost()
	if err != nil {
		return nil, err
	}
	r := &Router{NS: mgmt.NS, Mgmt: mgmt}
	// The router reaches only its own links: without a default route
	// nothing it forwards can go past this namespace.
	if err := ipCmd("-n", r.NS, "route", "del", "default"); err != nil {
		r.Close()
		return nil, err
	}
	if err := r.Exec("sysctl", "-qw", "net.ipv4.ip_forward=1"); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// AddHost builds a host behind the router: its default route is the
// router, Gateway is the router's address on its link and Iface the
// router's interface to it.
func (r *Router) AddHost() (*Host, error) {
	h, err := newHost(r.NS, r.Mgmt.Addr)
	if err != nil {
		return nil, err
	}
	r.hosts = append(r.hosts, h)
	return h, nil
}

// Close removes the hosts behind the router and the router.
func (r *Router) Close() error {
	var errs []string
	for _, h := range r.hosts {
		if err := h.Close(); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if err := r.Mgmt.Close(); err != nil {
		errs = append(errs, err.Error())
	}
	if len(errs) > 0 {
		return fmt.Errorf("close router %s: %s", r.NS, strings.Join(errs, "; "))
	}
	return nil
}

// Exec runs a command inside the router's namespace.
func (r *Router) Exec(name string, args ...string) error {
	return nsExec(r.NS, nil, name, args...)
}

// In runs open on a thread inside the router's namespace (see Host.In).
func (r *Router) In(open func() error) error {
	return inNS(r.NS, open)
}

// nsExec runs a command inside namespace ns with stdin, and says what went
// wrong with its output.
func nsExec(ns string, stdin []byte, name string, args ...string) error {
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns, name}, args...)...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s in %s: %v: %s", name, ns, err, bytes.TrimSpace(out))
	}
	return nil
}
