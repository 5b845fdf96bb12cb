package rules

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/roster"
)

// summary is the part of a decision a test compares.
type summary struct {
	Outcome  Outcome
	Reason   string
	Actor    string
	Children []string // "id:action:sel" or "id:action:-"
	Warnings []string // codes, sorted
	Alert    bool     // a staff alert is set
}

func summarise(d Decision) summary {
	s := summary{Outcome: d.Outcome, Reason: d.Reason, Actor: d.Actor.ID, Alert: d.StaffAlert != ""}
	for _, c := range d.Children {
		sel := "-"
		if c.Selected {
			sel = "sel"
		}
		s.Children = append(s.Children, fmt.Sprintf("%s:%s:%s", c.ID, c.Action, sel))
	}
	for _, w := range d.Warnings {
		s.Warnings = append(s.Warnings, w.Code)
	}
	slices.Sort(s.Warnings)
	return s
}

func kids(s ...string) []string { return s }

func TestDecide(t *testing.T) {
	mustFixtureOK(t)
	base := fixture()
	now := at(wed, 10, 0)
	staffIn := []string{"s-a", "s-b"}
	with := func(ids ...string) []string { return append(append([]string{}, staffIn...), ids...) }
	block := func(r *roster.Roster) { r.Location.RatioMode = "block" }
	mini := func(r *roster.Roster) { r.Location.MaxChildren = 6 }
	sundayHours := func(r *roster.Roster) {
		r.Location.Hours = append(r.Location.Hours, roster.Hours{Weekday: time.Sunday, Open: "07:00", Close: "18:30"})
	}
	dstAnnounced := func(r *roster.Roster) {
		r.Announced = append(r.Announced,
			roster.AnnouncedPickup{ID: "a-spring", ChildID: "c-one", PersonID: "p-stranger", Date: attendance.MustDate("2026-03-29"), From: "01:30", Until: "03:30"},
			roster.AnnouncedPickup{ID: "a-autumn", ChildID: "c-one", PersonID: "p-stranger", Date: attendance.MustDate("2026-10-25"), From: "02:00", Until: "02:30"},
			roster.AnnouncedPickup{ID: "a-day", ChildID: "c-m1", PersonID: "p-stranger", Date: attendance.MustDate(wed)})
	}
	leapTeen := func(min int) func(*roster.Roster) {
		return func(r *roster.Roster) {
			r.Location.MinPickupAge = min
			r.People = append(r.People, roster.Person{ID: "p-leap", Name: "Lea L.", Relation: "zus", BirthDate: attendance.MustDate("2008-02-29")})
			r.Authorisations = append(r.Authorisations, roster.Authorisation{ChildID: "c-one", PersonID: "p-leap"})
			r.Badges = append(r.Badges, roster.Badge{Hash: hashOf("p-leap"), Role: attendance.RolePickup, HolderID: "p-leap"})
		}
	}
	noStaff := []string{}
	fullBSO := with("c-free", "c-old", "c-late", "c-m3")

	for _, tt := range []struct {
		name    string
		ix      *roster.Index
		present []string
		holder  string // "" for an unknown card
		reader  attendance.ReaderRole
		now     time.Time
		want    summary
	}{
		{name: "unknown badge", holder: "", want: summary{Outcome: Denied, Reason: ReasonUnknownBadge}},
		{name: "badge of no one in the roster", holder: "p-nobody", want: summary{Outcome: Denied, Reason: ReasonUnknownBadge}},

		// Guardians.
		{name: "guardian, one child, absent: check in", holder: "p-one", present: with(),
			want: summary{Outcome: CheckIn, Actor: "p-one", Children: kids("c-one:check_in:sel")}},
		{name: "guardian, one child, present: check out", holder: "p-one", present: with("c-one"),
			want: summary{Outcome: CheckOut, Actor: "p-one", Children: kids("c-one:check_out:sel")}},
		{name: "guardian, several: choose, all preselected", holder: "p-multi", present: with(),
			want: summary{Outcome: ChooseChildren, Actor: "p-multi", Children: kids("c-m1:check_in:sel", "c-m2:check_in:sel", "c-m3:check_in:sel")}},
		{name: "guardian, several: action per child's state", holder: "p-multi", present: with("c-m2"),
			want: summary{Outcome: ChooseChildren, Actor: "p-multi", Children: kids("c-m1:check_in:-", "c-m2:check_out:-", "c-m3:check_in:-")}},
		{name: "guardian, several, all present: choose to take out", holder: "p-multi", present: with("c-m1", "c-m2", "c-m3"),
			want: summary{Outcome: ChooseChildren, Actor: "p-multi", Children: kids("c-m1:check_out:sel", "c-m2:check_out:sel", "c-m3:check_out:sel")}},

		// Reader roles.
		{name: "in-reader: present child is not checked out", holder: "p-one", present: with("c-one"), reader: attendance.ReaderIn,
			want: summary{Outcome: Denied, Reason: ReasonNothingToDo, Actor: "p-one"}},
		{name: "out-reader: absent child is not checked in", holder: "p-one", present: with(), reader: attendance.ReaderOut,
			want: summary{Outcome: Denied, Reason: ReasonNothingToDo, Actor: "p-one"}},
		// A one-way reader with a child present the other way: the person
		// may have come for that one (a parent picking up at the entrance):
		// what the reader can do is offered, never done, nothing selected.
		{name: "in-reader, one child present: the absent ones offered, unselected", holder: "p-multi", present: with("c-m2"), reader: attendance.ReaderIn,
			want: summary{Outcome: ChooseChildren, Actor: "p-multi", Children: kids("c-m1:check_in:-", "c-m3:check_in:-")}},
		{name: "out-reader, siblings at home: asks, nothing selected", holder: "p-multi", present: with("c-m2"), reader: attendance.ReaderOut,
			want: summary{Outcome: ChooseChildren, Actor: "p-multi", Children: kids("c-m2:check_out:-")}},
		{name: "in-reader, all at home: preselected", holder: "p-multi", present: with(), reader: attendance.ReaderIn,
			want: summary{Outcome: ChooseChildren, Actor: "p-multi", Children: kids("c-m1:check_in:sel", "c-m2:check_in:sel", "c-m3:check_in:sel")}},
		{name: "in-reader, all present: nothing to do", holder: "p-multi", present: with("c-m1", "c-m2", "c-m3"), reader: attendance.ReaderIn,
			want: summary{Outcome: Denied, Reason: ReasonNothingToDo, Actor: "p-multi"}},
		{name: "out-reader, all at home: nothing to do", holder: "p-multi", present: with(), reader: attendance.ReaderOut,
			want: summary{Outcome: Denied, Reason: ReasonNothingToDo, Actor: "p-multi"}},
		{name: "in-reader, one child, at home: straight in", holder: "p-one", present: with(), reader: attendance.ReaderIn,
			want: summary{Outcome: CheckIn, Actor: "p-one", Children: kids("c-one:check_in:sel")}},
		{name: "in-reader, one child, present: nothing to do", holder: "p-one", present: with("c-one"), reader: attendance.ReaderIn,
			want: summary{Outcome: Denied, Reason: ReasonNothingToDo, Actor: "p-one"}},

		// Standing authorisation: Mondays and Wednesdays, 2026-01-01..2026-06-30.
		{name: "grandparent on a permitted weekday takes the child", holder: "p-gp", present: with("c-one"),
			want: summary{Outcome: CheckOut, Actor: "p-gp", Children: kids("c-one:check_out:sel")}},
		{name: "grandparent brings the child", holder: "p-gp", present: with(),
			want: summary{Outcome: CheckIn, Actor: "p-gp", Children: kids("c-one:check_in:sel")}},
		{name: "grandparent on another weekday: staff", holder: "p-gp", present: with("c-one"), now: at("2026-03-05", 16, 0),
			want: summary{Outcome: NeedsStaff, Reason: ReasonNotAnnounced, Actor: "p-gp", Children: kids("c-one:check_out:-")}},
		{name: "grandparent before from: staff", holder: "p-gp", present: with("c-one"), now: at("2025-12-31", 16, 0),
			want: summary{Outcome: NeedsStaff, Reason: ReasonNotAnnounced, Actor: "p-gp", Children: kids("c-one:check_out:-")}},
		{name: "grandparent on the first day", holder: "p-gp", present: with("c-one"), now: at("2026-01-05", 0, 0),
			want: summary{Outcome: CheckOut, Actor: "p-gp", Children: kids("c-one:check_out:sel")}},
		{name: "grandparent on a Monday before until", holder: "p-gp", present: with("c-one"), now: at("2026-06-29", 23, 59),
			want: summary{Outcome: CheckOut, Actor: "p-gp", Children: kids("c-one:check_out:sel")}},
		{name: "grandparent after until: staff", holder: "p-gp", present: with("c-one"), now: at("2026-07-01", 9, 0),
			want: summary{Outcome: NeedsStaff, Reason: ReasonNotAnnounced, Actor: "p-gp", Children: kids("c-one:check_out:-")}},
		{name: "grandparent not authorised, child absent: no (empty) request", holder: "p-gp", present: with(), now: at("2026-03-05", 8, 0),
			want: summary{Outcome: Denied, Reason: ReasonNothingToDo, Actor: "p-gp"}},

		// Announced pickup on wed 15:00-17:00 (minutes inclusive).
		{name: "announced, at the window's start", holder: "p-ann", present: with("c-one"), now: at(wed, 15, 0),
			want: summary{Outcome: CheckOut, Actor: "p-ann", Children: kids("c-one:check_out:sel")}},
		{name: "announced, last minute of the window", holder: "p-ann", present: with("c-one"), now: at(wed, 17, 0).Add(59 * time.Second),
			want: summary{Outcome: CheckOut, Actor: "p-ann", Children: kids("c-one:check_out:sel")}},
		{name: "announced, before the window: staff", holder: "p-ann", present: with("c-one"), now: at(wed, 14, 59),
			want: summary{Outcome: NeedsStaff, Reason: ReasonNotAnnounced, Actor: "p-ann", Children: kids("c-one:check_out:-")}},
		{name: "announced, after the window: staff", holder: "p-ann", present: with("c-one"), now: at(wed, 17, 1),
			want: summary{Outcome: NeedsStaff, Reason: ReasonNotAnnounced, Actor: "p-ann", Children: kids("c-one:check_out:-")}},
		{name: "announced, another day: staff", holder: "p-ann", present: with("c-one"), now: at("2026-03-05", 15, 30),
			want: summary{Outcome: NeedsStaff, Reason: ReasonNotAnnounced, Actor: "p-ann", Children: kids("c-one:check_out:-")}},
		{name: "unannounced known person, no child of theirs: nothing for staff", holder: "p-stranger", present: with("c-one"),
			want: summary{Outcome: Denied, Reason: ReasonNothingToDo, Actor: "p-stranger"}},

		// Contact ban.
		{name: "contact ban: denied, staff alerted", holder: "p-ban", present: with("c-one"),
			want: summary{Outcome: Denied, Reason: ReasonContactBan, Actor: "p-ban", Alert: true}},
		{name: "contact ban on a guardian for one child: the other only", holder: "p-multi", present: with("c-m1", "c-m2"),
			ix: fixture(func(r *roster.Roster) {
				r.ContactBans = append(r.ContactBans, roster.ContactBan{ChildID: "c-m1", PersonID: "p-multi"})
			}),
			want: summary{Outcome: ChooseChildren, Actor: "p-multi", Children: kids("c-m2:check_out:-", "c-m3:check_in:-"), Alert: true}},
		{name: "contact ban beats an authorisation", holder: "p-gp", present: with("c-one"),
			ix: fixture(func(r *roster.Roster) {
				r.ContactBans = append(r.ContactBans, roster.ContactBan{ChildID: "c-one", PersonID: "p-gp"})
			}),
			want: summary{Outcome: Denied, Reason: ReasonContactBan, Actor: "p-gp", Alert: true}},

		// Minimum pickup age 16; Tim is 15 until 2026-05-01.
		{name: "pickup person under the minimum age: staff", holder: "p-teen", present: with("c-m1"),
			want: summary{Outcome: NeedsStaff, Reason: ReasonTooYoung, Actor: "p-teen", Children: kids("c-m1:check_out:-")}},
		{name: "pickup person on the 16th birthday", holder: "p-teen", present: with("c-m1"), now: at("2026-05-01", 16, 0),
			want: summary{Outcome: CheckOut, Actor: "p-teen", Children: kids("c-m1:check_out:sel")}},
		{name: "born 29 Feb: not 18 on 28 Feb of a common year", holder: "p-leap", present: with("c-one"), ix: fixture(leapTeen(18)), now: at("2026-02-28", 16, 0),
			want: summary{Outcome: NeedsStaff, Reason: ReasonTooYoung, Actor: "p-leap", Children: kids("c-one:check_out:-")}},
		{name: "born 29 Feb: 18 on 1 March of a common year", holder: "p-leap", present: with("c-one"), ix: fixture(leapTeen(18)), now: at("2026-03-01", 16, 0),
			want: summary{Outcome: CheckOut, Actor: "p-leap", Children: kids("c-one:check_out:sel")}},
		{name: "born 29 Feb: not 16 on 28 Feb of a leap year", holder: "p-leap", present: with("c-one"), ix: fixture(leapTeen(16)), now: at("2024-02-28", 16, 0),
			want: summary{Outcome: NeedsStaff, Reason: ReasonTooYoung, Actor: "p-leap", Children: kids("c-one:check_out:-")}},
		{name: "born 29 Feb: 16 on 29 Feb of a leap year", holder: "p-leap", present: with("c-one"), ix: fixture(leapTeen(16)), now: at("2024-02-29", 16, 0),
			want: summary{Outcome: CheckOut, Actor: "p-leap", Children: kids("c-one:check_out:sel")}},

		// Staff.
		{name: "staff clocks in", holder: "s-a", present: noStaff, want: summary{Outcome: StaffIn, Actor: "s-a"}},
		{name: "present staff: menu", holder: "s-a", present: with(), want: summary{Outcome: StaffMenu, Actor: "s-a"}},

		// Ratio (1:3 in Apen): no staff present.
		{name: "ratio broken, warn mode: checked in with a warning", holder: "p-one", present: noStaff,
			want: summary{Outcome: CheckIn, Actor: "p-one", Children: kids("c-one:check_in:sel"), Warnings: []string{ReasonRatio}}},
		{name: "ratio broken, block mode: staff", holder: "p-one", present: noStaff, ix: fixture(block),
			want: summary{Outcome: NeedsStaff, Reason: ReasonRatio, Actor: "p-one", Children: kids("c-one:check_in:sel"), Warnings: []string{ReasonRatio}}},
		{name: "ratio exactly met: no warning", holder: "p-one", present: with("c-m1", "c-m2"),
			want: summary{Outcome: CheckIn, Actor: "p-one", Children: kids("c-one:check_in:sel")}},
		{name: "fourth child at 1:3 with one staff: warning", holder: "p-one", present: with("c-m1", "c-m2", "c-a4"),
			ix: fixture(func(r *roster.Roster) {
				r.Children = append(r.Children, roster.Child{ID: "c-a4", FirstName: "Aad", GroupID: "g-a", BirthDate: attendance.MustDate("2023-01-01")})
				r.Guardianships = append(r.Guardianships, roster.Guardianship{ChildID: "c-a4", PersonID: "p-stay"})
			}),
			want: summary{Outcome: CheckIn, Actor: "p-one", Children: kids("c-one:check_in:sel"), Warnings: []string{ReasonRatio}}},
		{name: "check-out is never blocked by the ratio", holder: "p-one", present: []string{"c-one", "c-m1", "c-m2", "c-m3"}, ix: fixture(block),
			want: summary{Outcome: CheckOut, Actor: "p-one", Children: kids("c-one:check_out:sel")}},
		{name: "choose in block mode: warnings, decided on Select", holder: "p-multi", present: noStaff, ix: fixture(block),
			want: summary{Outcome: ChooseChildren, Actor: "p-multi", Children: kids("c-m1:check_in:sel", "c-m2:check_in:sel", "c-m3:check_in:sel"),
				Warnings: []string{ReasonRatio, ReasonRatio}}},

		// Capacity: BSO holds 4; the mini location 6.
		{name: "group full: staff", holder: "p-stay", present: fullBSO,
			want: summary{Outcome: NeedsStaff, Reason: ReasonCapacity, Actor: "p-stay", Children: kids("c-stay:check_in:sel"), Warnings: []string{ReasonCapacity}}},
		{name: "group with room", holder: "p-stay", present: with("c-free", "c-old", "c-late"),
			want: summary{Outcome: CheckIn, Actor: "p-stay", Children: kids("c-stay:check_in:sel")}},
		{name: "mini-BSO: 7th child: staff", holder: "p-one", ix: fixture(mini), present: with("c-m1", "c-m2", "c-m3", "c-free", "c-old", "c-late"),
			want: summary{Outcome: NeedsStaff, Reason: ReasonCapacity, Actor: "p-one", Children: kids("c-one:check_in:sel"), Warnings: []string{ReasonCapacity}}},
		{name: "mini-BSO: 6th child fits", holder: "p-one", ix: fixture(mini), present: with("c-m1", "c-m3", "c-free", "c-old", "c-late"),
			want: summary{Outcome: CheckIn, Actor: "p-one", Children: kids("c-one:check_in:sel")}},

		// Opening hours Mon-Fri 07:00-18:30.
		{name: "before opening: check-in with a warning", holder: "p-one", present: with(), now: at(wed, 6, 59),
			want: summary{Outcome: CheckIn, Actor: "p-one", Children: kids("c-one:check_in:sel"), Warnings: []string{ReasonOutsideHours}}},
		{name: "at opening", holder: "p-one", present: with(), now: at(wed, 7, 0),
			want: summary{Outcome: CheckIn, Actor: "p-one", Children: kids("c-one:check_in:sel")}},
		{name: "at closing: warning", holder: "p-one", present: with(), now: at(wed, 18, 30),
			want: summary{Outcome: CheckIn, Actor: "p-one", Children: kids("c-one:check_in:sel"), Warnings: []string{ReasonOutsideHours}}},
		{name: "Saturday: warning", holder: "p-one", present: with(), now: at("2026-03-07", 10, 0),
			want: summary{Outcome: CheckIn, Actor: "p-one", Children: kids("c-one:check_in:sel"), Warnings: []string{ReasonOutsideHours}}},
		{name: "check-out after closing: always, no warning", holder: "p-one", present: with("c-one"), now: at(wed, 22, 0),
			want: summary{Outcome: CheckOut, Actor: "p-one", Children: kids("c-one:check_out:sel")}},
		{name: "DST spring Sunday 06:59 CEST: closed", holder: "p-one", present: with(), ix: fixture(sundayHours), now: at("2026-03-29", 6, 59),
			want: summary{Outcome: CheckIn, Actor: "p-one", Children: kids("c-one:check_in:sel"), Warnings: []string{ReasonOutsideHours}}},
		{name: "DST spring Sunday 07:00 CEST: open", holder: "p-one", present: with(), ix: fixture(sundayHours), now: at("2026-03-29", 7, 0),
			want: summary{Outcome: CheckIn, Actor: "p-one", Children: kids("c-one:check_in:sel")}},
		{name: "DST autumn Sunday 06:59 CET: closed", holder: "p-one", present: with(), ix: fixture(sundayHours), now: at("2026-10-25", 6, 59),
			want: summary{Outcome: CheckIn, Actor: "p-one", Children: kids("c-one:check_in:sel"), Warnings: []string{ReasonOutsideHours}}},
		{name: "DST autumn Sunday 18:29 CET: open", holder: "p-one", present: with(), ix: fixture(sundayHours), now: at("2026-10-25", 18, 29),
			want: summary{Outcome: CheckIn, Actor: "p-one", Children: kids("c-one:check_in:sel")}},

		// Announcement windows on midnight and DST days (wall clock).
		{name: "all-day announcement: 23:59", holder: "p-stranger", present: with("c-m1"), ix: fixture(dstAnnounced), now: at(wed, 23, 59),
			want: summary{Outcome: CheckOut, Actor: "p-stranger", Children: kids("c-m1:check_out:sel")}},
		{name: "all-day announcement: midnight after", holder: "p-stranger", present: with("c-m1"), ix: fixture(dstAnnounced), now: at("2026-03-05", 0, 0),
			want: summary{Outcome: NeedsStaff, Reason: ReasonNotAnnounced, Actor: "p-stranger", Children: kids("c-m1:check_out:-")}},
		{name: "all-day announcement: midnight at the start", holder: "p-stranger", present: with("c-m1"), ix: fixture(dstAnnounced), now: at(wed, 0, 0),
			want: summary{Outcome: CheckOut, Actor: "p-stranger", Children: kids("c-m1:check_out:sel")}},
		{name: "spring DST: 03:10 CEST inside 01:30-03:30", holder: "p-stranger", present: with("c-one"), ix: fixture(dstAnnounced),
			now:  time.Date(2026, 3, 29, 1, 10, 0, 0, time.UTC).In(ams),
			want: summary{Outcome: CheckOut, Actor: "p-stranger", Children: kids("c-one:check_out:sel")}},
		{name: "spring DST: 01:59 CET (an hour before 03:10 CEST) inside", holder: "p-stranger", present: with("c-one"), ix: fixture(dstAnnounced),
			now:  time.Date(2026, 3, 29, 0, 59, 0, 0, time.UTC).In(ams),
			want: summary{Outcome: CheckOut, Actor: "p-stranger", Children: kids("c-one:check_out:sel")}},
		{name: "spring DST: 03:31 CEST after the window", holder: "p-stranger", present: with("c-one"), ix: fixture(dstAnnounced),
			now:  time.Date(2026, 3, 29, 1, 31, 0, 0, time.UTC).In(ams),
			want: summary{Outcome: NeedsStaff, Reason: ReasonNotAnnounced, Actor: "p-stranger", Children: kids("c-one:check_out:-")}},
		{name: "autumn DST: first 02:15 (CEST) inside 02:00-02:30", holder: "p-stranger", present: with("c-one"), ix: fixture(dstAnnounced),
			now:  time.Date(2026, 10, 25, 0, 15, 0, 0, time.UTC).In(ams),
			want: summary{Outcome: CheckOut, Actor: "p-stranger", Children: kids("c-one:check_out:sel")}},
		{name: "autumn DST: second 02:15 (CET) inside too", holder: "p-stranger", present: with("c-one"), ix: fixture(dstAnnounced),
			now:  time.Date(2026, 10, 25, 1, 15, 0, 0, time.UTC).In(ams),
			want: summary{Outcome: CheckOut, Actor: "p-stranger", Children: kids("c-one:check_out:sel")}},
		{name: "autumn DST: 02:45 CEST, between the two 02:00-02:30s", holder: "p-stranger", present: with("c-one"), ix: fixture(dstAnnounced),
			now:  time.Date(2026, 10, 25, 0, 45, 0, 0, time.UTC).In(ams),
			want: summary{Outcome: NeedsStaff, Reason: ReasonNotAnnounced, Actor: "p-stranger", Children: kids("c-one:check_out:-")}},

		// Children's own badges.
		{name: "child checks itself in", holder: "c-stay", present: with(),
			want: summary{Outcome: CheckIn, Actor: "c-stay", Children: kids("c-stay:check_in:sel")}},
		{name: "child self check-in into a full group: staff", holder: "c-stay", present: fullBSO,
			want: summary{Outcome: NeedsStaff, Reason: ReasonCapacity, Actor: "c-stay", Children: kids("c-stay:check_in:sel"), Warnings: []string{ReasonCapacity}}},
		{name: "child self check-in outside hours: warning", holder: "c-stay", present: with(), now: at("2026-03-07", 9, 0),
			want: summary{Outcome: CheckIn, Actor: "c-stay", Children: kids("c-stay:check_in:sel"), Warnings: []string{ReasonOutsideHours}}},
		{name: "child with permission leaves alone", holder: "c-free", present: with("c-free"), now: at(wed, 16, 0),
			want: summary{Outcome: CheckOut, Reason: ReasonIndependent, Actor: "c-free", Children: kids("c-free:check_out:sel")}},
		{name: "child without permission: a grown-up must come", holder: "c-stay", present: with("c-stay"), now: at(wed, 16, 0),
			want: summary{Outcome: NeedsStaff, Reason: ReasonNeedsGrownUp, Actor: "c-stay", Children: kids("c-stay:check_out:-")}},
		{name: "expired permission: a grown-up must come", holder: "c-old", present: with("c-old"), now: at(wed, 16, 0),
			want: summary{Outcome: NeedsStaff, Reason: ReasonNeedsGrownUp, Actor: "c-old", Children: kids("c-old:check_out:-")}},
		{name: "permission on its last day", holder: "c-free", present: with("c-free"), now: at("2026-08-31", 16, 0),
			want: summary{Outcome: CheckOut, Reason: ReasonIndependent, Actor: "c-free", Children: kids("c-free:check_out:sel")}},
		{name: "permission the day after its last", holder: "c-free", present: with("c-free"), now: at("2026-09-01", 16, 0),
			want: summary{Outcome: NeedsStaff, Reason: ReasonNeedsGrownUp, Actor: "c-free", Children: kids("c-free:check_out:-")}},
		{name: "permitted times: 15:59 too early", holder: "c-late", present: with("c-late"), now: at(wed, 15, 59),
			want: summary{Outcome: NeedsStaff, Reason: ReasonNeedsGrownUp, Actor: "c-late", Children: kids("c-late:check_out:-")}},
		{name: "permitted times: 16:00", holder: "c-late", present: with("c-late"), now: at(wed, 16, 0),
			want: summary{Outcome: CheckOut, Reason: ReasonIndependent, Actor: "c-late", Children: kids("c-late:check_out:sel")}},
		{name: "permitted times: 17:30", holder: "c-late", present: with("c-late"), now: at(wed, 17, 30),
			want: summary{Outcome: CheckOut, Reason: ReasonIndependent, Actor: "c-late", Children: kids("c-late:check_out:sel")}},
		{name: "permitted times: 17:31 too late", holder: "c-late", present: with("c-late"), now: at(wed, 17, 31),
			want: summary{Outcome: NeedsStaff, Reason: ReasonNeedsGrownUp, Actor: "c-late", Children: kids("c-late:check_out:-")}},
		{name: "permitted weekdays: not on Saturday", holder: "c-late", present: with("c-late"), now: at("2026-03-07", 16, 30),
			want: summary{Outcome: NeedsStaff, Reason: ReasonNeedsGrownUp, Actor: "c-late", Children: kids("c-late:check_out:-")}},
		{name: "child on the in-reader while present: nothing", holder: "c-free", present: with("c-free"), reader: attendance.ReaderIn,
			want: summary{Outcome: Denied, Reason: ReasonNothingToDo, Actor: "c-free"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ix := tt.ix
			if ix == nil {
				ix = base
			}
			when := tt.now
			if when.IsZero() {
				when = now
			}
			in := tapBy(ix, present(ix, when.Add(-time.Hour), tt.present...), tt.holder, when)
			if tt.holder == "p-nobody" {
				in.Badge = &roster.Badge{Hash: hashOf("p-nobody"), Role: attendance.RolePickup, HolderID: "p-nobody"}
			}
			if tt.reader != "" {
				in.Role = tt.reader
			}
			before := in.Presence.Clone()
			d := Decide(in)
			if diff := cmp.Diff(tt.want, summarise(d)); diff != "" {
				t.Errorf("Decide (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before.Children(), in.Presence.Children()); diff != "" {
				t.Errorf("Decide changed the presence (-before +after):\n%s", diff)
			}
			if d.Outcome == Denied && d.Reason == ReasonContactBan && !strings.Contains(d.StaffAlert, "Contactverbod") {
				t.Errorf("contact ban alert %q", d.StaffAlert)
			}
		})
	}
}

// TestGroupsAgeOnLeapDay: ages are taken on the day; a child born on 29
// February 2020 turns 4 on 29 February 2024, which takes it out of
// be-vl-kdv (ages 0-3).
func TestGroupsAgeOnLeapDay(t *testing.T) {
	ix := fixture(func(r *roster.Roster) {
		r.Groups = append(r.Groups, roster.Group{ID: "g-vl", Name: "Vlaams", Policy: "be-vl-kdv"})
		r.Children = append(r.Children, roster.Child{ID: "c-leap", FirstName: "Lea", GroupID: "g-vl", BirthDate: attendance.MustDate("2020-02-29")})
	})
	for _, tt := range []struct {
		day         string
		wantProblem bool
		wantReq     int
	}{
		{"2024-02-28", false, 1},
		{"2024-02-29", true, 0},
	} {
		t.Run(tt.day, func(t *testing.T) {
			now := at(tt.day, 9, 0)
			gs := Groups(ix, present(ix, now, "c-leap"), now)
			var got GroupState
			for _, g := range gs {
				if g.GroupID == "g-vl" {
					got = g
				}
			}
			if (got.Problem != "") != tt.wantProblem || got.Required != tt.wantReq || got.Children != 1 {
				t.Errorf("group on %s = %+v, want problem %v, required %d", tt.day, got, tt.wantProblem, tt.wantReq)
			}
			if got.OK {
				t.Errorf("no staff present but OK: %+v", got)
			}
		})
	}
}

func TestStaffLeave(t *testing.T) {
	ix := fixture(func(r *roster.Roster) {
		r.Groups[0].Policy = "1:2"
		r.Staff = append(r.Staff, roster.Staff{ID: "s-c", Name: "Cor", Groups: []string{"g-a"}})
	})
	now := at(wed, 12, 0)
	for _, tt := range []struct {
		name    string
		present []string
		leaver  string
		want    []string // group ids warned
	}{
		{"leaving breaks the ratio", []string{"s-a", "s-c", "c-one", "c-m1", "c-m2"}, "s-a", []string{"g-a"}},
		{"leaving keeps the ratio", []string{"s-a", "s-c", "c-one", "c-m1"}, "s-a", nil},
		{"leaving an already broken group worse", []string{"s-a", "c-one", "c-m1", "c-m2"}, "s-a", []string{"g-a"}},
		{"leaving an empty group", []string{"s-a", "s-b", "c-m3"}, "s-a", nil},
		{"leaving another group alone", []string{"s-a", "s-b", "c-one", "c-m1", "c-m2"}, "s-b", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, w := range StaffLeave(ix, present(ix, now, tt.present...), now, tt.leaver) {
				if w.Code != ReasonRatioAfterLeave || w.Text == "" {
					t.Errorf("warning %+v", w)
				}
				got = append(got, w.GroupID)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("StaffLeave groups (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEvents(t *testing.T) {
	ix := fixture()
	now := at(wed, 8, 0)
	ctx := attendance.Event{Wall: now, Reader: "entrance", ConfirmedBy: "s-a"}
	d := Decide(tapBy(ix, present(ix, now, "s-a", "c-m2"), "p-multi", now))
	// A mixed tap preselects nothing (issue 14 item 1): the guardian picks
	// c-m1 (in) and c-m2 (out); c-m3 stays home.
	d, err := Select(d, []string{"c-m1", "c-m2"})
	if err != nil {
		t.Fatal(err)
	}
	got := Events(d, ctx, ix)
	type ev struct {
		Type                              attendance.EventType
		Child, Group, Actor, Loc, Confirm string
		Version                           int64
	}
	var sum []ev
	for _, e := range got {
		sum = append(sum, ev{e.Type, e.ChildID, e.GroupID, e.ActorID, e.LocationID, e.ConfirmedBy, e.RosterVersion})
	}
	want := []ev{
		{attendance.ChildCheckIn, "c-m1", "g-a", "p-multi", "loc", "s-a", 7},
		{attendance.ChildCheckOut, "c-m2", "g-a", "p-multi", "loc", "s-a", 7},
	}
	if diff := cmp.Diff(want, sum); diff != "" {
		t.Errorf("Events (-want +got):\n%s", diff)
	}
	st := Events(Decide(tapBy(ix, present(ix, now), "s-b", now)), ctx, ix)
	if len(st) != 1 || st[0].Type != attendance.StaffIn || st[0].StaffID != "s-b" || st[0].GroupID != "g-b" {
		t.Errorf("staff events = %+v", st)
	}
	if d := Decide(tapBy(ix, present(ix, now), "c-stay", now)); d.PolicyVersion != "1:10" {
		t.Errorf("policy version %q, want 1:10", d.PolicyVersion)
	}
	if d := Decide(tapBy(ix, present(ix, now), "p-multi", now)); d.PolicyVersion != "1:3,1:10" {
		t.Errorf("policy version %q, want 1:3,1:10", d.PolicyVersion)
	}
}
