package door

import (
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/rules"
)

// session is a decision waiting for input: a guardian's choice of children,
// or a request waiting for staff.
type session struct {
	id       string
	decision rules.Decision
	reader   string
	expires  time.Time
	staff    bool // waits for staff (needs_staff)
}

// sessions holds the open sessions and the result on the public screen
// now. Guarded by the door's state lock.
type sessions struct {
	open    map[string]*session
	current *Result // the decision on screen (nil: idle)
}

func newSessions() sessions { return sessions{open: map[string]*session{}} }

// add opens a session for d that waits timeout; it returns the session
// and the requests it supersedes (closed, to be recorded).
func (ss *sessions) add(d rules.Decision, reader string, now time.Time, timeout time.Duration, staff bool) (*session, []*session) {
	var superseded []*session
	if staff {
		// The same person asking again (a child tapping twice) replaces
		// the open request instead of adding a second one.
		for id, old := range ss.open {
			if old.staff && old.decision.Actor.ID == d.Actor.ID && old.decision.Reason == d.Reason {
				delete(ss.open, id)
				superseded = append(superseded, old)
			}
		}
	}
	s := &session{id: newID("s-"), decision: d, reader: reader, expires: now.Add(timeout), staff: staff}
	ss.open[s.id] = s
	return s, superseded
}

// resolved ends the requests whose situation resolved by itself on
// presence p and returns them (to be recorded).
func (ss *sessions) resolved(p *attendance.Presence) []*session {
	var out []*session
	for id, s := range ss.open {
		if s.staff && rules.Resolved(s.decision, p) {
			delete(ss.open, id)
			out = append(out, s)
		}
	}
	return out
}

// dropChoicesOf ends the open choices of an actor: a child's tap that
// completes a handover replaces the adult's open choice.
func (ss *sessions) dropChoicesOf(actorID string) {
	for id, s := range ss.open {
		if s.decision.Actor.ID == actorID && !s.staff {
			delete(ss.open, id)
		}
	}
}

// get returns an open session that waits for staff (staff) or for the
// person at the door (!staff).
func (ss *sessions) get(id string, staff bool) (*session, bool) {
	s, ok := ss.open[id]
	if !ok || s.staff != staff {
		return nil, false
	}
	return s, true
}

// remove ends a session; it reports whether it was open.
func (ss *sessions) remove(id string) bool {
	_, ok := ss.open[id]
	delete(ss.open, id)
	return ok
}

// show puts r on the public screen.
func (ss *sessions) show(r Result) Result {
	ss.current = &r
	return r
}

// clearScreen takes the decision of session id off the screen; it reports
// whether it was there.
func (ss *sessions) clearScreen(id string) bool {
	if ss.current != nil && ss.current.Session == id {
		ss.current = nil
		return true
	}
	return false
}

// expire ends the sessions that timed out and takes a decision off the
// screen once shown long enough; it returns the ids the screen must close
// and the requests for staff that expired (to be recorded).
func (ss *sessions) expire(now time.Time) ([]string, []*session) {
	var done []string
	var requests []*session
	for id, s := range ss.open {
		if now.After(s.expires) {
			delete(ss.open, id)
			done = append(done, id)
			if s.staff {
				requests = append(requests, s)
			}
		}
	}
	if c := ss.current; c != nil && c.Session == "" && now.Sub(c.At) > 8*time.Second {
		done = append(done, c.ID)
		ss.current = nil
	}
	if c := ss.current; c != nil && c.Session != "" {
		if _, ok := ss.open[c.Session]; !ok {
			ss.current = nil
		}
	}
	return done, requests
}

// onScreen is the decision a newly connected screen shows, with the time
// its session has left.
func (ss *sessions) onScreen(now time.Time) *Result {
	if ss.current == nil {
		return nil
	}
	r := *ss.current
	if r.Session != "" {
		s, ok := ss.open[r.Session]
		if !ok {
			r = Result{}
		} else {
			r.ExpiresIn = max(0, s.expires.Sub(now))
		}
	}
	if r.ID != "" && now.Sub(r.At) < 10*time.Second || r.Session != "" {
		return &r
	}
	return nil
}
