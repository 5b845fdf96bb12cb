package rules

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/roster"
)

// Issue 14's door rules, table-tested: mixed taps, the undo guard, partly
// announced pickups, unknown age, withdrawn rights.
func TestIssue14Rules(t *testing.T) {
	now := at(wed, 16, 0)
	staffIn := []string{"s-a", "s-b"}
	with := func(ids ...string) []string { return append(append([]string{}, staffIn...), ids...) }
	// p-ann2 is announced for c-m1 only today; c-m2 and c-m3 are its siblings.
	partial := func(r *roster.Roster) {
		r.People = append(r.People, roster.Person{ID: "p-ann2", Name: "Nel N.", Relation: "buurvrouw", BirthDate: attendance.MustDate("1970-01-01")})
		r.Announced = append(r.Announced, roster.AnnouncedPickup{ID: "a-2", ChildID: "c-m1", PersonID: "p-ann2", Date: attendance.MustDate(wed)})
		r.Badges = append(r.Badges, roster.Badge{Hash: hashOf("p-ann2"), Role: attendance.RolePickup, HolderID: "p-ann2"})
	}
	noBirth := func(r *roster.Roster) {
		for i := range r.People {
			if r.People[i].ID == "p-gp" {
				r.People[i].BirthDate = attendance.Date{}
			}
		}
	}
	former := func(r *roster.Roster) {
		r.Guardianships = append(r.Guardianships, roster.Guardianship{ChildID: "c-one", PersonID: "p-stranger", Withdrawn: true})
	}
	ended := func(r *roster.Roster) {
		r.Guardianships = append(r.Guardianships, roster.Guardianship{ChildID: "c-one", PersonID: "p-stranger", Until: attendance.MustDate("2026-03-03")})
	}
	stillValid := func(r *roster.Roster) {
		r.Guardianships = append(r.Guardianships, roster.Guardianship{ChildID: "c-one", PersonID: "p-stranger", Until: attendance.MustDate(wed)})
	}
	guard := Policy{UndoGuard: 2 * time.Minute}
	recent := func(acts map[string]Act) *Recent {
		r := &Recent{}
		for id, a := range acts {
			typ := attendance.ChildCheckOut
			if a.In {
				typ = attendance.ChildCheckIn
			}
			e := attendance.Event{Type: typ, ChildID: id, ActorID: a.By, Wall: a.At}
			if id[:2] == "s-" {
				e = attendance.Event{Type: attendance.StaffOut, StaffID: id, ActorID: a.By, Wall: a.At}
				if a.In {
					e.Type = attendance.StaffIn
				}
			}
			r.Fold(e)
		}
		return r
	}
	for _, tt := range []struct {
		name    string
		mods    []func(*roster.Roster)
		present []string
		holder  string
		policy  Policy
		recent  *Recent
		reader  attendance.ReaderRole
		want    summary
	}{
		// Item 1.
		{name: "mixed family: nothing preselected", holder: "p-multi", present: with("c-m2"),
			want: summary{Outcome: ChooseChildren, Actor: "p-multi", Children: kids("c-m1:check_in:-", "c-m2:check_out:-", "c-m3:check_in:-")}},
		{name: "one direction: preselected", holder: "p-multi", present: with("c-m1", "c-m2", "c-m3"),
			want: summary{Outcome: ChooseChildren, Actor: "p-multi", Children: kids("c-m1:check_out:sel", "c-m2:check_out:sel", "c-m3:check_out:sel")}},
		// Item 2.
		{name: "same adult, 2 s after the check-in: asks", holder: "p-one", present: with("c-one"), policy: guard,
			recent: recent(map[string]Act{"c-one": {By: "p-one", In: true, At: now.Add(-2 * time.Second)}}),
			want:   summary{Outcome: Confirm, Reason: ReasonUndoRecent, Actor: "p-one", Children: kids("c-one:check_out:-")}},
		{name: "same adult after the guard: acts", holder: "p-one", present: with("c-one"), policy: guard,
			recent: recent(map[string]Act{"c-one": {By: "p-one", In: true, At: now.Add(-3 * time.Minute)}}),
			want:   summary{Outcome: CheckOut, Actor: "p-one", Children: kids("c-one:check_out:sel")}},
		// Review (door walk): both parents tap at drop-off; the second tap
		// must not check the child straight out again.
		{name: "another adult's check-in 2 s ago: asks", holder: "p-one", present: with("c-one"), policy: guard,
			recent: recent(map[string]Act{"c-one": {By: "p-gp", In: true, At: now.Add(-2 * time.Second)}}),
			want:   summary{Outcome: Confirm, Reason: ReasonUndoRecent, Actor: "p-one", Children: kids("c-one:check_out:-")}},
		{name: "another adult's check-in after the guard: acts", holder: "p-one", present: with("c-one"), policy: guard,
			recent: recent(map[string]Act{"c-one": {By: "p-gp", In: true, At: now.Add(-3 * time.Minute)}}),
			want:   summary{Outcome: CheckOut, Actor: "p-one", Children: kids("c-one:check_out:sel")}},
		{name: "guard off: acts", holder: "p-one", present: with("c-one"),
			recent: recent(map[string]Act{"c-one": {By: "p-one", In: true, At: now.Add(-2 * time.Second)}}),
			want:   summary{Outcome: CheckOut, Actor: "p-one", Children: kids("c-one:check_out:sel")}},
		{name: "recent and not recent: one question, nothing selected", holder: "p-multi", present: with("c-m1"), policy: guard,
			recent: recent(map[string]Act{"c-m1": {By: "p-multi", In: true, At: now.Add(-time.Minute)}}),
			want:   summary{Outcome: Confirm, Reason: ReasonUndoRecent, Actor: "p-multi", Children: kids("c-m1:check_out:-", "c-m2:check_in:-", "c-m3:check_in:-")}},
		// The lead's decision (triage of the morning test): any tap by the
		// same adult within the guard of their own last act asks, whatever
		// the direction and whichever child.
		{name: "same adult, 2 s after checking one sibling in: the other is not brought in silently", holder: "p-multi", present: with("c-m1"), policy: guard, reader: attendance.ReaderIn,
			recent: recent(map[string]Act{"c-m1": {By: "p-multi", In: true, At: now.Add(-2 * time.Second)}}),
			want:   summary{Outcome: Confirm, Reason: ReasonUndoRecent, Actor: "p-multi", Children: kids("c-m2:check_in:-", "c-m3:check_in:-")}},
		{name: "same adult, 2 s after checking one child in, both ways: nothing preselected", holder: "p-multi", present: with("c-m1"), policy: guard,
			recent: recent(map[string]Act{"c-m1": {By: "p-multi", In: true, At: now.Add(-2 * time.Second)}}),
			want:   summary{Outcome: Confirm, Reason: ReasonUndoRecent, Actor: "p-multi", Children: kids("c-m1:check_out:-", "c-m2:check_in:-", "c-m3:check_in:-")}},
		{name: "same adult, same direction after a check-out: asks", holder: "p-multi", present: with("c-m2", "c-m3"), policy: guard,
			recent: recent(map[string]Act{"c-m1": {By: "p-multi", In: false, At: now.Add(-90 * time.Second)}}),
			want:   summary{Outcome: Confirm, Reason: ReasonUndoRecent, Actor: "p-multi", Children: kids("c-m1:check_in:-", "c-m2:check_out:-", "c-m3:check_out:-")}},
		{name: "same adult, one child, same direction at an exit: asks", holder: "p-multi", present: with("c-m2"), policy: guard, reader: attendance.ReaderOut,
			recent: recent(map[string]Act{"c-m1": {By: "p-multi", In: false, At: now.Add(-5 * time.Second)}}),
			want:   summary{Outcome: Confirm, Reason: ReasonUndoRecent, Actor: "p-multi", Children: kids("c-m2:check_out:-")}},
		{name: "another adult took one of the children out a moment ago: asks, nothing selected", holder: "p-multi", present: with(), policy: guard,
			recent: recent(map[string]Act{"c-m1": {By: "p-other", In: false, At: now.Add(-5 * time.Second)}}),
			want:   summary{Outcome: Confirm, Reason: ReasonUndoRecent, Actor: "p-multi", Children: kids("c-m1:check_in:-", "c-m2:check_in:-", "c-m3:check_in:-")}},
		{name: "another adult brought the children in a moment ago: the second parent's tap asks", holder: "p-multi", present: with("c-m1", "c-m2", "c-m3"), policy: guard,
			recent: recent(map[string]Act{"c-m1": {By: "p-other", In: true, At: now.Add(-5 * time.Second)}, "c-m2": {By: "p-other", In: true, At: now.Add(-5 * time.Second)}, "c-m3": {By: "p-other", In: true, At: now.Add(-5 * time.Second)}}),
			want:   summary{Outcome: Confirm, Reason: ReasonUndoRecent, Actor: "p-multi", Children: kids("c-m1:check_out:-", "c-m2:check_out:-", "c-m3:check_out:-")}},
		{name: "same adult, after the guard: the usual choice", holder: "p-multi", present: with(), policy: guard,
			recent: recent(map[string]Act{"c-m1": {By: "p-multi", In: false, At: now.Add(-121 * time.Second)}}),
			want:   summary{Outcome: ChooseChildren, Actor: "p-multi", Children: kids("c-m1:check_in:sel", "c-m2:check_in:sel", "c-m3:check_in:sel")}},
		{name: "staff clock-in right after their own clock-out: asks", holder: "s-a", present: []string{"s-b"}, policy: guard,
			recent: recent(map[string]Act{"s-a": {By: "s-a", In: false, At: now.Add(-10 * time.Second)}}),
			want:   summary{Outcome: Confirm, Reason: ReasonUndoRecent, Actor: "s-a"}},
		// Item 6.
		{name: "partly announced: the announced child goes, siblings wait", mods: []func(*roster.Roster){partial}, holder: "p-ann2", present: with("c-m1", "c-m2"),
			want: summary{Outcome: NeedsStaff, Reason: ReasonNotAnnounced, Actor: "p-ann2", Children: kids("c-m1:check_out:sel", "c-m2:check_out:-")}},
		{name: "partly announced, a moment after the parent brought them: both wait for staff", mods: []func(*roster.Roster){partial}, holder: "p-ann2", present: with("c-m1", "c-m2"), policy: guard,
			recent: recent(map[string]Act{"c-m1": {By: "p-multi", In: true, At: now.Add(-5 * time.Second)}}),
			want:   summary{Outcome: NeedsStaff, Reason: ReasonNotAnnounced, Actor: "p-ann2", Children: kids("c-m2:check_out:-", "c-m1:check_out:-")}},
		{name: "partly announced, only the sibling here: a plain request", mods: []func(*roster.Roster){partial}, holder: "p-ann2", present: with("c-m2"),
			want: summary{Outcome: NeedsStaff, Reason: ReasonNotAnnounced, Actor: "p-ann2", Children: kids("c-m2:check_out:-")}},
		{name: "partly announced, no sibling here: check-out", mods: []func(*roster.Roster){partial}, holder: "p-ann2", present: with("c-m1"),
			want: summary{Outcome: CheckOut, Actor: "p-ann2", Children: kids("c-m1:check_out:sel")}},
		// Item 8.
		{name: "pickup age unknown: staff", mods: []func(*roster.Roster){noBirth}, holder: "p-gp", present: with("c-one"),
			want: summary{Outcome: NeedsStaff, Reason: ReasonAgeUnknown, Actor: "p-gp", Children: kids("c-one:check_out:-")}},
		{name: "pickup age unknown, bringing in: no check", mods: []func(*roster.Roster){noBirth}, holder: "p-gp", present: with(),
			want: summary{Outcome: CheckIn, Actor: "p-gp", Children: kids("c-one:check_in:sel")}},
		{name: "former guardian: refused like a ban", mods: []func(*roster.Roster){former}, holder: "p-stranger", present: with("c-one"),
			want: summary{Outcome: Denied, Reason: ReasonWithdrawn, Actor: "p-stranger", Alert: true}},
		{name: "guardianship ended yesterday: refused like a ban", mods: []func(*roster.Roster){ended}, holder: "p-stranger", present: with("c-one"),
			want: summary{Outcome: Denied, Reason: ReasonWithdrawn, Actor: "p-stranger", Alert: true}},
		{name: "guardianship ends today: still a guardian", mods: []func(*roster.Roster){stillValid}, holder: "p-stranger", present: with("c-one"),
			want: summary{Outcome: CheckOut, Actor: "p-stranger", Children: kids("c-one:check_out:sel")}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ix := fixture(tt.mods...)
			in := tapBy(ix, present(ix, at(wed, 8, 0), tt.present...), tt.holder, now)
			in.Policy, in.Recent = tt.policy, tt.recent
			if tt.reader != "" {
				in.Role = tt.reader
			}
			if diff := cmp.Diff(tt.want, summarise(Decide(in))); diff != "" {
				t.Errorf("Decide (-want +got):\n%s", diff)
			}
		})
	}
}

