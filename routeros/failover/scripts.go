package failover

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/failwatch/failwatch/config"
)

// The router's own failover must never be worse than the paper's: a lossy
// primary must not flap, a reboot must not lose a transition, and nothing
// may keep the name on the standby while the primary is up and nothing
// holds it.
//
// On a version with netwatch thresholds (7.4 and later) a test is a burst
// of echoes, down only when most are lost; on 6.x a test is one echo and
// one lost echo is "down", so the scripts confirm with a burst from the
// router's own /ping before they switch. On a version without startup-delay
// the scripts do nothing until the router has been up BootDelay, and a
// scheduler entry (at startup, then every Recheck) puts the name where the
// same confirmation says, which also covers an up-script whose confirmation
// failed right after a recovery. Every script switches only when the name
// is not already where it should be.

// downShare is the share of a test's (or a confirmation's) echoes lost
// that makes it down; upShare, at most lost, confirms the primary back.
const (
	downShare     = 0.8
	upShare       = 0.2
	lossThreshold = "80%"
	// confirmSpacing is the time between a confirmation's echoes.
	confirmSpacing = 200 * time.Millisecond
	// falsePerDay is the most false failovers a day setup accepts.
	falsePerDay = 0.01
	// maxEchoes bounds how far setup raises a burst for a lossy primary.
	maxEchoes = 30
)

// actions are the scripts' switches: enable the target's record before
// disabling the other, so the name always has one; then flush the cache.
//
// With a TTL bridge, the move to the standby turns it on after the flush,
// and the move back turns it off (setupbridge.go).
func (s *Setup) actions() (toStandby, toPrimary string) {
	flush := "; /ip dns cache flush"
	bridgeOn, bridgeOff := s.bridgeActions()
	if s.Service.Layout == config.Rewrite {
		set := func(addr string) string {
			return "/ip dns static set " + findText(s.serviceFind()) + " address=" + addr + " disabled=no" + flush
		}
		return set(s.Standby.Address) + bridgeOn, set(s.Primary.Address) + bridgeOff
	}
	swap := func(on, off config.Server) string {
		return "/ip dns static enable " + findText(s.recordFind(on)) +
			"; /ip dns static disable " + findText(s.recordFind(off)) + flush
	}
	return swap(s.Standby, s.Primary) + bridgeOn, swap(s.Primary, s.Standby) + bridgeOff
}

// on says, as a script condition, that the name already points at srv:
// its record enabled and the other's disabled (toggle), or the record's
// address (rewrite).
func (s *Setup) on(srv, other config.Server) string {
	if s.Service.Layout == config.Rewrite {
		return "[/ip dns static get " + findText(s.serviceFind()) + " address] = " + srv.Address
	}
	return "(![/ip dns static get " + findText(s.recordFind(srv)) + " disabled]) && ([/ip dns static get " + findText(s.recordFind(other)) + " disabled])"
}

// burst is how many echoes a test or confirmation sends so that a healthy
// primary losing s.Loss of them is taken for down less than falsePerDay
// times a day at tries a day, and the chance that one is.
func (s *Setup) burst(tries float64) (int, float64) {
	n := s.PacketCount
	for ; ; n++ {
		p := tail(n, downLost(n), s.Loss)
		if p*tries <= falsePerDay || n >= maxEchoes {
			return n, p
		}
	}
}

// tail is the chance that k or more of n echoes are lost at loss p.
func tail(n, k int, p float64) float64 {
	sum := 0.0
	for i := k; i <= n; i++ {
		c := 1.0
		for j := 1; j <= i; j++ {
			c = c * float64(n-i+j) / float64(j)
		}
		sum += c * math.Pow(p, float64(i)) * math.Pow(1-p, float64(n-i))
	}
	return sum
}

