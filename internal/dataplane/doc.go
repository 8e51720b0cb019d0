// Package dataplane applies the emulated router's firewall to a real router
// namespace: the emulator (routeros/rosim) stays the control plane, serving
// the API, and every change to its NAT rules, address lists or interface
// lists is translated to one nft table in the namespace, replaced
// atomically; every connection removed from its /ip/firewall/connection is
// removed from the namespace's conntrack with the same match, and the
// namespace's conntrack entries are mirrored into that menu, so a client
// reading the router's connections sees the real ones. A rule property the
// translation does not carry is refused with an error naming the rule and
// the property, never dropped: a data plane that silently matched more or
// fewer packets than the router's rule says would measure something else.
// It needs root, nft and conntrack in the namespace.
package dataplane
