package billing_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kinderdeur/kiosk/attendance/billing"
	"github.com/kinderdeur/kiosk/attendance/calendar"
	"github.com/kinderdeur/kiosk/attendance/stays"
	"github.com/kinderdeur/kiosk/attendance/stays/staystest"
)

// BenchmarkBillYear prices one year of a 500-child organisation (about
// 250,000 stays) with each preset and writes the invoice lines as CSV.
func BenchmarkBillYear(b *testing.B) {
	cal := calendar.MustNew(calendar.DefaultConfig())
	in, err := stays.Build(staystest.Year(cal, 500, 2026, 1), stays.Options{Calendar: cal, Child: staystest.Children})
	if err != nil {
		b.Fatal(err)
	}
	contracts := map[string]billing.Contract{}
	for i := 0; i < 500; i += 3 {
		id := fmt.Sprintf("c%04d", i)
		contracts[id] = billing.Contract{ChildID: id, RateCentsPerHour: 725, MinutesPerMonth: 40 * 60, CareKind: "bso"}
	}
	for _, name := range []string{"deburcht", "bernefertier", "anzegem-bko"} {
		b.Run(name, func(b *testing.B) {
			p, err := billing.Lookup(name, nil)
			if err != nil {
				b.Fatal(err)
			}
			e, err := billing.New(p, contracts)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			var lines []billing.Line
			var peak uint64
			var total int64
			b.ResetTimer()
			for b.Loop() {
				h := staystest.StartHeapSampler()
				lines = e.Bill(in)
				if err := billing.WriteCSV(discard{}, lines); err != nil {
					b.Fatal(err)
				}
				_ = billing.Preview(lines, contracts)
				peak = max(peak, h.Stop())
			}
			for _, l := range lines {
				total += l.AmountCents
			}
			b.ReportMetric(float64(len(in)), "stays")
			b.ReportMetric(float64(len(lines)), "lines")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(in)), "ns/stay")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(total)/100, "EUR-total")
		})
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkBillYearAbsences reads a year's absences CSV for 500 children
// (about 22 absent days each, every kind) and prices it with the year's
// stays.
func BenchmarkBillYearAbsences(b *testing.B) {
	cal := calendar.MustNew(calendar.DefaultConfig())
	in, err := stays.Build(staystest.Year(cal, 500, 2026, 1), stays.Options{Calendar: cal, Child: staystest.Children})
	if err != nil {
		b.Fatal(err)
	}
	kinds := []billing.AbsenceKind{billing.AbsenceSick, billing.AbsenceSick, billing.AbsenceSick, billing.AbsenceLateCancel,
		billing.AbsenceCancel, billing.AbsenceProviderAway}
	var csvb strings.Builder
	csvb.WriteString("child_id,date,kind,agreed_minutes,note\n")
	rows := 0
	for c := 0; c < 500; c++ {
		for d := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() == 2026; d = d.AddDate(0, 0, 1) {
			if (d.YearDay()+c)%16 != 0 && (d.YearDay()+c)%16 != 1 {
				continue
			}
			fmt.Fprintf(&csvb, "c%04d,%s,%s,%d,\n", c, d.Format(time.DateOnly), kinds[(d.YearDay()/16+c)%len(kinds)], 120+c%4*15)
			rows++
		}
	}
	data := csvb.String()
	for _, name := range []string{"deburcht", "bernefertier"} {
		b.Run(name, func(b *testing.B) {
			p, err := billing.Lookup(name, nil)
			if err != nil {
				b.Fatal(err)
			}
			e, err := billing.New(p, nil)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			var lines []billing.Line
			for b.Loop() {
				abs, err := billing.ReadAbsences(strings.NewReader(data))
				if err != nil {
					b.Fatal(err)
				}
				lines = e.BillWithAbsences(in, abs, cal.DayType)
			}
			b.ReportMetric(float64(rows), "absences")
			b.ReportMetric(float64(len(lines)), "lines")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(in)+rows), "ns/row")
		})
	}
}
