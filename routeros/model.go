package routeros

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/failwatch/failwatch/internal/safetext"
)

// Identity is who the router is.
type Identity struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Board   string `json:"board"`
	Uptime  string `json:"uptime"`
}

// Record is one static DNS record, as /ip/dns/static prints it.
type Record struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Regexp  string `json:"regexp,omitempty"`
	Address string `json:"address,omitempty"`
	// Type is "A" when RouterOS leaves it out, as it does for A records.
	Type string `json:"type"`
	// Data is what a record of another type answers (a CNAME's target, a
	// TXT's text, an MX's exchange, a FWD's forward-to), for display.
	Data     string `json:"data,omitempty"`
	TTL      string `json:"ttl"`
	Comment  string `json:"comment"`
	Disabled bool   `json:"disabled"`
	Dynamic  bool   `json:"dynamic"`
	// Unreadable says why the row is none of the forms a router sends (a
	// boolean that is not true or false, an id that is not *HEX, an
	// address that does not parse), "" when it was read. An unreadable row
	// is shown, never acted on: its other fields are not to be trusted.
	Unreadable string `json:"unreadable,omitempty"`
}

// Netwatch is one /tool/netwatch entry.
type Netwatch struct {
	ID         string `json:"id"`
	Host       string `json:"host"`
	Type       string `json:"type"`
	Interval   string `json:"interval"`
	Timeout    string `json:"timeout"`
	Status     string `json:"status"` // up, down or unknown
	Since      string `json:"since,omitempty"`
	UpScript   string `json:"up_script"`
	DownScript string `json:"down_script"`
	Comment    string `json:"comment"`
	Disabled   bool   `json:"disabled"`
	// Unreadable says why the row could not be read, "" when it was (see
	// Record.Unreadable).
	Unreadable string `json:"unreadable,omitempty"`
}

// line reads a one-line field, without the line breaks Client.Run keeps.
func line(m map[string]string, key string) string { return safetext.Line(m[key]) }

// reader reads the fields of one row strictly, keeping the first thing it
// could not read.
type reader struct {
	m       map[string]string
	problem string
}

func (rd *reader) fail(format string, args ...any) {
	if rd.problem == "" {
		rd.problem = safetext.Cut(fmt.Sprintf(format, args...), maxProblem)
	}
}

// quoted is a router's value as a reason quotes it: one line, bounded, so
// that what follows it (why it could not be read) is never cut off.
func quoted(v string) string { return safetext.Cut(safetext.Line(v), maxQuoted) }

// maxQuoted bounds a value a reason quotes: the router chooses its size.
// maxProblem bounds the reason whatever it quotes (%q may double a
// value's bytes); the values' bound keeps reasons well inside it.
const (
	maxQuoted  = 80
	maxProblem = 256
)

// boolean reads a boolean: the API sends exactly true or false. A required
// one must be there; an absent optional one is false.
func (rd *reader) boolean(key string, required bool) bool {
	v, ok := rd.m[key]
	switch {
	case !ok && !required:
		return false
	case !ok:
		rd.fail("no %s", key)
	case v == "true":
		return true
	case v != "false":
		rd.fail("%s %q is not true or false", key, quoted(v))
	}
	return false
}

// id reads .id, which RouterOS sends as *HEX.
func (rd *reader) id() string {
	v, ok := rd.m[".id"]
	if !ok {
		rd.fail("no .id")
		return ""
	}
	if !ValidID(v) {
		rd.fail(".id %q is not *HEX", quoted(v))
	}
	return line(rd.m, ".id")
}

// address reads an IP address, of the family the record type says ("" for
// either).
func (rd *reader) address(key, typ string) string {
	v := line(rd.m, key)
	a, err := netip.ParseAddr(v)
	switch {
	case err != nil:
		rd.fail("%s %q is not an IP address", key, quoted(v))
	case typ == "A" && !a.Is4():
		rd.fail("%s %q of an A record is not IPv4", key, quoted(v))
	case typ == "AAAA" && (!a.Is6() || a.Is4In6()):
		rd.fail("%s %q of an AAAA record is not IPv6", key, quoted(v))
	}
	return v
}

