// Package rosim is a RouterOS emulator: an API server that speaks the real
// wire protocol (plain logins and the pre-6.43 challenge, tags, !re !done
// !trap !fatal !empty, queries, follow and cancel), with the menus failwatch
// uses (static DNS, DNS cache, netwatch, log, identity, resource, NAT,
// connection tracking, interface lists), a netwatch engine that runs its
// up/down scripts, and a UDP DNS responder answering from the enabled
// static records. Tests and `failwatch demo` talk to it through the same
// client as to a real router.
package rosim
