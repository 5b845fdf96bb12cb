// Package rules decides what a tap at the door means: pure functions from
// (who tapped, which reader, when, who is present, the roster) to a
// decision. Nothing here touches a clock, a disk or a screen, so every rule
// is table-tested and the kiosk decides the same way offline as online.
package rules

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/ratio"
	"github.com/kinderdeur/kiosk/attendance/roster"
)

// Outcome is what the door does with a tap.
type Outcome string

const (
	CheckIn        Outcome = "check_in"
	CheckOut       Outcome = "check_out"
	CheckInOut     Outcome = "check_in_out"    // a committed choice that checked children in and out
	ChooseChildren Outcome = "choose_children" // a guardian with several children picks which
	NeedsStaff     Outcome = "needs_staff"     // the child is not released until staff decide
	Denied         Outcome = "denied"
	StaffIn        Outcome = "staff_in"
	StaffOut       Outcome = "staff_out"
	StaffMenu      Outcome = "staff_menu"    // a present staff member tapped: open the staff panel
	Confirm        Outcome = "confirm"       // the actor must confirm (e.g. staff out breaks the ratio)
	HandoverWait   Outcome = "handover_wait" // one half of a two-tap handover
)

// Reason codes (machine-readable; the UI words them).
const (
	ReasonUnknownBadge    = "unknown_badge"
	ReasonContactBan      = "contact_ban"
	ReasonNotAnnounced    = "not_announced"
	ReasonTooYoung        = "pickup_too_young"
	ReasonNeedsGrownUp    = "needs_grown_up"
	ReasonIndependent     = "independent"
	ReasonHandover        = "handover"
	ReasonNothingToDo     = "nothing_to_do"
	ReasonRatio           = "ratio"
	ReasonCapacity        = "capacity"
	ReasonOutsideHours    = "outside_hours"
	ReasonRatioAfterLeave = "ratio_after_staff_out"
	// ReasonAlreadyDone: a child's second tap within the handover window
	// after its own check-in or check-out; nothing changes.
	ReasonAlreadyDone = "already_done"
	// ReasonUndoRecent: the tap would undo what the same adult (or staff
	// member) did within the undo guard; the door asks first.
	ReasonUndoRecent = "undo_recent"
	// ReasonAgeUnknown: a pickup person without a birth date where the
	// location has a minimum pickup age; staff check ID.
	ReasonAgeUnknown = "pickup_age_unknown"
	// ReasonWithdrawn: a former guardian whose parental authority was
	// withdrawn; refused like a contact ban.
	ReasonWithdrawn = "rights_withdrawn"
	// ReasonStateChanged: a child of a request changed state since the
	// request was made; staff cannot act on it.
	ReasonStateChanged = "state_changed"
)

// Action is what happens to one child.
type Action string

const (
	ActCheckIn  Action = "check_in"
	ActCheckOut Action = "check_out"
	ActNone     Action = "none"
)

// Policy holds the location's door settings that are not in the roster.
type Policy struct {
	// HandoverWindow is how long one half of a two-tap handover waits for
	// the other (default 30 s).
	HandoverWindow time.Duration
	// UndoGuard is how long an adult's (or a staff member's) own check-in
	// or -out (clock-in or -out) is protected: a tap of theirs that would
	// undo it asks first. 0 disables the guard (kioskd's default is 2m).
	UndoGuard time.Duration
}

func (p Policy) window() time.Duration {
	if p.HandoverWindow <= 0 {
		return 30 * time.Second
	}
	return p.HandoverWindow
}

// Tap is the first half of a two-tap handover, remembered by the door.
type Tap struct {
	Role attendance.Role
	ID   string
	At   time.Time
	// CheckedOut lists children the adult's own tap already checked out
	// (or, for a child's tap, the child itself when it left on its own).
	CheckedOut []string
	// CheckedIn lists children the tap checked in (a child's own check-in):
	// such a tap is not one half of a handover.
	CheckedIn []string
}

// Input is everything a decision depends on.
type Input struct {
	Now      time.Time // in the location's time zone
	Role     attendance.ReaderRole
	Badge    *roster.Badge // nil: unknown card
	Roster   *roster.Index
	Presence *attendance.Presence
	Previous *Tap // the previous tap, for two-tap handovers (nil: none)
	Policy   Policy
	Recent   *Recent // who last checked each child in or out (nil: nobody)
}

// Child is one child in a decision.
type Child struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"` // first name only
	GroupID  string    `json:"group_id"`
	Group    string    `json:"group"`
	Present  bool      `json:"present"`
	Since    time.Time `json:"since,omitzero"`
	Action   Action    `json:"action"`
	Selected bool      `json:"selected"`
	// Reverses (the undo guard's question): acting on the child now would
	// reverse its check-in or -out of a moment ago, by whoever did it, so
	// the screen can say "Levi is net uitgecheckt" rather than "you just
	// tapped" to a second parent.
	Reverses bool `json:"reverses,omitempty"`
}

