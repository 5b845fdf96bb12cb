package central_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/invoice"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/sync/central"
	"github.com/kinderdeur/kiosk/sync/central/centraltest"
)

const loc = "loc-regenboog"

func testProvider() invoice.Provider {
	return invoice.Provider{Name: "Kinderopvang De Regenboog", Address: []string{"Dorpsstraat 1", "1234 AB  Ergens"}, Country: "NL",
		KvK: "12345678", LRK: "123456789", IBAN: "NL91ABNA0417164300", DueDayOfNextMonth: 20, CreditorID: "NL69ZZZ123456780000", NumberPrefix: "RB"}
}

// seedDays gives the demo location attendance on the given days.
func seedDays(t testing.TB, db *central.DB, days ...string) {
	t.Helper()
	for _, d := range days {
		if _, err := db.Demo.SeedDemoAttendance(context.Background(), loc, attendance.MustDate(d)); err != nil {
			t.Fatal(err)
		}
	}
}

func setUpBilling(t testing.TB, db *central.DB) {
	t.Helper()
	if err := db.Billing.SetProvider(context.Background(), loc, testProvider(), "user:test"); err != nil {
		t.Fatal(err)
	}
}

func pdfOf(t testing.TB, db *central.DB, run central.Run, number string) []byte {
	t.Helper()
	b, err := db.Billing.InvoicePDF(context.Background(), loc, run.ID, number)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBillingRunIssueAndReproduce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		seedDays(t, e.db, "2026-10-05", "2026-10-06", "2026-10-07")
		if _, err := e.db.Billing.Issue(ctx, central.RunRequest{LocationID: loc, Month: "2026-10"}); !errors.Is(err, central.ErrNoProvider) {
			t.Fatalf("issue without provider: %v, want ErrNoProvider", err)
		}
		setUpBilling(t, e.db)
		rs, _, _ := e.db.Sites.Roster(ctx, loc)
		fam := central.BillingContracts(rs)[rs.Children[0].ID].GuardianID
		m, err := central.ParseMandate(fam, "RB-M-1", "NL20INGB0001234567", "", "", "2025-08-30", "FRST")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.db.Billing.SetMandate(ctx, loc, m); err != nil {
			t.Fatal(err)
		}
		run, err := e.db.Billing.Issue(ctx, central.RunRequest{LocationID: loc, Month: "2026-10", Actor: "user:test", AllowUnpriced: true})
		if err != nil {
			t.Fatal(err)
		}
		if run.Count < 3 || run.FirstNumber != "RB2026-00001" || run.LastNumber != fmt.Sprintf("RB2026-%05d", run.Count) {
			t.Fatalf("run %+v", run)
		}
		if run.Profile != "bernefertier" || run.InvoiceDate != attendance.MustDate("2026-11-16") {
			t.Errorf("profile %q date %s", run.Profile, run.InvoiceDate)
		}
		if _, err := e.db.Billing.Issue(ctx, central.RunRequest{LocationID: loc, Month: "2026-10"}); !errors.Is(err, central.ErrAlreadyBilled) {
			t.Errorf("second run of a month: %v, want ErrAlreadyBilled", err)
		}
		// The stored recipe renders the stored PDF again, byte for byte.
		got, err := e.db.Billing.GetRun(ctx, loc, run.ID)
		if err != nil {
			t.Fatal(err)
		}
		var sum int64
		for _, i := range got.Invoices {
			again, err := central.Rerender(i)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again, pdfOf(t, e.db, run, i.Number)) {
				t.Errorf("%s: the PDF re-rendered from the stored run differs from the stored one", i.Number)
			}
			sum += i.TotalCents
		}
		if sum != run.TotalCents || got.TotalCents != run.TotalCents {
			t.Errorf("totals: run %d, stored %d, invoices %d", run.TotalCents, got.TotalCents, sum)
		}
		// SEPA: the family with a mandate, FRST, then RCUR once collected.
		xml, n, err := e.db.Billing.SEPA(ctx, loc, run.ID)
		if err != nil || n != 1 || !strings.Contains(string(xml), "<SeqTp>FRST</SeqTp>") || !strings.Contains(string(xml), "pain.008.001.08") {
			t.Fatalf("sepa: %d debits, %v\n%s", n, err, xml)
		}
		if moved, err := e.db.Billing.MarkCollected(ctx, loc, run.ID); err != nil || moved != 1 {
			t.Errorf("collected: %d, %v", moved, err)
		}
		if _, err := e.db.Billing.MarkCollected(ctx, loc, run.ID); !errors.Is(err, central.ErrConflict) {
			t.Errorf("collected twice: %v", err)
		}
		ms, _ := e.db.Billing.Mandates(ctx, loc)
		if ms[fam].First {
			t.Errorf("mandate still FRST after a collection")
		}
		// The family's own list (the parents' portal).
		fi, err := e.db.Billing.FamilyInvoices(ctx, fam)
		if err != nil || len(fi) != 1 || !fi[0].DirectDebit || fi[0].Period != "2026-10" {
			t.Fatalf("family invoices: %+v %v", fi, err)
		}
		if _, err := e.db.Billing.FamilyInvoicePDF(ctx, "someone-else", loc, fi[0].Number); !errors.Is(err, central.ErrNotFound) {
			t.Errorf("another family's invoice: %v, want ErrNotFound", err)
		}
	})
}

