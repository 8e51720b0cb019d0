package rosim

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// profile is what one RouterOS version takes and how it answers: the
// emulator must refuse what that version refuses, or tests pass that a
// router would fail.
//
// Every gate below names its source:
//
//	[nw6]  https://help.mikrotik.com/docs/display/ROS/Netwatch (the
//	       RouterOS 6 page): "Netwatch has 5 configurable properties: host,
//	       interval, timeout, down-script, up-script".
//	[nw74] https://help.mikrotik.com/docs/spaces/ROS/pages/8323208/Netwatch:
//	       "Since 7.4, Netwatch functionality has been expanded, prior
//	       versions only support simple ICMP probes."
//	[713]  https://github.com/ansible-collections/community.routeros/pull/247:
//	       /tool/netwatch add completion on 7.13rc4 lists certificate,
//	       check-certificate, comment, copy-from, disabled, down-script,
//	       host, http-codes, interval, name, packet-count, packet-interval,
//	       packet-size, port, src-address, start-delay, startup-delay,
//	       test-script, thr-avg, thr-http-time, thr-jitter, thr-loss-count,
//	       thr-loss-percent, thr-max, thr-stdev, thr-tcp-conn-time, timeout,
//	       type, up-script: no ignore-initial-*, no ttl, no
//	       http-code-min/max, no record-type or dns-server.
//	[api]  https://github.com/ansible-collections/community.routeros,
//	       plugins/module_utils/_api_data.py, ('tool', 'netwatch')
//	       versioned_fields (PR #433): accept-icmp-time-exceeded,
//	       dns-server, record-type and ttl from 7.16; ignore-initial-up and
//	       ignore-initial-down from 7.17; early-failure-detection and
//	       early-success-detection from 7.20 (so not on 7.18, though the
//	       current manual lists them).
//	[cli]  https://manual.mikrotik.com/docs/cli-reference/tool/netwatch.md:
//	       the current manual's properties and defaults.
//	[tf]   https://github.com/terraform-routeros/terraform-provider-routeros,
//	       routeros/resource_tool_netwatch.go: http-code-min and
//	       http-code-max of the early 7.x netwatch, gone by 7.13rc4 [713].
//	[!e]   https://help.mikrotik.com/docs/spaces/ROS/pages/47579160/API:
//	       "Replies of commands which do not have any data to reply with,
//	       begin with !empty (introduced in RouterOS 7.18)"; the 7.18
//	       changelog: "console - put !empty sentence when API query returns
//	       nothing".
//	[iso]  https://github.com/phistrom/datetime-routeros/issues/1:
//	       /system clock get date is "jul/14/2023" on 7.8, "2023-07-14" on
//	       7.10.
//	[insp] https://github.com/aiskillstore/marketplace,
//	       skills/tikoci/routeros-command-tree/SKILL.md: /console/inspect
//	       (request=child, path=ip,address,add) lists a command's arguments
//	       on RouterOS 7.x.
//	[nat6] https://wiki.mikrotik.com/wiki/Manual:IP/Firewall/NAT (the
//	       RouterOS 6 page, moved to [nat7]): "action (action name;
//	       Default: accept)", and accept, add-dst-to-address-list,
//	       add-src-to-address-list, dst-nat, jump, log, masquerade, netmap,
//	       passthrough, redirect, return, src-nat in its list; same as the
//	       action same-not-by-dst [natf] serves.
//	[nat7] https://help.mikrotik.com/docs/display/ROS/NAT: "Since RouterOS
//	       v7 the firewall NAT has two new INPUT and OUTPUT chains" (a
//	       chain is any name, so nothing to gate); the current page adds
//	       Endpoint-Independent NAT (action=endpoint-independent-nat) and
//	       says not since when.
//	[natf] https://github.com/ansible-collections/community.routeros,
//	       plugins/module_utils/_api_data.py, ('ip', 'firewall', 'nat'):
//	       the writable fields, unversioned (6.x and 7.x alike) but
//	       tls-host (before 7.16) and socks5-port, socks5-server,
//	       socksify-service (from 7.20, so on none of these profiles).
//	[il6]  https://help.mikrotik.com/docs/x/OYDSAw (Interface Lists, the
//	       older page): "three predefined lists - all (contains all
//	       interfaces), none (contains no interfaces) and dynamic".
//	[il7]  https://help.mikrotik.com/docs/x/LADWAg (Interface Lists, the
//	       current page): "four predefined lists", adding static; not
//	       since when.
type profile struct {
	name string
	// empty: an empty print answers !empty before !done (7.18 and later
	// [!e]).
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
	// dates (7.10 and later [iso]).
	classicTimes bool
	// inspect: /console/inspect lists a command's arguments (7.x [insp]).
	inspect bool
	// natActions are the actions /ip/firewall/nat takes; any other is
	// refused.
	natActions []string
	// natTLSHost: NAT rules take the tls-host matcher (before 7.16
	// [natf]).
	natTLSHost bool
	// builtinLists are the predefined interface lists, which members may
	// name without adding them.
	builtinLists []string
}

