package paperscene

import (
	"reflect"
	"testing"
	"time"

	"github.com/failwatch/failwatch/internal/engine"
	"github.com/failwatch/failwatch/monitor"
)

// A seed and a clock give the same scene every time, another seed another
// one; in each the public server goes DOWN, the router's netwatch moves
// the name to the private one, which stays UP, and nothing comes after
// the clock.
func TestEvents(t *testing.T) {
	clock := time.Date(2026, 10, 14, 18, 35, 10, 0, time.UTC)
	if a, b := Events(1, clock), Events(1, clock); !reflect.DeepEqual(a, b) {
		t.Fatal("two scenes of seed 1 differ")
	}
	if reflect.DeepEqual(Events(1, clock), Events(2, clock)) {
		t.Error("seeds 1 and 2 give the same scene")
	}
	for _, seed := range []uint64{1, 2, 3} {
		states := map[string]monitor.State{}
		var switched *engine.Switch
		samples := 0
		for _, ev := range Events(seed, clock) {
			switch ev := ev.(type) {
			case engine.ServerEvent:
				if ev.Time.After(clock) {
					t.Errorf("seed %d: an event at %v, after the clock", seed, ev.Time)
				}
				if ev.Type == monitor.EventServer {
					states[ev.Server] = ev.State
				}
				if ev.Type == monitor.EventSample {
					samples++
				}
			case engine.Switch:
				switched = &ev
			}
		}
		if states["public"] != monitor.Down || states["private"] != monitor.Up {
			t.Errorf("seed %d: states at the end %v, want public DOWN and private UP", seed, states)
		}
		if switched == nil || switched.From != "public" || switched.To != "private" || switched.Cause.Kind != engine.CauseNetwatch {
			t.Errorf("seed %d: switch %+v, want public to private by netwatch", seed, switched)
		}
		if want := 2 * int(Length/time.Second); samples != want {
			t.Errorf("seed %d: %d samples, want %d (two servers, one a second)", seed, samples, want)
		}
	}
}
