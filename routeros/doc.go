// Package routeros talks to a MikroTik router over its API through
// github.com/go-routeros/routeros/v3, working around that library's known
// faults: every call has a deadline on the connection itself (its sync calls
// ignore the context), `!fatal` replies are rewritten so they parse, the
// command connection never goes async (a fast reply could be lost), and the
// log is followed on a connection of its own. Any error that is not a
// router's !trap closes the connection; the next call redials, with backoff.
package routeros