// Actor is who tapped.
type Actor struct {
	Role     attendance.Role `json:"role"`
	ID       string          `json:"id"`
	Name     string          `json:"name"`               // for staff eyes
	Relation string          `json:"relation,omitempty"` // for staff eyes
}

// Warning is a staff-visible note on a decision (never on the public screen).
type Warning struct {
	Code    string `json:"code"`
	GroupID string `json:"group,omitempty"`
	Text    string `json:"text"`
}

// Decision is the meaning of a tap. Events are not in it: the door builds
// them with Events once the decision (or the user's choice) is final.
type Decision struct {
	Outcome  Outcome   `json:"outcome"`
	Reason   string    `json:"reason,omitempty"`
	Actor    Actor     `json:"actor"`
	Children []Child   `json:"children,omitempty"`
	Warnings []Warning `json:"warnings,omitempty"`
	// StaffAlert is staff-only text (a contact ban's note).
	StaffAlert string `json:"-"`
	// Remember is the tap the door keeps for a two-tap handover.
	Remember *Tap `json:"-"`
	// PolicyVersion names the ratio policies the decision used.
	PolicyVersion string `json:"-"`
	// Reader is set to the reader's role ("in", "out") when the tap was at
	// a one-way reader and the person has children it does not serve (a
	// parent picking up at the entrance): the screen says which door this
	// is. Public.
	Reader attendance.ReaderRole `json:"reader,omitempty"`
	// clockGroup is the group a staff clock-out leaves (the group of the
	// stay, see ManualStaffOut); nil: the staff member's roster group.
	clockGroup *string
}

// Decide decides a tap.
func Decide(in Input) Decision {
	if in.Badge == nil {
		return Decision{Outcome: Denied, Reason: ReasonUnknownBadge}
	}
	b := in.Badge
	switch b.Role {
	case attendance.RoleStaff:
		return decideStaff(in, b.HolderID)
	case attendance.RoleGuardian, attendance.RolePickup:
		return decideAdult(in, b.HolderID)
	case attendance.RoleChild:
		return decideChild(in, b.HolderID)
	}
	return Decision{Outcome: Denied, Reason: ReasonUnknownBadge}
}

func decideStaff(in Input, id string) Decision {
	s, ok := in.Roster.Staff(id)
	if !ok {
		return Decision{Outcome: Denied, Reason: ReasonUnknownBadge}
	}
	d := Decision{Actor: Actor{Role: attendance.RoleStaff, ID: id, Name: s.Name}}
	if _, present := in.Presence.Staff(id); present {
		d.Outcome = StaffMenu
		return d
	}
	d.Outcome = StaffIn
	if in.undoes(in.Recent.staffAct(id), id, true) {
		// Clocked out by their own hand a moment ago: a tap clocks in
		// again only when the staff member says so.
		d.Outcome, d.Reason = Confirm, ReasonUndoRecent
	}
	return d
}

// StaffGroup is the group a staff member's clock-in counts for.
func StaffGroup(ix *roster.Index, staffID string) string {
	if s, ok := ix.Staff(staffID); ok && len(s.Groups) > 0 {
		return s.Groups[0]
	}
	if len(ix.Roster.Groups) > 0 {
		return ix.Roster.Groups[0].ID
	}
	return ""
}

func (in Input) child(id string) (Child, bool) {
	c, ok := in.Roster.Child(id)
	if !ok {
		return Child{}, false
	}
	ch := Child{ID: c.ID, Name: c.FirstName, GroupID: c.GroupID}
	if g, ok := in.Roster.Group(c.GroupID); ok {
		ch.Group = g.Name
	}
	if st, ok := in.Presence.Child(id); ok {
		ch.Present, ch.Since = true, st.Since
	}
	ch.Action = ActNone
	switch {
	case ch.Present && in.Role != attendance.ReaderIn:
		ch.Action = ActCheckOut
	case !ch.Present && in.Role != attendance.ReaderOut:
		ch.Action = ActCheckIn
	}
	ch.Selected = ch.Action != ActNone
	return ch, true
}

func (in Input) recent() *Tap {
	p := in.Previous
	if p == nil || in.Now.Sub(p.At) > in.Policy.window() || in.Now.Before(p.At) {
		return nil
	}
	return p
}

// guardian reports parental authority today (not withdrawn, not ended).
func (in Input) guardian(child, person string) bool {
	return in.Roster.GuardianOn(child, person, attendance.DateOf(in.Now))
}

