package attendance

import (
	"slices"
	"strings"
	"time"
)

// Stay is someone present since a check-in (or clock-in) event.
type Stay struct {
	ID      string    `json:"id"`
	GroupID string    `json:"group_id,omitempty"`
	Since   time.Time `json:"since"`
	Seq     int64     `json:"-"`
	// EventID is the check-in event's id: corrections name the stay by it.
	EventID string `json:"-"`
}

// Presence is who is in, derived by folding events in seq order. It is never
// edited directly: Apply is the only way in, so presence always equals what
// the event log says.
type Presence struct {
	children map[string]Stay
	staff    map[string]Stay
	// last is the wall time of each subject's latest in/out event, present
	// or not ("c:" + child id, "s:" + staff id).
	last    map[string]time.Time
	LastSeq int64
}

// NewPresence returns an empty presence.
func NewPresence() *Presence {
	return &Presence{children: map[string]Stay{}, staff: map[string]Stay{}, last: map[string]time.Time{}}
}

// Apply folds one event in.
func (p *Presence) Apply(e Event) {
	switch e.Type {
	case ChildCheckIn:
		p.children[e.ChildID] = Stay{ID: e.ChildID, GroupID: e.GroupID, Since: e.Wall, Seq: e.Seq, EventID: e.ID}
		p.last["c:"+e.ChildID] = e.Wall
	case ChildCheckOut:
		delete(p.children, e.ChildID)
		p.last["c:"+e.ChildID] = e.Wall
	case StaffIn:
		p.staff[e.StaffID] = Stay{ID: e.StaffID, GroupID: e.GroupID, Since: e.Wall, Seq: e.Seq}
		p.last["s:"+e.StaffID] = e.Wall
	case StaffOut:
		delete(p.staff, e.StaffID)
		p.last["s:"+e.StaffID] = e.Wall
	case CorrectionEvent:
		p.applyCorrection(e)
	}
	if e.Seq > p.LastSeq {
		p.LastSeq = e.Seq
	}
}

// applyCorrection honours a correction of the stay a child is in now: a
// check-out set (a forgotten one ended) or the stay removed drops the child;
// a check-in set moves since. A correction of any other stay (an earlier
// one, an added one) changes nothing here.
func (p *Presence) applyCorrection(e Event) {
	c := e.Correction
	if c == nil {
		return
	}
	st, ok := p.children[e.ChildID]
	if !ok || st.EventID == "" || st.EventID != c.Target {
		return
	}
	switch c.Kind {
	case SetCheckOut, RemoveStay:
		delete(p.children, e.ChildID)
		p.last["c:"+e.ChildID] = e.Wall
	case SetCheckIn:
		if !c.CheckIn.IsZero() {
			st.Since = c.CheckIn
			p.children[e.ChildID] = st
		}
	}
}

// Child reports whether a child is present and since when.
func (p *Presence) Child(id string) (Stay, bool) { s, ok := p.children[id]; return s, ok }

// Staff reports whether a staff member is present and since when.
func (p *Presence) Staff(id string) (Stay, bool) { s, ok := p.staff[id]; return s, ok }

// LastChildEvent is the time of a child's latest check-in or check-out.
func (p *Presence) LastChildEvent(id string) (time.Time, bool) {
	t, ok := p.last["c:"+id]
	return t, ok
}

// LastStaffEvent is the time of a staff member's latest clock-in or -out.
func (p *Presence) LastStaffEvent(id string) (time.Time, bool) {
	t, ok := p.last["s:"+id]
	return t, ok
}

// Children returns the children present, earliest first.
func (p *Presence) Children() []Stay { return sorted(p.children) }

// StaffPresent returns the staff present, earliest first.
func (p *Presence) StaffPresent() []Stay { return sorted(p.staff) }

// CountChildren returns the number of children present.
func (p *Presence) CountChildren() int { return len(p.children) }

// Clone returns an independent copy (the rules decide on a copy, so a
// decision that is not committed changes nothing).
func (p *Presence) Clone() *Presence {
	c := &Presence{children: make(map[string]Stay, len(p.children)), staff: make(map[string]Stay, len(p.staff)),
		last: make(map[string]time.Time, len(p.last)), LastSeq: p.LastSeq}
	for k, v := range p.last {
		c.last[k] = v
	}
	for k, v := range p.children {
		c.children[k] = v
	}
	for k, v := range p.staff {
		c.staff[k] = v
	}
	return c
}

func sorted(m map[string]Stay) []Stay {
	out := make([]Stay, 0, len(m))
	for _, s := range m {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b Stay) int {
		if c := a.Since.Compare(b.Since); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}
