package portal_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/invoice"
	"github.com/kinderdeur/kiosk/sync/central"
)

// issueOctober issues October 2026 (ended before the test clock's 17
// November) at De Regenboog and BSO De Zon, as the billing run tests do:
// provider details, a day of attendance, AllowUnpriced (the demo day
// leaves one check-out missing). It returns the number of Fatima's
// family's invoice at De Regenboog.
func issueOctober(t testing.TB, e *env) string {
	t.Helper()
	ctx := context.Background()
	for loc, prefix := range map[string]string{"loc-regenboog": "RB", "loc-zon": "ZO"} {
		if _, err := e.db.Demo.SeedDemoAttendance(ctx, loc, attendance.MustDate("2026-10-13")); err != nil {
			t.Fatal(err)
		}
		if err := e.db.Billing.SetProvider(ctx, loc, invoice.Provider{Name: "Kinderopvang " + prefix, Address: []string{"Dorpsstraat 1", "1234 AB  Ergens"},
			Country: "NL", KvK: "12345678", LRK: "123456789", IBAN: "NL91ABNA0417164300", DueDayOfNextMonth: 20, NumberPrefix: prefix}, "user:test"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.db.Billing.Issue(ctx, central.RunRequest{LocationID: loc, Month: "2026-10", AllowUnpriced: true, Actor: "user:test"}); err != nil {
			t.Fatalf("%s: %v", loc, err)
		}
	}
	invs, err := e.db.Billing.FamilyInvoices(ctx, "p-fatima")
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range invs {
		if i.LocationID == "loc-regenboog" {
			return i.Number
		}
	}
	t.Fatalf("no invoice for p-fatima at De Regenboog: %+v", invs)
	return ""
}

type parentInvoice struct {
	central.FamilyInvoice
	LocationName string `json:"location_name"`
	PDF          string `json:"pdf"`
}

func (e *env) invoices(t testing.TB, tok string) []parentInvoice {
	t.Helper()
	a := e.do(t, tok, "GET", "/api/v1/parent/invoices", nil)
	if a.status != http.StatusOK {
		t.Fatalf("invoices: %d %s", a.status, a.body)
	}
	var out []parentInvoice
	a.json(t, &out)
	return out
}

// TestFamilyInvoices: after a month is issued at both of Fatima's
// locations she lists both invoices (and Kees, her co-guardian, the
// Regenboog one, invoiced under Fatima), the history page shows number,
// period, date and total with a download link, both download routes serve
// the stored bytes as an attachment never cached, a correction is marked
// and names the original; Eva (another family) gets 404 for Fatima's
// invoice on every route and never sees it listed.
func TestFamilyInvoices(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		if got := e.invoices(t, tokFatima); len(got) != 0 {
			t.Fatalf("before any run: %+v", got)
		}
		if page := e.do(t, tokFatima, "GET", "/ouders/history", nil).body; !strings.Contains(page, "Nog geen facturen.") {
			t.Errorf("history page without invoices:\n%s", page)
		}
		number := issueOctober(t, e)
		stored, err := e.db.Billing.FamilyInvoicePDF(ctx, "p-fatima", "loc-regenboog", number)
		if err != nil || !bytes.HasPrefix(stored, []byte("%PDF")) {
			t.Fatalf("stored pdf: %v %.20q", err, stored)
		}
		got := e.invoices(t, tokFatima)
		locs := map[string]parentInvoice{}
		for _, i := range got {
			locs[i.LocationID] = i
		}
		rb, zon := locs["loc-regenboog"], locs["loc-zon"]
		if len(got) != 2 || rb.Number != number || !strings.HasPrefix(zon.Number, "ZO2026-") || rb.Period != "2026-10" ||
			rb.TotalCents <= 0 || rb.Date.IsZero() || rb.PDF != "/api/v1/parent/invoices/loc-regenboog/"+number+".pdf" || zon.LocationName != "BSO De Zon" {
			t.Fatalf("Fatima's invoices: %+v", got)
		}
		if k := e.invoices(t, tokKees); len(k) != 1 || k[0].Number != number {
			t.Errorf("Kees (co-guardian, invoiced under Fatima): %+v", k)
		}
		// The page: number, period, date, total in euros, the link.
		page := e.do(t, tokFatima, "GET", "/ouders/history", nil).body
		euro := regexp.MustCompile(`€ \d+,\d\d`)
		for _, want := range []string{number, zon.Number, "oktober 2026", `href="/ouders/invoices/loc-regenboog/` + number + `.pdf"`, "PDF downloaden", "Facturen"} {
			if !strings.Contains(page, want) {
				t.Errorf("history page lacks %q", want)
			}
		}
		if !strings.Contains(page, euroText(rb.TotalCents)) || !euro.MatchString(page) {
			t.Errorf("history page lacks the total %s", euroText(rb.TotalCents))
		}
		// Downloads: the stored bytes, attachment, no-store.
		for _, path := range []string{"/ouders/invoices/loc-regenboog/" + number + ".pdf", rb.PDF} {
			a := e.do(t, tokFatima, "GET", path, nil)
			if a.status != 200 || a.body != string(stored) || a.header.Get("Content-Type") != "application/pdf" ||
				!strings.HasPrefix(a.header.Get("Content-Disposition"), "attachment;") || a.header.Get("Cache-Control") != "no-store" {
				t.Errorf("%s: %d %v (%d bytes, want %d)", path, a.status, a.header, len(a.body), len(stored))
			}
		}
		// The number at the other location, an unknown number, no .pdf: 404.
		for _, path := range []string{"/api/v1/parent/invoices/loc-zon/" + number + ".pdf", "/api/v1/parent/invoices/loc-regenboog/RB2026-99999.pdf",
			"/api/v1/parent/invoices/loc-regenboog/" + number} {
			if a := e.do(t, tokFatima, "GET", path, nil); a.status != 404 {
				t.Errorf("%s: %d", path, a.status)
			}
		}
		// Eva: her own invoice, never Fatima's.
		ev := e.invoices(t, tokEva)
		if len(ev) != 1 || ev[0].Number == number {
			t.Errorf("Eva's invoices: %+v", ev)
		}
		for _, path := range []string{"/ouders/invoices/loc-regenboog/" + number + ".pdf", rb.PDF, zon.PDF} {
			if a := e.do(t, tokEva, "GET", path, nil); a.status != 404 || strings.Contains(a.body, "%PDF") {
				t.Errorf("Eva GET %s: %d", path, a.status)
			}
		}
		if a := e.do(t, tokEva, "GET", ev[0].PDF, nil); a.status != 200 || !strings.HasPrefix(a.body, "%PDF") {
			t.Errorf("Eva's own PDF: %d", a.status)
		}
		if page := e.do(t, tokEva, "GET", "/ouders/history", nil).body; strings.Contains(page, number) {
			t.Errorf("Eva's history shows Fatima's invoice")
		}
		// A correction: another October day at De Regenboog.
		if _, err := e.db.Demo.SeedDemoAttendance(ctx, "loc-regenboog", attendance.MustDate("2026-10-14")); err != nil {
			t.Fatal(err)
		}
		d, err := e.db.Billing.Diff(ctx, "loc-regenboog", "2026-10")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.db.Billing.Correct(ctx, "loc-regenboog", "2026-10", d.Fingerprint, "user:test"); err != nil {
			t.Fatal(err)
		}
		var corr parentInvoice
		for _, i := range e.invoices(t, tokFatima) {
			if i.Corrects != "" {
				corr = i
			}
		}
		if corr.Corrects != number || corr.Number == number {
			t.Fatalf("correction: %+v", corr)
		}
		page = e.do(t, tokFatima, "GET", "/ouders/history", nil).body
		if !strings.Contains(page, "Correctie op factuur "+number) || !strings.Contains(page, corr.Number) {
			t.Errorf("history page lacks the correction of %s", number)
		}
		if a := e.do(t, tokFatima, "GET", corr.PDF, nil); a.status != 200 || !strings.HasPrefix(a.body, "%PDF") {
			t.Errorf("correction PDF: %d", a.status)
		}
	})
}

func euroText(c int64) string {
	sign := ""
	if c < 0 {
		sign, c = "-", -c
	}
	return fmt.Sprintf("€ %s%d,%02d", sign, c/100, c%100)
}
