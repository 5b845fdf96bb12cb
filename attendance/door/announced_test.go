package door

import (
	"context"
	"testing"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/attendance/rules"
)

// The parents' portal on the staff panel: an announced pickup shows under
// the child (who, window, "aangekondigd door Fatima om 07:10"), in a
// request when the person came outside the window, and after the release;
// reported absences make the group's expected-children line.
func TestStaffPanelShowsAnnouncementsAndAbsences(t *testing.T) {
	today := attendance.DateOf(start)
	r := newRig(t, func(ro *roster.Roster) {
		ro.Announced = append(ro.Announced, roster.AnnouncedPickup{ID: "a-henk", ChildID: "c-daan", PersonID: "p-henk", Date: today,
			From: "16:00", Until: "17:00", CreatedBy: "p-fatima", CreatedAt: time.Date(2026, 3, 4, 6, 10, 0, 0, time.UTC), IDNote: "rijbewijs"})
		ro.Absences = []roster.Absence{
			{ChildID: "c-noah", Date: today, Kind: roster.AbsenceSick},
			{ChildID: "c-julia", Date: attendance.DateOf(start.AddDate(0, 0, 1)), Kind: roster.AbsenceCancel}, // tomorrow
		}
	})
	ctx := context.Background()
	v := r.tap(cardFatima)
	if _, err := r.s.Select(ctx, v.Session, []string{"c-mila", "c-daan"}); err != nil {
		t.Fatal(err)
	}
	r.tap(cardLotte)
	sv := r.staffView()
	henk := func(ps []Person, id string) []Announcement {
		for _, p := range ps {
			if p.ID == id {
				return p.Announced
			}
		}
		t.Fatalf("%s not listed", id)
		return nil
	}
	as := henk(sv.Present, "c-daan")
	if len(as) != 1 || as[0].Person != "Henk K." || as[0].Relation != "opa" || as[0].From != "16:00" || as[0].Until != "17:00" ||
		as[0].By != "Fatima B." || as[0].At.Format("15:04") != "07:10" || as[0].IDNote != "rijbewijs" || as[0].Covers {
		t.Errorf("Daan's announcement at 07:30: %+v", as)
	}
	if as := henk(sv.Present, "c-mila"); len(as) != 1 || as[0].Person != "Els K." || !as[0].Covers || as[0].By != "Fatima B." || !as[0].At.IsZero() {
		t.Errorf("Mila's (the demo's all-day neighbour, no time): %+v", as)
	}
	var rupsen *GroupExpected
	for i := range sv.Expected {
		if sv.Expected[i].GroupID == "g-rupsen" {
			rupsen = &sv.Expected[i]
		}
	}
	if rupsen == nil || rupsen.Expected != 3 || len(rupsen.Absent) != 1 || rupsen.Absent[0] != (AbsentChild{ID: "c-noah", Name: "Noah", Kind: "sick"}) {
		t.Errorf("Rupsen expected: %+v", rupsen)
	}
	for _, p := range sv.Absent {
		if want := map[string]string{"c-noah": "sick"}[p.ID]; p.Absence != want {
			t.Errorf("absent list: %s absence %q, want %q", p.ID, p.Absence, want)
		}
	}
	r.s.Lock()

	// 15:00: Henk is early. Staff come; the request says for when he was
	// announced.
	r.clk.set(time.Date(2026, 3, 4, 15, 0, 0, 0, ams))
	req := r.tap(cardHenk)
	if req.Outcome != rules.NeedsStaff || req.Reason != rules.ReasonNotAnnounced {
		t.Fatalf("Henk at 15:00: %s %s", req.Outcome, req.Reason)
	}
	r.tap(cardLotte)
	sv = r.staffView()
	if len(sv.Requests) != 1 {
		t.Fatalf("requests: %+v", sv.Requests)
	}
	if as := sv.Requests[0].Announced; len(as) != 1 || as[0].ChildID != "c-daan" || as[0].Covers || as[0].From != "16:00" || as[0].By != "Fatima B." {
		t.Errorf("request's announcements: %+v", as)
	}
	if err := r.s.Refuse(ctx, req.Session, "te vroeg"); err != nil {
		t.Fatal(err)
	}
	r.s.Lock()

	// 16:05: in the window, Daan goes without staff; Mila (not announced
	// for Henk today) waits for staff.
	r.clk.set(time.Date(2026, 3, 4, 16, 5, 0, 0, ams))
	out := r.tap(cardHenk)
	if out.Outcome != rules.NeedsStaff || !out.Committed {
		t.Fatalf("Henk at 16:05: %+v", out)
	}
	r.tap(cardLotte)
	sv = r.staffView()
	if as := henk(sv.Absent, "c-daan"); len(as) != 1 || !as[0].Covers || as[0].By != "Fatima B." {
		t.Errorf("Daan after the release: %+v", as)
	}
	if len(sv.Requests) != 1 || len(sv.Requests[0].Children) != 1 || len(sv.Requests[0].Announced) != 0 {
		t.Errorf("Mila's request (Henk is announced for Daan only): %+v", sv.Requests)
	}
}