// ValidID says whether s is an item id as RouterOS sends it: * then
// upper-case hex.
func ValidID(s string) bool {
	if len(s) < 2 || s[0] != '*' {
		return false
	}
	for _, c := range s[1:] {
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// RecordTypes are the static record types RouterOS 7 knows; absent is A.
var RecordTypes = []string{"A", "AAAA", "CNAME", "FWD", "MX", "NS", "NXDOMAIN", "SRV", "TXT"}

// RecordFrom reads a /ip/dns/static row strictly: what it cannot read
// goes in Unreadable, with the row, and the rest is not to be acted on.
func RecordFrom(m map[string]string) Record {
	rd := &reader{m: m}
	r := Record{
		ID: rd.id(), Name: line(m, "name"), Regexp: line(m, "regexp"),
		Type: strings.ToUpper(line(m, "type")), TTL: line(m, "ttl"), Comment: line(m, "comment"),
		Disabled: rd.boolean("disabled", true), Dynamic: rd.boolean("dynamic", false),
	}
	if r.Name == "" && r.Regexp == "" {
		rd.fail("no name")
	}
	if r.Type == "" {
		r.Type = "A"
	}
	switch {
	case !slices.Contains(RecordTypes, r.Type):
		rd.fail("type %q is not one RouterOS has", quoted(r.Type))
	case r.Type == "A" || r.Type == "AAAA":
		r.Address = rd.address("address", r.Type)
	default:
		r.Address = line(m, "address")
	}
	for _, k := range []string{"cname", "text", "mx-exchange", "ns", "srv-target", "forward-to"} {
		if v := line(m, k); v != "" {
			r.Data = v
			break
		}
	}
	if rd.problem != "" {
		r.Unreadable = rd.problem + " in " + rowText(m)
	}
	return r
}

// NetwatchFrom reads a /tool/netwatch row strictly (see RecordFrom).
func NetwatchFrom(m map[string]string) Netwatch {
	rd := &reader{m: m}
	n := Netwatch{
		ID: rd.id(), Host: rd.address("host", ""), Type: line(m, "type"), Interval: line(m, "interval"),
		Timeout: line(m, "timeout"), Status: line(m, "status"), Since: line(m, "since"),
		UpScript: m["up-script"], DownScript: m["down-script"],
		Comment: line(m, "comment"), Disabled: rd.boolean("disabled", true),
	}
	if n.Type == "" {
		n.Type = "simple"
	}
	switch n.Status {
	case "":
		n.Status = "unknown"
	case "up", "down", "unknown":
	default:
		rd.fail("status %q is not up, down or unknown", quoted(n.Status))
	}
	if rd.problem != "" {
		n.Unreadable = rd.problem + " in " + rowText(m)
	}
	return n
}

// rowText is a row as an admin would look for it on the router, its
// one-line fields in a stable order, bounded: scripts are left out.
func rowText(m map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if strings.HasSuffix(k, "-script") {
			continue
		}
		parts = append(parts, k+"="+safetext.Line(m[k]))
	}
	return "[" + safetext.Cut(strings.Join(parts, " "), maxRowText) + "]"
}

// maxRowText bounds a row quoted in an error: the router chooses its size.
const maxRowText = 300

// Identity reads the router's name, version and board.
func (c *Client) Identity(ctx context.Context) (Identity, error) {
	id, err := c.Run(ctx, "/system/identity/print")
	if err != nil {
		return Identity{}, fmt.Errorf("read identity: %w", err)
	}
	res, err := c.Run(ctx, "/system/resource/print", "=.proplist=version,board-name,uptime")
	if err != nil {
		return Identity{}, fmt.Errorf("read version: %w", err)
	}
	var out Identity
	if len(id.Rows) > 0 {
		out.Name = line(id.Rows[0], "name")
	}
	if len(res.Rows) > 0 {
		out.Version, out.Board, out.Uptime = line(res.Rows[0], "version"), line(res.Rows[0], "board-name"), line(res.Rows[0], "uptime")
	}
	return out, nil
}

// Clock is the router's clock: its zone, and how far its time is from ours.
type Clock struct {
	// Zone is the router's time zone: its log times and "since" are in it.
	Zone *time.Location
	// Name is the zone as the router names it, with its offset.
	Name string
}

// Clock reads /system/clock: the router's zone by name (from the zone
// database, which the binary carries) or, failing that, by its offset.
func (c *Client) Clock(ctx context.Context) (Clock, error) {
	r, err := c.Run(ctx, "/system/clock/print")
	if err != nil {
		return Clock{}, fmt.Errorf("read clock: %w", err)
	}
	if len(r.Rows) == 0 {
		return Clock{}, errors.New("read clock: the router answered nothing")
	}
	return ParseClock(r.Rows[0])
}

// ParseClock reads a /system/clock row.
func ParseClock(m map[string]string) (Clock, error) {
	name, offset := line(m, "time-zone-name"), line(m, "gmt-offset")
	secs, err := parseOffset(offset)
	if err != nil {
		return Clock{}, fmt.Errorf("read clock: gmt-offset %q: %w", offset, err)
	}
	label := fmt.Sprintf("%s (%s)", name, offset)
	if loc, err := time.LoadLocation(name); err == nil && name != "" && name != "manual" {
		if _, off := time.Now().In(loc).Zone(); off == secs {
			return Clock{Zone: loc, Name: label}, nil
		}
	}
	return Clock{Zone: time.FixedZone(offset, secs), Name: label}, nil
}

// parseOffset reads "+07:00", "-03:30" or "+0700" as seconds east of UTC.
func parseOffset(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	sign := 1
	switch s[0] {
	case '-':
		sign = -1
		s = s[1:]
	case '+':
		s = s[1:]
	}
	h, m, ok := strings.Cut(s, ":")
	if !ok && len(s) == 4 {
		h, m = s[:2], s[2:]
	}
	hours, err1 := strconv.Atoi(h)
	mins, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hours > 14 || mins > 59 {
		return 0, errors.New("not an offset such as +07:00")
	}
	return sign * (hours*3600 + mins*60), nil
}

// StaticRecords reads the static DNS records of the names, in print
// order, in one call however many names (all records when none are given).
func (c *Client) StaticRecords(ctx context.Context, names ...string) ([]Record, error) {
	return readRows(ctx, c, "static dns", anyOf([]string{"/ip/dns/static/print"}, "name", names), RecordFrom)
}

// NetwatchEntries reads the netwatch entries for the given hosts (all of
// them when none are given).
func (c *Client) NetwatchEntries(ctx context.Context, hosts ...string) ([]Netwatch, error) {
	return readRows(ctx, c, "netwatch", netwatchQuery(hosts), NetwatchFrom)
}

// netwatchProps are the properties NetwatchFrom reads: the router sends no
// other (a RouterOS 7 entry has more, its test's settings, thresholds and
// counters: packet-count, thr-avg, done-tests, rtt-avg and the like, which
// nothing here reads).
const netwatchProps = "=.proplist=.id,host,type,interval,timeout,status,since,up-script,down-script,comment,disabled"

// netwatchQuery is the print of the netwatch entries of the hosts (all of
// them when there are none), only the properties read.
func netwatchQuery(hosts []string) []string {
	return anyOf([]string{"/tool/netwatch/print", netwatchProps}, "host", hosts)
}

// anyOf adds to a print's words a query for the rows whose key is any of
// values (every row when there are none): a ?key= word per value and one
// ?# word that ors them all, each of its characters one operation on the
// query's stack, as rosim's query.go evaluates them (the manual's example
// of a query word, "/interface/print ?type=ether ?type=vlan ?#|!", has two
// operations in its one ?# word: Manual:API, "Query word",
// https://wiki.mikrotik.com/wiki/Manual:API). A "?#|" after each value
// would be twice the words for the same rows, and the API library writes
// each word with two goroutines and about ten allocations: at 1,000
// servers, 4,000 goroutines every reading of the watcher.
func anyOf(words []string, key string, values []string) []string {
	for _, v := range values {
		words = append(words, "?"+key+"="+v)
	}
	if len(values) > 1 {
		words = append(words, "?#"+strings.Repeat("|", len(values)-1))
	}
	return words
}

// readRows runs a print and reads each row with from, strictly; what
// names the menu in the error.
func readRows[T any](ctx context.Context, c *Client, what string, words []string, from func(map[string]string) T) ([]T, error) {
	r, err := c.Run(ctx, words...)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	out := make([]T, 0, len(r.Rows))
	for _, m := range r.Rows {
		out = append(out, from(m))
	}
	return out, nil
}

// Set changes properties of one item of a menu, as key, value pairs.
func (c *Client) Set(ctx context.Context, menu, id string, kv ...string) error {
	words := []string{menu + "/set", "=.id=" + id}
	for i := 0; i+1 < len(kv); i += 2 {
		words = append(words, "="+kv[i]+"="+kv[i+1])
	}
	_, err := c.Run(ctx, words...)
	return err
}

// SetRecordDisabled enables or disables a static record.
func (c *Client) SetRecordDisabled(ctx context.Context, id string, disabled bool) error {
	return c.Set(ctx, "/ip/dns/static", id, "disabled", yesNo(disabled))
}

// SetRecordAddress points a static record at an address.
func (c *Client) SetRecordAddress(ctx context.Context, id, address string) error {
	return c.Set(ctx, "/ip/dns/static", id, "address", address)
}

// SetNetwatch changes a netwatch entry's disabled flag and comment.
func (c *Client) SetNetwatch(ctx context.Context, id string, disabled bool, comment string) error {
	return c.Set(ctx, "/tool/netwatch", id, "disabled", yesNo(disabled), "comment", comment)
}

// FlushDNSCache clears the router's DNS cache, so it answers from the
// static records at once.
func (c *Client) FlushDNSCache(ctx context.Context) error {
	_, err := c.Run(ctx, "/ip/dns/cache/flush")
	return err
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// Matches reports whether a record is the one a RecordMatch describes.
func (r Record) Matches(comment, address string) bool {
	if comment != "" {
		return strings.EqualFold(strings.TrimSpace(r.Comment), strings.TrimSpace(comment))
	}
	return address != "" && r.Address == address
}
