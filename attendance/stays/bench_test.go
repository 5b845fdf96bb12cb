package stays_test

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/kinderdeur/kiosk/attendance/calendar"
	"github.com/kinderdeur/kiosk/attendance/sheet"
	"github.com/kinderdeur/kiosk/attendance/stays"
	"github.com/kinderdeur/kiosk/attendance/stays/staystest"
)

// BenchmarkExportYear builds the stays of one year of a 500-child
// organisation from its door events and writes them as contract-6 CSV.
func BenchmarkExportYear(b *testing.B) {
	cal := calendar.MustNew(calendar.DefaultConfig())
	events := staystest.Year(cal, 500, 2026, 1)
	opt := stays.Options{Calendar: cal, Location: "loc-1", Child: directory(500)}
	b.ReportAllocs()
	var n int
	var bytesOut int64
	var peak uint64
	b.ResetTimer()
	for b.Loop() {
		h := staystest.StartHeapSampler()
		s, err := stays.Build(events, opt)
		if err != nil {
			b.Fatal(err)
		}
		cw := &countWriter{}
		if err := stays.WriteCSV(cw, s); err != nil {
			b.Fatal(err)
		}
		peak = max(peak, h.Stop())
		n, bytesOut = len(s), cw.n
	}
	b.ReportMetric(float64(len(events)), "events")
	b.ReportMetric(float64(n), "stays")
	b.ReportMetric(float64(bytesOut)/1e6, "csv-MB")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/stay")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}

// BenchmarkReadCSVYear parses a year's export back (what kioskctl bill does first).
func BenchmarkReadCSVYear(b *testing.B) {
	cal := calendar.MustNew(calendar.DefaultConfig())
	s, err := stays.Build(staystest.Year(cal, 500, 2026, 1), stays.Options{Calendar: cal, Child: staystest.Children})
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	if err := stays.WriteCSV(&buf, s); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	var peak uint64
	b.ResetTimer()
	for b.Loop() {
		h := staystest.StartHeapSampler()
		got, err := stays.ReadCSV(bytes.NewReader(data))
		if err != nil || len(got) != len(s) {
			b.Fatalf("ReadCSV: %d stays, %v", len(got), err)
		}
		peak = max(peak, h.Stop())
	}
	b.ReportMetric(float64(len(s)), "stays")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(s)), "ns/stay")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}

// directory is the child lookup central would do: a map built once.
func directory(n int) func(string) (stays.Child, bool) {
	m := map[string]stays.Child{}
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("c%04d", i)
		m[id], _ = staystest.Children(id)
	}
	return func(id string) (stays.Child, bool) { c, ok := m[id]; return c, ok }
}

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

var _ io.Writer = (*countWriter)(nil)

// BenchmarkWriteYear writes a year's stays (built once) in each sheet
// format: the contract-6 CSV, the Excel CSV and an xlsx workbook (excelize
// StreamWriter). The heap sampler measures the writer alone.
func BenchmarkWriteYear(b *testing.B) {
	cal := calendar.MustNew(calendar.DefaultConfig())
	s, err := stays.Build(staystest.Year(cal, 500, 2026, 1), stays.Options{Calendar: cal, Location: "loc-1", Child: directory(500)})
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range []sheet.Format{sheet.CSV, sheet.CSVExcel, sheet.XLSX} {
		b.Run(string(f), func(b *testing.B) {
			b.ReportAllocs()
			var peak uint64
			var out int64
			for b.Loop() {
				h := staystest.StartHeapSampler()
				cw := &countWriter{}
				if err := stays.Write(cw, f, s); err != nil {
					b.Fatal(err)
				}
				peak = max(peak, h.Stop())
				out = cw.n
			}
			b.ReportMetric(float64(len(s)), "stays")
			b.ReportMetric(float64(out)/1e6, "out-MB")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(s)), "ns/stay")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		})
	}
}
