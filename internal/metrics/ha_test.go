package metrics

import (
	"strings"
	"testing"
)

// The cluster's series: absent without ha:, then this instance's role and
// whether it acts, following each state.
func TestHASeries(t *testing.T) {
	c := New([]string{"public"}, []string{"tomtotrading.com"})
	if body := scrape(c); strings.Contains(body, "failwatch_ha_") {
		t.Fatal("HA series exported without ha:")
	}
	tests := []struct {
		role   string
		acting bool
		want   []string
	}{
		{"follower", false, []string{`failwatch_ha_role{role="follower"} 1`, `failwatch_ha_role{role="leader"} 0`, "failwatch_ha_acting 0"}},
		{"leader", true, []string{`failwatch_ha_role{role="leader"} 1`, `failwatch_ha_role{role="follower"} 0`, "failwatch_ha_acting 1"}},
		{"none", false, []string{`failwatch_ha_role{role="none"} 1`, `failwatch_ha_role{role="leader"} 0`, "failwatch_ha_acting 0"}},
	}
	for _, tt := range tests {
		c.ObserveHA(tt.role, tt.acting)
		body := scrape(c)
		for _, w := range tt.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: no %q in\n%s", tt.role, w, body)
			}
		}
	}
}
