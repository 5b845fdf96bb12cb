package invoice_test

import (
	"testing"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/billing"
	"github.com/kinderdeur/kiosk/attendance/calendar"
	"github.com/kinderdeur/kiosk/attendance/invoice"
	"github.com/kinderdeur/kiosk/attendance/stays"
	"github.com/kinderdeur/kiosk/attendance/stays/staystest"
)

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// BenchmarkInvoiceMonth renders a month of invoices (November) for every
// family of a 500-child organisation from its year of attendance, priced
// with bernefertier: what kioskctl invoice does after pricing.
func BenchmarkInvoiceMonth(b *testing.B) {
	cal := calendar.MustNew(calendar.DefaultConfig())
	in, err := stays.Build(staystest.Year(cal, 500, 2026, 1), stays.Options{Calendar: cal, Child: staystest.Children})
	if err != nil {
		b.Fatal(err)
	}
	p, err := billing.Lookup("bernefertier", nil)
	if err != nil {
		b.Fatal(err)
	}
	e, err := billing.New(p, nil)
	if err != nil {
		b.Fatal(err)
	}
	lines := e.Bill(in)
	prov := invoice.Provider{Name: "Kinderopvang Bernefertier", Address: []string{"Dorpsstraat 12", "1234 AB  Bernefertier"}, Country: "NL",
		KvK: "12345678", LRK: "123456789", IBAN: "NL91ABNA0417164300", DueDayOfNextMonth: 20, CreditorID: "NL69ZZZ123456780000"}
	date := attendance.MustDate("2026-12-01")
	b.ReportAllocs()
	var n int
	var bytesOut int64
	var peak uint64
	b.ResetTimer()
	for b.Loop() {
		h := staystest.StartHeapSampler()
		ids, by := invoice.MonthLines(lines, 2026, time.November)
		seq := &invoice.MemorySequence{}
		first, _ := seq.Next(b.Context(), "2026")
		w := &countWriter{}
		for i, id := range ids {
			f := invoice.Family{ID: id, Guardians: []string{"Ouder " + id}, Address: []string{"Straat 1", "1234 AB  Plaats"},
				Mandate: &invoice.Mandate{ID: "M-" + id, Signed: attendance.MustDate("2025-01-01"), IBAN: "NL20INGB0001234567"}}
			inv := invoice.New(prov, f, 2026, time.November, by[id], invoice.FormatNumber("", "2026", first+int64(i)), date)
			if err := invoice.WritePDF(w, inv); err != nil {
				b.Fatal(err)
			}
		}
		if err := seq.Commit(b.Context(), "2026", first, int64(len(ids))); err != nil {
			b.Fatal(err)
		}
		peak = max(peak, h.Stop())
		n, bytesOut = len(ids), w.n
	}
	b.ReportMetric(float64(n), "invoices")
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N)/float64(n), "ms/invoice")
	b.ReportMetric(float64(bytesOut)/float64(n)/1024, "KiB/invoice")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}
