package engine

// Subscription is one subscriber's stream of events.
type Subscription struct {
	e  *Engine
	ch chan Event
	// dropped counts events lost since the last one delivered.
	dropped int
	closed  bool
}

// Subscribe joins the stream. The subscriber first gets a Snapshot, the
// whole picture as one event however late it joins, then every new event;
// it must read C. A subscriber that falls more than buffer events behind
// loses the oldest and is told how many (Dropped): it never slows the
// engine or anyone else.
func (e *Engine) Subscribe(buffer int) *Subscription {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := &Subscription{e: e, ch: make(chan Event, 1+max(buffer, 1))}
	snap := Snapshot{Events: e.hist.events(), Busy: e.busy}
	for _, svc := range e.services {
		snap.Facts = append(snap.Facts, e.facts[svc.cfg.Name])
	}
	s.offer(snap)
	e.subs[s] = struct{}{}
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
