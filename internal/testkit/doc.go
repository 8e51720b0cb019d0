// Package testkit holds the helpers tests of several packages share: an
// emulated router with the paper's setup, waiting for a condition, and
// latency figures for benchmarks. Tests only import it.
package testkit