// missingCheckOut is the demo child whose check-out the demo leaves out.
func missingCheckOut(t testing.TB, db *central.DB) roster.Child {
	rs, _, err := db.Sites.Roster(context.Background(), loc)
	if err != nil {
		t.Fatal(err)
	}
	return rs.Children[1]
}

func TestBillingDiffAfterAttendanceCorrection(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		seedDays(t, e.db, "2026-10-05", "2026-10-06")
		setUpBilling(t, e.db)
		run, err := e.db.Billing.Issue(ctx, central.RunRequest{LocationID: loc, Month: "2026-10", AllowUnpriced: true})
		if err != nil {
			t.Fatal(err)
		}
		d, err := e.db.Billing.Diff(ctx, loc, "2026-10")
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Families) != 0 || d.DeltaCents != 0 || d.Unchanged != run.Count {
			t.Fatalf("diff right after the run: %+v", d)
		}
		// The forgotten check-out of 6 October is entered, and 12 October
		// turns out to have been missed.
		c := missingCheckOut(t, e.db)
		dev := e.enrol(t)
		ams, _ := time.LoadLocation("Europe/Amsterdam")
		out := time.Date(2026, 10, 6, 17, 0, 0, 0, ams)
		ev := dev.event(1, attendance.ChildCheckOut, c.ID, out, time.Hour, true)
		ev.GroupID = c.GroupID
		if code, _, perr := dev.post(t, dev.batch(dev.unsyncedProbe(), ev)); code != 200 {
			t.Fatalf("post check-out: %d %v", code, perr)
		}
		seedDays(t, e.db, "2026-10-12")
		d, err = e.db.Billing.Diff(ctx, loc, "2026-10")
		if err != nil {
			t.Fatal(err)
		}
		var changed, added int
		var sum int64
		for _, f := range d.Families {
			if f.Original == "" {
				t.Errorf("family %s: no original invoice", f.FamilyID)
			}
			var fsum int64
			for _, ch := range f.Changes {
				fsum += ch.DeltaCents
				if ch.Date == attendance.MustDate("2026-10-31") && (ch.Old == nil || ch.Old.Stays == 0) && (ch.New == nil || ch.New.Stays == 0) {
					continue // the month minimum follows the care billed
				}
				switch ch.Change {
				case "changed":
					changed++
					if ch.ChildID != c.ID || ch.Date != attendance.MustDate("2026-10-06") {
						t.Errorf("changed line %s %s, want %s 2026-10-06", ch.ChildID, ch.Date, c.ID)
					}
				case "added":
					added++
					if ch.Date != attendance.MustDate("2026-10-12") {
						t.Errorf("added line on %s", ch.Date)
					}
				default:
					t.Errorf("unexpected %s line %s %s", ch.Change, ch.ChildID, ch.Date)
				}
			}
			if fsum != f.DeltaCents || f.NowCents-f.InvoicedCents != f.DeltaCents {
				t.Errorf("family %s: changes add up to %d, delta %d (now %d, invoiced %d)", f.FamilyID, fsum, f.DeltaCents, f.NowCents, f.InvoicedCents)
			}
			sum += f.DeltaCents
		}
		if changed != 1 || added < run.Count {
			t.Errorf("changed %d added %d, want 1 and at least %d", changed, added, run.Count)
		}
		if sum != d.DeltaCents || d.DeltaCents <= 0 || d.InvoicedCents != run.TotalCents {
			t.Errorf("delta %d (families %d), invoiced %d (run %d)", d.DeltaCents, sum, d.InvoicedCents, run.TotalCents)
		}
		if _, err := e.db.Billing.Correct(ctx, loc, "2026-10", "stale", "user:test"); !errors.Is(err, central.ErrDiffMoved) {
			t.Errorf("correct with a stale fingerprint: %v", err)
		}
		corr, err := e.db.Billing.Correct(ctx, loc, "2026-10", d.Fingerprint, "user:test")
		if err != nil {
			t.Fatal(err)
		}
		if corr.Kind != "correction" || corr.TotalCents != d.DeltaCents || corr.FirstNumber != fmt.Sprintf("RB2026-%05d", run.Count+1) {
			t.Errorf("correction run %+v", corr)
		}
		for _, i := range corr.Invoices {
			if i.Corrects == "" || !strings.HasPrefix(i.Corrects, "RB2026-") || i.Invoice.Corrects != i.Corrects {
				t.Errorf("correction %s references %q", i.Number, i.Corrects)
			}
		}
		// The original is untouched, and nothing is left to correct.
		again, _ := e.db.Billing.GetRun(ctx, loc, run.ID)
		if again.TotalCents != run.TotalCents || len(again.Invoices) != run.Count {
			t.Errorf("the original run changed")
		}
		d, err = e.db.Billing.Diff(ctx, loc, "2026-10")
		if err != nil || len(d.Families) != 0 || d.DeltaCents != 0 {
			t.Errorf("diff after the correction: %+v %v", d.Families, err)
		}
		if _, err := e.db.Billing.Correct(ctx, loc, "2026-10", d.Fingerprint, "user:test"); !errors.Is(err, central.ErrNothingToBill) {
			t.Errorf("correct with nothing to correct: %v", err)
		}
	})
}

