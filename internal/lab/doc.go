// Package lab rebuilds the paper's network on real packets, in network
// namespaces made for it: a public and a private host (each a namespace
// behind a veth pair, with a web server that can answer 200 or 503), the
// RouterOS emulator whose netwatch pings the public host with real ICMP and
// whose DNS responder answers the service name, and a client that pings the
// service NAME, resolving it through that responder before every probe. No
// packet leaves loopback and the lab's namespaces. It needs root.
package lab
