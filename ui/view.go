package ui

import (
	"strings"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/door"
	"github.com/kinderdeur/kiosk/attendance/rules"
)

// The screen's JSON (PROTOCOL.md) and the API's (contract 4), mapped from
// the door's domain results. This is where the public screen's privacy is
// decided: first names only, a contact ban shown as the neutral
// "not_allowed", staff-only data only on the staff panel.

// View is a decision as the public screen may show it: first names only,
// nothing sensitive. A contact ban is shown as the neutral "not_allowed".
type View struct {
	ID          string        `json:"id"`
	Outcome     rules.Outcome `json:"outcome"`
	Reason      string        `json:"reason,omitempty"`
	At          time.Time     `json:"at"`
	Actor       PublicActor   `json:"actor"`
	Children    []ChildView   `json:"children,omitempty"`
	Session     string        `json:"session,omitempty"`
	ExpiresInMS int64         `json:"expires_in_ms,omitempty"`
	Committed   bool          `json:"committed"`
	// Reader is "in" or "out" when a one-way reader left some of the
	// person's children out (the page says "Dit is de ingang").
	Reader attendance.ReaderRole `json:"reader,omitempty"`
}

// PublicActor is who tapped, by first name.
type PublicActor struct {
	Role attendance.Role `json:"role,omitempty"`
	Name string          `json:"name,omitempty"`
}

// ChildView is a child on the public screen.
type ChildView struct {
	ID       string       `json:"id"`
	Name     string       `json:"name"`
	Group    string       `json:"group"`
	Present  bool         `json:"present"`
	Action   rules.Action `json:"action"`
	Selected bool         `json:"selected"`
	Since    string       `json:"since,omitempty"` // HH:MM local
	// Reverses: the undo question; acting now would reverse the child's
	// check-in or -out of a moment ago (by whoever did it).
	Reverses bool `json:"reverses,omitempty"`
}

// firstName is the public form of a person's name.
func firstName(name string) string {
	if f := strings.Fields(name); len(f) > 0 {
		return f[0]
	}
	return ""
}

// viewOf is the public form of a door result.
func viewOf(r door.Result) View {
	v := View{ID: r.ID, Outcome: r.Outcome, Reason: r.Reason, At: r.At,
		Actor:   PublicActor{Role: r.Actor.Role, Name: firstName(r.Actor.Name)},
		Session: r.Session, ExpiresInMS: r.ExpiresIn.Milliseconds(), Committed: r.Committed, Reader: r.Reader}
	switch r.Reason {
	case rules.ReasonContactBan, rules.ReasonWithdrawn:
		v.Reason = "not_allowed"
		v.Actor = PublicActor{}
		return v
	case rules.ReasonNotAnnounced, rules.ReasonTooYoung, rules.ReasonAgeUnknown:
		if !r.Committed {
			return v // which child is at stake is for staff eyes
		}
		// Committed: staff released the children, or a partly announced
		// pickup released some; the result names what happened.
	}
	for _, c := range r.Children {
		cv := ChildView{ID: c.ID, Name: c.Name, Group: c.Group, Present: c.Present, Action: c.Action, Selected: c.Selected, Reverses: c.Reverses}
		if !c.Since.IsZero() {
			cv.Since = c.Since.In(r.At.Location()).Format("15:04")
		}
		v.Children = append(v.Children, cv)
	}
	return v
}

// viewPtr is viewOf for an optional result (nil: JSON null).
func viewPtr(r *door.Result) *View {
	if r == nil {
		return nil
	}
	v := viewOf(*r)
	return &v
}

// Presence is contract 4: GET /api/v1/presence.
type Presence struct {
	At       time.Time          `json:"at"`
	Children []PresentPerson    `json:"children"`
	Staff    []PresentPerson    `json:"staff"`
	Groups   []rules.GroupState `json:"groups"`
}

// PresentPerson is a child or staff member present.
type PresentPerson struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	GroupID string    `json:"group_id"`
	Group   string    `json:"group"`
	Since   time.Time `json:"since"`
}

func presenceOf(p door.Presence) Presence {
	return Presence{At: p.At, Children: presentPeople(p.Children), Staff: presentPeople(p.Staff), Groups: nonNil(p.Groups)}
}