// undoes reports whether act, the last act on a subject, was done by
// person within the undo guard and was the opposite of what a tap would
// now do (checkIn: check or clock in).
func (in Input) undoes(act Act, person string, checkIn bool) bool {
	g := in.Policy.UndoGuard
	return g > 0 && act.By == person && act.In != checkIn && !act.At.IsZero() &&
		!in.Now.Before(act.At) && in.Now.Sub(act.At) <= g
}

// reverses reports whether acting on c would reverse the child's last
// check-in or -out, by whoever did it, within the undo guard.
func (in Input) reverses(c Child) bool {
	act := in.Recent.childAct(c.ID)
	return c.Action != ActNone && !act.At.IsZero() && act.In != (c.Action == ActCheckIn) && in.soon(act.At)
}

// soon reports whether at (an act) lies within the undo guard before now.
func (in Input) soon(at time.Time) bool {
	g := in.Policy.UndoGuard
	return g > 0 && !at.IsZero() && !in.Now.Before(at) && in.Now.Sub(at) <= g
}

// ageCheck is the reason a pickup person's age stops a pickup ("" when it
// does not): too young, or no birth date on file, where the location has a
// minimum pickup age.
func ageCheck(in Input, p *roster.Person) string {
	min := in.Roster.Roster.Location.MinPickupAge
	switch {
	case min <= 0:
		return ""
	case p.BirthDate.IsZero():
		return ReasonAgeUnknown
	case p.BirthDate.AgeOn(attendance.DateOf(in.Now)) < min:
		return ReasonTooYoung
	}
	return ""
}

