package rules

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kinderdeur/kiosk/attendance"
)

func TestRelease(t *testing.T) {
	ix := fixture()
	p := present(ix, at(wed, 8, 0), "s-a", "c-one", "c-m1")
	unannounced := Decision{Outcome: NeedsStaff, Reason: ReasonNotAnnounced, Actor: Actor{Role: attendance.RolePickup, ID: "p-stranger"},
		Children: []Child{{ID: "c-m1", GroupID: "g-a", Present: true, Action: ActCheckOut}}}
	banned := unannounced
	banned.Actor.ID = "p-ban"
	ratioBlock := Decision{Outcome: NeedsStaff, Reason: ReasonRatio, Actor: Actor{Role: attendance.RoleGuardian, ID: "p-stay"},
		Children: []Child{{ID: "c-stay", GroupID: "g-b", Action: ActCheckIn, Selected: true}}}
	grownUp := Decision{Outcome: NeedsStaff, Reason: ReasonNeedsGrownUp, Actor: Actor{Role: attendance.RoleChild, ID: "c-m1"},
		Children: []Child{{ID: "c-m1", GroupID: "g-a", Present: true, Action: ActCheckOut}}}
	grownUpOne := Decision{Outcome: NeedsStaff, Reason: ReasonNeedsGrownUp, Actor: Actor{Role: attendance.RoleChild, ID: "c-one"},
		Children: []Child{{ID: "c-one", Name: "Olivia", GroupID: "g-a", Present: true, Action: ActCheckOut}}}
	for _, tt := range []struct {
		name         string
		d            Decision
		ids          []string
		idType, note string
		to           Handover
		want         []string // selected children
		err          error
	}{
		{name: "after an ID check: the offered children", d: unannounced, idType: "rijbewijs", want: []string{"c-m1"}},
		{name: "staff add a present child", d: unannounced, ids: []string{"c-m1", "c-one"}, idType: "paspoort", want: []string{"c-m1", "c-one"}},
		{name: "an absent child is not offered", d: unannounced, ids: []string{"c-m2"}, idType: "paspoort", err: ErrNotOffered},
		{name: "no ID type", d: unannounced, idType: " ", err: ErrIDRequired},
		// Changed (issue 14 item 7): a child who may not leave alone was
		// released to nobody, with no ID and no ban check.
		{name: "a child who may not leave alone: to whom", d: grownUp, err: ErrReleaseTo},
		{name: "to a guardian: no ID needed", d: grownUp, to: Handover{PersonID: "p-multi"}, want: []string{"c-m1"}},
		{name: "to an unknown person id", d: grownUp, to: Handover{PersonID: "p-nobody"}, err: ErrUnknownPerson},
		{name: "to a name without ID", d: grownUp, to: Handover{Name: "Jan de B."}, err: ErrIDRequired},
		{name: "to a name with ID", d: grownUp, to: Handover{Name: "Jan de B."}, idType: "rijbewijs", want: []string{"c-m1"}},
		{name: "to a person without any link: ID needed", d: grownUp, to: Handover{PersonID: "p-stranger"}, err: ErrIDRequired},
		{name: "to a banned person: refused", d: grownUpOne, to: Handover{PersonID: "p-ban"}, idType: "rijbewijs", err: &BanError{Child: "Olivia"}},
		{name: "contact ban, whoever asks", d: banned, ids: []string{"c-one"}, idType: "rijbewijs", err: &BanError{Child: "Olivia"}},
		{name: "override with a reason", d: ratioBlock, note: "collega komt", want: []string{"c-stay"}},
		{name: "override without a reason", d: ratioBlock, note: " ", err: ErrOverrideReason},
		{name: "nothing selected", d: unannounced, ids: []string{"c-nobody"}, idType: "x", err: ErrNotOffered},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := append([]Child(nil), tt.d.Children...)
			got, err := Release(ix, p, at(wed, 8, 0), tt.d, tt.ids, tt.idType, tt.note, tt.to)
			var be *BanError
			switch {
			case errors.As(tt.err, &be):
				var gotBan *BanError
				if !errors.As(err, &gotBan) || *gotBan != *be {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			case tt.err != nil:
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			var sel []string
			for _, c := range got.Children {
				if c.Selected {
					sel = append(sel, c.ID)
				}
			}
			if diff := cmp.Diff(tt.want, sel); diff != "" {
				t.Errorf("selected (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, tt.d.Children); diff != "" {
				t.Errorf("the request changed (-before +after):\n%s", diff)
			}
		})
	}
}

func TestManualActs(t *testing.T) {
	ix := fixture()
	now := at(wed, 10, 0)
	p := present(ix, at(wed, 8, 0), "s-a", "c-one")
	if _, err := ManualCheck(ix, p, "s-a", "c-one", true); !errors.Is(err, ErrAlreadyDone) {
		t.Errorf("check in a present child: %v", err)
	}
	if _, err := ManualCheck(ix, p, "s-a", "c-nobody", true); !errors.Is(err, ErrUnknownChild) {
		t.Errorf("unknown child: %v", err)
	}
	d, err := ManualCheck(ix, p, "s-a", "c-m1", true)
	if err != nil || d.Outcome != CheckIn || d.Actor.ID != "s-a" || summarise(d).Children[0] != "c-m1:check_in:sel" {
		t.Errorf("manual check-in = %+v, %v", d, err)
	}
	if d, err := ManualStaffOut(ix, p, now, "s-a", false); err != nil || d.Outcome != Confirm || len(d.Warnings) != 1 {
		t.Errorf("leaving Olivia alone asks first: %+v, %v", d, err)
	}
	if d, err := ManualStaffOut(ix, p, now, "s-a", true); err != nil || d.Outcome != StaffOut {
		t.Errorf("sure: %+v, %v", d, err)
	}
	if _, err := ManualStaffOut(ix, p, now, "s-b", true); !errors.Is(err, ErrNotPresent) {
		t.Errorf("staff not in: %v", err)
	}
	if child, err := RollCallSubject(p, "c-one"); !child || err != nil {
		t.Errorf("roll call child: %v %v", child, err)
	}
	if child, err := RollCallSubject(p, "s-a"); child || err != nil {
		t.Errorf("roll call staff: %v %v", child, err)
	}
	if _, err := RollCallSubject(p, "c-m1"); !errors.Is(err, ErrNotPresent) {
		t.Errorf("roll call absent: %v", err)
	}
}

// TestEveryEventIsStamped: each builder of events gives every event the
// location and the roster version.
func TestEveryEventIsStamped(t *testing.T) {
	ix := fixture()
	now := at(wed, 10, 0)
	p := present(ix, at(wed, 8, 0), "s-a", "c-one")
	ctx := attendance.Event{Reader: "entrance", Wall: now}
	out, _ := ManualStaffOut(ix, p, now, "s-a", true)
	in, _ := ManualCheck(ix, p, "s-a", "c-m1", true)
	req := Decision{Outcome: NeedsStaff, Reason: ReasonRatio, Actor: Actor{Role: attendance.RoleGuardian, ID: "p-multi"},
		Children: []Child{{ID: "c-m1", GroupID: "g-a", Action: ActCheckIn, Selected: true}}}
	var all []attendance.Event
	for _, d := range []Decision{
		Decide(tapBy(ix, p, "p-one", now)),   // check-out
		Decide(tapBy(ix, p, "p-multi", now)), // a choice, final
		Decide(tapBy(ix, p, "p-ban", now)),   // contact ban: denied tap
		Decide(tapBy(ix, p, "s-b", now)),     // clock-in
		out, in,
	} {
		all = append(all, Events(d, ctx, ix)...)
	}
	all = append(all, OverrideEvent(req, "s-a", "reden", ctx, ix), RollCallEvent("c-one", true, "s-a", ctx, ix))
	all = append(all, RefusalEvents(req, "s-a", "nee", ctx, ix)...)
	all = append(all, RefusalEvents(Decision{Actor: Actor{Role: attendance.RolePickup, ID: "p-stranger"}}, "s-a", "nee", ctx, ix)...)
	seen := map[attendance.EventType]bool{}
	for _, e := range all {
		seen[e.Type] = true
		if e.LocationID != "loc" || e.RosterVersion != 7 {
			t.Errorf("%s event lacks location or roster version: %+v", e.Type, e)
		}
	}
	if len(seen) != 8 {
		t.Errorf("event types built: %v, want all 8", seen)
	}
	if out.clockGroup == nil || Events(out, ctx, ix)[0].GroupID != "g-a" {
		t.Errorf("clock-out group: %+v", Events(out, ctx, ix))
	}
}
