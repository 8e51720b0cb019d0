package engine

// Subscription is one subscriber's stream of events.
type Subscription struct {
	e  *Engine
	ch chan Event
	// dropped counts events lost since the last one delivered.
	dropped int
	closed  bool
	// building: the snapshot is being put in order outside the engine's
	// lock; the events published meanwhile wait in early, to follow it.
	building bool
	early    []Event
}

// Subscribe joins the stream. The subscriber first gets a Snapshot, the
// whole picture as one event however late it joins, then every new event;
// it must read C. A subscriber that falls more than buffer events behind
// loses the oldest and is told how many (Dropped): it never slows the
// engine or anyone else.
//
// What is kept is taken under the engine's lock and put in order outside
// it: the probes of every server wait for that lock.
func (e *Engine) Subscribe(buffer int) *Subscription {
	e.mu.Lock()
	s := &Subscription{e: e, ch: make(chan Event, 1+max(buffer, 1)), building: true}
	kept := e.hist.kept()
	snap := Snapshot{Busy: e.busy}
	for _, svc := range e.services {
		snap.Facts = append(snap.Facts, e.facts[svc.cfg.Name])
	}
	e.subs[s] = struct{}{}
	e.mu.Unlock()
	snap.Events = inOrder(kept)
	e.mu.Lock()
	defer e.mu.Unlock()
	// The snapshot first, then what was published meanwhile, then how many
	// did not fit behind it.
	s.building = false
	lost := s.dropped
	s.dropped = 0
	s.offer(snap)
	early := s.early
	s.early = nil
	for _, ev := range early {
		s.offer(ev)
	}
	if s.dropped += lost; s.dropped > 0 {
		select {
		case s.ch <- Dropped(s.dropped):
			s.dropped = 0
		default:
		}
	}
	return s
}

// C is the stream.
func (s *Subscription) C() <-chan Event { return s.ch }

// Close leaves the stream.
func (s *Subscription) Close() {
	s.e.mu.Lock()
	defer s.e.mu.Unlock()
	if !s.closed {
		s.closed = true
		delete(s.e.subs, s)
	}
}

// offer queues an event without blocking; the engine's lock is held. A full
// queue drops the event and counts it, and the count goes out as soon as
// there is room.
func (s *Subscription) offer(ev Event) {
	if s.building {
		// The channel's room less the snapshot's: what fits behind it.
		if len(s.early) < cap(s.ch)-1 {
			s.early = append(s.early, ev)
		} else {
			s.dropped++
		}
		return
	}
	if s.dropped > 0 {
		select {
		case s.ch <- Dropped(s.dropped):
			s.dropped = 0
		default:
			s.dropped++
			return
		}
	}
	select {
	case s.ch <- ev:
	default:
		s.dropped++
	}
}
