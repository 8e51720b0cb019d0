package failover

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/failwatch/failwatch/routeros"
)

// StepStatus is where a failover step stands.
type StepStatus string

// Step statuses, in the order a step goes through them.
const (
	StepRunning    StepStatus = "running"
	StepOK         StepStatus = "ok"
	StepSkipped    StepStatus = "skipped"
	StepFailed     StepStatus = "failed"
	StepRolledBack StepStatus = "rolled back"
)

// Step is one reported step of an operation.
type Step struct {
	Name   string        `json:"name"`
	Status StepStatus    `json:"status"`
	Detail string        `json:"detail,omitempty"`
	At     time.Time     `json:"at"`
	Took   time.Duration `json:"-"` // as took_ms in JSON
}

// ms is a duration in milliseconds, for JSON.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// MarshalJSON writes the step with took_ms, as every duration in
// failwatch's JSON is.
func (s Step) MarshalJSON() ([]byte, error) {
	type plain Step
	return json.Marshal(struct {
		plain
		TookMS float64 `json:"took_ms"`
	}{plain(s), ms(s.Took)})
}

// UnmarshalJSON reads what MarshalJSON wrote (a recording).
func (s *Step) UnmarshalJSON(b []byte) error {
	type plain Step
	var v struct {
		plain
		TookMS float64 `json:"took_ms"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*s = Step(v.plain)
	// Rounded to the microsecond took_ms is written with: truncating the
	// float (1.001 ms is 1000999.99... ns) would take one off.
	s.Took = time.Duration(math.Round(v.TookMS*1000)) * time.Microsecond
	return nil
}

// Outcome is how an operation ended, decided from what the router holds
// when it ended (read back), never from an error alone.
type Outcome string

// Outcomes.
const (
	// OutcomeChanged: done, and verified.
	OutcomeChanged Outcome = "changed"
	// OutcomeAlreadySo: the router already was as asked; nothing sent.
	OutcomeAlreadySo Outcome = "already so"
	// OutcomeCompleted: a reply was lost, the read-back showed the change
	// applied, and the operation then completed and verified.
	OutcomeCompleted Outcome = "completed after all"
	// OutcomeRolledBack: it failed, and a read-back showed everything it
	// changed undone.
	OutcomeRolledBack Outcome = "rolled back"
	// OutcomeFailed: it failed; the read-back shows the name defined, but
	// not everything is as it was (or nothing had changed at all).
	OutcomeFailed Outcome = "failed"
	// OutcomeUnknown: the router could not be read back, or holds a name
	// with no or several enabled records: an admin must look.
	OutcomeUnknown Outcome = "unknown"
)

// Change is one change an operation made, or tried to make, on the router.
type Change struct {
	Kind string `json:"kind"` // record, netwatch, nat (a bridge rule) or connection (a tracked connection removed)
	ID   string `json:"id"`
	What string `json:"what"`
	// Status: changed, failed (refused or read back as not applied),
	// unknown (not read back), undone (rolled back).
	Status string `json:"status"`
	// Undo is the router command (as typed in its terminal) that puts back
	// what the change changed.
	Undo string `json:"undo,omitempty"`
}

// Result is the outcome of an operation.
type Result struct {
	Operation string  `json:"operation"` // failover, restore, hold or release
	Service   string  `json:"service"`
	From      string  `json:"from"` // server name active before, "" if none
	To        string  `json:"to"`
	Outcome   Outcome `json:"outcome"`
	// Changed: the router now holds something this operation changed.
	Changed bool     `json:"changed"`
	Changes []Change `json:"changes"`
	// Records are the name's records of the failed-over type as last read
	// back: after an unknown outcome, the last ones known.
	Records []routeros.Record `json:"records,omitempty"`
	// Notes are warnings about what the router may do next (its own
	// netwatch moving the name back), to show with the outcome.
	Notes   []string  `json:"notes,omitempty"`
	Steps   []Step    `json:"steps"`
	Started time.Time `json:"started"`
	// Parts are the services' own results of an operation over several
	// services (each also audited on its own), in the order they ran.
	Parts []Result      `json:"parts,omitempty"`
	Took  time.Duration `json:"-"`
	// TookMS is Took in milliseconds, for JSON.
	TookMS float64 `json:"took_ms"`
}

// Summary says in one line what the operation did, from its outcome and
// changes; a failure's details are in its error. An operation over several
// services says it per service.
func (r Result) Summary() string {
	if len(r.Parts) > 0 {
		parts := make([]string, len(r.Parts))
		for i, p := range r.Parts {
			parts[i] = p.Service + ": " + p.Summary()
		}
		return strings.Join(parts, "; ")
	}
	var records, nat, conns int
	var netwatch []string
	verb := "held"
	for _, c := range r.Changes {
		switch {
		case c.Status != "changed":
		case c.Kind == "netwatch":
			netwatch = append(netwatch, c.ID)
			if strings.HasPrefix(c.What, "release") {
				verb = "released"
			}
		case c.Kind == "nat":
			nat++
		case c.Kind == "connection":
			conns++
		default:
			records++
		}
	}
	var s string
	switch {
	case r.Outcome != OutcomeChanged && r.Outcome != OutcomeCompleted && r.Outcome != OutcomeAlreadySo:
		return r.Operation + " " + strings.ToUpper(string(r.Outcome))
	case r.Outcome == OutcomeAlreadySo && r.Operation == "end bridge":
		return "the bridge is already off: nothing changed"
	case r.Outcome == OutcomeAlreadySo && r.To == "":
		return "netwatch already so: nothing changed"
	case r.Outcome == OutcomeAlreadySo:
		return fmt.Sprintf("%s is already on %s: nothing changed", r.Service, r.To)
	case r.To == "":
	case records > 0:
		s = fmt.Sprintf("%s now points at %s", r.Service, r.To)
	default:
		s = fmt.Sprintf("%s is already on %s", r.Service, r.To)
	}
	if len(netwatch) > 0 {
		if s != "" {
			s += "; "
		}
		s += fmt.Sprintf("netwatch %s: %s", verb, strings.Join(netwatch, ", "))
	}
	if b := r.bridgeSummary(nat, conns); b != "" {
		s = strings.TrimPrefix(s+"; "+b, "; ")
	}
	if r.Outcome == OutcomeCompleted {
		s += " (a reply was lost; the read-back shows it done)"
	}
	return s
}

// bridgeSummary says what an operation did to the TTL bridge, from the
// step that turns its rules on or off having succeeded, not from whether
// a rule changed (a change may be half of them, and a turn refused): ""
// when the operation did nothing to a bridge and nothing failed.
func (r Result) bridgeSummary(rules, conns int) string {
	off := r.Operation == "restore" || r.Operation == "end bridge"
	word := map[bool]string{false: "on", true: "off"}[off]
	turn := "bridge: " + map[bool]string{false: "enable", true: "disable"}[off] + " rules"
	ok := slices.ContainsFunc(r.Steps, func(s Step) bool { return s.Name == turn && s.Status == StepOK })
	failed := slices.ContainsFunc(r.Steps, func(s Step) bool { return strings.HasPrefix(s.Name, "bridge: ") && s.Status == StepFailed })
	var s string
	switch {
	case ok && rules == 0 && conns == 0 && !failed:
		return ""
	case ok && rules == 0:
		s = "bridge already " + word
	case ok:
		s = "bridge " + word
	case rules > 0 || conns > 0 || failed:
		return "bridge not turned " + word + " (see notes)"
	default:
		return ""
	}
	if conns > 0 {
		s += fmt.Sprintf(", %d tracked connection(s) removed", conns)
	}
	if failed {
		s += " (a later bridge step failed: see notes)"
	}
	return s
}
