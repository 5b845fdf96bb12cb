package rules

import (
	"time"

	"github.com/kinderdeur/kiosk/attendance"
)

// Act is the last check-in or -out of a child (or clock-in or -out of a
// staff member): who did it, which way, when. The undo guard compares a
// tap with it.
type Act struct {
	By string // the actor's id
	In bool   // a check-in (clock-in)
	At time.Time
}

// Recent is the last act on every child and staff member, folded from
// committed events. The door keeps one under its state lock; the zero
// value is empty and a nil *Recent knows nothing.
type Recent struct {
	children map[string]Act
	staff    map[string]Act
	// actors is the time of each adult's last committed check-in or -out
	// of any child: the undo guard asks on any tap of theirs soon after.
	actors map[string]time.Time
}

// Fold takes a committed event into account.
func (r *Recent) Fold(e attendance.Event) {
	if r.children == nil {
		r.children, r.staff, r.actors = map[string]Act{}, map[string]Act{}, map[string]time.Time{}
	}
	act := Act{By: e.ActorID, At: e.Wall}
	switch e.Type {
	case attendance.ChildCheckIn, attendance.ChildCheckOut:
		act.In = e.Type == attendance.ChildCheckIn
		r.children[e.ChildID] = act
		if e.ActorID != "" && e.Wall.After(r.actors[e.ActorID]) {
			r.actors[e.ActorID] = e.Wall
		}
	case attendance.StaffIn, attendance.StaffOut:
		act.In = e.Type == attendance.StaffIn
		r.staff[e.StaffID] = act
	}
}

func (r *Recent) childAct(id string) Act {
	if r == nil {
		return Act{}
	}
	return r.children[id]
}

func (r *Recent) staffAct(id string) Act {
	if r == nil {
		return Act{}
	}
	return r.staff[id]
}

// actorAct is when person last checked a child in or out (zero: never).
func (r *Recent) actorAct(person string) time.Time {
	if r == nil {
		return time.Time{}
	}
	return r.actors[person]
}