// TestInvoiceNumbersConcurrent issues many months at once, from
// goroutines on one handle and on two handles of the same database (two
// central replicas): the numbers are 1..N, no gaps, no duplicates.
func TestInvoiceNumbersConcurrent(t *testing.T) {
	for _, b := range centraltest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			ctx := context.Background()
			setUpBilling(t, e.db)
			var months []string
			for m := 1; m <= 8; m++ {
				seedDays(t, e.db, fmt.Sprintf("2026-%02d-14", m))
				months = append(months, fmt.Sprintf("2026-%02d", m))
			}
			second, err := central.Open(ctx, e.dsn, e.clock.Now)
			if err != nil {
				t.Fatal(err)
			}
			defer second.Close()
			var wg sync.WaitGroup
			errs := make(chan error, 2*len(months))
			for i, m := range months {
				for _, db := range []*central.DB{e.db, second} { // each month twice: one wins
					wg.Add(1)
					go func() {
						defer wg.Done()
						_, err := db.Billing.Issue(ctx, central.RunRequest{LocationID: loc, Month: m, Actor: fmt.Sprint("replica ", i), AllowUnpriced: true})
						if err != nil && !errors.Is(err, central.ErrAlreadyBilled) {
							errs <- fmt.Errorf("%s: %w", m, err)
						}
					}()
				}
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			runs, err := e.db.Billing.Runs(ctx, loc)
			if err != nil {
				t.Fatal(err)
			}
			if len(runs) != len(months) {
				t.Fatalf("%d runs, want %d", len(runs), len(months))
			}
			var seqs []int
			rows, err := e.db.SQL().Query("SELECT seq FROM invoices")
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var n int
				rows.Scan(&n)
				seqs = append(seqs, n)
			}
			rows.Close()
			slices.Sort(seqs)
			for i, n := range seqs {
				if n != i+1 {
					t.Fatalf("invoice numbers %v: want 1..%d without gaps or duplicates", seqs, len(seqs))
				}
			}
			var last int
			e.db.SQL().QueryRow("SELECT last FROM invoice_sequences").Scan(&last)
			if last != len(seqs) {
				t.Errorf("sequence at %d, %d invoices", last, len(seqs))
			}
		})
	}
}

