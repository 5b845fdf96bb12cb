package central_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/audit"
	"github.com/kinderdeur/kiosk/attendance/billing"
	"github.com/kinderdeur/kiosk/attendance/stays"
	"github.com/kinderdeur/kiosk/sync/central"
	"github.com/kinderdeur/kiosk/sync/protocol"
)

// TestCorrectionsForgottenCheckOut is the story of the issue: a forgotten
// check-out draws Noah present until midnight and puts minutes below the
// ratio on the inspector's page; a manager ends the stay, and the inspection
// list, the export and billing follow. A kiosk-made correction arrives
// through the normal outbox exactly once; both reach the kiosks through the
// device route; the audit trail says who, when and why.
func TestCorrectionsForgottenCheckOut(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		ams, _ := time.LoadLocation("Europe/Amsterdam")
		local := func(s string) time.Time {
			tm, err := time.ParseInLocation("2006-01-02 15:04", s, ams)
			if err != nil {
				t.Fatal(err)
			}
			return tm
		}
		e.clock.Set(local("2026-11-17 10:00")) // Tuesday
		monday := attendance.MustDate("2026-11-16")
		d := e.enrol(t)
		probe := protocol.ClockProbe{BootID: d.boot, MonoNS: int64(30 * time.Hour), Wall: e.clock.Now(), Synced: true}
		staffIn := d.event(1, attendance.StaffIn, "", local("2026-11-16 07:00"), time.Hour, true)
		staffIn.StaffID, staffIn.ChildID = "s-lotte", ""
		checkIn := d.event(2, attendance.ChildCheckIn, "c-noah", local("2026-11-16 08:00"), 2*time.Hour, true)
		staffOut := d.event(3, attendance.StaffOut, "", local("2026-11-16 16:53"), 10*time.Hour, true)
		staffOut.StaffID, staffOut.ChildID = "s-lotte", ""
		if code, r, perr := d.post(t, d.batch(probe, staffIn, checkIn, staffOut)); code != 200 || r.AckedThroughSeq != 3 {
			t.Fatalf("post: %d %+v %v", code, r, perr)
		}
		gd, err := e.db.Reports.GroupDay(ctx, "loc-regenboog", "g-rupsen", monday)
		if err != nil {
			t.Fatal(err)
		}
		if got := gd.Report.BelowMinutes(); got != 427 {
			t.Fatalf("before: %d minutes below ratio, want 427 (16:53 to midnight)", got)
		}

		// Roles: manager and admin may correct, billing and inspector may not.
		token := func(role string) string {
			code, out := e.admin(t, http.MethodPost, "/api/v1/admin/tokens", []byte(`{"name":"n","role":"`+role+`"}`))
			var r struct{ Token string }
			json.Unmarshal(out, &r)
			if code != 200 {
				t.Fatalf("token %s: %d %s", role, code, out)
			}
			return r.Token
		}
		path := "/api/v1/admin/locations/loc-regenboog/corrections"
		as := func(tok, method string, body []byte) (int, []byte) {
			return e.do(t, method, path, body, func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) })
		}
		fix := mustJSON(central.CorrectionInput{ChildID: "c-noah", Kind: "set_check_out", Target: checkIn.ID,
			Date: "2026-11-16", CheckOut: "16:45", Reason: "uitchecken vergeten; moeder haalde om 16:45"})
		for _, role := range []string{"billing", "inspector"} {
			if code, out := as(token(role), http.MethodPost, fix); code != http.StatusForbidden {
				t.Errorf("%s may not correct: %d %s", role, code, out)
			}
			if code, _ := as(token(role), http.MethodGet, nil); code != http.StatusOK {
				t.Errorf("%s may read corrections: %d", role, code)
			}
		}
		if code, _ := e.do(t, http.MethodPost, path, fix, nil); code != http.StatusUnauthorized {
			t.Errorf("no token: %d, want 401", code)
		}
		manager := token("manager")
		for name, bad := range map[string]central.CorrectionInput{
			"no reason":        {ChildID: "c-noah", Kind: "set_check_out", Target: checkIn.ID, Date: "2026-11-16", CheckOut: "16:45"},
			"unknown stay":     {ChildID: "c-noah", Kind: "set_check_out", Target: "nope", Date: "2026-11-16", CheckOut: "16:45", Reason: "x"},
			"another child":    {ChildID: "c-julia", Kind: "set_check_out", Target: checkIn.ID, Date: "2026-11-16", CheckOut: "16:45", Reason: "x"},
			"before check-in":  {ChildID: "c-noah", Kind: "set_check_out", Target: checkIn.ID, Date: "2026-11-16", CheckOut: "07:45", Reason: "x"},
			"in the future":    {ChildID: "c-noah", Kind: "set_check_out", Target: checkIn.ID, Date: "2026-11-17", CheckOut: "18:00", Reason: "x"},
			"unknown child":    {ChildID: "c-nobody", Kind: "add_stay", Date: "2026-11-16", CheckIn: "08:00", CheckOut: "09:00", Reason: "x"},
			"not a stay event": {ChildID: "c-noah", Kind: "remove_stay", Target: staffIn.ID, Reason: "x"},
		} {
			if code, out := as(manager, http.MethodPost, mustJSON(bad)); code != http.StatusUnprocessableEntity {
				t.Errorf("%s: %d %s, want 422", name, code, out)
			}
		}
		code, out := as(manager, http.MethodPost, fix)
		if code != http.StatusCreated {
			t.Fatalf("manager corrects: %d %s", code, out)
		}
		var made central.StoredCorrection
		if err := json.Unmarshal(out, &made); err != nil || made.Cursor != 1 || made.Event.Seq != 1 || made.Event.DeviceID != protocol.CentralDeviceID {
			t.Fatalf("made %+v %v", made, err)
		}

		// The inspection list no longer shows the minutes below ratio.
		gd, err = e.db.Reports.GroupDay(ctx, "loc-regenboog", "g-rupsen", monday)
		if err != nil {
			t.Fatal(err)
		}
		if got := gd.Report.BelowMinutes(); got != 0 {
			t.Errorf("after: %d minutes below ratio, want 0", got)
		}
		// The export: 08:00-16:45 flagged corrected (contract-6 columns as they were).
		code, out = e.admin(t, http.MethodGet, "/api/v1/attendance?from=2026-11-16&to=2026-11-16&format=csv", nil)
		if code != 200 || !strings.Contains(string(out), "c-noah,Noah,Rupsen,2026-11-16,08:00,16:45,525,weekday,") || !strings.Contains(string(out), ",ok,corrected") {
			t.Errorf("export %d:\n%s", code, out)
		}
		if !strings.HasPrefix(string(out), "child_id,child_name,group,date,check_in,check_out,minutes,day_type,") {
			t.Errorf("contract 6 header changed:\n%s", out)
		}
		code, out = e.admin(t, http.MethodGet, "/api/v1/attendance?from=2026-11-16&to=2026-11-16&format=json", nil)
		if code != 200 || !strings.Contains(string(out), `"corrected": true`) {
			t.Errorf("json export %d:\n%s", code, out)
		}
		// Billing prices the corrected stay: 8 h 45 at bernefertier.
		st, err := e.db.Reports.Attendance(ctx, central.AttendanceQuery{From: monday, To: monday, LocationID: "loc-regenboog"})
		if err != nil {
			t.Fatal(err)
		}
		p, err := billing.Lookup("bernefertier", nil)
		if err != nil {
			t.Fatal(err)
		}
		eng, err := billing.New(p, nil)
		if err != nil {
			t.Fatal(err)
		}
		lines := eng.Bill(st)
		if len(lines) == 0 || lines[0].Minutes != 525 {
			t.Errorf("billing lines %+v, want the corrected 525 minutes", lines)
		}

		// Central -> kiosk: the device route lists it after cursor 0, not after 1.
		page := func(after string) protocol.Corrections {
			code, out := d.signed(t, http.MethodGet, protocol.PathDeviceCorrections+"?after="+after, nil)
			if code != 200 {
				t.Fatalf("corrections after %s: %d %s", after, code, out)
			}
			var p protocol.Corrections
			if err := json.Unmarshal(out, &p); err != nil {
				t.Fatal(err)
			}
			return p
		}
		if p := page("0"); len(p.Corrections) != 1 || p.Next != 1 || p.Corrections[0].Cursor != 1 {
			t.Fatalf("after 0: %+v", p)
		}
		if p := page("1"); len(p.Corrections) != 0 || p.Next != 1 {
			t.Fatalf("after 1: %+v", p)
		}
		if code, _ := d.signed(t, http.MethodGet, protocol.PathDeviceCorrections+"?after=x", nil); code != 400 {
			t.Errorf("after=x: %d, want 400", code)
		}

		// Kiosk -> central: staff correct the check-in through the outbox,
		// sent twice: stored once, listed once, audited once.
		kc := d.event(4, attendance.CorrectionEvent, "c-noah", local("2026-11-17 09:30"), 27*time.Hour, true)
		kc.Manual, kc.ActorRole, kc.ActorID = true, attendance.RoleStaff, "s-lotte"
		kc.Correction = &attendance.Correction{Kind: attendance.SetCheckIn, Target: checkIn.ID, CheckIn: local("2026-11-16 07:50").UTC(),
			Reason: "kwam met oma binnen", By: "staff:s-lotte"}
		body := d.batch(probe, kc)
		for i := range 2 {
			code, r, perr := d.post(t, body)
			if code != 200 || r.AckedThroughSeq != 4 {
				t.Fatalf("post correction %d: %d %+v %v", i, code, r, perr)
			}
		}
		if n := e.count(t, "corrections"); n != 2 {
			t.Errorf("%d corrections stored, want 2", n)
		}
		if p := page("1"); len(p.Corrections) != 1 || p.Corrections[0].Cursor != 2 || !strings.Contains(string(p.Corrections[0].Event), kc.ID) {
			t.Fatalf("after 1: %+v", p)
		}
		st, _ = e.db.Reports.Attendance(ctx, central.AttendanceQuery{From: monday, To: monday, LocationID: "loc-regenboog"})
		if len(st) != 1 || st[0].CheckIn.String() != "07:50" || st[0].CheckOut.String() != "16:45" || !st[0].Has(stays.FlagCorrected) {
			t.Errorf("stays %+v", st)
		}
		// An invalid correction from a kiosk (no reason) is rejected on its own.
		bad := d.event(5, attendance.CorrectionEvent, "c-noah", local("2026-11-17 09:31"), 27*time.Hour, true)
		bad.Correction = &attendance.Correction{Kind: attendance.RemoveStay, Target: checkIn.ID, By: "staff:s-lotte"}
		if code, r, _ := d.post(t, d.batch(probe, bad)); code != 200 || r.Results[0].Status != protocol.StatusRejected {
			t.Errorf("reasonless correction: %d %+v", code, r)
		}

		// The audit trail: who, when, why, for both.
		all, err := e.audit.Entries(ctx, 1, 0)
		if err != nil {
			t.Fatal(err)
		}
		var entries []audit.Entry
		for _, en := range all {
			if en.Action == audit.StayCorrected {
				entries = append(entries, en)
			}
		}
		if len(entries) != 2 {
			t.Fatalf("%d audit entries, want 2: %+v", len(entries), entries)
		}
		var actors []string
		for _, en := range entries {
			actors = append(actors, en.Actor)
			if en.Subject != "child:c-noah" || !strings.Contains(string(en.Details), "reason") {
				t.Errorf("audit entry %+v", en)
			}
		}
		if !strings.HasPrefix(actors[0], "user:") || actors[1] != "staff:s-lotte" {
			t.Errorf("audit actors %v", actors)
		}
	})
}