// lossNote says what a burst of n echoes means at the primary's loss.
func (s *Setup) lossNote(what string, n int, p, tries float64) string {
	if s.Loss <= 0 {
		return fmt.Sprintf("%s %d echoes, down at %d or more lost. No loss measured for the primary: give setup --loss (failwatch report measures it) to check them against it.",
			what, n, downLost(n))
	}
	note := fmt.Sprintf("%s %d echoes, down at %d or more lost: at the primary's loss of %s that happens by chance with probability %.1e, %.1e times a day.",
		what, n, downLost(n), strconv.FormatFloat(s.Loss*100, 'f', -1, 64)+"%", p, p*tries)
	if p*tries > falsePerDay {
		note += " That is too often: this primary loses too much for netwatch to tell it from a dead one."
	}
	return note
}

// scripts are the netwatch entry's down and up scripts for the version,
// with notes on what they do: from the outside in, wait out the boot (no
// startup-delay), do nothing when the name is already there, confirm with
// /ping (6.x), switch.
func (s *Setup) scripts(caps Caps, notes *[]string) (down, up string) {
	down, up = s.actions()
	if !caps.Types {
		n, p := s.burst(s.downEvents())
		*notes = append(*notes, s.lossNote("The down-script confirms with /ping:", n, p, s.downEvents()))
		*notes = append(*notes, fmt.Sprintf("The up-script confirms with /ping too: back up at %d or fewer of %d lost.", upLost(n), n))
		down = when(s.ping(n)+" <= "+strconv.Itoa(n-downLost(n)), down)
		up = when(s.ping(n)+" >= "+strconv.Itoa(n-upLost(n)), up)
	}
	down = when("!("+s.on(s.Standby, s.Primary)+")", down)
	up = when("!("+s.on(s.Primary, s.Standby)+")", up)
	if !caps.StartupDelay {
		*notes = append(*notes, fmt.Sprintf("RouterOS %s has no startup-delay: the scripts do nothing until the router has been up %s.", caps.Version, config.FormatDuration(s.BootDelay)))
		down, up = when(s.booted(), down), when(s.booted(), up)
	}
	return down, up
}

// when runs body only when cond holds.
func when(cond, body string) string { return ":if (" + cond + ") do={ " + body + " }" }

// downLost is how many of n echoes lost make a burst down; upLost, at
// most lost, confirms the primary back.
func downLost(n int) int { return int(math.Ceil(downShare * float64(n))) }

func upLost(n int) int { return int(upShare * float64(n)) }

// downEvents is how many times a day a 6.x entry goes down by chance (one
// echo per test, each lost at s.Loss), each running a confirmation.
func (s *Setup) downEvents() float64 {
	return max(s.Loss, 1e-3) * float64(24*time.Hour/s.Interval)
}

// ping is the router's own /ping burst; its value is the echoes answered.
func (s *Setup) ping(n int) string {
	return fmt.Sprintf("[/ping %s count=%d interval=%s]", s.Primary.Address, n, config.FormatDuration(confirmSpacing))
}

func (s *Setup) booted() string {
	return "[/system resource get uptime] >= " + config.FormatDuration(s.BootDelay)
}

// recheck is the scheduler's script: unless setup's entry is held (or
// off), once the router has been up BootDelay, put the name where a /ping
// confirmation says.
func (s *Setup) recheck() string {
	toStandby, toPrimary := s.actions()
	n, _ := s.burst(float64(24 * time.Hour / s.Recheck))
	return when(fmt.Sprintf("([:len [/tool netwatch find comment=%s disabled=no]] = 1) && (%s)", rosQuote(s.netwatchComment()), s.booted()),
		":local got "+s.ping(n)+"; "+
			when(fmt.Sprintf("($got >= %d) && !(%s)", n-upLost(n), s.on(s.Primary, s.Standby)), toPrimary)+"; "+
			when(fmt.Sprintf("($got <= %d) && !(%s)", n-downLost(n), s.on(s.Standby, s.Primary)), toStandby))
}

