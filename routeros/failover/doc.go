// Package failover is the failover domain in one place: the operations
// (failover, restore, hold and release of netwatch, each step decided from
// what a read-back of the router shows, never from an error alone, rolled
// back towards exactly one enabled record), their audit log, the facts
// derived from the router's tables (the active server, held netwatch,
// netwatch per host, the record type failed over), `failwatch setup` per
// RouterOS version, and the automatic policy (it decides; the engine acts).
package failover
