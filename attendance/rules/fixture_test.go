package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/roster"
)

// ams is the zone every fixture location uses.
var ams = mustLoad("Europe/Amsterdam")

func mustLoad(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// at is a wall-clock time in Amsterdam.
func at(date string, hh, mm int) time.Time {
	d := attendance.MustDate(date)
	return time.Date(d.Year, d.Month, d.Day, hh, mm, 0, 0, ams)
}

// hashOf is the fixture's badge hash of a holder (64 hex characters).
func hashOf(holder string) string {
	h := sha256.Sum256([]byte("badge:" + holder))
	return hex.EncodeToString(h[:])
}

// wed is the fixture's ordinary day: Wednesday 4 March 2026.
const wed = "2026-03-04"

// fixture returns a small location that exercises every rule:
//
//	g-a "Apen" (1:3), g-b "BSO" (1:10, max 4 children), g-k "Kikkers" (nl-kdv)
//	p-one: guardian of c-one only
//	p-multi: guardian of c-m1, c-m2, c-m3
//	p-gp: grandparent, standing authorisation for c-one on Mon and Wed, from
//	      2026-01-01 until 2026-06-30
//	p-ann: announced for c-one on 2026-03-04 15:00-17:00
//	p-ban: contact ban for c-one (and no other link)
//	p-teen: sibling born 2010-05-01, standing authorisation for c-m1
//	p-stranger: a known person with no link to anyone
//	c-free (BSO): own badge, independence permission (this school year)
//	c-stay (BSO): own badge, no permission; guardian p-stay
//	c-old (BSO): own badge, expired permission
//	c-late (BSO): own badge, permission Mon-Fri 16:00-17:30 only
//	s-a (works in g-a), s-b (g-b)
func fixture(mods ...func(*roster.Roster)) *roster.Index {
	r := roster.Roster{
		Version: 7,
		Location: roster.Location{ID: "loc", Name: "Test", TimeZone: "Europe/Amsterdam", Country: "NL", Kind: "kdv",
			MinPickupAge: 16},
		Groups: []roster.Group{
			{ID: "g-a", Name: "Apen", Policy: "1:3"},
			{ID: "g-b", Name: "BSO", Policy: "1:10", MaxChildren: 4},
			{ID: "g-k", Name: "Kikkers", Policy: "nl-kdv"},
		},
		Children: []roster.Child{
			{ID: "c-one", FirstName: "Olivia", GroupID: "g-a", BirthDate: attendance.MustDate("2024-01-10")},
			{ID: "c-m1", FirstName: "Max", GroupID: "g-a", BirthDate: attendance.MustDate("2023-05-01")},
			{ID: "c-m2", FirstName: "Mia", GroupID: "g-a", BirthDate: attendance.MustDate("2022-05-01")},
			{ID: "c-m3", FirstName: "Mo", GroupID: "g-b", BirthDate: attendance.MustDate("2018-05-01")},
			{ID: "c-free", FirstName: "Finn", GroupID: "g-b", BirthDate: attendance.MustDate("2016-02-01")},
			{ID: "c-stay", FirstName: "Sara", GroupID: "g-b", BirthDate: attendance.MustDate("2017-02-01")},
			{ID: "c-old", FirstName: "Otto", GroupID: "g-b", BirthDate: attendance.MustDate("2016-06-01")},
			{ID: "c-late", FirstName: "Lina", GroupID: "g-b", BirthDate: attendance.MustDate("2016-07-01")},
			{ID: "c-k1", FirstName: "Kai", GroupID: "g-k", BirthDate: attendance.MustDate("2025-01-01")},
		},
		People: []roster.Person{
			{ID: "p-one", Name: "Olga O.", Relation: "moeder"},
			{ID: "p-multi", Name: "Mark M.", Relation: "vader"},
			{ID: "p-gp", Name: "Gerda G.", Relation: "oma", BirthDate: attendance.MustDate("1955-02-11")},
			{ID: "p-ann", Name: "Anne A.", Relation: "buurvrouw", BirthDate: attendance.MustDate("1984-07-30")},
			{ID: "p-ban", Name: "Bart B.", Relation: "vader"},
			{ID: "p-teen", Name: "Tim T.", Relation: "broer", BirthDate: attendance.MustDate("2010-05-01")},
			{ID: "p-stranger", Name: "Stan S.", BirthDate: attendance.MustDate("1990-10-10")},
			{ID: "p-stay", Name: "Sandra S.", Relation: "moeder"},
			{ID: "p-free", Name: "Fleur F.", Relation: "moeder"},
		},
		Staff: []roster.Staff{
			{ID: "s-a", Name: "Anouk", Groups: []string{"g-a"}},
			{ID: "s-b", Name: "Bram", Groups: []string{"g-b"}},
		},
		Guardianships: []roster.Guardianship{
			{ChildID: "c-one", PersonID: "p-one"},
			{ChildID: "c-m1", PersonID: "p-multi"}, {ChildID: "c-m2", PersonID: "p-multi"}, {ChildID: "c-m3", PersonID: "p-multi"},
			{ChildID: "c-stay", PersonID: "p-stay"}, {ChildID: "c-free", PersonID: "p-free"},
		},
		Authorisations: []roster.Authorisation{
			{ChildID: "c-one", PersonID: "p-gp", Weekdays: []time.Weekday{time.Monday, time.Wednesday},
				From: attendance.MustDate("2026-01-01"), Until: attendance.MustDate("2026-06-30")},
			{ChildID: "c-m1", PersonID: "p-teen"},
		},
		Announced: []roster.AnnouncedPickup{
			{ID: "a-1", ChildID: "c-one", PersonID: "p-ann", Date: attendance.MustDate(wed), From: "15:00", Until: "17:00"},
		},
		ContactBans: []roster.ContactBan{
			{ChildID: "c-one", PersonID: "p-ban", Note: "rechtbank"},
		},
		Permissions: []roster.IndependencePermission{
			{ChildID: "c-free", Scope: "home", From: attendance.MustDate("2025-09-01"), Until: attendance.MustDate("2026-08-31"), GrantedBy: "p-free"},
			{ChildID: "c-old", Scope: "home", From: attendance.MustDate("2024-09-01"), Until: attendance.MustDate("2025-08-31")},
			{ChildID: "c-late", Scope: "club", From: attendance.MustDate("2025-09-01"), Until: attendance.MustDate("2026-08-31"),
				Weekdays: []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}, After: "16:00", Before: "17:30"},
		},
	}
	for wd := time.Monday; wd <= time.Friday; wd++ {
		r.Location.Hours = append(r.Location.Hours, roster.Hours{Weekday: wd, Open: "07:00", Close: "18:30"})
	}
	holders := map[string]attendance.Role{
		"p-one": attendance.RoleGuardian, "p-multi": attendance.RoleGuardian, "p-gp": attendance.RolePickup,
		"p-ann": attendance.RolePickup, "p-ban": attendance.RolePickup, "p-teen": attendance.RolePickup,
		"p-stranger": attendance.RolePickup, "p-stay": attendance.RoleGuardian, "p-free": attendance.RoleGuardian,
		"s-a": attendance.RoleStaff, "s-b": attendance.RoleStaff,
		"c-free": attendance.RoleChild, "c-stay": attendance.RoleChild, "c-old": attendance.RoleChild, "c-late": attendance.RoleChild,
	}
	for _, id := range sortedKeys(holders) {
		r.Badges = append(r.Badges, roster.Badge{Hash: hashOf(id), Role: holders[id], HolderID: id})
	}
	for _, m := range mods {
		m(&r)
	}
	ix, err := roster.NewIndex(&r)
	if err != nil {
		panic(err)
	}
	return ix
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// present builds a presence: ids starting with "s-" are staff (in their
// first group), others children (in their roster group), all since since.
func present(ix *roster.Index, since time.Time, ids ...string) *attendance.Presence {
	p := attendance.NewPresence()
	for i, id := range ids {
		e := attendance.Event{Seq: int64(i + 1), Wall: since}
		if id[:2] == "s-" {
			e.Type, e.StaffID, e.GroupID = attendance.StaffIn, id, StaffGroup(ix, id)
		} else {
			c, ok := ix.Child(id)
			if !ok {
				panic("fixture: no child " + id)
			}
			e.Type, e.ChildID, e.GroupID = attendance.ChildCheckIn, id, c.GroupID
		}
		p.Apply(e)
	}
	return p
}

// tapBy is the Input of holder's badge tapped at now on a "both" reader.
func tapBy(ix *roster.Index, p *attendance.Presence, holder string, now time.Time) Input {
	in := Input{Now: now, Role: attendance.ReaderBoth, Roster: ix, Presence: p}
	if b, ok := ix.Badge(hashOf(holder)); ok {
		in.Badge = &b
	}
	return in
}

func mustFixtureOK(t *testing.T) {
	t.Helper()
	if d := attendance.MustDate(wed); d.Weekday() != time.Wednesday {
		t.Fatalf("fixture day %s is a %s", wed, d.Weekday())
	}
}
