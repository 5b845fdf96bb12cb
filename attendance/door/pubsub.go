package door

import (
	"time"
)

// Update is one message for the screen.
type Update struct {
	Type     string     `json:"type"` // decision, done, staff
	ID       string     `json:"id,omitempty"`
	Decision *View      `json:"decision,omitempty"`
	Staff    *StaffView `json:"staff"`
}

// Subscribe returns a channel of updates and a function that ends the
// subscription. A subscriber that does not keep up loses updates (the
// screen resyncs from a snapshot), the door never blocks on a screen.
func (s *Service) Subscribe() (<-chan Update, func()) {
	ch := make(chan Update, 64)
	s.subMu.Lock()
	s.subs[ch] = struct{}{}
	s.subMu.Unlock()
	return ch, func() {
		s.subMu.Lock()
		if _, ok := s.subs[ch]; ok {
			delete(s.subs, ch)
			close(ch)
		}
		s.subMu.Unlock()
	}
}

func (s *Service) publish(u Update) {
	s.subMu.Lock()
	defer s.subMu.Unlock()
	for ch := range s.subs {
		select {
		case ch <- u:
		default: // slow subscriber: it resyncs
		}
	}
}

func (s *Service) publishDecision(v View) {
	s.publish(Update{Type: "decision", Decision: &v})
}

// publishStaffLocked publishes the staff panel; s.mu must be held.
func (s *Service) publishStaffLocked() {
	s.publish(Update{Type: "staff", Staff: s.staffViewLocked()})
}

func (s *Service) publishStaff() {
	s.mu.Lock()
	v := s.staffViewLocked()
	s.mu.Unlock()
	s.publish(Update{Type: "staff", Staff: v})
}

// Snapshot is the state a newly connected screen starts from.
type Snapshot struct {
	Location string     `json:"location"`
	TimeZone string     `json:"tz"`
	Decision *View      `json:"decision"`
	Staff    *StaffView `json:"staff"`
}

// Snapshot returns the current screen state.
func (s *Service) Snapshot() Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	var snap Snapshot
	if s.ix != nil {
		snap.Location = s.ix.Roster.Location.Name
		snap.TimeZone = s.ix.TZ.String()
	}
	if s.current != nil {
		v := *s.current
		if v.Session != "" {
			ss, ok := s.sessions[v.Session]
			if !ok {
				v = View{}
			} else {
				v.ExpiresInMS = max(0, ss.expires.Sub(s.now()).Milliseconds())
			}
		}
		if v.ID != "" && s.now().Sub(v.At) < 10*time.Second || v.Session != "" {
			snap.Decision = &v
		}
	}
	snap.Staff = s.staffViewLocked()
	return snap
}

// Await returns a channel that receives the view of the next decision of a
// tap with this badge hash on this reader (the simulator's HTTP tap answers
// with it). cancel must be called when the caller stops waiting.
func (s *Service) Await(reader string, uid []byte) (<-chan View, func()) {
	hash, _ := s.hash(uid)
	key := reader + "\x00" + hash
	ch := make(chan View, 1)
	s.subMu.Lock()
	s.awaits[key] = append(s.awaits[key], ch)
	s.subMu.Unlock()
	return ch, func() {
		s.subMu.Lock()
		defer s.subMu.Unlock()
		list := s.awaits[key]
		for i, c := range list {
			if c == ch {
				s.awaits[key] = append(list[:i], list[i+1:]...)
				break
			}
		}
		if len(s.awaits[key]) == 0 {
			delete(s.awaits, key)
		}
	}
}

func (s *Service) resolveAwaits(reader, hash string, v View) {
	key := reader + "\x00" + hash
	s.subMu.Lock()
	list := s.awaits[key]
	delete(s.awaits, key)
	s.subMu.Unlock()
	for _, ch := range list {
		ch <- v // buffered, one each
	}
}
