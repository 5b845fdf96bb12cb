package door

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/attendance/rules"
)

// TestEveryEventNamesLocationAndRoster drives every path on which the door
// records events (taps, a choice, a contact ban alone and as a handover
// pair, a ratio override, a confirmed and two refused requests, manual
// acts, a clock-out, roll call marks) and fails when one of the stored
// events lacks the location or the roster version that decided it, or when
// an event type was never recorded (a new path must be added here).
func TestEveryEventNamesLocationAndRoster(t *testing.T) {
	const cardJulia = "0A0B0C0D"
	r := newRig(t, els, func(ro *roster.Roster) {
		ro.Location.RatioMode = "block"
		uid, _ := attendance.ParseUID(cardJulia)
		ro.Badges = append(ro.Badges, roster.Badge{Hash: roster.DemoBadgeKey.Hash(uid), Role: attendance.RoleChild, HolderID: "c-julia"})
	})
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// A blocked check-in (nobody in Vlinders yet), overridden by staff.
	blocked := r.tap(cardYoussef)
	r.tap(cardLotte) // staff in
	_, err := r.s.Confirm(ctx, blocked.Session, nil, "", "Ahmed komt zo")
	must(err)
	// Els is not announced today and nobody of hers is present: nothing
	// happens (a request never has an empty children list, issue 14 item 6;
	// it used to be a request without children, refused).
	if v := r.tap(cardEls); v.Outcome != rules.Denied || v.Session != "" {
		t.Fatalf("Els with nobody of hers present = %+v", v)
	}
	r.tap(cardLotte)
	// Manual check-ins, then Els again: a request for Mila, refused; then
	// again, confirmed after an ID check.
	must(r.s.Manual(ctx, ManualCheckIn, "c-mila", "kaart vergeten"))
	must(r.s.Manual(ctx, ManualCheckIn, "c-julia", ""))
	must(r.s.Manual(ctx, ManualCheckIn, "c-anna", ""))
	r.clk.advance(time.Minute)
	// Anna asks for a grown-up; her mother's tap completes the handover and
	// the request closes by itself (recorded).
	r.tap(cardAnna)
	r.clk.advance(5 * time.Second)
	r.tap("9A2B3C4D") // Linda
	r.clk.advance(time.Minute)
	r.tap(cardLotte)
	mila := r.tap(cardEls)
	r.tap(cardLotte)
	must(r.s.Refuse(ctx, mila.Session, "moeder niet bereikbaar"))
	r.clk.advance(time.Minute)
	mila = r.tap(cardEls)
	r.tap(cardLotte)
	_, err = r.s.Confirm(ctx, mila.Session, nil, "rijbewijs", "")
	must(err)
	// A contact ban, alone and as a handover pair.
	r.clk.advance(time.Minute)
	r.tap(cardTom)
	r.clk.advance(5 * time.Second)
	r.tap(cardJulia)
	// A choice, a manual check-out, roll call marks and a clock-out.
	r.clk.advance(time.Minute)
	r.tap(cardAhmed)
	choice := r.tap(cardSanne)
	_, err = r.s.Select(ctx, choice.Session, []string{"c-emma"})
	must(err)
	r.tap(cardLotte)
	must(r.s.Manual(ctx, ManualCheckOut, "c-julia", ""))
	must(r.s.Manual(ctx, ManualRollStart, "", ""))
	must(r.s.Manual(ctx, ManualRollMark, "c-emma", ""))
	must(r.s.Manual(ctx, ManualRollMark, "s-ahmed", ""))
	must(r.s.Manual(ctx, ManualStaffOutSure, "", ""))

	seen := map[attendance.EventType]int{}
	for _, e := range r.events(0) {
		seen[e.Type]++
		if e.LocationID != "loc-regenboog" || e.RosterVersion == 0 {
			t.Errorf("%s event (actor %s, child %s) lacks location or roster version: location %q, roster %d",
				e.Type, e.ActorID, e.ChildID, e.LocationID, e.RosterVersion)
		}
	}
	for _, typ := range []attendance.EventType{attendance.ChildCheckIn, attendance.ChildCheckOut, attendance.StaffIn, attendance.StaffOut,
		attendance.PickupRefused, attendance.DeniedTap, attendance.RatioOverride, attendance.RollCallMark, attendance.RequestClosed} {
		if seen[typ] == 0 {
			t.Errorf("no %s event recorded: the test misses a path", typ)
		}
	}
	if n := seen[attendance.PickupRefused]; n != 1 {
		t.Errorf("%d refusals recorded, want 1", n)
	}
	if !slices.ContainsFunc(r.events(0), func(e attendance.Event) bool {
		return e.Type == attendance.RequestClosed && e.ChildID == "c-anna" && e.Reason == rules.CloseResolved
	}) {
		t.Error("Anna's request did not close by itself")
	}
}
