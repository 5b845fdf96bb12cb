package rules

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/roster"
)

// The rules for what staff may do with a request or on the staff panel.
// Like Decide they only look at what they are given.

// Errors of a staff action the rules refuse. The door answers each as a
// bad request, except a contact ban (BanError), which no one can override.
var (
	ErrNotOffered     = errors.New("rules: child not offered in this session")
	ErrIDRequired     = errors.New("rules: the ID type checked is required")
	ErrOverrideReason = errors.New("rules: an override needs a reason")
	ErrUnknownChild   = errors.New("rules: unknown child")
	ErrAlreadyDone    = errors.New("rules: nothing to change")
	ErrNotPresent     = errors.New("rules: not present")
)

// BanError is staff trying to release a child to a person under a contact
// ban: never allowed at the door, whoever asks.
type BanError struct {
	Child string // the child's first name
}

func (e *BanError) Error() string { return "rules: contact ban: " + e.Child }

// Select keeps only the children in ids selected (an offered child without
// an action stays unselected). It fails for a child that was not offered
// and for an empty choice. d is not changed.
func Select(d Decision, ids []string) (Decision, error) {
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	d.Children = append([]Child(nil), d.Children...)
	n := 0
	for i := range d.Children {
		c := &d.Children[i]
		c.Selected = want[c.ID] && c.Action != ActNone
		if want[c.ID] {
			n++
			delete(want, c.ID)
		}
	}
	if len(want) > 0 {
		return d, ErrNotOffered
	}
	if n == 0 {
		return d, ErrNothingSelected
	}
	return d, nil
}

// Overridable reports whether staff release a request with this reason by
// overriding a block (with a reason) rather than after an ID check.
func Overridable(reason string) bool {
	return reason == ReasonRatio || reason == ReasonCapacity
}

// Release is staff confirming a request (a NeedsStaff decision d) for the
// children ids (all offered children when ids is empty): after checking
// the person's ID (idType), or overriding a ratio or capacity block with a
// reason (note). For an unannounced pickup staff may add other present
// children. A contact ban is never released (*BanError).
func Release(ix *roster.Index, p *attendance.Presence, d Decision, ids []string, idType, note string) (Decision, error) {
	if len(ids) == 0 {
		for _, c := range d.Children {
			ids = append(ids, c.ID)
		}
	}
	if d.Reason == ReasonNotAnnounced {
		// Staff checked ID and decide which present child goes with this
		// person, even one the roster does not link them to.
		d.Children = append([]Child(nil), d.Children...)
		offered := map[string]bool{}
		for _, c := range d.Children {
			offered[c.ID] = true
		}
		for _, id := range ids {
			st, present := p.Child(id)
			c, known := ix.Child(id)
			if offered[id] || !present || !known {
				continue
			}
			g, _ := ix.Group(c.GroupID)
			d.Children = append(d.Children, Child{ID: id, Name: c.FirstName, GroupID: c.GroupID, Group: g.Name,
				Present: true, Since: st.Since, Action: ActCheckOut})
		}
	}
	d, err := Select(d, ids)
	if err != nil {
		return d, err
	}
	for _, c := range d.Children {
		if _, ban := ix.Ban(c.ID, d.Actor.ID); ban && c.Selected {
			return d, &BanError{Child: c.Name}
		}
	}
	switch {
	case d.Reason == ReasonNotAnnounced || d.Reason == ReasonTooYoung || d.Reason == ReasonNeedsGrownUp:
		if strings.TrimSpace(idType) == "" && d.Actor.Role != attendance.RoleChild {
			return d, ErrIDRequired
		}
	case Overridable(d.Reason):
		if strings.TrimSpace(note) == "" {
			return d, ErrOverrideReason
		}
	}
	return d, nil
}

// ManualCheck is staff checking a child in (in) or out by hand on the
// staff panel: a decision with the staff member as actor.
func ManualCheck(ix *roster.Index, p *attendance.Presence, staffID, childID string, in bool) (Decision, error) {
	c, ok := ix.Child(childID)
	if !ok {
		return Decision{}, fmt.Errorf("%w %q", ErrUnknownChild, childID)
	}
	_, present := p.Child(childID)
	if present == in {
		state := "absent"
		if present {
			state = "present"
		}
		return Decision{}, fmt.Errorf("%w: %s is already %s", ErrAlreadyDone, c.FirstName, state)
	}
	d := Decision{Outcome: CheckIn, Actor: Actor{Role: attendance.RoleStaff, ID: staffID},
		Children: []Child{{ID: c.ID, Name: c.FirstName, GroupID: c.GroupID, Action: ActCheckIn, Selected: true}}}
	if !in {
		d.Outcome, d.Children[0].Action = CheckOut, ActCheckOut
	}
	return d, nil
}

// ManualStaffOut is a staff member clocking out on the staff panel. When
// leaving breaks (or worsens) a group's ratio and sure is false, the
// decision asks the staff member to confirm first (Outcome Confirm).
func ManualStaffOut(ix *roster.Index, p *attendance.Presence, now time.Time, staffID string, sure bool) (Decision, error) {
	st, present := p.Staff(staffID)
	if !present {
		return Decision{}, fmt.Errorf("%w: not clocked in", ErrNotPresent)
	}
	if ws := StaffLeave(ix, p, now, staffID); len(ws) > 0 && !sure {
		return Decision{Outcome: Confirm, Reason: ReasonRatioAfterLeave, Warnings: ws}, nil
	}
	return Decision{Outcome: StaffOut, Actor: Actor{Role: attendance.RoleStaff, ID: staffID}, clockGroup: &st.GroupID}, nil
}

// RollCallSubject checks that id is a child or staff member present (a
// roll call accounts only for those) and says which.
func RollCallSubject(p *attendance.Presence, id string) (child bool, err error) {
	_, child = p.Child(id)
	_, member := p.Staff(id)
	if !child && !member {
		return false, fmt.Errorf("%w: %q is not present", ErrNotPresent, id)
	}
	return child, nil
}

// Summarise is what a committed choice did on balance: check_in when it
// checked in at least as many children as it checked out.
func Summarise(evs []attendance.Event) Outcome {
	in, out := 0, 0
	for _, e := range evs {
		switch e.Type {
		case attendance.ChildCheckIn:
			in++
		case attendance.ChildCheckOut:
			out++
		}
	}
	if in >= out {
		return CheckIn
	}
	return CheckOut
}