func presentPeople(ps []door.Person) []PresentPerson {
	out := make([]PresentPerson, 0, len(ps))
	for _, p := range ps {
		out = append(out, PresentPerson{ID: p.ID, Name: p.Name, GroupID: p.GroupID, Group: p.Group, Since: p.Since})
	}
	return out
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// StaffView is the staff panel: sent only while a staff session is open.
//
// Each of Groups carries "three_hour" (rules.ThreeHour), the live
// three-hour rule state of the group today:
//
//	{"minutes_below": N, "budget": M, "alert": "..."}
//
// minutes_below: minutes below the ratio so far today (rounded up, inside
// or outside the windows); budget: minutes allowed today (180, or 30 on a
// BSO school day; 0 on a day not open long enough to deviate); alert: ""
// or the deviations running now, sorted, comma-separated: "outside_window",
// "over_budget", "below_floor" (fewer than half the required staff),
// "short_opening". The field is absent when the location's windows are
// invalid (logged).
//
// Forgotten lists the children still present from an earlier day, or
// present while the location is closed: staff check each one out (manual
// check_out) or leave it; nothing is closed automatically.
type StaffView struct {
	Name         string             `json:"name"`
	StaffID      string             `json:"staff_id"`
	LocksInMS    int64              `json:"locks_in_ms"`
	PINRequired  bool               `json:"pin_required"`
	Groups       []rules.GroupState `json:"groups"`
	Present      []StaffChild       `json:"present"`
	StaffPresent []PresentPerson    `json:"staff_present"`
	Requests     []Request          `json:"requests"`
	RollCall     *RollCallView      `json:"roll_call"`
	Forgotten    []StaffChild       `json:"forgotten"`
	Warnings     []WarningView      `json:"warnings"`
	Absent       []StaffChild       `json:"absent"`
	Confirm      *ConfirmStaffLeave `json:"confirm,omitempty"`
	// Today lists today's stays for correction: stay is the id a correct
	// intent names, in/out HH:MM ("" when missing), corrected when a
	// correction changed it; absent when there are none. (In Go:
	// TodayView.)
	Today []TodayView `json:"today,omitempty"`
	// Expected is per group the children expected today and those their
	// parents reported absent in the portal (staff-only).
	Expected []ExpectedView `json:"expected"`
}

// ExpectedView is a group's expected-children line: "verwacht: 11,
// afgemeld: Mila (ziek)".
type ExpectedView struct {
	GroupID  string       `json:"group_id"`
	Group    string       `json:"group"`
	Expected int          `json:"expected"`
	Absent   []AbsentView `json:"absent"`
}

// AbsentView is a child reported absent today: kind sick, cancel or
// late_cancel (no free text).
type AbsentView struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Kind string `json:"kind"`
}

// AnnouncedView is a pickup a parent announced in the portal, staff-only:
// who picks up (person, relation), the window (from/until HH:MM, "" open),
// who announced it and when (by, at HH:MM location time; "" unknown), the
// ID they will show, and whether the window covers now.
type AnnouncedView struct {
	ChildID  string `json:"child_id"`
	PersonID string `json:"person_id"`
	Person   string `json:"person"`
	Relation string `json:"relation,omitempty"`
	From     string `json:"from,omitempty"`
	Until    string `json:"until,omitempty"`
	By       string `json:"by,omitempty"`
	At       string `json:"at,omitempty"`
	IDNote   string `json:"id_note,omitempty"`
	Now      bool   `json:"now"`
}

func announcedViews(as []door.Announcement) []AnnouncedView {
	var out []AnnouncedView
	for _, a := range as {
		v := AnnouncedView{ChildID: a.ChildID, PersonID: a.PersonID, Person: a.Person, Relation: a.Relation, From: a.From, Until: a.Until,
			By: a.By, IDNote: a.IDNote, Now: a.Covers}
		if !a.At.IsZero() {
			v.At = a.At.Format("15:04")
		}
		out = append(out, v)
	}
	return out
}

func expectedViews(gs []door.GroupExpected) []ExpectedView {
	out := make([]ExpectedView, 0, len(gs))
	for _, g := range gs {
		v := ExpectedView{GroupID: g.GroupID, Group: g.Group, Expected: g.Expected, Absent: []AbsentView{}}
		for _, a := range g.Absent {
			v.Absent = append(v.Absent, AbsentView{ID: a.ID, Name: a.Name, Kind: a.Kind})
		}
		out = append(out, v)
	}
	return out
}

// TodayView is one stay of today on the staff panel.
type TodayView struct {
	Stay      string `json:"stay"`
	ChildID   string `json:"child_id"`
	Name      string `json:"name"`
	Group     string `json:"group"`
	In        string `json:"in"`
	Out       string `json:"out"`
	Corrected bool   `json:"corrected,omitempty"`
}

// todayViews maps today's stays (times already in the location's zone).
func todayViews(ts []door.TodayStay) []TodayView {
	out := make([]TodayView, 0, len(ts))
	hm := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Format("15:04")
	}
	for _, t := range ts {
		out = append(out, TodayView{Stay: t.ID, ChildID: t.ChildID, Name: t.Name, Group: t.Group, In: hm(t.In), Out: hm(t.Out), Corrected: t.Corrected})
	}
	return out
}

// WarningView is a staff note on the panel: the code (the page words it),
// the group, the door's Dutch detail, when it was last raised (HH:MM in the
// location's zone) and how often within door.NoteRepeatWindow. The list
// comes sorted: contact bans and unrecorded taps first, then newest first.
type WarningView struct {
	Code  string `json:"code"`
	Group string `json:"group,omitempty"`
	Text  string `json:"text"`
	At    string `json:"at,omitempty"`
	Count int    `json:"count"`
}