// TestBillingAPIRoles: every billing route for every role.
func TestBillingAPIRoles(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		seedDays(t, e.db, "2026-10-05")
		setUpBilling(t, e.db)
		rs, _, _ := e.db.Sites.Roster(ctx, loc)
		fam := central.BillingContracts(rs)[rs.Children[0].ID].GuardianID
		m, _ := central.ParseMandate(fam, "RB-M-1", "NL20INGB0001234567", "", "", "2025-08-30", "")
		if err := e.db.Billing.SetMandate(ctx, loc, m); err != nil {
			t.Fatal(err)
		}
		run, err := e.db.Billing.Issue(ctx, central.RunRequest{LocationID: loc, Month: "2026-10", AllowUnpriced: true})
		if err != nil {
			t.Fatal(err)
		}
		seedDays(t, e.db, "2026-09-07")
		token := map[string]string{"admin": adminToken}
		for _, role := range []string{"manager", "billing", "inspector"} {
			code, out := e.admin(t, http.MethodPost, "/api/v1/admin/tokens", []byte(`{"name":"n","role":"`+role+`"}`))
			var r struct{ Token string }
			json.Unmarshal(out, &r)
			if code != 200 {
				t.Fatalf("token %s: %d %s", role, code, out)
			}
			token[role] = r.Token
		}
		base := "/api/v1/admin/locations/" + loc + "/billing"
		runURL := base + "/runs/" + run.ID
		prov := mustJSON(testProvider())
		routes := []struct {
			method, path string
			body         func(role string) []byte
			// want per role: admin, manager, billing, inspector
			want [4]int
		}{
			{"GET", base + "/runs", nil, [4]int{200, 200, 200, 403}},
			{"POST", base + "/runs", func(role string) []byte {
				month := map[string]string{"admin": "2026-09", "billing": "2026-09", "manager": "2026-08", "inspector": "2026-07"}[role]
				return []byte(`{"month":"` + month + `","allow_unpriced":true}`)
			}, [4]int{201, 403, 409, 403}}, // billing runs September after the admin: already billed
			{"GET", runURL, nil, [4]int{200, 200, 200, 403}},
			{"GET", runURL + "/invoices/" + run.FirstNumber + ".pdf", nil, [4]int{200, 200, 200, 403}},
			{"GET", runURL + "/invoices.zip", nil, [4]int{200, 200, 200, 403}},
			{"GET", runURL + "/sepa.xml", nil, [4]int{200, 200, 200, 403}},
			{"GET", runURL + "/lines?format=xlsx", nil, [4]int{200, 200, 200, 403}},
			{"GET", base + "/diff?month=2026-10", nil, [4]int{200, 200, 200, 403}},
			{"POST", base + "/corrections", func(string) []byte { return []byte(`{"month":"2026-10","fingerprint":"x"}`) }, [4]int{409, 403, 409, 403}},
			{"GET", base + "/provider", nil, [4]int{200, 200, 200, 403}},
			{"PUT", base + "/provider", func(string) []byte { return prov }, [4]int{200, 403, 403, 403}},
			{"GET", base + "/mandates", nil, [4]int{200, 200, 200, 403}},
			{"PUT", base + "/mandates/" + fam, func(string) []byte {
				return []byte(`{"mandate_id":"RB-M-1","iban":"NL20INGB0001234567","signed":"2025-08-30"}`)
			}, [4]int{200, 403, 200, 403}},
			{"POST", runURL + "/collected", nil, [4]int{200, 403, 409, 403}},
			{"DELETE", base + "/mandates/" + fam, nil, [4]int{200, 403, 404, 403}},
		}
		for _, rt := range routes {
			for i, role := range []string{"admin", "manager", "billing", "inspector"} {
				t.Run(rt.method+" "+strings.TrimPrefix(rt.path, base)+" "+role, func(t *testing.T) {
					var body []byte
					if rt.body != nil {
						body = rt.body(role)
					}
					code, out := e.do(t, rt.method, rt.path, body, func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token[role]) })
					if code != rt.want[i] {
						t.Errorf("%s: got %d %.200s, want %d", role, code, out, rt.want[i])
					}
				})
			}
		}
		// Without a credential: 401 everywhere.
		if code, _ := e.do(t, "GET", runURL+"/sepa.xml", nil, nil); code != 401 {
			t.Errorf("anonymous sepa: %d", code)
		}
	})
}