// schedulerItem re-arms the failover on a router without startup-delay: a
// script that did nothing during the boot, or an up-script whose
// confirmation failed just after a recovery, is made good at the next
// re-check. It does nothing while setup's entry is held or off.
func (s *Setup) schedulerItem(notes *[]string) item {
	*notes = append(*notes, fmt.Sprintf("A scheduler entry re-checks the primary at startup and every %s (after the first %s up), unless the netwatch entry is held: a transition the scripts skipped while booting is not lost.",
		config.FormatDuration(s.Recheck), config.FormatDuration(s.BootDelay)))
	return item{menu: "/system/scheduler", find: []cond{{"name", s.netwatchComment()}}, what: "the re-check",
		props: []prop{{"start-time", "startup"}, {"interval", config.FormatDuration(s.Recheck)},
			{"policy", "read,write,test"}, {"on-event", s.recheck()}},
		addOnly: []prop{{"name", s.netwatchComment()}}}
}

// icmpProps are the icmp probe's settings. RouterOS applies its default
// thresholds (thr-avg 100ms, thr-max 1s, thr-stdev 250ms, thr-jitter 1s)
// even when none are set, so a server further than 100 ms would be down
// on every test: they are set above the primary's round trip and spread,
// and a test sends enough echoes for its loss.
func (s *Setup) icmpProps(timeout time.Duration, notes *[]string) []prop {
	avg, most := timeout, timeout
	if s.RTT > 0 {
		avg = roundUp(max(2*s.RTT, s.RTT+50*time.Millisecond), 10*time.Millisecond)
		most = min(roundUp(max(4*s.RTT, s.RTT+200*time.Millisecond, s.RTT+2*s.Jitter), 10*time.Millisecond), timeout)
		avg = min(avg, most)
		*notes = append(*notes, fmt.Sprintf("icmp thresholds above the primary's round trip of %s: thr-avg %s, thr-max %s (RouterOS's defaults, 100ms and 1s, apply when unset).",
			s.RTT.Round(100*time.Microsecond), config.FormatDuration(avg), config.FormatDuration(most)))
	} else {
		*notes = append(*notes, fmt.Sprintf("No round trip known for the primary: thr-avg and thr-max at the timeout (%s). Give setup --rtt for tighter ones.", config.FormatDuration(timeout)))
	}
	tests := float64(24 * time.Hour / s.Interval)
	n, p := s.burst(tests)
	*notes = append(*notes, s.lossNote("A test sends", n, p, tests))
	props := []prop{{"type", "icmp"}, {"packet-count", strconv.Itoa(n)}, {"thr-loss-percent", lossThreshold},
		{"thr-avg", config.FormatDuration(avg)}, {"thr-max", config.FormatDuration(most)}}
	switch {
	case s.Jitter <= 0:
		*notes = append(*notes, "No round-trip spread measured (--jitter): RouterOS's thr-stdev 250ms and thr-jitter 1s apply.")
	case 2*s.Jitter > time.Second || s.Jitter > 250*time.Millisecond:
		stdev, jit := roundUp(max(s.Jitter, 250*time.Millisecond), 10*time.Millisecond), roundUp(max(2*s.Jitter, time.Second), 10*time.Millisecond)
		props = append(props, prop{"thr-stdev", config.FormatDuration(stdev)}, prop{"thr-jitter", config.FormatDuration(jit)})
		*notes = append(*notes, fmt.Sprintf("The primary's round trips spread %s: thr-stdev %s and thr-jitter %s, above it.", s.Jitter, config.FormatDuration(stdev), config.FormatDuration(jit)))
	default:
		*notes = append(*notes, fmt.Sprintf("The primary's round trips spread %s: well inside RouterOS's thr-stdev 250ms and thr-jitter 1s.", s.Jitter))
	}
	return props
}

func roundUp(d, unit time.Duration) time.Duration { return (d + unit - 1) / unit * unit }