func warningViews(ns []door.Note) []WarningView {
	out := make([]WarningView, 0, len(ns))
	for _, n := range ns {
		w := WarningView{Code: n.Code, Group: n.GroupID, Text: n.Text, Count: max(n.Count, 1)}
		if !n.At.IsZero() {
			w.At = n.At.Format("15:04")
		}
		out = append(out, w)
	}
	return out
}

// StaffChild is a child on the staff panel, with staff-only alerts.
type StaffChild struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Group string `json:"group"`
	Since string `json:"since,omitempty"`
	Alert string `json:"alert,omitempty"`
	// Announced: pickups announced for the child today; Absence: the kind
	// of absence its parents reported for today (absent list only).
	Announced []AnnouncedView `json:"announced,omitempty"`
	Absence   string          `json:"absence,omitempty"`
}

// Request is a needs_staff session waiting for staff.
type Request struct {
	Session  string       `json:"session"`
	Reason   string       `json:"reason"`
	Person   string       `json:"person"`
	Role     string       `json:"role"`
	Relation string       `json:"relation,omitempty"`
	Children []StaffChild `json:"children"`
	Photo    bool         `json:"photo"`
	Alert    string       `json:"alert,omitempty"`
	Warnings []string     `json:"warnings,omitempty"`
	// ReleaseTo: for a child who asked on its own, the grown-ups staff may
	// release it to (confirm with "released_to"); staff-only.
	ReleaseTo []ReleaseCandidate `json:"release_to,omitempty"`
	// Announced: the tapping person's announcements for these children
	// today, also outside their window ("aangekondigd voor 16:00-17:00").
	Announced []AnnouncedView `json:"announced,omitempty"`
}

// ReleaseCandidate is a grown-up a child may be released to.
type ReleaseCandidate struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Relation string `json:"relation,omitempty"`
}

// RollCallView is the emergency roll call.
type RollCallView struct {
	Started string         `json:"started"`
	People  []RollCallLine `json:"people"`
	Missing int            `json:"missing"`
}

// RollCallLine is one person in the roll call.
type RollCallLine struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Group     string `json:"group"`
	Kind      string `json:"kind"` // child or staff
	Accounted bool   `json:"accounted"`
}

// ConfirmStaffLeave asks a staff member to confirm a clock-out that breaks
// the ratio.
type ConfirmStaffLeave struct {
	Warnings []rules.Warning `json:"warnings"`
}

// staffChildren maps children on the staff panel; since formats their
// Since ("" leaves it out). nil stays nil (JSON null).
func staffChildren(ps []door.Person, since string) []StaffChild {
	var out []StaffChild
	for _, p := range ps {
		c := StaffChild{ID: p.ID, Name: p.Name, Group: p.Group, Alert: p.Alert, Announced: announcedViews(p.Announced), Absence: p.Absence}
		if since != "" {
			c.Since = p.Since.Format(since)
		}
		out = append(out, c)
	}
	return out
}

// staffViewOf is the staff panel on the wire (nil: no staff session, JSON
// null).
func staffViewOf(p *door.StaffPanel) *StaffView {
	if p == nil {
		return nil
	}
	v := &StaffView{Name: p.Name, StaffID: p.StaffID, LocksInMS: p.LocksIn.Milliseconds(), PINRequired: p.PINRequired,
		Groups:       p.Groups,
		Present:      nonNil(staffChildren(p.Present, "15:04")),
		StaffPresent: presentPeople(p.StaffPresent),
		Requests:     []Request{},
		Forgotten:    nonNil(staffChildren(p.Forgotten, "2006-01-02 15:04")),
		Warnings:     warningViews(p.Warnings),
		Absent:       nonNil(staffChildren(p.Absent, "")),
		Today:        todayViews(p.Today),
		Expected:     expectedViews(p.Expected),
	}
	for i := range v.Absent {
		v.Absent[i].Alert = "" // the absent list is names only
	}
	for _, r := range p.Requests {
		rv := Request{Session: r.Session, Reason: r.Reason, Person: r.Person, Role: string(r.Role), Relation: r.Relation,
			Children: staffChildren(r.Children, ""), Photo: r.Photo, Alert: r.Alert, Announced: announcedViews(r.Announced)}
		for _, w := range r.Warnings {
			rv.Warnings = append(rv.Warnings, w.Text)
		}
		for _, a := range r.ReleaseTo {
			rv.ReleaseTo = append(rv.ReleaseTo, ReleaseCandidate{ID: a.ID, Name: a.Name, Relation: a.Relation})
		}
		v.Requests = append(v.Requests, rv)
	}
	if rc := p.RollCall; rc != nil {
		v.RollCall = &RollCallView{Started: rc.Started.Format("15:04"), Missing: rc.Missing}
		for _, l := range rc.People {
			v.RollCall.People = append(v.RollCall.People, RollCallLine{ID: l.ID, Name: l.Name, Group: l.Group, Kind: l.Kind, Accounted: l.Accounted})
		}
	}
	if p.Confirm != nil {
		v.Confirm = &ConfirmStaffLeave{Warnings: p.Confirm.Warnings}
	}
	return v
}