// natActions6 are RouterOS 6's NAT actions [nat6]; 7.13 has the same.
var natActions6 = []string{"accept", "add-dst-to-address-list", "add-src-to-address-list", "dst-nat", "jump", "log",
	"masquerade", "netmap", "passthrough", "redirect", "return", "same", "src-nat"}

// Profiles the emulator knows, oldest first.
var profiles = []profile{
	{
		name:         "6.49",
		classicTimes: true,
		natActions:   natActions6,
		natTLSHost:   true,
		builtinLists: []string{"all", "none", "dynamic"},
		// RouterOS 6 netwatch has exactly five properties of its own [nw6].
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
		inspect:        true,
		natActions:     natActions6,
		natTLSHost:     true,
		builtinLists:   []string{"all", "none", "dynamic"},
		// The probe types from 7.4 [nw74]; https-get with its certificate
		// options [713]; dns only with record-type and dns-server (7.16 [api]).
		netwatchTypes: []string{"simple", "icmp", "tcp-conn", "http-get", "https-get"},
		netwatch:      netwatch713(),
	},
	{
		name:           "7.18",
		empty:          true,
		matchSubdomain: true,
		inspect:        true,
		// What the current pages add without saying since when
		// (endpoint-independent-nat [nat7], the static list [il7]) only
		// the newest profile takes: an older one that refuses what its
		// router took fails a test, one that takes what its router refused
		// hides a bug.
		natActions:    append(slices.Clone(natActions6), "endpoint-independent-nat"),
		builtinLists:  []string{"all", "none", "dynamic", "static"},
		netwatchTypes: []string{"simple", "icmp", "tcp-conn", "http-get", "https-get", "dns"},
		netwatch: append(netwatch713(),
			// 7.16 [api]
			prop{name: "ttl", kind: kindInt},
			prop{name: "accept-icmp-time-exceeded", kind: kindBool},
			prop{name: "record-type"},
			prop{name: "dns-server", kind: kindAddress},
			// 7.17 [api]
			prop{name: "ignore-initial-up", kind: kindBool},
			prop{name: "ignore-initial-down", kind: kindBool}),
	},
}

// netwatch713 are the netwatch properties 7.13rc4 lists [713], with the
// manual's defaults [cli].
func netwatch713() []prop {
	return []prop{
		{name: "name"},
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
		{name: "http-codes", kind: kindRanges},
		{name: "certificate"},
		{name: "check-certificate", kind: kindBool},
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

// inspect is /console/inspect request=child for a menu's add or set: its
// arguments, as a 7.x router lists them [insp].
func (r *Router) inspect(attrs []attr) result {
	var request, path string
	for _, a := range attrs {
		switch a.key {
		case "request":
			request = a.value
		case "path":
			path = a.value
		}
	}
	i := strings.LastIndexByte(path, ',')
	if i < 0 {
		return result{trap: trapf(catValue, "no such command or directory (%s)", path)}
	}
	t := r.menu("/" + strings.ReplaceAll(path[:i], ",", "/"))
	if request != "child" || t == nil || (path[i+1:] != "add" && path[i+1:] != "set") {
		return result{trap: trapf(catValue, "no such command or directory (%s)", path)}
	}
	var res result
	for _, p := range t.props {
		if !p.readOnly {
			res.rows = append(res.rows, []string{"=type=child", "=name=" + p.name, "=node-type=arg"})
		}
	}
	return res
}
