package door

// Regression tests of issue 14 ("the door, safe for a real morning"),
// items 1 and 3-8, on a real SQLite store. They use only what the door
// had before the fixes, so each one runs (and failed) against the old
// door too; morningfix_new_test.go has the ones that need the new API.

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/attendance/rules"
)

const (
	cardLinda = "9A2B3C4D" // guardian of Finn and Anna
	cardRiet  = "04C33E4C8D7092"
	cardHenk  = "8E9FA0B1"
)

func childSums(cs []rules.Child) []string {
	var out []string
	for _, c := range cs {
		sel := "-"
		if c.Selected {
			sel = "sel"
		}
		pres := "absent"
		if c.Present {
			pres = "present"
		}
		out = append(out, c.ID+":"+string(c.Action)+":"+sel+":"+pres)
	}
	return out
}

// Item 1: Sanne with Sem present and Noah, Emma absent: nothing is
// preselected, and the result names exactly what happened per child.
func TestIssue14MixedFamilyTapPreselectsNothing(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	v := r.tap(cardSanne) // morning: all three to bring, preselected
	if _, err := r.s.Select(ctx, v.Session, []string{"c-emma", "c-sem"}); err != nil {
		t.Fatal(err)
	}
	r.clk.advance(9 * time.Hour)
	v = r.tap(cardSanne)
	if v.Outcome != rules.ChooseChildren {
		t.Fatalf("mixed tap = %+v", v)
	}
	want := []string{"c-noah:check_in:-:absent", "c-emma:check_out:-:present", "c-sem:check_out:-:present"}
	if diff := cmpDiff(want, childSums(v.Children)); diff != "" {
		t.Errorf("mixed tap offers (-want +got):\n%s", diff)
	}
	seq := r.lastSeq()
	got, err := r.s.Select(ctx, v.Session, []string{"c-sem"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Outcome != rules.CheckOut || !slices.Equal(childSums(got.Children), []string{"c-sem:check_out:sel:absent"}) {
		t.Errorf("Sem taken home: %s %v", got.Outcome, childSums(got.Children))
	}
	if diff := cmp.Diff([]evSum{{Type: attendance.ChildCheckOut, Child: "c-sem", Actor: "p-sanne"}}, sumEvents(r.events(seq))); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	// Across directions on purpose: each child named with what happened.
	r.clk.advance(5 * time.Minute)
	v = r.tap(cardSanne)
	got, err = r.s.Select(ctx, v.Session, []string{"c-noah", "c-emma"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Outcome != "check_in_out" || !slices.Equal(childSums(got.Children), []string{"c-noah:check_in:sel:present", "c-emma:check_out:sel:absent"}) {
		t.Errorf("both ways: %s %v", got.Outcome, childSums(got.Children))
	}
}

// Item 3: a parent's tap locks the staff panel, and so does the end of a
// staff confirm or refusal on the public screen.
func TestIssue14StaffPanelLocksForParents(t *testing.T) {
	r := newRig(t, els)
	ctx := context.Background()
	r.tap(cardLotte)
	for _, c := range []string{"c-emma", "c-mila"} {
		if err := r.s.Manual(ctx, ManualCheckIn, c, ""); err != nil {
			t.Fatal(err)
		}
	}
	ch, stop := r.s.Subscribe()
	defer stop()
	v := r.tap(cardEls) // not announced today: a request
	if r.s.Snapshot().Staff != nil {
		t.Fatal("staff panel (Emma's allergy) still open after a parent's tap")
	}
	locked := false
	for len(ch) > 0 {
		if u := <-ch; u.Type == "staff" && u.Staff == nil {
			locked = true
		}
	}
	if !locked {
		t.Error("no staff:null sent on a parent's tap")
	}
	r.tap(cardLotte)
	if _, err := r.s.Confirm(ctx, v.Session, nil, "rijbewijs", ""); err != nil {
		t.Fatal(err)
	}
	if sn := r.s.Snapshot(); sn.Staff != nil {
		t.Errorf("staff panel open after a confirm: the public result would be followed by it")
	}
	if _, err := r.s.Confirm(ctx, v.Session, nil, "rijbewijs", ""); err == nil {
		t.Error("a second confirm without a staff tap worked")
	}
}

// Item 5: Anna asked for a grown-up; Linda completed the handover: the
// request closes by itself (recorded) and a late confirm writes nothing.
func TestIssue14StaleRequestClosesItself(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.tap(cardLotte)
	if err := r.s.Manual(ctx, ManualCheckIn, "c-anna", ""); err != nil {
		t.Fatal(err)
	}
	r.clk.advance(8 * time.Hour)
	req := r.tap(cardAnna)
	if req.Reason != rules.ReasonNeedsGrownUp || req.Session == "" {
		t.Fatalf("Anna = %+v", req)
	}
	r.clk.advance(40 * time.Second) // past the handover window: Linda takes Anna by choosing
	v := r.tap(cardLinda)
	if _, err := r.s.Select(ctx, v.Session, []string{"c-anna"}); err != nil {
		t.Fatal(err)
	}
	seq := r.lastSeq()
	r.tap(cardLotte)
	if sv := r.staffView(); len(sv.Requests) != 0 {
		t.Errorf("requests after the handover: %+v", sv.Requests)
	}
	r.s.Confirm(ctx, req.Session, nil, "rijbewijs", "")
	outs := 0
	for _, e := range r.events(0) {
		if e.Type == attendance.ChildCheckOut && e.ChildID == "c-anna" {
			outs++
		}
	}
	if outs != 1 {
		t.Errorf("Anna checked out %d times", outs)
	}
	closed := false
	for _, e := range r.events(0) {
		closed = closed || e.Type == "request_closed" && e.ChildID == "c-anna" && e.Reason == "resolved"
	}
	if !closed {
		t.Errorf("the request's closing is not recorded: %+v", sumEvents(r.events(seq)))
	}
}

// Item 6: Els, announced for Mila only, with Mila and Daan present: Mila
// goes, Daan becomes one staff request with the ID check.
func TestIssue14PartlyAnnouncedPickup(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	v := r.tap(cardFatima)
	if _, err := r.s.Select(ctx, v.Session, []string{"c-mila", "c-daan"}); err != nil {
		t.Fatal(err)
	}
	r.clk.advance(8 * time.Hour)
	seq := r.lastSeq()
	v = r.tap(cardEls)
	if v.Outcome != rules.NeedsStaff || v.Reason != rules.ReasonNotAnnounced || !v.Committed || v.Session == "" {
		t.Fatalf("Els = %+v", v)
	}
	if diff := cmpDiff([]string{"c-mila:check_out:sel:absent", "c-daan:check_out:-:present"}, childSums(v.Children)); diff != "" {
		t.Errorf("public result (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]evSum{{Type: attendance.ChildCheckOut, Child: "c-mila", Actor: "p-buurvrouw"}}, sumEvents(r.events(seq))); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	r.tap(cardLotte)
	sv := r.staffView()
	if len(sv.Requests) != 1 || !slices.Equal(ids(sv.Requests[0].Children), []string{"c-daan"}) || sv.Requests[0].Reason != rules.ReasonNotAnnounced {
		t.Fatalf("requests = %+v", sv.Requests)
	}
	if _, err := r.s.Confirm(ctx, v.Session, nil, "", ""); err == nil {
		t.Error("Daan released without an ID check")
	}
	if _, err := r.s.Confirm(ctx, v.Session, nil, "rijbewijs", ""); err != nil {
		t.Fatal(err)
	}
	if _, in := r.s.pres.current().Child("c-daan"); in {
		t.Error("Daan still present after staff confirmed")
	}
}

// Item 7: a child who may not leave alone is not released to nobody.
func TestIssue14ChildReleasedToNobodyIsRefused(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.tap(cardLotte)
	if err := r.s.Manual(ctx, ManualCheckIn, "c-anna", ""); err != nil {
		t.Fatal(err)
	}
	r.clk.advance(time.Hour)
	req := r.tap(cardAnna)
	r.tap(cardLotte)
	seq := r.lastSeq()
	if _, err := r.s.Confirm(ctx, req.Session, nil, "", ""); err == nil {
		t.Error("Anna released with no adult and no ID")
	}
	if evs := r.events(seq); len(evs) != 0 {
		t.Errorf("events: %+v", sumEvents(evs))
	}
}

// Item 8: a pickup person without a birth date where the location has a
// minimum pickup age goes to staff.
func TestIssue14PickupAgeUnknownGoesToStaff(t *testing.T) {
	r := newRig(t, func(ro *roster.Roster) {
		for i := range ro.People {
			if ro.People[i].ID == "p-oma-riet" {
				ro.People[i].BirthDate = attendance.Date{}
			}
		}
	})
	ctx := context.Background()
	r.tap(cardLotte)
	if err := r.s.Manual(ctx, ManualCheckIn, "c-julia", ""); err != nil {
		t.Fatal(err)
	}
	r.clk.advance(time.Hour)
	seq := r.lastSeq()
	v := r.tap(cardRiet)
	if v.Outcome != rules.NeedsStaff || v.Reason != "pickup_age_unknown" || len(v.Children) != 1 {
		t.Errorf("Riet without a birth date = %s %s %v", v.Outcome, v.Reason, childSums(v.Children))
	}
	if evs := r.events(seq); len(evs) != 0 {
		t.Errorf("events: %+v", sumEvents(evs))
	}
}

func cmpDiff(want, got []string) string {
	if slices.Equal(want, got) {
		return ""
	}
	return "- " + joinOr(want) + "\n+ " + joinOr(got)
}

func joinOr(s []string) string {
	if len(s) == 0 {
		return "(none)"
	}
	out := s[0]
	for _, x := range s[1:] {
		out += ", " + x
	}
	return out
}
