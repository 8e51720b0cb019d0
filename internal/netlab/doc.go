// Package netlab builds throw-away test hosts in Linux network namespaces:
// each host is a namespace joined to this one by a veth pair, with addresses
// from 198.18.0.0/15, the range RFC 2544 sets aside for benchmarking, so no
// packet meant for a host can reach a real network; an unreachable route for
// the whole range makes sure of it even when a host's link is down. Faults
// are injected with nft inside the host's namespace, or by taking the link
// down. It needs root (CAP_NET_ADMIN).
package netlab
