// Package engine is failwatch's runtime core: it owns the probes of every
// server, the router watcher, the log follower, the DNS answer watcher, the
// automatic policy and the operations (one at a time, whoever asks), and
// publishes one stream of events, with a current snapshot, to any number of
// subscribers: a dashboard, metrics, and later SSH sessions. Subscribers
// never probe or talk to the router themselves.
package engine
