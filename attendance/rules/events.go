package rules

import (
	"strings"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/roster"
)

// Every event the door records is built here, from a decision or a staff
// act, on a context event that carries what the door knows of the moment
// (clock, boot, reader, confirmation, note). stamp gives each one the
// location and the roster version that decided it: no event leaves this
// file without them.

func stamp(ctx attendance.Event, ix *roster.Index) attendance.Event {
	ctx.LocationID = ix.Roster.Location.ID
	ctx.RosterVersion = ix.Roster.Version
	return ctx
}

// Events builds the events of a final decision: one per selected child with
// an action, the staff clock event, or for a tap refused under a contact ban
// the denied tap (with the child of a handover pair). ctx carries the
// fields every event shares (time, boot, reader, actor, confirmations).
func Events(d Decision, ctx attendance.Event, ix *roster.Index) []attendance.Event {
	var evs []attendance.Event
	base := stamp(ctx, ix)
	base.ActorRole, base.ActorID = d.Actor.Role, d.Actor.ID
	if base.Reason == "" {
		base.Reason = d.Reason
	}
	switch d.Outcome {
	case StaffIn, StaffOut:
		e := base
		e.Type = attendance.StaffIn
		if d.Outcome == StaffOut {
			e.Type = attendance.StaffOut
		}
		e.StaffID = d.Actor.ID
		e.GroupID = StaffGroup(ix, d.Actor.ID)
		if d.clockGroup != nil {
			e.GroupID = *d.clockGroup
		}
		return []attendance.Event{e}
	case Denied:
		if d.Reason != ReasonContactBan && d.Reason != ReasonWithdrawn {
			return nil // nothing staff must know of
		}
		e := base
		e.Type = attendance.DeniedTap
		if len(d.Children) == 1 { // a handover: the pair is recorded
			e.ChildID, e.GroupID = d.Children[0].ID, d.Children[0].GroupID
		}
		return []attendance.Event{e}
	}
	for _, c := range d.Children {
		if !c.Selected {
			continue
		}
		e := base
		e.ChildID, e.GroupID = c.ID, c.GroupID
		switch c.Action {
		case ActCheckIn:
			e.Type = attendance.ChildCheckIn
		case ActCheckOut:
			e.Type = attendance.ChildCheckOut
		default:
			continue
		}
		evs = append(evs, e)
	}
	return evs
}

// OverrideEvent records staff member staffID overriding the ratio or
// capacity block of request d, with the reason note.
func OverrideEvent(d Decision, staffID, note string, ctx attendance.Event, ix *roster.Index) attendance.Event {
	e := stamp(ctx, ix)
	e.Type, e.ActorRole, e.ActorID = attendance.RatioOverride, attendance.RoleStaff, staffID
	e.Note, e.Reason = note, d.Reason
	return e
}

// RefusalEvents record staff member staffID refusing request d: one per
// child at stake, or one for the person when no child was named.
func RefusalEvents(d Decision, staffID, note string, ctx attendance.Event, ix *roster.Index) []attendance.Event {
	base := stamp(ctx, ix)
	base.Type, base.ActorRole, base.ActorID, base.ConfirmedBy, base.Note = attendance.PickupRefused, d.Actor.Role, d.Actor.ID, staffID, note
	if len(d.Children) == 0 {
		return []attendance.Event{base}
	}
	evs := make([]attendance.Event, 0, len(d.Children))
	for _, c := range d.Children {
		e := base
		e.ChildID, e.GroupID, e.Reason = c.ID, c.GroupID, d.Reason
		evs = append(evs, e)
	}
	return evs
}

// Reasons a request closes without a staff decision (RequestClosed).
const (
	CloseResolved   = "resolved"
	CloseExpired    = "expired"
	CloseSuperseded = "superseded"
)

// RequestClosedEvents record that request d closed without a staff
// decision, for why (CloseResolved, CloseExpired, CloseSuperseded or
// ReasonStateChanged): one per child of the request.
func RequestClosedEvents(d Decision, why string, ctx attendance.Event, ix *roster.Index) []attendance.Event {
	base := stamp(ctx, ix)
	base.Type, base.ActorRole, base.ActorID, base.Reason, base.Note = attendance.RequestClosed, d.Actor.Role, d.Actor.ID, why, d.Reason
	evs := make([]attendance.Event, 0, len(d.Children))
	for _, c := range d.Children {
		e := base
		e.ChildID, e.GroupID = c.ID, c.GroupID
		evs = append(evs, e)
	}
	return evs
}

// RollCallEvent records that staff member staffID accounted for subject (a
// child when child is true, else a staff member) in a roll call.
func RollCallEvent(subject string, child bool, staffID string, ctx attendance.Event, ix *roster.Index) attendance.Event {
	e := stamp(ctx, ix)
	e.Type, e.ActorRole, e.ActorID, e.ConfirmedBy = attendance.RollCallMark, attendance.RoleStaff, staffID, staffID
	if child {
		e.ChildID = subject
	} else {
		e.StaffID = subject
	}
	return e
}

// CorrectionEvent records a correction of a child's stay (see
// attendance.Correction): made by staff member c.By at the kiosk, or by a
// manager at central (ctx then carries central's clock and device). The
// child's group is the roster's; the events it corrects are left as they
// were.
func CorrectionEvent(childID string, c attendance.Correction, ctx attendance.Event, ix *roster.Index) attendance.Event {
	e := stamp(ctx, ix)
	e.Type, e.ChildID, e.Manual = attendance.CorrectionEvent, childID, true
	if ch, ok := ix.Child(childID); ok {
		e.GroupID = ch.GroupID
	}
	c.Reason = strings.TrimSpace(c.Reason)
	c.CheckIn, c.CheckOut = c.CheckIn.UTC(), c.CheckOut.UTC()
	e.Correction = &c
	return e
}