func decideAdult(in Input, id string) Decision {
	p, ok := in.Roster.Person(id)
	if !ok {
		return Decision{Outcome: Denied, Reason: ReasonUnknownBadge}
	}
	role := attendance.RolePickup
	for _, cid := range in.Roster.ChildrenOf(id) {
		if in.guardian(cid, id) {
			role = attendance.RoleGuardian
			break
		}
	}
	d := Decision{Actor: Actor{Role: role, ID: id, Name: p.Name, Relation: p.Relation}}
	today := attendance.DateOf(in.Now)

	// A child tapped first: this tap completes a two-tap handover.
	if prev := in.recent(); prev != nil && prev.Role == attendance.RoleChild &&
		len(prev.CheckedIn) == 0 && len(prev.CheckedOut) == 0 {
		return handover(in, d, prev.ID, id)
	}

	var mayTake, banned, withdrawn, unannounced []string
	for _, cid := range in.Roster.ChildrenOf(id) {
		if _, ban := in.Roster.Ban(cid, id); ban {
			banned = append(banned, cid)
			continue
		}
		if !in.guardian(cid, id) {
			withdrawn = append(withdrawn, cid)
			continue
		}
		mayTake = append(mayTake, cid)
	}
	for _, cid := range in.Roster.Linked(id) {
		if in.guardian(cid, id) || slices.Contains(withdrawn, cid) {
			continue
		}
		if _, ban := in.Roster.Ban(cid, id); ban {
			banned = append(banned, cid)
			continue
		}
		_, announced := in.Roster.Announcement(cid, id, in.Now)
		if in.Roster.Authorised(cid, id, today) || announced {
			mayTake = append(mayTake, cid)
		} else {
			unannounced = append(unannounced, cid)
		}
	}
	banned = append(banned, in.Roster.BannedFrom(id)...)
	if len(banned) > 0 {
		d.StaffAlert = banAlert(in, id)
	}
	if len(withdrawn) > 0 {
		d.StaffAlert += withdrawnAlert(in, p, withdrawn)
	}
	// Remembered whatever the outcome: a child's tap right after pairs with
	// this person and is checked against the pickup rules (a banned or
	// unannounced person's pair is refused or goes to staff).
	d.Remember = &Tap{Role: role, ID: id, At: in.Now}
	if len(mayTake) == 0 {
		switch {
		case len(banned) > 0:
			d.Outcome, d.Reason = Denied, ReasonContactBan
		case len(withdrawn) > 0:
			d.Outcome, d.Reason = Denied, ReasonWithdrawn
		default:
			d.Outcome, d.Reason = NeedsStaff, ReasonNotAnnounced
			d.Children = in.waiting(unannounced, nil)
			if len(d.Children) == 0 {
				// Nobody of theirs is here to take: nothing for staff.
				d.Outcome, d.Reason = Denied, ReasonNothingToDo
			}
		}
		return d
	}
	var offered []Child
	for _, cid := range mayTake {
		// A third party only brings or takes the children they are
		// authorised for today; nothing else is offered.
		if c, ok := in.child(cid); ok && c.Action != ActNone {
			offered = append(offered, c)
		}
	}
	// A third party's other children here (not announced for today, or
	// siblings of the children they take) go to staff as one request, with
	// the ID check of a wholly unannounced pickup.
	var waiting []Child
	if role == attendance.RolePickup {
		waiting = in.waiting(append(unannounced, siblings(in, mayTake)...), append(append(mayTake, banned...), withdrawn...))
	}
	if reason := ageCheck(in, p); role == attendance.RolePickup && reason != "" {
		var out []Child
		for _, c := range offered {
			if c.Action == ActCheckOut {
				c.Selected = false
				out = append(out, c)
			}
		}
		if out = append(out, waiting...); len(out) > 0 {
			d.Outcome, d.Reason, d.Children = NeedsStaff, reason, out
			return d
		}
		// Bringing children in needs no minimum age.
	}
	// The undo guard: a tap by the same adult within the guard of their
	// own last check-in or -out (of any child) never acts silently and
	// never preselects: an accidental second tap must not undo the first,
	// nor bring or take a child they did not choose a moment ago. It asks,
	// every child offered unselected with its action. So does a tap that
	// would reverse what anyone did to one of the children within the
	// guard: the second parent tapping too at drop-off must not take the
	// children straight out again.
	if own := in.soon(in.Recent.actorAct(id)); !own && len(waiting) > 0 {
		// Staff come anyway for the waiting children: a child whose last
		// act this tap would reverse waits with them (no silent undo, no
		// question that would drop the request).
		kept := offered[:0:0]
		for _, c := range offered {
			if c.Action == ActCheckOut && in.reverses(c) {
				c.Selected = false
				waiting = append(waiting, c)
				continue
			}
			kept = append(kept, c)
		}
		offered = kept
	} else if len(offered) > 0 && (own || slices.ContainsFunc(offered, in.reverses)) {
		for i := range offered {
			offered[i].Selected = false
			offered[i].Reverses = in.reverses(offered[i])
		}
		d.Outcome, d.Reason, d.Children = Confirm, ReasonUndoRecent, offered
		for _, c := range offered {
			if c.Action == ActCheckOut && in.reverses(c) {
				// Brought in a moment ago: the child's own tap now is
				// not a handover either.
				d.Remember.CheckedIn = append(d.Remember.CheckedIn, c.ID)
			}
		}
		d.PolicyVersion = PolicyVersions(in.Roster, d.Children)
		return d
	}
	if len(waiting) > 0 {
		var out []Child
		for _, c := range offered {
			if c.Action == ActCheckOut {
				out = append(out, c) // released at once (selected)
				d.Remember.CheckedOut = append(d.Remember.CheckedOut, c.ID)
			}
		}
		d.Outcome, d.Reason, d.Children = NeedsStaff, ReasonNotAnnounced, append(out, waiting...)
		d.PolicyVersion = PolicyVersions(in.Roster, out)
		return d
	}
	d.Children = offered
	// At a reader that works one way only, the children it leaves out
	// (present at the entrance, at home at the exit) are what a
	// both-ways reader would offer the other way: the person may have
	// come for them. Nothing is then done without asking.
	wrongWay := in.Role != attendance.ReaderBoth && in.Role != "" && oneWayOthers(in, mayTake)
	if wrongWay {
		d.Reader = in.Role
	}
	if mixed(d.Children) || wrongWay {
		// Some to bring, some to take: nothing is preselected across
		// directions, the person picks.
		for i := range d.Children {
			d.Children[i].Selected = false
		}
	}
	switch {
	case len(d.Children) == 0:
		d.Outcome, d.Reason = Denied, ReasonNothingToDo
	case wrongWay:
		d.Outcome = ChooseChildren
	case len(d.Children) == 1:
		if d.Children[0].Action == ActCheckIn {
			d.Outcome = CheckIn
		} else {
			d.Outcome = CheckOut
		}
	default:
		d.Outcome = ChooseChildren
	}
	if d.Outcome == CheckOut {
		d.Remember.CheckedOut = []string{d.Children[0].ID}
	}
	// Children this tap brings in: their own tap right after is not a
	// handover (it must not check them out again).
	for _, c := range d.Children {
		if c.Action == ActCheckIn {
			d.Remember.CheckedIn = append(d.Remember.CheckedIn, c.ID)
		}
	}
	if d.Outcome == CheckIn || d.Outcome == ChooseChildren {
		a := Assess(in.Roster, in.Presence, in.Now, d.Children)
		d.Warnings = append(d.Warnings, a.Warnings...)
		d = applyBlock(d, a)
	}
	d.PolicyVersion = PolicyVersions(in.Roster, d.Children)
	return d
}