// TestIssueRefusesUnpricedStays: a stay without a check-out is priced at
// EUR 0.00 ("niet geprijsd: tijd ontbreekt") and, for a child with no other
// hours, the month minimum takes its place: the demo's Emma, present every
// day of November, was invoiced EUR 110.00 instead of about EUR 950. An
// issued number can never be withdrawn, so a month with such stays is only
// issued when the caller says so (the form's confirmation, the API's
// "allow_unpriced"); the refusal says how many stays.
func TestIssueRefusesUnpricedStays(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		seedDays(t, e.db, "2026-10-05", "2026-10-06") // each day: one child without a check-out
		setUpBilling(t, e.db)
		_, err := e.db.Billing.Issue(ctx, central.RunRequest{LocationID: loc, Month: "2026-10", Actor: "user:test"})
		if !errors.Is(err, central.ErrUnpriced) || !strings.Contains(err.Error(), "2 stays") {
			t.Fatalf("issue with 2 stays missing a time: %v, want ErrUnpriced naming 2 stays", err)
		}
		if runs, _ := e.db.Billing.Runs(ctx, loc); len(runs) != 0 {
			t.Fatalf("a refused run left %d runs", len(runs))
		}
		code, out := e.admin(t, http.MethodPost, "/api/v1/admin/locations/"+loc+"/billing/runs", []byte(`{"month":"2026-10"}`))
		if code != http.StatusConflict || !strings.Contains(string(out), "allow_unpriced") {
			t.Errorf("API without allow_unpriced: %d %s, want 409 naming allow_unpriced", code, out)
		}
		code, out = e.admin(t, http.MethodPost, "/api/v1/admin/locations/"+loc+"/billing/runs", []byte(`{"month":"2026-10","allow_unpriced":true}`))
		if code != http.StatusCreated {
			t.Fatalf("API with allow_unpriced: %d %s", code, out)
		}
		// The numbers were not used by the refusals: the run starts at 1.
		var run central.Run
		json.Unmarshal(out, &run)
		if run.FirstNumber != "RB2026-00001" {
			t.Errorf("first number %s, want RB2026-00001", run.FirstNumber)
		}
	})
}

// A month is issued once all its days have passed in the location's time
// zone: December issued on 4 December would miss the rest of the month's
// stays and charge the month minimum on a part of it.
func TestIssueRefusesMonthNotOver(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		seedDays(t, e.db, "2026-11-02", "2026-11-03")
		setUpBilling(t, e.db)
		// 16 November; then the last minute of 30 November in Amsterdam.
		for _, now := range []time.Time{e.clock.Now(), time.Date(2026, 11, 30, 22, 59, 0, 0, time.UTC)} {
			e.clock.Set(now)
			_, err := e.db.Billing.Issue(ctx, central.RunRequest{LocationID: loc, Month: "2026-11", AllowUnpriced: true})
			var mno *central.MonthNotOverError
			if !errors.As(err, &mno) || !errors.Is(err, central.ErrMonthNotOver) || mno.From != attendance.MustDate("2026-12-01") {
				t.Fatalf("issue November at %s: %v, want MonthNotOverError from 2026-12-01", now, err)
			}
			code, out := e.admin(t, http.MethodPost, "/api/v1/admin/locations/"+loc+"/billing/runs", []byte(`{"month":"2026-11","allow_unpriced":true}`))
			if code != http.StatusConflict || !strings.Contains(string(out), "2026-12-01") {
				t.Errorf("API at %s: %d %s, want 409 naming 2026-12-01", now, code, out)
			}
		}
		for _, m := range []string{"2026-12", "2027-01"} {
			if _, err := e.db.Billing.Issue(ctx, central.RunRequest{LocationID: loc, Month: m, AllowUnpriced: true}); !errors.Is(err, central.ErrMonthNotOver) {
				t.Errorf("issue %s in November: %v, want ErrMonthNotOver", m, err)
			}
		}
		if runs, _ := e.db.Billing.Runs(ctx, loc); len(runs) != 0 {
			t.Fatalf("refused runs left %d runs", len(runs))
		}
		// Midnight in Amsterdam (23:00 UTC): December 1st there, November is over.
		e.clock.Set(time.Date(2026, 11, 30, 23, 0, 0, 0, time.UTC))
		run, err := e.db.Billing.Issue(ctx, central.RunRequest{LocationID: loc, Month: "2026-11", AllowUnpriced: true})
		if err != nil {
			t.Fatalf("issue November on 1 December (Amsterdam): %v", err)
		}
		if run.InvoiceDate != attendance.MustDate("2026-12-01") {
			t.Errorf("invoice date %s", run.InvoiceDate)
		}
	})
}

