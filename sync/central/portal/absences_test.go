package portal_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/billing"
	"github.com/kinderdeur/kiosk/attendance/invoice"
	"github.com/kinderdeur/kiosk/sync/central"
)

// absenceLine finds the priced line of a child's absence on a day.
func absenceLine(lines []billing.Line, child string, d attendance.Date) (billing.Line, bool) {
	for _, l := range lines {
		if _, ok := billing.IsAbsence(&l); ok && l.ChildID == child && l.Date == d {
			return l, true
		}
	}
	return billing.Line{}, false
}

// TestSickDayReportedInPortalIsBilled: a sick day a parent reports in the
// portal is in central's billing preview (priced by the location's
// absence rule, its agreed minutes the child's usual Tuesday), in the
// parent's history page and in an issued billing run.
func TestSickDayReportedInPortalIsBilled(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		// Mila's usual Tuesdays: three earlier Tuesdays of attendance.
		for _, d := range []string{"2026-10-27", "2026-11-03", "2026-11-10"} {
			if _, err := e.db.Demo.SeedDemoAttendance(ctx, "loc-regenboog", attendance.MustDate(d)); err != nil {
				t.Fatal(err)
			}
		}
		a := e.do(t, tokFatima, "POST", "/api/v1/parent/absences", map[string]any{"child": "c-mila", "date": e.today.String(), "kind": "sick"})
		if a.status != 201 || !strings.Contains(a.body, `"sick"`) {
			t.Fatalf("report sick: %d %s", a.status, a.body)
		}
		from, to := attendance.MustDate("2026-11-01"), attendance.MustDate("2026-11-30")
		p, err := e.db.Billing.Price(ctx, "loc-regenboog", "", from, to)
		if err != nil {
			t.Fatal(err)
		}
		l, ok := absenceLine(p.Lines, "c-mila", e.today)
		if !ok || l.Rule != "bernefertier/sick-week" || l.BilledMinutes <= 0 || l.AmountCents <= 0 || !slices.Contains(l.Flags, "absence_sick") {
			t.Fatalf("preview: sick line %+v %v (profile %s)", l, ok, p.Profile)
		}
		// The agreed minutes are Mila's usual Tuesday (the median of the three).
		hist, err := e.db.Reports.Attendance(ctx, central.AttendanceQuery{From: attendance.MustDate("2026-10-01"), To: to, LocationID: "loc-regenboog", ChildID: "c-mila"})
		if err != nil {
			t.Fatal(err)
		}
		var ms []int
		for _, s := range hist {
			ms = append(ms, s.Minutes)
		}
		slices.Sort(ms)
		if len(ms) != 3 || central.AgreedMinutes("c-mila", e.today, hist, p.Roster) != ms[1] {
			t.Errorf("agreed minutes %d, usual %v", central.AgreedMinutes("c-mila", e.today, hist, p.Roster), ms)
		}
		// De Burcht's rule prices the same report its own way.
		pd, err := e.db.Billing.Price(ctx, "loc-regenboog", "deburcht", from, to)
		if err != nil {
			t.Fatal(err)
		}
		if l, ok := absenceLine(pd.Lines, "c-mila", e.today); !ok || l.Rule != "deburcht/sick-first-two-days" || l.AmountCents <= 0 {
			t.Errorf("deburcht: %+v %v", l, ok)
		}
		// The parent's history shows it priced (API and page).
		h := e.do(t, tokFatima, "GET", "/api/v1/parent/history?month=2026-11", nil)
		var m struct {
			Lines []billing.Line `json:"billing_lines"`
		}
		h.json(t, &m)
		if hl, ok := absenceLine(m.Lines, "c-mila", e.today); !ok || hl.AmountCents != l.AmountCents {
			t.Errorf("history: %+v %v", hl, ok)
		}
		page := e.do(t, tokFatima, "GET", "/ouders/history?month=2026-11", nil).body
		if !strings.Contains(page, "ziek (eerste week)") || !strings.Contains(page, `id="absence-lines"`) || !strings.Contains(page, "di 17 nov") {
			t.Errorf("history page lacks the priced absence:\n%s", page)
		}
		// Another family's history does not carry it.
		o := e.do(t, tokIngrid, "GET", "/api/v1/parent/history?month=2026-11", nil)
		if strings.Contains(o.body, "c-mila") {
			t.Error("Ingrid's history names Mila")
		}
		// Issued run: the month over, the invoice carries the absence line.
		e.clock.mu.Lock()
		e.clock.t = time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
		e.clock.mu.Unlock()
		if err := e.db.Billing.SetProvider(ctx, "loc-regenboog", invoice.Provider{Name: "Kinderopvang De Regenboog", Address: []string{"Dorpsstraat 1", "1234 AB  Ergens"},
			Country: "NL", KvK: "12345678", LRK: "123456789", IBAN: "NL91ABNA0417164300", DueDayOfNextMonth: 20, NumberPrefix: "RB"}, "user:test"); err != nil {
			t.Fatal(err)
		}
		run, err := e.db.Billing.Issue(ctx, central.RunRequest{LocationID: "loc-regenboog", Month: "2026-11", AllowUnpriced: true, Actor: "user:test"})
		if err != nil {
			t.Fatal(err)
		}
		full, err := e.db.Billing.GetRun(ctx, "loc-regenboog", run.ID)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, inv := range full.Invoices {
			for _, cp := range inv.Invoice.Children {
				if rl, ok := absenceLine(cp.Lines, "c-mila", e.today); ok {
					found = rl.Rule == "bernefertier/sick-week" && rl.AmountCents == l.AmountCents
				}
			}
		}
		if !found {
			b, _ := json.Marshal(full.Invoices)
			t.Errorf("run lacks the sick line: %.2000s", b)
		}
	})
}

