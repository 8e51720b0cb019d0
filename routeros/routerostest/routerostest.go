// Package routerostest holds what tests of several packages read from a
// router through a routeros.Client, so that each reads it the same way; it
// keeps `testing` out of the routeros package (whose own tests cannot use
// it: it imports routeros).
package routerostest

import (
	"context"
	"testing"

	"github.com/failwatch/failwatch/routeros"
)

// EnabledAddresses are the addresses of name's enabled static records, in
// the router's print order; a failed read ends the test.
func EnabledAddresses(t testing.TB, c *routeros.Client, name string) []string {
	t.Helper()
	recs, err := c.StaticRecords(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range recs {
		if !r.Disabled {
			out = append(out, r.Address)
		}
	}
	return out
}
