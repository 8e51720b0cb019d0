// Package lab rebuilds the paper's network on real packets, in network
// namespaces made for it: a router namespace forwarding between a public
// and a private host (each a namespace with a web server that can answer
// 200 or 503, and echo replies delayed as the paper measured them), two
// client namespaces, and this namespace (failwatch's host). The RouterOS
// emulator is the router's control plane: its netwatch pings from the
// router namespace with real ICMP, its DNS answers the service name there,
// and its NAT rules and connection removals are applied to the namespace by
// internal/dataplane, so a rule written over the API rewrites the clients'
// packets. The clients are real programs: iputils ping resolving the name
// once through the router's DNS, and ping through dnsmasq's cache. No packet
// leaves loopback and the lab's namespaces, and no lookup leaves the
// machine. It needs root, nft, conntrack and dnsmasq.
package lab
