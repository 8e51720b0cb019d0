// Package sshserve serves the dashboard over SSH, one engine to many
// sessions, in soft-serve's shape: a Server built from Options, and the
// SSH policy as wish middleware, one per concern: auth (which serve user
// a key is, and their role, kept in the session's context), logging
// (every login, refusal and session end, with the key's fingerprint),
// the terminal a dashboard needs, the session cap, roles (a viewer's
// dashboard is read-only) and the Bubble Tea program of each session.
package sshserve
