package door

import (
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/roster"
)

// What the staff panel says about the parents' portal: announced pickups
// ("Henk K. 16:00-17:00, aangekondigd door Fatima om 16:55") and reported
// absences ("verwacht: 11, afgemeld: Mila (ziek)"). Staff-only: the public
// screen never carries them.

// Announcement is a pickup a parent announced for a child today, as staff
// see it.
type Announcement struct {
	ChildID  string
	PersonID string
	Person   string // who picks up (name and initial)
	Relation string
	From     string // HH:MM; "" all day
	Until    string
	By       string    // the announcing parent's name ("" unknown)
	At       time.Time // when announced, location time (zero unknown)
	IDNote   string    // the kind of ID they will show
	Covers   bool      // the window covers now
}

// GroupExpected is a group's expected-children line: the children of the
// group minus those whose parents reported them absent today.
type GroupExpected struct {
	GroupID  string
	Group    string
	Expected int
	Absent   []AbsentChild // reported absent today, roster order
}

// AbsentChild is a child reported absent today.
type AbsentChild struct {
	ID   string
	Name string
	Kind string // sick, cancel, late_cancel
}

// announcementsOf lists the announced pickups of child today (person:
// only theirs; "" everyone's).
func announcementsOf(ix *roster.Index, child, person string, now time.Time) []Announcement {
	var out []Announcement
	for _, a := range ix.AnnouncedOn(child, attendance.DateOf(now)) {
		if person != "" && a.PersonID != person {
			continue
		}
		an := Announcement{ChildID: child, PersonID: a.PersonID, From: a.From, Until: a.Until, IDNote: a.IDNote, Covers: a.Covers(now)}
		if p, ok := ix.Person(a.PersonID); ok {
			an.Person, an.Relation = p.Name, p.Relation
		}
		an.By, an.At = ix.Announcer(a)
		out = append(out, an)
	}
	return out
}

// expectedOf is every group's expected-children line today.
func expectedOf(ix *roster.Index, now time.Time) []GroupExpected {
	d := attendance.DateOf(now)
	out := make([]GroupExpected, 0, len(ix.Roster.Groups))
	at := map[string]int{}
	for _, g := range ix.Roster.Groups {
		at[g.ID] = len(out)
		out = append(out, GroupExpected{GroupID: g.ID, Group: g.Name})
	}
	for _, c := range ix.Roster.Children {
		i, ok := at[c.GroupID]
		if !ok {
			continue
		}
		if a, ok := ix.Absence(c.ID, d); ok {
			out[i].Absent = append(out[i].Absent, AbsentChild{ID: c.ID, Name: c.FirstName, Kind: a.Kind})
			continue
		}
		out[i].Expected++
	}
	return out
}
