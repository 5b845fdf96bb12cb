package sepa_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/sepa"
	"github.com/kinderdeur/kiosk/attendance/stays/staystest"
)

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// BenchmarkBatch500 writes (and validates) a month's direct debits for 500
// families.
func BenchmarkBatch500(b *testing.B) {
	batch := sepa.Batch{MessageID: "SDD-2026-00001-500", Created: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
		Creditor: sepa.Creditor{Name: "Kinderopvang Bernefertier", IBAN: "NL91ABNA0417164300", ID: "NL69ZZZ123456780000"}}
	for i := 0; i < 500; i++ {
		seq := sepa.Recurring
		if i%25 == 0 {
			seq = sepa.First
		}
		batch.Debits = append(batch.Debits, sepa.Debit{EndToEndID: fmt.Sprintf("2026-%05d", i+1), AmountCents: int64(5000 + i*37),
			MandateID: fmt.Sprintf("BF-M-%04d", i), MandateDate: attendance.MustDate("2025-08-30"), Sequence: seq,
			DebtorName: fmt.Sprintf("Ouder %d van der Ploeg-Çelik", i), DebtorIBAN: sepa.MakeIBAN("NL", fmt.Sprintf("INGB%010d", i)),
			Remittance: fmt.Sprintf("2026-%05d Kinderopvang Bernefertier 11-2026", i+1), CollectionOn: attendance.MustDate("2026-12-20")})
	}
	b.ReportAllocs()
	var peak uint64
	var size int64
	b.ResetTimer()
	for b.Loop() {
		h := staystest.StartHeapSampler()
		w := &countWriter{}
		if err := sepa.Write(w, batch); err != nil {
			b.Fatal(err)
		}
		peak = max(peak, h.Stop())
		size = w.n
	}
	b.ReportMetric(float64(size)/1024, "KiB")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}
