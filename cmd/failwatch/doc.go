// Command failwatch watches a DNS name that a MikroTik router fails over
// between a public and a private server. This package only wires the
// subcommands to the packages that do the work.
package main
