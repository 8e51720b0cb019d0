// Package config reads failwatch's YAML file: the router, the service name and
// its failover layout, the servers with their roles and checks, probe settings
// and UI options. Every problem found is reported with file:line:column and the
// key it concerns, all of them at once, so a typo costs one run, not five.
package config
