// Package jsonout holds what failwatch's machine output (docs/JSON.md)
// writes of the router's rows and of a check's round trips: every duration
// a number of milliseconds named *_ms, every time RFC 3339 with its zone,
// snake_case names. status --json, failover --json and the audit log write
// the same record; report --json and a recording the same round trips.
package jsonout

import (
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/monitor"
	"github.com/failwatch/failwatch/routeros"
)

// Millis is a duration in milliseconds, to the microsecond.
func Millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// millisOf reads a duration as the router prints it; nil when it does not
// read as one (absent from the JSON rather than a wrong number).
func millisOf(s string) *float64 {
	d, err := config.ParseDuration(s)
	if err != nil {
		return nil
	}
	ms := Millis(d)
	return &ms
}

// Record is a static DNS record.
type Record struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Regexp  string `json:"regexp,omitempty"`
	Address string `json:"address,omitempty"`
	Type    string `json:"type"`
	Data    string `json:"data,omitempty"`
	// TTLMS is absent when the router's TTL does not read as a duration.
	TTLMS      *float64 `json:"ttl_ms,omitempty"`
	Comment    string   `json:"comment"`
	Disabled   bool     `json:"disabled"`
	Dynamic    bool     `json:"dynamic"`
	Unreadable string   `json:"unreadable,omitempty"`
}

// RecordOf is r as the JSON writes it.
func RecordOf(r routeros.Record) Record {
	return Record{ID: r.ID, Name: r.Name, Regexp: r.Regexp, Address: r.Address, Type: r.Type, Data: r.Data,
		TTLMS: millisOf(r.TTL), Comment: r.Comment, Disabled: r.Disabled, Dynamic: r.Dynamic, Unreadable: r.Unreadable}
}

// Records are rs as the JSON writes them, [] for none.
func Records(rs []routeros.Record) []Record {
	out := make([]Record, len(rs))
	for i, r := range rs {
		out[i] = RecordOf(r)
	}
	return out
}

// Netwatch is a netwatch entry.
type Netwatch struct {
	ID         string   `json:"id"`
	Host       string   `json:"host"`
	Type       string   `json:"type"`
	IntervalMS *float64 `json:"interval_ms,omitempty"`
	TimeoutMS  *float64 `json:"timeout_ms,omitempty"`
	Status     string   `json:"status"`
	// Since is when the status last changed, in the router's zone; absent
	// when the router gives none or one that does not read as a time.
	Since      *time.Time `json:"since,omitempty"`
	UpScript   string     `json:"up_script"`
	DownScript string     `json:"down_script"`
	Comment    string     `json:"comment"`
	Disabled   bool       `json:"disabled"`
	Unreadable string     `json:"unreadable,omitempty"`
}

// NetwatchOf is n as the JSON writes it; now, in the router's zone, dates
// the router's "since" where it leaves the date or year out.
func NetwatchOf(n routeros.Netwatch, now time.Time) Netwatch {
	out := Netwatch{ID: n.ID, Host: n.Host, Type: n.Type, IntervalMS: millisOf(n.Interval), TimeoutMS: millisOf(n.Timeout),
		Status: n.Status, UpScript: n.UpScript, DownScript: n.DownScript, Comment: n.Comment, Disabled: n.Disabled,
		Unreadable: n.Unreadable}
	if since, err := routeros.ParseLogTime(n.Since, now); err == nil && n.Since != "" {
		out.Since = &since
	}
	return out
}

// Identity is who the router is.
type Identity struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Board   string `json:"board"`
	// UptimeMS is absent when the router's uptime does not read as a
	// duration (or it was not read).
	UptimeMS *float64 `json:"uptime_ms,omitempty"`
}

// IdentityOf is id as the JSON writes it.
func IdentityOf(id routeros.Identity) Identity {
	return Identity{Name: id.Name, Version: id.Version, Board: id.Board, UptimeMS: millisOf(id.Uptime)}
}

// RTT is a check's round-trip figures in milliseconds, each absent when
// there is none.
type RTT struct {
	MinMS    *float64 `json:"min_ms,omitempty"`
	AvgMS    *float64 `json:"avg_ms,omitempty"`
	MaxMS    *float64 `json:"max_ms,omitempty"`
	MdevMS   *float64 `json:"mdev_ms,omitempty"`
	JitterMS *float64 `json:"jitter_ms,omitempty"`
	P95MS    *float64 `json:"p95_ms,omitempty"`
}

// RTTOf is s's round trips, each as ms writes it (nil: absent): report
// --json rounds to the microsecond, a recording cuts to it and leaves a
// zero out.
func RTTOf(s monitor.Stats, ms func(time.Duration) *float64) RTT {
	return RTT{MinMS: ms(s.Min), AvgMS: ms(s.Avg), MaxMS: ms(s.Max), MdevMS: ms(s.Mdev), JitterMS: ms(s.Jitter), P95MS: ms(s.P95)}
}
