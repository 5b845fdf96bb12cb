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
}

// Fold takes a committed event into account.
func (r *Recent) Fold(e attendance.Event) {
	if r.children == nil {
		r.children, r.staff = map[string]Act{}, map[string]Act{}
	}
	act := Act{By: e.ActorID, At: e.Wall}
	switch e.Type {
	case attendance.ChildCheckIn, attendance.ChildCheckOut:
		act.In = e.Type == attendance.ChildCheckIn
		r.children[e.ChildID] = act
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
