package tui

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// event is a line of the event log.
type event struct {
	at     time.Time
	source string
	text   string
	level  level
	gap    bool
	// late: it came after events of a later time, and was put in its place.
	late bool
}

// eventFilters are what the event log can show, cycled by a key.
var eventFilters = []struct {
	name    string
	sources []string
}{
	{"all", nil},
	{"router", []string{"router", "dns"}},
	{"probes", []string{"local", "demo"}},
	{"operations", []string{"op", "you", "auto"}},
}

// eventLog is the events in time order, newest at the bottom: dated when
// not today, in the viewer's zone, filtered by kind, searched, scrolled,
// long lines cut with an ellipsis or wrapped.
type eventLog struct {
	c             *common
	width, height int
	events        []event
	scroll        int
	// filter is an index of eventFilters.
	filter int
	// query narrows the events to those containing it (any case);
	// searching: the query is being typed.
	query     string
	searching bool
	// wrap shows long events on several lines instead of cutting them.
	wrap bool
	// logDown is why the log follow last stopped; a reconnect loop against
	// a dead router repeats it, and the log says it once.
	logDown string
}

func (l *eventLog) SetSize(width, height int) { l.width, l.height = width, height }

func (l *eventLog) ShortHelp() []key.Binding {
	k := l.c.keys
	return []key.Binding{k.ScrollUp, k.ScrollDown, k.Newest, k.Filter, k.Search, k.Wrap}
}

func (l *eventLog) FullHelp() [][]key.Binding { return keyHelp(l.ShortHelp()) }

func (l *eventLog) add(at time.Time, source, text string, lv level) {
	l.insert(event{at: at, source: source, text: text, level: lv})
}

// lateAfter is how much older than the newest event a line must be to be
// marked "(came late)".
const lateAfter = 5 * time.Second

// insert keeps the events in time order: a line that comes late (a
// router's history, a log line delayed) goes where its time puts it, marked.
func (l *eventLog) insert(e event) {
	// Trimmed in halves, not one event at a time: a burst of router log
	// lines would otherwise copy the whole list for every line.
	const keep = 1000
	if len(l.events) >= 2*keep {
		l.events = append(l.events[:0], l.events[len(l.events)-keep:]...)
	}
	i := len(l.events)
	for i > 0 && l.events[i-1].at.After(e.at) {
		i--
	}
	// Lines of about the same moment arrive in any order (a log line and
	// the reading it caused): only one well older than the newest is late.
	e.late = i < len(l.events) && l.events[len(l.events)-1].at.Sub(e.at) > lateAfter
	l.events = slices.Insert(l.events, i, e)
}

// typing takes a key while the search query is typed.
func (l *eventLog) typing(msg tea.KeyPressMsg) {
	switch msg.Code {
	case tea.KeyEnter:
		l.searching = false
	case tea.KeyEscape:
		l.searching, l.query = false, ""
	case tea.KeyBackspace:
		if r := []rune(l.query); len(r) > 0 {
			l.query = string(r[:len(r)-1])
		}
	default:
		if len(msg.Text) > 0 && len(l.query) < 64 {
			l.query += msg.Text
		}
	}
	l.scroll = 0
}

// key takes one of the log's own keys; false when it is not one.
func (l *eventLog) key(msg tea.KeyPressMsg) bool {
	k := l.c.keys
	switch {
	case key.Matches(msg, k.Search):
		l.searching, l.scroll = true, 0
	case key.Matches(msg, k.Newest):
		l.scroll = 0
	case key.Matches(msg, k.Wrap):
		l.wrap = !l.wrap
	case key.Matches(msg, k.ScrollUp):
		l.scrollBy(5)
	case key.Matches(msg, k.ScrollDown):
		l.scrollBy(-5)
	case key.Matches(msg, k.Filter):
		l.filter = (l.filter + 1) % len(eventFilters)
		l.scroll = 0
	default:
		return false
	}
	return true
}

// scrollBy moves n events back in time (forward when negative), from the
// newest to the oldest.
func (l *eventLog) scrollBy(n int) {
	l.scroll = max(min(l.scroll+n, max(len(l.events)-1, 0)), 0)
}

// View is a title saying what is shown, then as many events as fit.
func (l *eventLog) View() string {
	st := l.c.styles
	if l.height <= 1 {
		return ""
	}
	events := l.events
	title := st.Bold.Render("Events")
	if f := eventFilters[l.filter]; f.sources != nil {
		events = nil
		for _, e := range l.events {
			if slices.Contains(f.sources, e.source) || e.gap {
				events = append(events, e)
			}
		}
		title += st.Muted.Render("  (" + f.name + "; e for more)")
	}
	if l.query != "" || l.searching {
		q := strings.ToLower(l.query)
		matched := events[:0:0]
		for _, e := range events {
			if strings.Contains(strings.ToLower(e.text), q) || strings.Contains(e.source, q) {
				matched = append(matched, e)
			}
		}
		events = matched
		if l.searching {
			title += "  /" + st.Bold.Render(l.query) + st.Muted.Render("_  (enter keeps it, esc clears)")
		} else {
			title += st.Muted.Render(fmt.Sprintf("  (search %q: %d; / to change, esc clears)", l.query, len(events)))
		}
	}
	if l.scroll > 0 {
		title += st.Muted.Render(fmt.Sprintf("  (%d newer below, d or G for the newest)", l.scroll))
	}
	rows := l.height - 1
	end := max(len(events)-l.scroll, 0)
	// From the newest back, as many lines as fit; a wrapped event takes
	// several, and the oldest shown may lose its first ones.
	var body []string
	for i := end - 1; i >= 0 && len(body) < rows; i-- {
		body = append(strings.Split(l.line(events[i]), "\n"), body...)
	}
	if len(body) > rows {
		body = body[len(body)-rows:]
	}
	return strings.Join(append([]string{title}, body...), "\n")
}

func (l *eventLog) line(e event) string {
	st := l.c.styles
	// The viewer's zone, whatever zone the router wrote the time in; the
	// date too when it is not today.
	at, now := e.at.In(l.c.zone), l.c.now().In(l.c.zone)
	stamp := at.Format("15:04:05")
	if y, d := at.Year(), at.YearDay(); y != now.Year() || d != now.YearDay() {
		stamp = at.Format("Jan 02 15:04:05")
	}
	if e.gap {
		text := fmt.Sprintf("%s %s %s %s", strings.Repeat("-", 3), stamp, e.text, strings.Repeat("-", 3))
		return cut(st.Gap.Render(text), l.width, st.Glyphs.Ellipse)
	}
	text := e.text
	if e.late {
		text += " (came late)"
	}
	prefix := stamp + " " + fmt.Sprintf("%-6s", e.source) + " "
	if l.wrap && lipgloss.Width(prefix)+lipgloss.Width(text) > l.width && l.width > lipgloss.Width(prefix)+10 {
		// Long lines wrapped under their text, the time and source once.
		indent := strings.Repeat(" ", lipgloss.Width(prefix))
		wrapped := strings.Split(ansi.Wrap(text, l.width-len(indent), " ,"), "\n")
		for i, w := range wrapped {
			wrapped[i] = st.Level(e.level).Render(w)
		}
		return st.Muted.Render(prefix) + strings.Join(wrapped, "\n"+indent)
	}
	styled := st.Level(e.level).Render(e.text)
	if e.late {
		styled += st.Muted.Render(" (came late)")
	}
	return cut(st.Muted.Render(prefix)+styled, l.width, st.Glyphs.Ellipse)
}
