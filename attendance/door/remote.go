package door

import (
	"time"

	"github.com/kinderdeur/kiosk/attendance"
)

// Remote is who central says is present at this location, folded from the
// events of all its doors. A kiosk at a second door learns from it about
// taps at the first. It is only a view: nothing of it is stored, and while
// the kiosk is offline (Remote older than RemoteMaxAge) the door decides on
// its own events alone (sync/protocol/PROTOCOL.md, "two doors").
type Remote struct {
	AsOf time.Time
	// AckedThrough is the highest own seq central had acknowledged before
	// the fetch: central's answer already reflects those events.
	AckedThrough int64
	Children     []RemoteStay
	Staff        []RemoteStay
}

// RemoteStay is one person present according to central.
type RemoteStay struct {
	ID       string
	GroupID  string
	Since    time.Time
	DeviceID string // the door where the person came in
}

// RemoteMaxAge is how long a fetched Remote stays in force.
const RemoteMaxAge = 2 * time.Minute

// centralWindow is how far back central folds presence; older local stays
// (forgotten check-outs) are not in its answer and must not be dropped.
const centralWindow = 23 * time.Hour

// SetRemote puts central's presence in force.
func (s *Service) SetRemote(r Remote) {
	s.mu.Lock()
	s.remote = &r
	s.merge()
	s.mu.Unlock()
	s.publishStaff()
}

// merge recomputes the presence the door decides on; s.mu held.
func (s *Service) merge() {
	r := s.remote
	if r == nil || s.cfg.Clock.Now().Sub(r.AsOf) > RemoteMaxAge {
		s.presence = s.local
		return
	}
	own := s.cfg.Store.DeviceID()
	p := s.local.Clone()
	add := func(list []RemoteStay, last func(string) (time.Time, bool), present func(string) (attendance.Stay, bool), in attendance.EventType) map[string]bool {
		seen := map[string]bool{}
		for _, rs := range list {
			seen[rs.ID] = true
			if rs.DeviceID == own {
				continue
			}
			if _, ok := present(rs.ID); ok {
				continue
			}
			if t, ok := last(rs.ID); ok && !t.Before(rs.Since) {
				continue // our own later event wins (not yet at central)
			}
			e := attendance.Event{Type: in, GroupID: rs.GroupID, Wall: rs.Since}
			if in == attendance.ChildCheckIn {
				e.ChildID = rs.ID
			} else {
				e.StaffID = rs.ID
			}
			p.Apply(e)
		}
		return seen
	}
	kids := add(r.Children, s.local.LastChildEvent, s.local.Child, attendance.ChildCheckIn)
	staff := add(r.Staff, s.local.LastStaffEvent, s.local.Staff, attendance.StaffIn)
	// Someone we checked in, whose check-in central has, but whom central no
	// longer lists, left through another door.
	for _, st := range s.local.Children() {
		if !kids[st.ID] && st.Seq > 0 && st.Seq <= r.AckedThrough && r.AsOf.Sub(st.Since) < centralWindow {
			p.Apply(attendance.Event{Type: attendance.ChildCheckOut, ChildID: st.ID, Wall: r.AsOf})
		}
	}
	for _, st := range s.local.StaffPresent() {
		if !staff[st.ID] && st.Seq > 0 && st.Seq <= r.AckedThrough && r.AsOf.Sub(st.Since) < centralWindow {
			p.Apply(attendance.Event{Type: attendance.StaffOut, StaffID: st.ID, Wall: r.AsOf})
		}
	}
	s.presence = p
}
