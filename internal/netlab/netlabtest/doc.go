// Package netlabtest gives tests a namespace host: a package of its own so
// that "testing" stays out of the failwatch binary, which uses netlab for
// the lab.
package netlabtest