// oneWayOthers reports whether any of ids would be acted on the other way
// than in.Role allows: present at an entrance, absent at an exit.
func oneWayOthers(in Input, ids []string) bool {
	for _, id := range ids {
		_, present := in.Presence.Child(id)
		if present && in.Role == attendance.ReaderIn || !present && in.Role == attendance.ReaderOut {
			if _, ok := in.Roster.Child(id); ok {
				return true
			}
		}
	}
	return false
}

// mixed reports whether cs holds children in both directions.
func mixed(cs []Child) bool {
	in, out := false, false
	for _, c := range cs {
		in = in || c.Action == ActCheckIn
		out = out || c.Action == ActCheckOut
	}
	return in && out
}

// waiting lists the children of ids present and to be taken out (not in
// skip, each once), unselected: they wait for staff.
func (in Input) waiting(ids, skip []string) []Child {
	var out []Child
	seen := map[string]bool{}
	for _, cid := range ids {
		if seen[cid] || slices.Contains(skip, cid) {
			continue
		}
		seen[cid] = true
		if c, ok := in.child(cid); ok && c.Present && in.Role != attendance.ReaderIn {
			c.Action, c.Selected = ActCheckOut, false
			out = append(out, c)
		}
	}
	return out
}

// siblings returns the children who share a guardian with any of cs (cs
// themselves included), in roster order.
func siblings(in Input, cs []string) []string {
	today := attendance.DateOf(in.Now)
	var out []string
	for _, cid := range cs {
		for _, g := range in.Roster.GuardiansOf(cid, today) {
			for _, sib := range in.Roster.ChildrenOf(g) {
				if in.guardian(sib, g) && !slices.Contains(out, sib) {
					out = append(out, sib)
				}
			}
		}
	}
	return out
}

func withdrawnAlert(in Input, p *roster.Person, children []string) string {
	var text string
	for _, cid := range children {
		c, _ := in.Roster.Child(cid)
		text += fmt.Sprintf("Gezag ingetrokken: %s voor %s. Niet meegeven; bel de ouder en de teamleider. ", p.Name, c.FirstName)
	}
	return text
}

// PolicyVersions names the versioned ratio policies of the groups of cs
// (e.g. "nl-kdv/2019"), comma-separated in first-seen order; events record
// it so central knows exactly which rules decided them.
func PolicyVersions(ix *roster.Index, cs []Child) string {
	var out string
	seen := map[string]bool{}
	for _, c := range cs {
		g, ok := ix.Group(c.GroupID)
		if !ok || seen[g.Policy] {
			continue
		}
		seen[g.Policy] = true
		pol, err := ratio.Lookup(g.Policy)
		if err != nil {
			continue
		}
		if out != "" {
			out += ","
		}
		out += pol.Version()
	}
	return out
}

// applyBlock turns a single check-in the ratio or capacity blocks into a
// request for staff.
func applyBlock(d Decision, a Assessment) Decision {
	if d.Outcome != CheckIn {
		return d
	}
	if a.Block != "" {
		d.Outcome, d.Reason = NeedsStaff, a.Block
	}
	return d
}

func banAlert(in Input, person string) string {
	p, _ := in.Roster.Person(person)
	var text string
	for _, cid := range in.Roster.BannedFrom(person) {
		c, _ := in.Roster.Child(cid)
		b, _ := in.Roster.Ban(cid, person)
		text += fmt.Sprintf("Contactverbod: %s voor %s. %s ", p.Name, c.FirstName, b.Note)
	}
	return text
}

