// Package sshserve serves the dashboard over SSH, one engine to many
// sessions, in soft-serve's shape: a Server built from Options, and the
// SSH policy as wish middleware and server callbacks, one per concern:
// limits before login as sshd's (preauth.go: login_grace_time,
// max_startups with early random drop, per_source_max_startups, one
// summary log line for what they close), serve.users' keys read as sshd
// reads authorized_keys (keys.go), the login (auth.go: which serve user a
// key is, their role and a session place, kept in the connection's
// context), logging (every login, refusal and session end, with how it
// ended and the key's fingerprint), the terminal a dashboard needs, the
// session places (operator_slots kept for operators), roles (a viewer's
// dashboard is read-only), the Bubble Tea program of each session, and
// the failwatch_ssh_* metrics.
package sshserve
