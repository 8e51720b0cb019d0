package rosim

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// profile is what one RouterOS version takes and how it answers: the
// emulator must refuse what that version refuses, or tests pass that a
// router would fail.
type profile struct {
	name string
	// empty: an empty print answers !empty before !done (7.18 and later).
	empty bool
	// netwatch are the writable /tool/netwatch properties; anything else is
	// "unknown parameter".
	netwatch []prop
	// netwatchTypes are the probe types; none means no type property
	// (6.x: simple ICMP only).
	netwatchTypes []string
	// matchSubdomain: /ip/dns/static has match-subdomain and address-list.
	matchSubdomain bool
	// classicTimes: log and clock dates as "nov/25/2026" (6.x), else ISO
	// dates (7.10 and later).
	classicTimes bool
}

// Profiles the emulator knows, oldest first.
var profiles = []profile{
	{
		name:         "6.49",
		classicTimes: true,
		// RouterOS 6 netwatch has exactly five properties of its own.
		netwatch: []prop{
			{name: "host"},
			{name: "interval", def: "1m", kind: kindDuration},
			{name: "timeout", def: "1s", kind: kindDuration},
			{name: "up-script"},
			{name: "down-script"},
		},
	},
	{
		name:           "7.13",
		matchSubdomain: true,
		netwatchTypes:  []string{"simple", "icmp", "tcp-conn", "http-get", "https-get", "dns"},
		netwatch:       append(netwatch7(), prop{name: "http-code-min", kind: kindInt}, prop{name: "http-code-max", kind: kindInt}),
	},
	{
		name:           "7.18",
		empty:          true,
		matchSubdomain: true,
		netwatchTypes:  []string{"simple", "icmp", "tcp-conn", "http-get", "https-get", "dns"},
		netwatch: append(netwatch7(), prop{name: "http-codes", kind: kindRanges},
			prop{name: "ignore-initial-up", kind: kindBool}, prop{name: "ignore-initial-down", kind: kindBool}),
	},
}

// netwatch7 are the netwatch properties every 7.x profile takes (7.4 and
// later): the probe types and their options, with RouterOS's defaults.
func netwatch7() []prop {
	return []prop{
		{name: "host"},
		{name: "type", def: "simple"},
		{name: "interval", def: "10s", kind: kindDuration},
		{name: "timeout", def: "3s", kind: kindDuration},
		{name: "start-delay", kind: kindDuration},
		{name: "startup-delay", kind: kindDuration},
		{name: "src-address", kind: kindAddress},
		{name: "packet-count", kind: kindInt},
		{name: "packet-interval", kind: kindDuration},
		{name: "packet-size", kind: kindInt},
		{name: "thr-avg", kind: kindDuration},
		{name: "thr-max", kind: kindDuration},
		{name: "thr-stdev", kind: kindDuration},
		{name: "thr-jitter", kind: kindDuration},
		{name: "thr-loss-percent", kind: kindPercent},
		{name: "thr-loss-count", kind: kindInt},
		{name: "port", kind: kindInt},
		{name: "thr-tcp-conn-time", kind: kindDuration},
		{name: "thr-http-time", kind: kindDuration},
		{name: "up-script"},
		{name: "down-script"},
		{name: "test-script"},
	}
}

// profileFor picks the profile of a version string such as "7.18.2
// (stable)": the newest profile not newer than it.
func profileFor(version string) (profile, error) {
	major, minor, err := majorMinor(version)
	if err != nil {
		return profile{}, err
	}
	best := -1
	for i, p := range profiles {
		pm, pn, _ := majorMinor(p.name)
		if pm == major && pn <= minor {
			best = i
		}
	}
	if best < 0 {
		return profile{}, fmt.Errorf("rosim: no profile for RouterOS %s (known: %s)", version, strings.Join(ProfileNames(), ", "))
	}
	return profiles[best], nil
}

// ProfileNames lists the versions the emulator can be.
func ProfileNames() []string {
	out := make([]string, len(profiles))
	for i, p := range profiles {
		out[i] = p.name
	}
	return out
}

func majorMinor(version string) (int, int, error) {
	v, _, _ := strings.Cut(strings.TrimSpace(version), " ")
	parts := strings.Split(v, ".")
	if len(parts) < 2 {
		return 0, 0, fmt.Errorf("rosim: bad RouterOS version %q", version)
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(strings.TrimRightFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("rosim: bad RouterOS version %q", version)
	}
	return major, minor, nil
}

var monthNames = []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}

// logTime prints a log line's time as this version does, in the router's
// zone: 6.x "18:33:31" today, "oct/23 18:33:31" this year,
// "oct/23/2023 18:33:31" before; 7.10 and later "2023-10-23 18:33:31".
func (p profile) logTime(t, now time.Time) string {
	if !p.classicTimes {
		return t.Format("2006-01-02 15:04:05")
	}
	clock := t.Format("15:04:05")
	switch {
	case t.Year() == now.Year() && t.YearDay() == now.YearDay():
		return clock
	case t.Year() == now.Year():
		return fmt.Sprintf("%s/%02d %s", monthNames[t.Month()-1], t.Day(), clock)
	}
	return fmt.Sprintf("%s/%02d/%d %s", monthNames[t.Month()-1], t.Day(), t.Year(), clock)
}

// clockDate prints /system/clock's date as this version does.
func (p profile) clockDate(t time.Time) string {
	if p.classicTimes {
		return fmt.Sprintf("%s/%02d/%d", monthNames[t.Month()-1], t.Day(), t.Year())
	}
	return t.Format("2006-01-02")
}