func decideChild(in Input, id string) Decision {
	c, ok := in.child(id)
	if !ok {
		return Decision{Outcome: Denied, Reason: ReasonUnknownBadge}
	}
	d := Decision{Actor: Actor{Role: attendance.RoleChild, ID: id, Name: c.Name}}
	d.PolicyVersion = PolicyVersions(in.Roster, []Child{c})
	prev := in.recent()
	// A child tapping again right after it was checked in (by its own tap
	// or a grown-up's) or after leaving on its own: nothing changes, a
	// second tap must not undo the first.
	if justDone(prev, id, c.Present) {
		c.Action, c.Selected = ActNone, false
		d.Outcome, d.Reason, d.Children = CheckIn, ReasonAlreadyDone, []Child{c}
		if !c.Present {
			d.Outcome = CheckOut
		}
		d.Remember = prev
		return d
	}
	// An adult tapped first: this tap completes a two-tap handover, unless
	// the child may leave alone and the adult has nothing to do with it (an
	// unrelated parent's tap must not hold an independent child back).
	if prev != nil && prev.Role != attendance.RoleChild && prev.Role != attendance.RoleStaff &&
		!(c.Present && unrelated(in, id, prev.ID) && independent(in, id)) {
		for _, done := range prev.CheckedOut {
			if done == id { // the adult's tap already took this child out
				c.Action, c.Selected = ActNone, false
				d.Outcome, d.Reason, d.Children = CheckOut, ReasonHandover, []Child{c}
				return d
			}
		}
		if c.Present {
			return handover(in, d, id, prev.ID)
		}
	}
	if !c.Present {
		if c.Action == ActNone {
			d.Outcome, d.Reason = Denied, ReasonNothingToDo
			return d
		}
		d.Outcome, d.Children = CheckIn, []Child{c}
		a := Assess(in.Roster, in.Presence, in.Now, d.Children)
		d.Warnings = a.Warnings
		d = applyBlock(d, a)
		if d.Outcome == CheckIn {
			d.Remember = &Tap{Role: attendance.RoleChild, ID: id, At: in.Now, CheckedIn: []string{id}}
		}
		return d
	}
	if c.Action == ActNone {
		d.Outcome, d.Reason = Denied, ReasonNothingToDo
		return d
	}
	if independent(in, id) {
		d.Outcome, d.Reason, d.Children = CheckOut, ReasonIndependent, []Child{c}
		d.Remember = &Tap{Role: attendance.RoleChild, ID: id, At: in.Now, CheckedOut: []string{id}}
		return d
	}
	// Not allowed to leave alone: a grown-up must come; their tap within the
	// window completes the handover.
	c.Selected = false
	d.Outcome, d.Reason, d.Children = NeedsStaff, ReasonNeedsGrownUp, []Child{c}
	d.Remember = &Tap{Role: attendance.RoleChild, ID: id, At: in.Now}
	return d
}

// justDone reports whether the remembered tap prev already did what a tap
// of child id would now undo.
func justDone(prev *Tap, id string, present bool) bool {
	if prev == nil {
		return false
	}
	if present {
		return slices.Contains(prev.CheckedIn, id)
	}
	return prev.Role == attendance.RoleChild && prev.ID == id && slices.Contains(prev.CheckedOut, id)
}

func independent(in Input, child string) bool {
	_, ok := in.Roster.Independence(child, in.Now)
	return ok
}

// unrelated reports that a person has no link at all to a child: not a
// guardian, no authorisation or announcement (valid or not), no ban.
func unrelated(in Input, child, person string) bool {
	if slices.Contains(in.Roster.ChildrenOf(person), child) {
		return false // a guardian, or a former one
	}
	if _, ban := in.Roster.Ban(child, person); ban {
		return false
	}
	return !slices.Contains(in.Roster.Linked(person), child)
}

// handover pairs a child and an adult and checks the pair against the
// pickup rules.
func handover(in Input, d Decision, childID, personID string) Decision {
	c, ok := in.child(childID)
	if !ok {
		d.Outcome, d.Reason = Denied, ReasonUnknownBadge
		return d
	}
	p, ok := in.Roster.Person(personID)
	if !ok {
		d.Outcome, d.Reason = Denied, ReasonUnknownBadge
		return d
	}
	if d.Actor.Role == attendance.RoleChild {
		role := attendance.RolePickup
		if in.guardian(childID, personID) {
			role = attendance.RoleGuardian
		}
		d.Actor = Actor{Role: role, ID: personID, Name: p.Name, Relation: p.Relation}
	}
	d.Reason = ReasonHandover
	c.Action = ActCheckOut
	if !c.Present {
		c.Action, c.Selected = ActNone, false
		d.Outcome, d.Reason, d.Children = Denied, ReasonNothingToDo, []Child{c}
		return d
	}
	d.Children = []Child{c}
	if b, ban := in.Roster.Ban(childID, personID); ban {
		d.Outcome, d.Reason = Denied, ReasonContactBan
		d.StaffAlert = fmt.Sprintf("Contactverbod: %s voor %s. %s", p.Name, c.Name, b.Note)
		d.Children[0].Selected = false
		return d
	}
	today := attendance.DateOf(in.Now)
	if in.Roster.Withdrawn(childID, personID, today) {
		d.Outcome, d.Reason = Denied, ReasonWithdrawn
		d.StaffAlert = withdrawnAlert(in, p, []string{childID})
		d.Children[0].Selected = false
		return d
	}
	guardian := in.guardian(childID, personID)
	_, announced := in.Roster.Announcement(childID, personID, in.Now)
	if !guardian && !in.Roster.Authorised(childID, personID, today) && !announced {
		d.Outcome, d.Reason = NeedsStaff, ReasonNotAnnounced
		d.Children[0].Selected = false
		return d
	}
	if reason := ageCheck(in, p); !guardian && reason != "" {
		d.Outcome, d.Reason = NeedsStaff, reason
		d.Children[0].Selected = false
		return d
	}
	d.Children[0].Selected = true
	d.Outcome = CheckOut
	d.PolicyVersion = PolicyVersions(in.Roster, d.Children)
	return d
}

