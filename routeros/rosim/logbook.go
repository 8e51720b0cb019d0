package rosim

import (
	"strconv"
	"strings"
	"time"
)

// LogWithID appends an entry that prints id as its .id, whatever it is: a
// hostile or broken router's numbering, for tests.
func (r *Router) LogWithID(id, topics, message string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log.addEntry(id, topics, message)
}

// Log appends an entry to the router's log, as the router itself would.
func (r *Router) Log(topics, message string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log.add(topics, message)
}

// logEntry is one line of the router's log.
type logEntry struct {
	id int
	// rawID, when set, is printed instead of id: a hostile router's.
	rawID   string
	time    time.Time
	topics  string
	message string
}

func (e logEntry) idString() string {
	if e.rawID != "" {
		return e.rawID
	}
	return "*" + strings.ToUpper(strconv.FormatInt(int64(e.id), 16))
}

// logRow is a log entry as this router prints it: its time in the router's
// zone and the version's format.
func (r *Router) logRow(e logEntry) row {
	return row{".id": e.idString(), "time": r.prof.logTime(e.time.In(r.opts.Zone), r.now()), "topics": e.topics, "message": e.message}
}

func (r *Router) logWords(e logEntry) []string {
	row := r.logRow(e)
	return []string{"=.id=" + row[".id"], "=time=" + row["time"], "=topics=" + row["topics"], "=message=" + row["message"]}
}

// logBook keeps the last entries and feeds followers. Entry ids rise by one,
// so a follower that skips an id knows it lost a line.
type logBook struct {
	now       func() time.Time
	size      int
	ring      []logEntry
	nextID    int
	followers map[chan logEntry]struct{}
}

func (l *logBook) add(topics, message string) { l.addEntry("", topics, message) }

func (l *logBook) addEntry(rawID, topics, message string) {
	// An entry with an id of its own takes no number from the sequence.
	if rawID == "" {
		l.nextID++
	}
	e := logEntry{id: l.nextID, rawID: rawID, time: l.now(), topics: topics, message: message}
	if len(l.ring) >= l.size {
		copy(l.ring, l.ring[1:])
		l.ring = l.ring[:len(l.ring)-1]
	}
	l.ring = append(l.ring, e)
	for ch := range l.followers {
		select {
		case ch <- e:
		default:
			// A follower that does not keep up loses lines rather than
			// stalling the router; the id gap tells its client.
		}
	}
}

func (l *logBook) entries() []logEntry { return append([]logEntry(nil), l.ring...) }

func (l *logBook) follow(ch chan logEntry) {
	if l.followers == nil {
		l.followers = map[chan logEntry]struct{}{}
	}
	l.followers[ch] = struct{}{}
}

func (l *logBook) unfollow(ch chan logEntry) { delete(l.followers, ch) }