// TestUndoGuardSaysWhatItWouldReverse: the undo question marks the
// children whose check-in or -out of a moment ago (by anyone) the tap would
// reverse, so that the screen states it ("Levi is net uitgecheckt") and
// does not tell a second parent "you just tapped".
func TestUndoGuardSaysWhatItWouldReverse(t *testing.T) {
	now := at(wed, 16, 0)
	ix := fixture()
	guard := Policy{UndoGuard: 2 * time.Minute}
	decide := func(holder string, here []string, acts ...attendance.Event) Decision {
		r := &Recent{}
		for _, e := range acts {
			r.Fold(e)
		}
		in := tapBy(ix, present(ix, at(wed, 8, 0), here...), holder, now)
		in.Policy, in.Recent = guard, r
		return Decide(in)
	}
	reverses := func(d Decision) map[string]bool {
		m := map[string]bool{}
		for _, c := range d.Children {
			m[c.ID] = c.Reverses
		}
		return m
	}
	// Another adult took c-m1 out 5 s ago; p-multi's tap would bring it
	// back (and bring its siblings, which nobody just moved).
	d := decide("p-multi", []string{"s-a", "s-b"},
		attendance.Event{Type: attendance.ChildCheckOut, ChildID: "c-m1", ActorID: "p-other", Wall: now.Add(-5 * time.Second)})
	if d.Reason != ReasonUndoRecent {
		t.Fatalf("decision = %s/%s", d.Outcome, d.Reason)
	}
	if diff := cmp.Diff(map[string]bool{"c-m1": true, "c-m2": false, "c-m3": false}, reverses(d)); diff != "" {
		t.Errorf("reverses (-want +got):\n%s", diff)
	}
	// The same adult's own tap on another child a moment ago reverses
	// nothing of c-m2's.
	d = decide("p-multi", []string{"s-a", "s-b", "c-m2"},
		attendance.Event{Type: attendance.ChildCheckOut, ChildID: "c-m1", ActorID: "p-multi", Wall: now.Add(-5 * time.Second)})
	if d.Reason != ReasonUndoRecent || len(d.Children) == 0 {
		t.Fatalf("decision = %s/%s %+v", d.Outcome, d.Reason, d.Children)
	}
	for _, c := range d.Children {
		if c.ID == "c-m2" && c.Reverses {
			t.Errorf("c-m2 marked as reversing its own check-in of the morning: %+v", c)
		}
	}
	// Outside the undo question nothing is marked.
	d = Decide(tapBy(ix, present(ix, at(wed, 8, 0), "s-a", "s-b", "c-one"), "p-one", now))
	for _, c := range d.Children {
		if c.Reverses {
			t.Errorf("%s marked outside the undo question: %+v", d.Outcome, c)
		}
	}
}