// GroupState is one group's ratio state.
type GroupState struct {
	GroupID  string `json:"id"`
	Name     string `json:"name"`
	Policy   string `json:"policy"`
	Children int    `json:"children"`
	Staff    int    `json:"staff_present"`
	Required int    `json:"staff_required"`
	Backup   bool   `json:"backup_required,omitempty"` // achterwacht (gastouder)
	// Problem is set when the composition is not permitted at all.
	Problem string `json:"problem,omitempty"`
	OK      bool   `json:"ok"`
	// ThreeHour is the live three-hour rule state (3-uursregeling) of the
	// group today. Groups leaves it nil; the door fills it on the staff
	// panel from its per-group ratio.Tracker.
	ThreeHour *ThreeHour `json:"three_hour,omitempty"`
}

// ThreeHour is a group's three-hour rule state today, for the staff panel:
//
//	minutes_below: minutes below the ratio so far today (rounded up), in or
//	               out of the pedagogical plan's windows
//	budget:        the minutes allowed today (180 for dagopvang and BSO
//	               vacation days, 30 on BSO school days; 0 on a day not open
//	               long enough to deviate at all)
//	alert:         "" when all is well, otherwise the ratio.AlertKind codes
//	               of the deviations running now, sorted, comma-separated:
//	               "outside_window", "over_budget", "below_floor" (fewer than
//	               half the required staff), "short_opening"
type ThreeHour struct {
	MinutesBelow int    `json:"minutes_below"`
	Budget       int    `json:"budget"`
	Alert        string `json:"alert"`
}

// Groups computes every group's ratio state for the presence p on the day
// of now.
func Groups(ix *roster.Index, p *attendance.Presence, now time.Time) []GroupState {
	return groupStates(ix, p.Children(), p.StaffPresent(), now, nil)
}

// groupStates computes the ratio state of the groups in only (every group
// when only is nil) for the children and staff present.
func groupStates(ix *roster.Index, children, staffIn []attendance.Stay, now time.Time, only map[string]bool) []GroupState {
	today := attendance.DateOf(now)
	kids := map[string][]ratio.Child{}
	for _, st := range children {
		c, ok := ix.Child(st.ID)
		if !ok || only != nil && !only[c.GroupID] {
			continue
		}
		kids[c.GroupID] = append(kids[c.GroupID], ratio.Child{Age: c.BirthDate.AgeOn(today)})
	}
	staff := map[string]int{}
	for _, st := range staffIn {
		staff[st.GroupID]++
	}
	out := make([]GroupState, 0, len(ix.Roster.Groups))
	for _, g := range ix.Roster.Groups {
		if only != nil && !only[g.ID] {
			continue
		}
		gs := GroupState{GroupID: g.ID, Name: g.Name, Policy: g.Policy, Children: len(kids[g.ID]), Staff: staff[g.ID]}
		if gs.Children > 0 {
			pol, err := ratio.Lookup(g.Policy)
			if err == nil {
				var req ratio.Requirement
				req, err = pol.Required(kids[g.ID])
				gs.Required, gs.Backup = req.Staff, req.Backup
			}
			if err != nil {
				gs.Problem = err.Error()
			}
		}
		gs.OK = gs.Problem == "" && gs.Staff >= gs.Required
		out = append(out, gs)
	}
	return out
}

// members caches the children of each group of the last index seen: Assess
// looks only at the groups a check-in touches, without sorting everyone
// present. An Index is immutable, so the cache is keyed by its pointer.
var members struct {
	sync.Mutex
	ix      *roster.Index
	byGroup map[string][]string
}

func membersOf(ix *roster.Index) map[string][]string {
	members.Lock()
	defer members.Unlock()
	if members.ix != ix {
		m := map[string][]string{}
		for _, c := range ix.Roster.Children {
			m[c.GroupID] = append(m[c.GroupID], c.ID)
		}
		members.ix, members.byGroup = ix, m
	}
	return members.byGroup
}

// presentIn returns the children and staff present in the groups of only,
// by roster lookups (no sort of everyone present). A staff member dropped
// from the roster while clocked in is not counted here (Groups counts
// them).
func presentIn(ix *roster.Index, p *attendance.Presence, only map[string]bool) (children, staff []attendance.Stay) {
	members := membersOf(ix)
	for g := range only {
		for _, c := range members[g] {
			if st, in := p.Child(c); in {
				children = append(children, st)
			}
		}
	}
	for _, m := range ix.Roster.Staff {
		if st, in := p.Staff(m.ID); in && only[st.GroupID] {
			staff = append(staff, st)
		}
	}
	return children, staff
}

