package door

import (
	"sort"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/attendance/rules"
)

// What the door answers: domain values. The screen (package ui) decides
// what of them the public may see and how they look on the wire.

// Result is a decision as the door carried it out: the rules' decision
// (with its staff-only parts: names, alerts), when, the session when it
// waits for input, and whether its events are on disk.
type Result struct {
	rules.Decision
	ID        string
	At        time.Time // in the location's time zone
	Session   string    // set while the decision waits for input
	ExpiresIn time.Duration
	Committed bool
}

// Person is someone present, or a child on the staff panel.
type Person struct {
	ID      string
	Name    string // a child's first name, a staff member's name
	GroupID string
	Group   string
	Since   time.Time // in the location's time zone; zero when not present
	Alert   string    // staff-only (a child's allergy): the staff panel only
	// Announced: the pickups a parent announced for the child today, and
	// Absence the kind of absence a parent reported for today ("" none):
	// the staff panel only (announced.go).
	Announced []Announcement
	Absence   string
}

// Presence is who is present now, derived from committed events.
type Presence struct {
	At       time.Time
	Children []Person
	Staff    []Person
	Groups   []rules.GroupState
}

// Snapshot is the state a newly connected screen starts from.
type Snapshot struct {
	Location string
	TimeZone string
	Decision *Result     // the decision on screen, nil when idle
	Staff    *StaffPanel // nil unless a staff session is open
}

// StaffPanel is what staff see, only while a staff session is open.
// Groups carry the live three-hour state (rules.ThreeHour, nil when the
// location's windows are invalid). Forgotten lists the children still
// present from an earlier day, or present while the location is closed:
// staff check each one out or leave it; nothing is closed automatically.
type StaffPanel struct {
	StaffID      string
	Name         string
	LocksIn      time.Duration
	PINRequired  bool // nothing else is filled in until the PIN is entered
	Groups       []rules.GroupState
	Present      []Person // children, with alerts
	StaffPresent []Person
	Requests     []Request
	RollCall     *RollCall
	Forgotten    []Person
	Warnings     []Note // pinned first, then newest first (warnings.sorted)
	Absent       []Person
	Confirm      *ConfirmStaffLeave
	Today        []TodayStay     // today's stays, to correct (corrections.go)
	Expected     []GroupExpected // per group: expected today, reported absent (announced.go)
}

// Request is a needs_staff session waiting for staff.
type Request struct {
	Session  string
	Reason   string
	Person   string
	Role     attendance.Role
	Relation string
	Children []Person // with alerts
	Photo    bool     // a child at stake has photo consent
	Alert    string
	Warnings []rules.Warning
	// ReleaseTo: for a child who asked on its own, the grown-ups staff may
	// release it to (guardians, authorised and announced people; nobody
	// under a ban or with rights withdrawn). Staff-only.
	ReleaseTo []rules.Actor
	// Announced: the tapping person's announced pickups of the request's
	// children today, also those outside their time window ("aangekondigd
	// voor 16:00-17:00").
	Announced []Announcement
}

// RollCall is the emergency roll call: everyone present, accounted or not.
type RollCall struct {
	Started time.Time
	People  []RollCallLine
	Missing int
}

// RollCallLine is one person in the roll call.
type RollCallLine struct {
	Person
	Kind      string // child or staff
	Accounted bool
}

// ConfirmStaffLeave asks a staff member to confirm a clock-out that breaks
// the ratio.
type ConfirmStaffLeave struct {
	Warnings []rules.Warning
}

// result is a fresh result for d.
func result(d rules.Decision, now time.Time) Result {
	return Result{Decision: d, ID: newID("d-"), At: now}
}

// Presence returns who is present now, derived from committed events. It
// takes the state lock only to read two pointers: the presence it shares
// is never changed afterwards (copy on write).
func (s *Service) Presence() Presence {
	s.mu.Lock()
	ix, p, now := s.ix, s.pres.share(), s.now()
	s.mu.Unlock()
	return presenceOf(ix, p, now)
}