// Mandates are per family as invoiced (the first guardian's id): a mandate
// given for another guardian of the family (Kees, whose children are
// invoiced under Fatima) is the family's, and an unknown person is refused
// instead of being stored where no invoice ever looks.
func TestMandateForAnyGuardianOfTheFamily(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		seedDays(t, e.db, "2026-10-05", "2026-10-06")
		setUpBilling(t, e.db)
		base := "/api/v1/admin/locations/" + loc + "/billing/mandates/"
		body := []byte(`{"mandate_id":"RB-M-KEES","iban":"NL20INGB0001234567","signed":"2025-08-30","sequence":"FRST"}`)
		code, out := e.admin(t, http.MethodPut, base+"p-kees", body)
		if code != http.StatusOK || !strings.Contains(string(out), `"family_id":"p-fatima"`) {
			t.Fatalf("mandate for Kees: %d %s, want 200 naming family p-fatima", code, out)
		}
		for _, who := range []string{"p-nobody", "c-mila", "p-buurvrouw"} {
			code, out = e.admin(t, http.MethodPut, base+who, body)
			if code != http.StatusBadRequest || !strings.Contains(string(out), "not a guardian") {
				t.Errorf("mandate for %s: %d %s, want 400", who, code, out)
			}
		}
		m, _ := central.ParseMandate("p-nobody", "RB-M-X", "NL20INGB0001234567", "", "", "2025-08-30", "RCUR")
		if err := e.db.Billing.SetMandate(ctx, loc, m); !errors.Is(err, central.ErrMalformed) {
			t.Errorf("SetMandate for p-nobody: %v, want ErrMalformed", err)
		}
		ms, _ := e.db.Billing.Mandates(ctx, loc)
		if len(ms) != 1 || ms["p-fatima"].ID != "RB-M-KEES" {
			t.Fatalf("mandates %+v, want only p-fatima's", ms)
		}
		run, err := e.db.Billing.Issue(ctx, central.RunRequest{LocationID: loc, Month: "2026-10", AllowUnpriced: true})
		if err != nil {
			t.Fatal(err)
		}
		debits := 0
		for _, i := range run.Invoices {
			if i.FamilyID == "p-fatima" && !i.DirectDebit() {
				t.Errorf("Fatima and Kees's invoice %s is not by direct debit", i.Number)
			}
			if i.DirectDebit() {
				debits++
			}
		}
		if _, n, err := e.db.Billing.SEPA(ctx, loc, run.ID); err != nil || n != debits || n != 1 {
			t.Errorf("SEPA: %d debits, %v; want 1", n, err)
		}
	})
}

// The run's lines for people name each family by its guardians, as the
// billing page and the invoice do, never by the first guardian's id.
func TestRunLinesNameFamiliesByGuardians(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		seedDays(t, e.db, "2026-10-05")
		setUpBilling(t, e.db)
		run, err := e.db.Billing.Issue(ctx, central.RunRequest{LocationID: loc, Month: "2026-10", AllowUnpriced: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, format := range []string{"xlsx", "csv-excel"} {
			code, body := e.admin(t, http.MethodGet, "/api/v1/admin/locations/"+loc+"/billing/runs/"+run.ID+"/lines?format="+format, nil)
			if code != http.StatusOK {
				t.Fatalf("%s: %d", format, code)
			}
			rows := sheetRows(t, format, body)
			if len(rows) < 2 || rows[0][0] != "Factuur" || rows[0][1] != "Gezin" {
				t.Fatalf("%s header %q", format, rows[0])
			}
			families := map[string]bool{}
			for _, r := range rows[1:] {
				families[r[1]] = true
				if strings.HasPrefix(r[1], "p-") || r[0] == "" {
					t.Errorf("%s row %q: family by id or no invoice", format, r)
				}
			}
			if !families["Fatima B., Kees B."] {
				t.Errorf("%s families %v, want Fatima B., Kees B.", format, families)
			}
		}
		// The machines' CSV (contract 8) is unchanged.
		_, body := e.admin(t, http.MethodGet, "/api/v1/admin/locations/"+loc+"/billing/runs/"+run.ID+"/lines?format=csv", nil)
		if !strings.HasPrefix(string(body), "child_id,date,day_type,") {
			t.Errorf("csv header %.60q", body)
		}
	})
}

func sheetRows(t *testing.T, format string, body []byte) [][]string {
	t.Helper()
	if format == "xlsx" {
		f, err := excelize.OpenReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rows, err := f.GetRows(f.GetSheetName(0))
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte("\ufeff"))))
	r.Comma = ';'
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}
