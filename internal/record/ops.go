package record

import (
	"math"
	"time"

	"github.com/failwatch/failwatch/internal/engine"
	"github.com/failwatch/failwatch/routeros/failover"
)

// The JSON forms of what operations, switches and the policy leave in a
// recording.

type stepJSON struct {
	Op     string              `json:"op"`
	Name   string              `json:"name"`
	Status failover.StepStatus `json:"status"`
	Detail string              `json:"detail,omitempty"`
	At     time.Time           `json:"at"`
	TookMS float64             `json:"took_ms"`
}

type policyJSON struct {
	At      time.Time `json:"at"`
	Text    string    `json:"text"`
	Refused bool      `json:"refused"`
}

type switchJSON struct {
	Service string    `json:"service"`
	From    string    `json:"from"`
	To      string    `json:"to"`
	At      time.Time `json:"at"`
	Fault   bool      `json:"fault"`
	// AfterMS is only on a fault: from the server's going down to the
	// switch.
	AfterMS *float64 `json:"after_ms,omitempty"`
	// DownBy is only on a fault: who saw the server down first, the
	// probes or the router's netwatch.
	DownBy string    `json:"down_by,omitempty"`
	Cause  causeJSON `json:"cause"`
}

type causeJSON struct {
	Kind engine.CauseKind `json:"kind"`
	Who  string           `json:"who,omitempty"`
	Op   string           `json:"op,omitempty"`
	Line string           `json:"line,omitempty"`
	Why  string           `json:"why,omitempty"`
}

type statsResetJSON struct {
	By string    `json:"by"`
	At time.Time `json:"at"`
}

// duration is a recorded *_ms back as a duration, rounded to the
// microsecond it was written with: truncating the float would put a
// duration on the other side of the rounding a screen shows it with.
func duration(ms float64) time.Duration {
	return time.Duration(math.Round(ms*1000)) * time.Microsecond
}

// withLists is r with its changes and steps (and its parts') as lists
// when there are none: JSON.md's lists are [] when empty, never null.
func withLists(r failover.Result) failover.Result {
	if r.Changes == nil {
		r.Changes = []failover.Change{}
	}
	if r.Steps == nil {
		r.Steps = []failover.Step{}
	}
	if r.Parts != nil {
		parts := make([]failover.Result, len(r.Parts))
		for i, p := range r.Parts {
			parts[i] = withLists(p)
		}
		r.Parts = parts
	}
	return r
}

// tookBack sets an operation's durations from what was recorded.
func tookBack(r *failover.Result) {
	r.Took = duration(r.TookMS)
	for i := range r.Parts {
		tookBack(&r.Parts[i])
	}
}