// GroupsOf is Groups for the listed groups only, in roster order; it costs
// the size of those groups, not of everyone present.
func GroupsOf(ix *roster.Index, p *attendance.Presence, now time.Time, groupIDs ...string) []GroupState {
	only := make(map[string]bool, len(groupIDs))
	for _, g := range groupIDs {
		only[g] = true
	}
	children, staff := presentIn(ix, p, only)
	return groupStates(ix, children, staff, now, only)
}

// Assessment is what checking children in would do to ratio and capacity.
type Assessment struct {
	Warnings []Warning
	Block    string // a reason code when the location blocks this check-in
}

// Assess evaluates checking in the selected children of cs (check-outs only
// lower the load and are never blocked).
func Assess(ix *roster.Index, p *attendance.Presence, now time.Time, cs []Child) Assessment {
	var a Assessment
	// The children present after the check-ins, without copying presence:
	// the present children of the touched groups, plus the newcomers.
	total := p.CountChildren()
	touched := map[string]bool{}
	var added []attendance.Stay
	for _, c := range cs {
		if c.Action != ActCheckIn || !c.Selected {
			continue
		}
		if _, in := p.Child(c.ID); in {
			continue
		}
		added = append(added, attendance.Stay{ID: c.ID, GroupID: c.GroupID, Since: now})
		touched[c.GroupID] = true
		total++
	}
	if len(touched) == 0 {
		return a
	}
	present, staffIn := presentIn(ix, p, touched)
	present = append(present, added...)
	loc := ix.Roster.Location
	if !ix.Open(now) {
		a.Warnings = append(a.Warnings, Warning{Code: ReasonOutsideHours, Text: "Check-in buiten de openingstijden"})
	}
	if loc.MaxChildren > 0 && total > loc.MaxChildren {
		a.Warnings = append(a.Warnings, Warning{Code: ReasonCapacity,
			Text: fmt.Sprintf("Locatie vol: %s, maximaal %d", Count(total, "kind", "kinderen"), loc.MaxChildren)})
		a.Block = ReasonCapacity
	}
	for _, gs := range groupStates(ix, present, staffIn, now, touched) {
		g, _ := ix.Group(gs.GroupID)
		if g.MaxChildren > 0 && gs.Children > g.MaxChildren {
			a.Warnings = append(a.Warnings, Warning{Code: ReasonCapacity, GroupID: gs.GroupID,
				Text: fmt.Sprintf("%s vol: %s, maximaal %d", gs.Name, Count(gs.Children, "kind", "kinderen"), g.MaxChildren)})
			a.Block = ReasonCapacity
		}
		if !gs.OK {
			text := fmt.Sprintf("%s: %s aanwezig, %d nodig voor %s", gs.Name, Count(gs.Staff, "medewerker", "medewerkers"), gs.Required, Count(gs.Children, "kind", "kinderen"))
			if gs.Problem != "" {
				text = fmt.Sprintf("%s: deze samenstelling is niet toegestaan (%s)", gs.Name, gs.Problem)
			}
			a.Warnings = append(a.Warnings, Warning{Code: ReasonRatio, GroupID: gs.GroupID, Text: text})
			if loc.RatioMode == "block" && a.Block == "" {
				a.Block = ReasonRatio
			}
		}
	}
	return a
}

// StaffLeave evaluates a staff member clocking out: the groups whose ratio
// would break, or that are below ratio already and would lose staff.
func StaffLeave(ix *roster.Index, p *attendance.Presence, now time.Time, staffID string) []Warning {
	staffBefore := map[string]int{}
	for _, gs := range Groups(ix, p, now) {
		staffBefore[gs.GroupID] = gs.Staff
	}
	after := p.Clone()
	after.Apply(attendance.Event{Type: attendance.StaffOut, StaffID: staffID})
	var ws []Warning
	for _, gs := range Groups(ix, after, now) {
		// Breaking the ratio warns, and so does making a broken one worse.
		if !gs.OK && gs.Staff < staffBefore[gs.GroupID] {
			ws = append(ws, Warning{Code: ReasonRatioAfterLeave, GroupID: gs.GroupID,
				Text: fmt.Sprintf("%s: na uitklokken %s voor %s, %d nodig", gs.Name, Count(gs.Staff, "medewerker", "medewerkers"), Count(gs.Children, "kind", "kinderen"), gs.Required)})
		}
	}
	return ws
}

// ErrNothingSelected: a choice with no children.
var ErrNothingSelected = errors.New("rules: no child selected")
