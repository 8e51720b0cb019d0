package routeros

import "maps"

// rowWith is a copy of base with kv's key, value pairs set, a value "-"
// leaving its key out: a router's row for a table-driven case, changed
// only where the case tests.
func rowWith(base map[string]string, kv ...string) map[string]string {
	m := maps.Clone(base)
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "-" {
			delete(m, kv[i])
			continue
		}
		m[kv[i]] = kv[i+1]
	}
	return m
}
