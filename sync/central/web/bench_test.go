package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/sync/central/centraltest"
)

// benchEnv is a location with 100 children in 4 groups and 12 staff, with
// generated attendance for the 22 weekdays of November 2026.
func benchEnv(b *testing.B) (*env, []attendance.Date) {
	b.Helper()
	backend := centraltest.Backends()[0]
	if os.Getenv("BENCH_PG") == "1" {
		backend = centraltest.Backends()[1]
	}
	e := newEnv(b, backend)
	ctx := context.Background()
	r := roster.Roster{Location: roster.Location{ID: "loc-bench", Name: "Bench", TimeZone: "Europe/Amsterdam", Country: "NL", Kind: "kdv",
		Hours: []roster.Hours{{Weekday: 1, Open: "07:00", Close: "19:00"}, {Weekday: 2, Open: "07:00", Close: "19:00"}, {Weekday: 3, Open: "07:00", Close: "19:00"}, {Weekday: 4, Open: "07:00", Close: "19:00"}, {Weekday: 5, Open: "07:00", Close: "19:00"}}}}
	for g := 1; g <= 4; g++ {
		r.Groups = append(r.Groups, roster.Group{ID: fmt.Sprintf("g-%d", g), Name: fmt.Sprintf("Groep %d", g), Policy: "nl-kdv"})
		for s := 0; s < 3; s++ {
			r.Staff = append(r.Staff, roster.Staff{ID: fmt.Sprintf("s-%d-%d", g, s), Name: fmt.Sprintf("Staff %d-%d", g, s), Groups: []string{fmt.Sprintf("g-%d", g)}})
		}
	}
	for i := 0; i < 100; i++ {
		r.Children = append(r.Children, roster.Child{ID: fmt.Sprintf("c-%03d", i), FirstName: fmt.Sprintf("Kind %d", i),
			GroupID: fmt.Sprintf("g-%d", i%4+1), BirthDate: attendance.Date{Year: 2023 + i%3, Month: time.Month(i%12 + 1), Day: 5}})
	}
	if err := e.db.Sites.PutLocation(ctx, "loc-bench", "Bench", nil); err != nil {
		b.Fatal(err)
	}
	if _, err := e.db.Sites.PutRoster(ctx, r); err != nil {
		b.Fatal(err)
	}
	var days []attendance.Date
	for d := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC); d.Month() == time.November; d = d.AddDate(0, 0, 1) {
		if d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
			continue
		}
		day := attendance.DateOf(d)
		if _, err := e.db.Demo.SeedDemoAttendance(ctx, "loc-bench", day); err != nil {
			b.Fatal(err)
		}
		days = append(days, day)
	}
	return e, days
}

func benchGET(b *testing.B, h http.Handler, paths []string) {
	b.Helper()
	lat := make([]time.Duration, 0, b.N)
	var bytes int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		for _, p := range paths {
			req := httptest.NewRequest(http.MethodGet, p, nil)
			req.Header.Set("Authorization", "Bearer "+adminToken)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("%s: %d %.200s", p, rec.Code, rec.Body.String())
			}
			bytes += rec.Body.Len()
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(bytes)/float64(b.N)/1024, "KiB/op")
}

// BenchmarkInspectionLocationDay renders the inspection list (HTML) of
// all four groups of the 100-child location for one day.
func BenchmarkInspectionLocationDay(b *testing.B) {
	e, days := benchEnv(b)
	var paths []string
	for g := 1; g <= 4; g++ {
		paths = append(paths, fmt.Sprintf("/locations/loc-bench/inspection?group=g-%d&date=%s", g, days[10]))
	}
	benchGET(b, e.web.Handler(), paths)
}

// BenchmarkInspectionCSVLocationDay is the same as CSV.
func BenchmarkInspectionCSVLocationDay(b *testing.B) {
	e, days := benchEnv(b)
	var paths []string
	for g := 1; g <= 4; g++ {
		paths = append(paths, fmt.Sprintf("/locations/loc-bench/inspection.csv?group=g-%d&date=%s", g, days[10]))
	}
	benchGET(b, e.web.Handler(), paths)
}

// BenchmarkAttendanceMonth renders the attendance table of the whole
// location for November (22 days x 100 children = 2,200 stays).
func BenchmarkAttendanceMonth(b *testing.B) {
	e, days := benchEnv(b)
	benchGET(b, e.web.Handler(), []string{fmt.Sprintf("/locations/loc-bench/attendance?from=%s&to=%s", days[0], days[len(days)-1])})
}