func presenceOf(ix *roster.Index, p *attendance.Presence, now time.Time) Presence {
	out := Presence{At: now, Children: []Person{}, Staff: []Person{}, Groups: []rules.GroupState{}}
	if ix == nil {
		return out
	}
	group := func(id string) string {
		if g, ok := ix.Group(id); ok {
			return g.Name
		}
		return ""
	}
	for _, st := range p.Children() {
		name := st.ID
		if c, ok := ix.Child(st.ID); ok {
			name = c.FirstName
		}
		out.Children = append(out.Children, Person{ID: st.ID, Name: name, GroupID: st.GroupID, Group: group(st.GroupID), Since: st.Since.In(now.Location())})
	}
	for _, st := range p.StaffPresent() {
		name := st.ID
		if m, ok := ix.Staff(st.ID); ok {
			name = m.Name
		}
		out.Staff = append(out.Staff, Person{ID: st.ID, Name: name, GroupID: st.GroupID, Group: group(st.GroupID), Since: st.Since.In(now.Location())})
	}
	out.Groups = rules.Groups(ix, p, now)
	return out
}

// Snapshot returns the current screen state.
func (s *Service) Snapshot() Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	var snap Snapshot
	if s.ix != nil {
		snap.Location = s.ix.Roster.Location.Name
		snap.TimeZone = s.ix.TZ.String()
	}
	snap.Decision = s.sessions.onScreen(s.now())
	snap.Staff = s.staffPanel()
	return snap
}

// staffPanel is the staff panel now, nil without an open staff session;
// s.mu held.
func (s *Service) staffPanel() *StaffPanel {
	st := s.staff.session
	if st == nil || s.ix == nil {
		return nil
	}
	now := s.now()
	v := &StaffPanel{Name: st.name, StaffID: st.staffID, PINRequired: st.needPIN,
		LocksIn: max(0, st.lastSeen.Add(s.staff.lockAfter).Sub(now)),
		Present: []Person{}, Requests: []Request{}, Forgotten: []Person{}, Absent: []Person{},
		Warnings: s.warn.sorted(), StaffPresent: []Person{}}
	if st.needPIN {
		return v // nothing else until the PIN is entered
	}
	v.Today = s.todayOnPanel(now)
	pres := presenceOf(s.ix, s.pres.current(), now)
	v.Groups, v.StaffPresent = pres.Groups, pres.Staff
	for i := range v.Groups {
		v.Groups[i].ThreeHour = s.three.report(v.Groups[i].GroupID)
	}
	present := map[string]bool{}
	for _, pp := range pres.Children {
		if c, ok := s.ix.Child(pp.ID); ok {
			pp.Alert = c.StaffAlert
		}
		pp.Announced = announcementsOf(s.ix, pp.ID, "", now)
		present[pp.ID] = true
		v.Present = append(v.Present, pp)
		// Forgotten check-outs: still in from an earlier day, or after closing.
		if forgotten(s.ix, pp.Since, now) {
			v.Forgotten = append(v.Forgotten, pp)
		}
	}
	for _, c := range s.ix.Roster.Children {
		if !present[c.ID] {
			g, _ := s.ix.Group(c.GroupID)
			ap := Person{ID: c.ID, Name: c.FirstName, GroupID: c.GroupID, Group: g.Name, Announced: announcementsOf(s.ix, c.ID, "", now)}
			if a, ok := s.ix.Absence(c.ID, attendance.DateOf(now)); ok {
				ap.Absence = a.Kind
			}
			v.Absent = append(v.Absent, ap)
		}
	}
	for _, ss := range s.sessions.open {
		if !ss.staff {
			continue
		}
		d := ss.decision
		r := Request{Session: ss.id, Reason: d.Reason, Person: d.Actor.Name, Role: d.Actor.Role, Relation: d.Actor.Relation, Alert: d.StaffAlert, Warnings: d.Warnings}
		for _, c := range d.Children {
			rc := Person{ID: c.ID, Name: c.Name, GroupID: c.GroupID, Group: c.Group}
			if ch, ok := s.ix.Child(c.ID); ok {
				rc.Alert = ch.StaffAlert
				r.Photo = r.Photo || ch.PhotoConsent
			}
			r.Children = append(r.Children, rc)
			if d.Actor.Role != attendance.RoleChild {
				r.Announced = append(r.Announced, announcementsOf(s.ix, c.ID, d.Actor.ID, now)...)
			}
		}
		if d.Actor.Role == attendance.RoleChild {
			r.ReleaseTo = rules.Candidates(s.ix, now, d)
		}
		v.Requests = append(v.Requests, r)
	}
	sort.Slice(v.Requests, func(i, j int) bool { return v.Requests[i].Session < v.Requests[j].Session })
	v.Expected = expectedOf(s.ix, now)
	v.RollCall = s.roll.view(pres)
	if st.pending != nil {
		v.Confirm = &ConfirmStaffLeave{Warnings: st.pending.Warnings}
	}
	return v
}