// TestAbsenceRules: a day is reported once (a second report answers the
// first), a day that has started cannot be withdrawn, "sick" is for
// today and becomes a (late) cancellation for a later day.
func TestAbsenceRules(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		report := func(child, date, kind string) (int, []central.ParentAbsence) {
			a := e.do(t, tokFatima, "POST", "/api/v1/parent/absences", map[string]any{"child": child, "date": date, "kind": kind})
			var as []central.ParentAbsence
			if a.status < 300 {
				a.json(t, &as)
			}
			return a.status, as
		}
		// Today (Tuesday 14:00): sick stands as sick.
		st, first := report("c-daan", e.today.String(), "sick")
		if st != 201 || first[0].Kind != "sick" {
			t.Fatalf("sick today: %d %+v", st, first)
		}
		// Twice: idempotent, the first report stands (also with another kind).
		st, again := report("c-daan", e.today.String(), "cancel")
		if st != 200 || again[0].ID != first[0].ID || again[0].Kind != "sick" {
			t.Errorf("second report: %d %+v", st, again)
		}
		if got, _ := e.db.Parents.Absences(ctx, "loc-regenboog", e.today, e.today); len(got) != 1 {
			t.Errorf("absences of the day: %d", len(got))
		}
		// The day started at 07:00: no withdrawal (billing depends on it).
		if a := e.do(t, tokFatima, "DELETE", "/api/v1/parent/absences/"+first[0].ID, nil); a.status != http.StatusConflict {
			t.Errorf("withdraw a started day: %d %s", a.status, a.body)
		}
		// Sick for tomorrow (under 48 h before 07:00): a late cancel.
		tomorrow := e.today.In(time.UTC).AddDate(0, 0, 1).Format("2006-01-02")
		if st, as := report("c-daan", tomorrow, "sick"); st != 201 || as[0].Kind != "late_cancel" {
			t.Errorf("sick tomorrow: %d %+v", st, as)
		}
		// Sick a week ahead: a cancel in time, and it can be withdrawn.
		week := e.today.In(time.UTC).AddDate(0, 0, 7).Format("2006-01-02")
		st, w := report("c-daan", week, "sick")
		if st != 201 || w[0].Kind != "cancel" {
			t.Errorf("sick next week: %d %+v", st, w)
		}
		if a := e.do(t, tokFatima, "DELETE", "/api/v1/parent/absences/"+w[0].ID, nil); a.status != 200 {
			t.Errorf("withdraw next week: %d", a.status)
		}
		// Reported again after the withdrawal: a new report.
		if st, as := report("c-daan", week, "cancel"); st != 201 || as[0].ID == w[0].ID {
			t.Errorf("report after withdrawal: %d %+v", st, as)
		}
		// Yesterday: refused.
		yesterday := e.today.In(time.UTC).AddDate(0, 0, -1).Format("2006-01-02")
		if st, _ := report("c-daan", yesterday, "sick"); st != 400 {
			t.Errorf("sick yesterday: %d", st)
		}
		// Concurrent reports of one day store one absence.
		day := e.today.In(time.UTC).AddDate(0, 0, 9).Format("2006-01-02")
		done := make(chan int, 4)
		for range 4 {
			go func() {
				a := e.doWith(t, noRedirect, tokFatima, "", "POST", "/api/v1/parent/absences", map[string]any{"child": "c-mila", "date": day, "kind": "cancel"})
				done <- a.status
			}()
		}
		for range 4 {
			if st := <-done; st != 201 && st != 200 {
				t.Errorf("concurrent report: %d", st)
			}
		}
		if got, _ := e.db.Parents.Absences(ctx, "loc-regenboog", attendance.MustDate(day), attendance.MustDate(day)); len(got) != 1 {
			t.Errorf("concurrent reports stored %d absences", len(got))
		}
		// The page: the started day shows no withdraw button, a Dutch note.
		page := e.do(t, tokFatima, "GET", "/ouders/absences", nil).body
		if strings.Count(page, "/withdraw\"") != 3 || !strings.Contains(page, "De dag is begonnen") {
			t.Errorf("absences page: %d withdraw forms\n%s", strings.Count(page, "/withdraw\""), page)
		}
		// The central store refuses a duplicate the same way.
		_, had, err := e.db.Parents.AddAbsence(ctx, central.ParentAbsence{AccountID: "x", LocationID: "loc-regenboog", ChildID: "c-daan", Date: e.today, Kind: "cancel"})
		if err != nil || !had {
			t.Errorf("AddAbsence duplicate: %v %v", had, err)
		}
		if _, err := e.db.Parents.WithdrawAbsence(ctx, "abs-nope", map[string]bool{"loc-regenboog/c-daan": true}); !errors.Is(err, central.ErrNotFound) {
			t.Errorf("withdraw unknown: %v", err)
		}
	})
}
