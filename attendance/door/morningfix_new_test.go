package door

// Regression tests of issue 14 that need the new door API (the undo guard,
// releases to a named grown-up, withdrawn rights, state_changed). Against
// the old door they do not compile: see morningfix_test.go for the ones
// that ran against it.

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/attendance/rules"
)

const cardRob = "3D4E5F60" // Levi's former guardian (rights withdrawn)

func guarded(t *testing.T, mods ...func(*roster.Roster)) *rig {
	t.Helper()
	r := newRig(t, mods...)
	r.cfg.Policy.UndoGuard = 2 * time.Minute
	s, err := New(context.Background(), r.cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.s = s
	return r
}

// Item 2: Ruben taps twice 2 s apart: Levi in, then a question, never out.
func TestIssue14SecondTapAsksBeforeUndoing(t *testing.T) {
	r := guarded(t)
	ctx := context.Background()
	if v := r.tap(cardRuben); v.Outcome != rules.CheckIn {
		t.Fatalf("first tap = %+v", v)
	}
	r.clk.advance(2 * time.Second)
	seq := r.lastSeq()
	v := r.tap(cardRuben)
	if v.Outcome != rules.Confirm || v.Reason != rules.ReasonUndoRecent || v.Session == "" ||
		!slices.Equal(childSums(v.Children), []string{"c-levi:check_out:-:present"}) {
		t.Fatalf("second tap = %s %s %v", v.Outcome, v.Reason, childSums(v.Children))
	}
	if evs := r.events(seq); len(evs) != 0 {
		t.Fatalf("the second tap acted: %+v", sumEvents(evs))
	}
	// "Nee": nothing happens.
	if err := r.s.Cancel(v.Session); err != nil {
		t.Fatal(err)
	}
	if _, in := r.s.pres.current().Child("c-levi"); !in {
		t.Fatal("Levi left on 'no'")
	}
	// Again, "Ja, ophalen": Levi goes.
	v = r.tap(cardRuben)
	got, err := r.s.Select(ctx, v.Session, []string{"c-levi"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Outcome != rules.CheckOut {
		t.Errorf("yes = %+v", got)
	}
	// After the guard, a tap acts at once.
	r.clk.advance(3 * time.Minute)
	if v := r.tap(cardRuben); v.Outcome != rules.CheckIn || !v.Committed {
		t.Errorf("tap after the guard = %+v", v)
	}
	// Expiry: nothing happens.
	r.clk.advance(time.Second)
	v = r.tap(cardRuben)
	r.clk.advance(time.Minute)
	r.s.expire()
	if _, in := r.s.pres.current().Child("c-levi"); !in {
		t.Error("Levi left when the question expired")
	}
}

// Item 2, staff: a clock-in right after one's own clock-out asks.
func TestIssue14StaffClockInRightAfterClockOutAsks(t *testing.T) {
	r := guarded(t)
	ctx := context.Background()
	r.tap(cardLotte)
	if err := r.s.Manual(ctx, ManualStaffOut, "", ""); err != nil {
		t.Fatal(err)
	}
	r.clk.advance(10 * time.Second)
	v := r.tap(cardLotte)
	if v.Outcome != rules.Confirm || v.Reason != rules.ReasonUndoRecent || v.Session == "" {
		t.Fatalf("tap after clocking out = %+v", v)
	}
	if _, in := r.s.pres.current().Staff("s-lotte"); in {
		t.Fatal("clocked in without asking")
	}
	if _, err := r.s.Select(ctx, v.Session, nil); err != nil {
		t.Fatal(err)
	}
	if _, in := r.s.pres.current().Staff("s-lotte"); !in {
		t.Error("yes did not clock in")
	}
}

// Item 5: confirm never acts on a child whose state changed since.
func TestIssue14ConfirmRefusesAChangedChild(t *testing.T) {
	r := newRig(t, func(ro *roster.Roster) {
		// Henk was announced yesterday for both children.
		ro.Announced = append(ro.Announced, roster.AnnouncedPickup{ID: "a-3", ChildID: "c-daan", PersonID: "p-henk",
			Date: attendance.DateOf(start.AddDate(0, 0, -1)), CreatedBy: "p-kees"})
	})
	ctx := context.Background()
	v := r.tap(cardFatima)
	if _, err := r.s.Select(ctx, v.Session, []string{"c-mila", "c-daan"}); err != nil {
		t.Fatal(err)
	}
	r.clk.advance(8 * time.Hour)
	req := r.tap(cardHenk)
	if !slices.Equal(childSums(req.Children), []string{"c-mila:check_out:-:present", "c-daan:check_out:-:present"}) {
		t.Fatalf("Henk = %+v", req)
	}
	r.clk.advance(40 * time.Second)
	v = r.tap(cardFatima) // mother takes Mila herself
	if _, err := r.s.Select(ctx, v.Session, []string{"c-mila"}); err != nil {
		t.Fatal(err)
	}
	r.tap(cardLotte)
	seq := r.lastSeq()
	if _, err := r.s.Confirm(ctx, req.Session, nil, "rijbewijs", ""); !errors.Is(err, ErrStateChanged) {
		t.Fatalf("confirm after Mila left: %v", err)
	}
	want := []evSum{
		{Type: attendance.RequestClosed, Child: "c-mila", Actor: "p-henk", Reason: rules.ReasonStateChanged},
		{Type: attendance.RequestClosed, Child: "c-daan", Actor: "p-henk", Reason: rules.ReasonStateChanged},
	}
	if diff := cmpDiffEv(want, sumEvents(r.events(seq))); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if sv := r.staffView(); len(sv.Requests) != 0 {
		t.Errorf("request still open: %+v", sv.Requests)
	}
}

// Item 5: expired and superseded requests are recorded with why.
func TestIssue14RequestsCloseWithAReason(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.tap(cardLotte)
	if err := r.s.Manual(ctx, ManualCheckIn, "c-anna", ""); err != nil {
		t.Fatal(err)
	}
	r.clk.advance(time.Hour)
	r.tap(cardAnna)
	r.tap(cardUnknown) // forget the tap: Anna's next is not "already done"
	r.tap(cardAnna)    // asks again: supersedes
	r.clk.advance(6 * time.Minute)
	r.s.expire()
	var reasons []string
	for _, e := range r.events(0) {
		if e.Type == attendance.RequestClosed {
			reasons = append(reasons, e.Reason)
		}
	}
	if !slices.Equal(reasons, []string{rules.CloseSuperseded, rules.CloseExpired}) {
		t.Errorf("closed requests: %v", reasons)
	}
}

// Item 7: staff say to whom; the ban check applies to that person.
func TestIssue14ReleaseToAGrownUp(t *testing.T) {
	r := newRig(t, func(ro *roster.Roster) {
		ro.ContactBans = append(ro.ContactBans, roster.ContactBan{ChildID: "c-anna", PersonID: "p-tom"})
	})
	ctx := context.Background()
	r.tap(cardLotte)
	if err := r.s.Manual(ctx, ManualCheckIn, "c-anna", ""); err != nil {
		t.Fatal(err)
	}
	r.clk.advance(time.Hour)
	req := r.tap(cardAnna)
	r.tap(cardLotte)
	sv := r.staffView()
	if len(sv.Requests) != 1 || len(sv.Requests[0].ReleaseTo) != 1 || sv.Requests[0].ReleaseTo[0].ID != "p-linda" {
		t.Fatalf("release candidates = %+v", sv.Requests)
	}
	if _, err := r.s.ConfirmTo(ctx, req.Session, nil, "", "", rules.Handover{PersonID: "p-tom"}); !errors.Is(err, ErrContactBan) {
		t.Errorf("released to a banned person: %v", err)
	}
	if _, err := r.s.ConfirmTo(ctx, req.Session, nil, "", "", rules.Handover{Name: "Jan de B."}); !errors.Is(err, ErrBadRequest) {
		t.Errorf("released to a name without ID: %v", err)
	}
	seq := r.lastSeq()
	if _, err := r.s.ConfirmTo(ctx, req.Session, nil, "rijbewijs", "", rules.Handover{Name: "Jan de B."}); err != nil {
		t.Fatal(err)
	}
	evs := r.events(seq)
	if len(evs) != 1 || evs[0].Type != attendance.ChildCheckOut || evs[0].IDChecked != "rijbewijs" || evs[0].Note != "Meegegeven aan: Jan de B." ||
		evs[0].ConfirmedBy != "s-lotte" || evs[0].ActorRole != attendance.RolePickup {
		t.Errorf("events = %+v", evs)
	}
}

// Item 8: a former guardian is refused like a contact ban.
func TestIssue14WithdrawnRightsRefusedLikeABan(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.tap(cardLotte)
	if err := r.s.Manual(ctx, ManualCheckIn, "c-levi", ""); err != nil {
		t.Fatal(err)
	}
	r.clk.advance(time.Hour)
	seq := r.lastSeq()
	v := r.tap(cardRob)
	if v.Outcome != rules.Denied || v.Reason != rules.ReasonWithdrawn || v.StaffAlert == "" {
		t.Fatalf("Rob = %+v", v)
	}
	want := []evSum{{Type: attendance.DeniedTap, Actor: "p-rob", Reason: rules.ReasonWithdrawn}}
	if diff := cmpDiffEv(want, sumEvents(r.events(seq))); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if _, in := r.s.pres.current().Child("c-levi"); !in {
		t.Error("Levi left")
	}
	r.tap(cardLotte)
	found := false
	for _, w := range r.staffView().Warnings {
		found = found || w.Code == rules.ReasonContactBan && w.Text != ""
	}
	if !found {
		t.Error("staff not warned")
	}
}

func cmpDiffEv(want, got []evSum) string {
	if slices.Equal(want, got) {
		return ""
	}
	var w, g []string
	for _, e := range want {
		w = append(w, string(e.Type)+"/"+e.Child+"/"+e.Actor+"/"+e.Reason)
	}
	for _, e := range got {
		g = append(g, string(e.Type)+"/"+e.Child+"/"+e.Actor+"/"+e.Reason)
	}
	return cmpDiff(w, g)
}
