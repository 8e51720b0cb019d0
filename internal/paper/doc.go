// Package paper is the paper failwatch comes from, as data: its service
// name, its two servers with their addresses and the comments of their
// static records, and the round trips it measured. The emulator's seed, the
// demo, the lab and the tests all take it from here, so they describe the
// same network. (The paper itself is in the steering repository's
// shared/seed; ARCHITECTURE.md says more.)
package paper
