// Package safetext makes text from a router or a network safe to show on a
// terminal: a router's identity, a record's comment or a log line could
// otherwise carry escape sequences that move the cursor, retitle the
// window or rewrite what the admin sees.
package safetext
