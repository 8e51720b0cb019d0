package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseDuration reads a Go duration ("1s", "1m30s") and also RouterOS's day and
// week units ("1d", "1w2d"), since admins copy TTLs and intervals from the
// router. A bare number is refused: "10" could mean seconds or milliseconds.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty duration")
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return 0, fmt.Errorf("duration %q needs a unit, e.g. %ss or %sms", s, s, s)
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
		n, err := strconv.Atoi(rest[:i])
		if err != nil || n < 0 {
			return 0, fmt.Errorf("bad duration %q", s)
		}
		total += time.Duration(n) * u.unit
		rest = rest[i+1:]
	}
	if rest != "" {
		d, err := time.ParseDuration(rest)
		if err != nil {
			return 0, fmt.Errorf("bad duration %q (use units like 500ms, 10s, 5m, 1d)", s)
		}
		total += d
	}
	return total, nil
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

// DefaultExpect counts successes and redirects as up, and a 503 as down.
var DefaultExpect = StatusRanges{{200, 399}}

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