// A request for staff never has an empty children list (issue 14 item 6):
// every holder, on every combination of the fixture's children present.
func TestRequestNeverEmpty(t *testing.T) {
	ix := fixture()
	var children []string
	for _, c := range ix.Roster.Children {
		children = append(children, c.ID)
	}
	now := at(wed, 16, 0)
	for mask := 0; mask < 1<<len(children); mask += 7 {
		ids := []string{"s-a", "s-b"}
		for i, c := range children {
			if mask&(1<<i) != 0 {
				ids = append(ids, c)
			}
		}
		p := present(ix, at(wed, 8, 0), ids...)
		for _, b := range ix.Roster.Badges {
			d := Decide(tapBy(ix, p, b.HolderID, now))
			if d.Outcome == NeedsStaff && len(d.Children) == 0 {
				t.Fatalf("%s with %v present: a request without children (%s)", b.HolderID, ids, d.Reason)
			}
			if _, req := Split(d); req.Outcome == NeedsStaff && len(req.Children) == 0 {
				t.Fatalf("%s with %v present: split into an empty request", b.HolderID, ids)
			}
		}
	}
}

func TestSummariseBothWays(t *testing.T) {
	evs := []attendance.Event{{Type: attendance.ChildCheckIn}, {Type: attendance.ChildCheckOut}}
	if got := Summarise(evs); got != CheckInOut {
		t.Errorf("Summarise(in, out) = %s", got)
	}
	if got := Summarise(evs[1:]); got != CheckOut {
		t.Errorf("Summarise(out) = %s", got)
	}
}

