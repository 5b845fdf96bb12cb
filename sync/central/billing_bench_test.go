package central_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/sync/central"
	"github.com/kinderdeur/kiosk/sync/central/centraltest"
)

// BenchmarkBillingRun250Families issues a month for 250 families (375
// children, 22 care days each: about 8,250 stays) on SQLite: pricing,
// numbering, 250 PDFs and storing them in one transaction. The run is
// deleted between iterations (untimed).
func BenchmarkBillingRun250Families(b *testing.B) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)}
	db, err := central.Open(ctx, centraltest.SQLiteDSN(b), clk.Now)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.Demo.SeedDemo(ctx, attendance.DateOf(clk.Now())); err != nil {
		b.Fatal(err)
	}
	rs, _, _ := db.Sites.Roster(ctx, loc)
	rs.Version++
	grp := rs.Groups[0].ID
	for f := 0; f < 250; f++ {
		pid := fmt.Sprintf("p-bench-%03d", f)
		rs.People = append(rs.People, roster.Person{ID: pid, Name: fmt.Sprintf("Ouder %03d", f)})
		for c := 0; c < 1+f%2; c++ {
			cid := fmt.Sprintf("c-bench-%03d-%d", f, c)
			rs.Children = append(rs.Children, roster.Child{ID: cid, FirstName: fmt.Sprintf("Kind %03d-%d", f, c), GroupID: grp,
				BirthDate: attendance.MustDate("2024-03-01")})
			rs.Guardianships = append(rs.Guardianships, roster.Guardianship{ChildID: cid, PersonID: pid})
		}
	}
	if _, err := db.Sites.PutRoster(ctx, rs); err != nil {
		b.Fatal(err)
	}
	for d := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC); d.Month() == time.October; d = d.AddDate(0, 0, 1) {
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
			if _, err := db.Demo.SeedDemoAttendance(ctx, loc, attendance.DateOf(d)); err != nil {
				b.Fatal(err)
			}
		}
	}
	setUpBilling(b, db)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapAlloc, ms.HeapAlloc
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // samples the heap while the runs go
		defer close(done)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				peak = max(peak, m.HeapAlloc)
			}
		}
	}()
	defer func() {
		close(stop)
		<-done
		b.ReportMetric(float64(peak-base)/(1<<20), "peak-heap-MiB")
	}()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		run, err := db.Billing.Issue(ctx, central.RunRequest{LocationID: loc, Month: "2026-10", AllowUnpriced: true})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if run.Count < 250 {
			b.Fatalf("%d invoices", run.Count)
		}
		for _, q := range []string{"DELETE FROM invoices", "DELETE FROM billing_runs", "UPDATE invoice_sequences SET last = 0"} {
			if _, err := db.SQL().Exec(q); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
	}
}
