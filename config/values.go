package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ParseDuration reads every form a duration takes in a config or from a
// router: Go's ("1s", "1m30s", "500ms"), RouterOS's with days and weeks
// ("1w2d3h4m5s", "1d"), the clock form ("00:00:30", "1d00:00:00",
// "2w3d04:05:06") and bare seconds ("300"). A value too large for a
// duration (about 292 years) is an error, not a wrap-around.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty duration")
	}
	if n, err := strconv.ParseUint(s, 10, 64); err == nil {
		return scale(s, n, time.Second)
	}
	var total time.Duration
	rest := s
	for _, u := range []struct {
		suffix string
		unit   time.Duration
	}{{"w", 7 * 24 * time.Hour}, {"d", 24 * time.Hour}} {
		i := strings.Index(rest, u.suffix)
		if i < 0 {
			continue
		}
		n, err := strconv.ParseUint(rest[:i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("bad duration %q", s)
		}
		d, err := scale(s, n, u.unit)
		if err != nil {
			return 0, err
		}
		if total, err = add(s, total, d); err != nil {
			return 0, err
		}
		rest = rest[i+1:]
	}
	if rest == "" {
		return total, nil
	}
	var d time.Duration
	var err error
	if strings.Contains(rest, ":") {
		d, err = clock(s, rest)
	} else if d, err = time.ParseDuration(rest); err != nil {
		if strings.Contains(err.Error(), "invalid duration") || strings.Contains(err.Error(), "missing unit") || strings.Contains(err.Error(), "unknown unit") {
			err = fmt.Errorf("bad duration %q (use units like 500ms, 10s, 5m, 1d, or 00:00:30)", s)
		} else {
			err = fmt.Errorf("duration %q out of range", s)
		}
	}
	if err != nil {
		return 0, err
	}
	return add(s, total, d)
}

// clock reads hh:mm:ss, as RouterOS prints times of day and intervals.
func clock(s, hms string) (time.Duration, error) {
	parts := strings.Split(hms, ":")
	if len(parts) != 3 {
		return 0, fmt.Errorf("bad duration %q (hh:mm:ss)", s)
	}
	var total time.Duration
	// Seconds may carry a fraction: 00:00:00.400.
	if whole, frac, ok := strings.Cut(parts[2], "."); ok {
		f, err := time.ParseDuration("0." + frac + "s")
		if err != nil || strings.ContainsAny(frac, "+-") {
			return 0, fmt.Errorf("bad duration %q (hh:mm:ss)", s)
		}
		parts[2], total = whole, f
	}
	for i, p := range parts {
		n, err := strconv.ParseUint(p, 10, 64)
		if err != nil || (i > 0 && n > 59) {
			return 0, fmt.Errorf("bad duration %q (hh:mm:ss)", s)
		}
		d, err := scale(s, n, []time.Duration{time.Hour, time.Minute, time.Second}[i])
		if err != nil {
			return 0, err
		}
		if total, err = add(s, total, d); err != nil {
			return 0, err
		}
	}
	return total, nil
}

// scale is n units, or an error when that does not fit.
func scale(s string, n uint64, unit time.Duration) (time.Duration, error) {
	if n > uint64(math.MaxInt64/int64(unit)) {
		return 0, fmt.Errorf("duration %q out of range", s)
	}
	return time.Duration(n) * unit, nil
}

func add(s string, a, b time.Duration) (time.Duration, error) {
	if b > 0 && a > math.MaxInt64-b {
		return 0, fmt.Errorf("duration %q out of range", s)
	}
	return a + b, nil
}

// FormatDuration prints a duration as RouterOS does, the inverse of
// ParseDuration: 1w2d3h4m5s, with zero parts left out ("1d", "30s").
func FormatDuration(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	var b strings.Builder
	for _, u := range []struct {
		suffix string
		unit   time.Duration
	}{{"w", 7 * 24 * time.Hour}, {"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}} {
		if n := d / u.unit; n > 0 {
			b.WriteString(strconv.FormatInt(int64(n), 10) + u.suffix)
			d -= n * u.unit
		}
	}
	if b.Len() == 0 {
		return d.String()
	}
	return b.String()
}

// ParsePercent reads "25%", "25" or "2.5%" as a percentage in [0, 100].
func ParsePercent(s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "%"), 64)
	if err != nil {
		return 0, fmt.Errorf("bad percentage %q", s)
	}
	if v < 0 || v > 100 {
		return 0, fmt.Errorf("percentage %q is outside 0%%..100%%", s)
	}
	return v, nil
}

// StatusRanges is a set of HTTP status code ranges, e.g. "200-399".
type StatusRanges []StatusRange

// StatusRange is an inclusive range of HTTP status codes.
type StatusRange struct{ Lo, Hi int }

// DefaultExpect counts successes and redirects as up, and a 503 as down:
// a check's expect when the file gives none.
var DefaultExpect = defaulted[Check]().Expect

// ParseStatusRanges reads "200", "200-299" or "200-299,301".
func ParseStatusRanges(s string) (StatusRanges, error) {
	var out StatusRanges
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		if !isRange {
			hi = lo
		}
		l, err1 := strconv.Atoi(strings.TrimSpace(lo))
		h, err2 := strconv.Atoi(strings.TrimSpace(hi))
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("bad status range %q (use e.g. 200-399 or 200,301)", part)
		}
		if l < 100 || h > 599 || l > h {
			return nil, fmt.Errorf("status range %q is not within 100-599 low to high", part)
		}
		out = append(out, StatusRange{l, h})
	}
	return out, nil
}

// Contains reports whether code is in one of the ranges.
func (rs StatusRanges) Contains(code int) bool {
	for _, r := range rs {
		if code >= r.Lo && code <= r.Hi {
			return true
		}
	}
	return false
}

func (rs StatusRanges) String() string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		if r.Lo == r.Hi {
			parts[i] = strconv.Itoa(r.Lo)
		} else {
			parts[i] = fmt.Sprintf("%d-%d", r.Lo, r.Hi)
		}
	}
	return strings.Join(parts, ",")
}
