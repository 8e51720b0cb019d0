package routeros

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/failwatch/failwatch/internal/safetext"
)

// ParseLogEntry reads a /log/print row; now, in the router's zone, dates
// times given without a date or year. A zero now is a router whose zone is
// unknown: Time stays zero and RawTime is the time to show.
func ParseLogEntry(m map[string]string, now time.Time) LogEntry {
	e := LogEntry{ID: safetext.Line(m[".id"]), RawTime: safetext.Line(m["time"]), Message: safetext.Line(m["message"])}
	e.Seq = seqOf(e.ID)
	if t := safetext.Line(m["topics"]); t != "" {
		e.Topics = strings.Split(t, ",")
	}
	if now.IsZero() {
		e.ZoneUnknown = true
	} else if t, err := ParseLogTime(e.RawTime, now); err == nil {
		e.Time = t
	}
	if ev, ok := ParseNetwatchMessage(e.Message); ok {
		e.Netwatch = &ev
	}
	return e
}

var months = map[string]time.Month{
	"jan": time.January, "feb": time.February, "mar": time.March, "apr": time.April,
	"may": time.May, "jun": time.June, "jul": time.July, "aug": time.August,
	"sep": time.September, "oct": time.October, "nov": time.November, "dec": time.December,
}

// ParseLogTime reads every time format RouterOS logs use: "18:33:31"
// (today), "oct/23 18:33:31" (this year), "oct/23/2023 18:33:31", and
// "2023-10-23 18:33:31" or "10-23 18:33:31" (7.10 and later). now gives
// the date, year and time zone where the text leaves them out; a date that
// would lie in the future is taken as last year's.
func ParseLogTime(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	date, clock, hasDate := strings.Cut(s, " ")
	if !hasDate {
		date, clock = "", s
	}
	hms := strings.Split(clock, ":")
	if len(hms) != 3 {
		return time.Time{}, fmt.Errorf("bad log time %q", s)
	}
	var hmsv [3]int
	for i, p := range hms {
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 || v > 59 || (i == 0 && v > 23) {
			return time.Time{}, fmt.Errorf("bad log time %q", s)
		}
		hmsv[i] = v
	}
	year, month, day := now.Date()
	yearGiven := false
	switch {
	case date == "":
	case strings.Contains(date, "/"):
		parts := strings.Split(date, "/")
		m, ok := months[strings.ToLower(parts[0])]
		if !ok || len(parts) > 3 || len(parts) < 2 {
			return time.Time{}, fmt.Errorf("bad log date %q", s)
		}
		d, err := strconv.Atoi(parts[1])
		if err != nil {
			return time.Time{}, fmt.Errorf("bad log date %q", s)
		}
		month, day = m, d
		if len(parts) == 3 {
			y, err := strconv.Atoi(parts[2])
			if err != nil {
				return time.Time{}, fmt.Errorf("bad log date %q", s)
			}
			year, yearGiven = y, true
		}
	case strings.Contains(date, "-"):
		parts := strings.Split(date, "-")
		nums := make([]int, len(parts))
		for i, p := range parts {
			v, err := strconv.Atoi(p)
			if err != nil {
				return time.Time{}, fmt.Errorf("bad log date %q", s)
			}
			nums[i] = v
		}
		switch len(nums) {
		case 3:
			year, month, day, yearGiven = nums[0], time.Month(nums[1]), nums[2], true
		case 2:
			month, day = time.Month(nums[0]), nums[1]
		default:
			return time.Time{}, fmt.Errorf("bad log date %q", s)
		}
	default:
		return time.Time{}, fmt.Errorf("bad log date %q", s)
	}
	if month < 1 || month > 12 || day < 1 || day > 31 {
		return time.Time{}, fmt.Errorf("bad log date %q", s)
	}
	t := time.Date(year, month, day, hmsv[0], hmsv[1], hmsv[2], 0, now.Location())
	if t.Day() != day {
		return time.Time{}, fmt.Errorf("bad log date %q", s)
	}
	if !yearGiven && date != "" && t.After(now.Add(24*time.Hour)) {
		t = t.AddDate(-1, 0, 0)
	}
	return t, nil
}

var netwatchMessage = regexp.MustCompile(`^event (up|down) \[\s*type:\s*([a-z-]+),\s*host:\s*([^\s\],]+)\s*\]$`)

// ParseNetwatchMessage reads "event down [ type: simple, host: X ]", with or
// without the spaces inside the brackets (older versions leave them out).
func ParseNetwatchMessage(msg string) (NetwatchEvent, bool) {
	m := netwatchMessage.FindStringSubmatch(strings.TrimSpace(msg))
	if m == nil {
		return NetwatchEvent{}, false
	}
	return NetwatchEvent{Status: m[1], Type: m[2], Host: m[3]}, true
}
