package central_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/sync/central"
)

// Parents' absences of today and tomorrow ride with every roster version
// (child, day, kind; never the note), a reported or withdrawn one of those
// days writes a new version at once, and RefreshAbsences catches up when
// the days move on.
func TestRosterCarriesParentsAbsences(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		const loc = "loc-regenboog"
		// 09:00 UTC on Monday 16 November 2026 is 10:00 in Amsterdam.
		today, tomorrow, later := attendance.MustDate("2026-11-16"), attendance.MustDate("2026-11-17"), attendance.MustDate("2026-11-19")
		v0, err := e.db.Sites.RosterVersion(ctx, loc)
		if err != nil {
			t.Fatal(err)
		}
		add := func(child string, d attendance.Date, kind string) central.ParentAbsence {
			a, _, err := e.db.Parents.AddAbsence(ctx, central.ParentAbsence{AccountID: "acc-test", LocationID: loc, ChildID: child, Date: d, Kind: kind, Note: "koorts 39,5"})
			if err != nil {
				t.Fatal(err)
			}
			if err := e.db.Sites.AbsencesChanged(ctx, loc, d); err != nil {
				t.Fatal(err)
			}
			return a
		}
		sick := add("c-mila", today, roster.AbsenceSick)
		add("c-daan", tomorrow, roster.AbsenceLateCancel)
		add("c-daan", later, roster.AbsenceCancel) // beyond tomorrow: no new version
		add("c-nobody", today, roster.AbsenceSick) // not on the roster: left out

		r, body, err := e.db.Sites.Roster(ctx, loc)
		if err != nil {
			t.Fatal(err)
		}
		if r.Version != v0+3 {
			t.Errorf("version %d, want %d (one per absence of today or tomorrow)", r.Version, v0+3)
		}
		want := []roster.Absence{{ChildID: "c-mila", Date: today, Kind: "sick"}, {ChildID: "c-daan", Date: tomorrow, Kind: "late_cancel"}}
		if len(r.Absences) != 2 || r.Absences[0] != want[0] || r.Absences[1] != want[1] {
			t.Fatalf("absences %+v, want %+v", r.Absences, want)
		}
		if strings.Contains(string(body), "koorts") {
			t.Error("the parent's note reached the roster")
		}
		ix, err := roster.NewIndex(&r)
		if err != nil {
			t.Fatal(err)
		}
		if a, ok := ix.Absence("c-mila", today); !ok || a.Kind != "sick" {
			t.Errorf("index: %+v %v", a, ok)
		}

		// Any other roster write keeps the list (it is filled in, not copied).
		if _, err := e.db.Sites.EditRoster(ctx, loc, func(r *roster.Roster) error { r.Absences = nil; return nil }); err != nil {
			t.Fatal(err)
		}
		if r, _, _ = e.db.Sites.Roster(ctx, loc); len(r.Absences) != 2 {
			t.Errorf("after an edit: %+v", r.Absences)
		}

		// Withdrawn: gone at once.
		if _, err := e.db.Parents.WithdrawAbsence(ctx, sick.ID, map[string]bool{loc + "/c-mila": true}); err != nil {
			t.Fatal(err)
		}
		if err := e.db.Sites.AbsencesChanged(ctx, loc, today); err != nil {
			t.Fatal(err)
		}
		if r, _, _ = e.db.Sites.Roster(ctx, loc); len(r.Absences) != 1 || r.Absences[0].ChildID != "c-daan" {
			t.Errorf("after withdrawal: %+v", r.Absences)
		}

		// Nothing changed: the job writes nothing. The next day: it does.
		v1, _ := e.db.Sites.RosterVersion(ctx, loc)
		if err := e.db.Sites.RefreshAbsences(ctx); err != nil {
			t.Fatal(err)
		}
		if v, _ := e.db.Sites.RosterVersion(ctx, loc); v != v1 {
			t.Errorf("refresh without a change wrote v%d", v)
		}
		e.clock.Set(time.Date(2026, 11, 18, 6, 0, 0, 0, time.UTC)) // Wednesday: tomorrow is the 19th
		if err := e.db.Sites.RefreshAbsences(ctx); err != nil {
			t.Fatal(err)
		}
		r, _, _ = e.db.Sites.Roster(ctx, loc)
		if r.Version != v1+1 || len(r.Absences) != 1 || r.Absences[0] != (roster.Absence{ChildID: "c-daan", Date: later, Kind: "cancel"}) {
			t.Errorf("after the days moved on: v%d %+v", r.Version, r.Absences)
		}
	})
}