func TestResolvedAndChanged(t *testing.T) {
	ix := fixture()
	req := Decision{Outcome: NeedsStaff, Reason: ReasonNotAnnounced, Children: []Child{
		{ID: "c-m1", Present: true, Action: ActCheckOut}, {ID: "c-m2", Present: true, Action: ActCheckOut}}}
	both := present(ix, at(wed, 8, 0), "c-m1", "c-m2")
	one := present(ix, at(wed, 8, 0), "c-m2")
	none := present(ix, at(wed, 8, 0))
	if Resolved(req, both) || Resolved(req, one) || !Resolved(req, none) {
		t.Error("Resolved: want true only once both children left")
	}
	sel, _ := Select(req, []string{"c-m1", "c-m2"})
	if diff := cmp.Diff([]string{"c-m1"}, Changed(sel, one)); diff != "" {
		t.Errorf("Changed (-want +got):\n%s", diff)
	}
}

// A one-way reader says which door it is when the person has children it
// does not serve (the screen words "Dit is de ingang"); otherwise not.
func TestOneWayReaderSaysWhichDoor(t *testing.T) {
	ix := fixture()
	now := at(wed, 16, 0)
	for _, tt := range []struct {
		reader  attendance.ReaderRole
		present []string
		want    attendance.ReaderRole
		outcome Outcome
	}{
		{attendance.ReaderIn, []string{"c-m1", "c-m2", "c-m3"}, attendance.ReaderIn, Denied},
		{attendance.ReaderIn, []string{"c-m1"}, attendance.ReaderIn, ChooseChildren},
		{attendance.ReaderOut, nil, attendance.ReaderOut, Denied},
		{attendance.ReaderOut, []string{"c-m1"}, attendance.ReaderOut, ChooseChildren},
		{attendance.ReaderIn, nil, "", ChooseChildren},
		{attendance.ReaderBoth, []string{"c-m1"}, "", ChooseChildren},
	} {
		in := tapBy(ix, present(ix, at(wed, 8, 0), append([]string{"s-a", "s-b"}, tt.present...)...), "p-multi", now)
		in.Role = tt.reader
		d := Decide(in)
		if d.Reader != tt.want || d.Outcome != tt.outcome {
			t.Errorf("%s reader, %v present: outcome %s reader %q, want %s %q", tt.reader, tt.present, d.Outcome, d.Reader, tt.outcome, tt.want)
		}
		if d.Outcome == ChooseChildren && tt.want != "" {
			for _, c := range d.Children {
				if c.Selected {
					t.Errorf("%s reader, %v present: %s preselected", tt.reader, tt.present, c.ID)
				}
			}
		}
	}
}
