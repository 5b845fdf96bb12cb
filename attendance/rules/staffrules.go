package rules

import (
	"errors"
	"fmt"
	"slices"
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
	// ErrReleaseTo: a child who may not leave alone is released to a named
	// grown-up only (a person of the roster, or a name with the ID checked).
	ErrReleaseTo     = errors.New("rules: say to whom the child is released")
	ErrUnknownPerson = errors.New("rules: unknown person")
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
	if d.Outcome == Confirm && d.Reason == ReasonUndoRecent {
		if d.Actor.Role == attendance.RoleStaff {
			d.Outcome, d.Reason = StaffIn, "" // yes: clock in again
			return d, nil
		}
		d.Outcome = ChooseChildren // yes: the children chosen
	}
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
//
// to says to whom the children go when that is not the person who tapped:
// required for a child who asked on its own (needs_grown_up), optional
// otherwise. A person of the roster (to.PersonID) is checked against the
// contact bans and withdrawn rights like the tapping person would be; a
// free name (to.Name) needs the ID type checked.
func Release(ix *roster.Index, p *attendance.Presence, now time.Time, d Decision, ids []string, idType, note string, to Handover) (Decision, error) {
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
	today := attendance.DateOf(now)
	known := false // the grown-up is a guardian or authorised for every child released
	switch {
	case to.PersonID != "":
		per, ok := ix.Person(to.PersonID)
		if !ok {
			return d, fmt.Errorf("%w %q", ErrUnknownPerson, to.PersonID)
		}
		role := attendance.RolePickup
		known = true
		for _, c := range d.Children {
			if !c.Selected {
				continue
			}
			_, announced := ix.Announcement(c.ID, per.ID, now)
			g := ix.GuardianOn(c.ID, per.ID, today)
			if g {
				role = attendance.RoleGuardian
			}
			known = known && (g || announced || ix.Authorised(c.ID, per.ID, today))
		}
		d.Actor = Actor{Role: role, ID: per.ID, Name: per.Name, Relation: per.Relation}
	case strings.TrimSpace(to.Name) != "":
		d.Actor = Actor{Role: attendance.RolePickup, Name: strings.TrimSpace(to.Name)}
	case d.Actor.Role == attendance.RoleChild && d.Reason == ReasonNeedsGrownUp:
		return d, ErrReleaseTo
	}
	for _, c := range d.Children {
		if !c.Selected || d.Actor.ID == "" {
			continue
		}
		if _, ban := ix.Ban(c.ID, d.Actor.ID); ban {
			return d, &BanError{Child: c.Name}
		}
		if ix.Withdrawn(c.ID, d.Actor.ID, today) {
			return d, &BanError{Child: c.Name}
		}
	}
	switch {
	case to.Name != "":
		if strings.TrimSpace(idType) == "" {
			return d, ErrIDRequired
		}
	case d.Reason == ReasonNotAnnounced || d.Reason == ReasonTooYoung || d.Reason == ReasonAgeUnknown || d.Reason == ReasonNeedsGrownUp:
		if strings.TrimSpace(idType) == "" && d.Actor.Role != attendance.RoleChild && !known {
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

// Handover names the grown-up staff release children to: a person of the
// roster, or a name (with the ID type checked, see Release).
type Handover struct {
	PersonID string
	Name     string
}

// HandoverNote is the note of a release to a grown-up named by staff (a
// free name is recorded there; a person of the roster as the actor).
func HandoverNote(to Handover, note string) string {
	name := strings.TrimSpace(to.Name)
	if name == "" || to.PersonID != "" {
		return note
	}
	if note = strings.TrimSpace(note); note != "" {
		return "Meegegeven aan: " + name + "; " + note
	}
	return "Meegegeven aan: " + name
}

// Split separates a partly released request (NeedsStaff with some
// children selected: a pickup person who may take those at once) into
// the release to commit now and the request for the rest. For any other
// decision release is empty and request is d.
func Split(d Decision) (release, request Decision) {
	if d.Outcome != NeedsStaff || d.Reason != ReasonNotAnnounced {
		return Decision{}, d
	}
	release, request = d, d
	release.Outcome, release.Reason, release.Children = CheckOut, "", nil
	request.Children, request.Remember = nil, nil
	for _, c := range d.Children {
		if c.Selected {
			release.Children = append(release.Children, c)
		} else {
			request.Children = append(request.Children, c)
		}
	}
	if len(release.Children) == 0 {
		return Decision{}, d
	}
	request.PolicyVersion = ""
	return release, request
}

// Resolved reports whether request d has resolved by itself: every child
// in it now has the state it asked for (taken out by someone else, a
// handover completed, checked in by a guardian).
func Resolved(d Decision, p *attendance.Presence) bool {
	if len(d.Children) == 0 {
		return false
	}
	for _, c := range d.Children {
		_, present := p.Child(c.ID)
		switch c.Action {
		case ActCheckOut:
			if present {
				return false
			}
		case ActCheckIn:
			if !present {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// Changed returns the selected children of d whose presence is no longer
// what it was when the request was made.
func Changed(d Decision, p *attendance.Presence) []string {
	var out []string
	for _, c := range d.Children {
		if _, present := p.Child(c.ID); c.Selected && present != c.Present {
			out = append(out, c.ID)
		}
	}
	return out
}

// Candidates are the grown-ups staff may release the children of d to
// (needs_grown_up): their guardians and the people authorised or
// announced for them now, without anyone under a ban or with rights
// withdrawn for any of them.
func Candidates(ix *roster.Index, now time.Time, d Decision) []Actor {
	today := attendance.DateOf(now)
	var ids []string
	add := func(id string) {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	for _, c := range d.Children {
		for _, g := range ix.GuardiansOf(c.ID, today) {
			add(g)
		}
		for _, a := range ix.Roster.Authorisations {
			if a.ChildID == c.ID && ix.Authorised(c.ID, a.PersonID, today) {
				add(a.PersonID)
			}
		}
		for _, a := range ix.Roster.Announced {
			if _, ok := ix.Announcement(c.ID, a.PersonID, now); a.ChildID == c.ID && ok {
				add(a.PersonID)
			}
		}
	}
	var out []Actor
	for _, id := range ids {
		ok := true
		for _, c := range d.Children {
			_, ban := ix.Ban(c.ID, id)
			ok = ok && !ban && !ix.Withdrawn(c.ID, id, today)
		}
		if per, found := ix.Person(id); ok && found {
			out = append(out, Actor{Role: attendance.RolePickup, ID: id, Name: per.Name, Relation: per.Relation})
		}
	}
	return out
}

// Summarise is what a committed choice did: check_in_out when it checked
// children in and out, else check_in or check_out.
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
	if in > 0 && out > 0 {
		return CheckInOut
	}
	if in >= out {
		return CheckIn
	}
	return CheckOut
}
