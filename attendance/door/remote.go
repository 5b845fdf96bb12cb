package door

import (
	"context"
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

// presence is what the door decides on: local, folded from this kiosk's
// own committed events, merged with remote, the other doors' presence
// from central. Guarded by the door's state lock.
type presence struct {
	clock    Clock
	deviceID func() string

	local  *attendance.Presence
	remote *Remote
	merged *attendance.Presence
	// shared: merged was handed to a reader that uses it without the lock
	// (see share); it must not change any more.
	shared bool
}

func newPresence(clock Clock, deviceID func() string) presence {
	p := attendance.NewPresence()
	return presence{clock: clock, deviceID: deviceID, local: p, merged: p}
}

// current is the presence decisions are taken on; use it only with the
// state lock held.
func (p *presence) current() *attendance.Presence { return p.merged }

// share is current for a reader that uses it after releasing the state
// lock: the next change folds into a copy instead.
func (p *presence) share() *attendance.Presence {
	p.shared = true
	return p.merged
}

// setLocal puts a presence folded from the whole event log in force.
func (p *presence) setLocal(local *attendance.Presence) {
	p.local = local
	p.shared = false
	p.merge()
}

// apply folds newly committed events in. A presence handed to a reader
// is never changed: apply then folds into a copy (copy on write, only
// when someone reads).
func (p *presence) apply(evs []attendance.Event) {
	if p.shared && p.merged == p.local {
		p.local = p.local.Clone()
	}
	p.shared = false
	for _, e := range evs {
		p.local.Apply(e)
	}
	p.merge()
}

// setRemote puts central's presence in force.
func (p *presence) setRemote(r Remote) {
	p.remote = &r
	p.merge()
}

// expire drops central's presence once it is stale: offline, the door
// decides on its own events alone.
func (p *presence) expire() {
	if p.remote != nil && p.clock.Now().Sub(p.remote.AsOf) > RemoteMaxAge {
		p.remote = nil
		p.merge()
	}
}

// SetRemote puts central's presence in force.
func (s *Service) SetRemote(r Remote) {
	s.lockWriter()
	defer s.unlockWriter()
	s.mu.Lock()
	s.pres.setRemote(r)
	s.mu.Unlock()
	s.publishStaff()
	s.settle(context.Background()) // another door may have resolved a request
}

// merge recomputes the merged presence.
func (p *presence) merge() {
	r := p.remote
	if r == nil || p.clock.Now().Sub(r.AsOf) > RemoteMaxAge {
		p.merged = p.local
		return
	}
	own := p.deviceID()
	local := p.local
	merged := local.Clone()
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
			merged.Apply(e)
		}
		return seen
	}
	kids := add(r.Children, local.LastChildEvent, local.Child, attendance.ChildCheckIn)
	staff := add(r.Staff, local.LastStaffEvent, local.Staff, attendance.StaffIn)
	// Someone we checked in, whose check-in central has, but whom central no
	// longer lists, left through another door.
	for _, st := range local.Children() {
		if !kids[st.ID] && st.Seq > 0 && st.Seq <= r.AckedThrough && r.AsOf.Sub(st.Since) < centralWindow {
			merged.Apply(attendance.Event{Type: attendance.ChildCheckOut, ChildID: st.ID, Wall: r.AsOf})
		}
	}
	for _, st := range local.StaffPresent() {
		if !staff[st.ID] && st.Seq > 0 && st.Seq <= r.AckedThrough && r.AsOf.Sub(st.Since) < centralWindow {
			merged.Apply(attendance.Event{Type: attendance.StaffOut, StaffID: st.ID, Wall: r.AsOf})
		}
	}
	p.merged = merged
	p.shared = false
}
