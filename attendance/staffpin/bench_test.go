package staffpin_test

import (
	"sort"
	"testing"
	"time"

	"github.com/kinderdeur/kiosk/attendance/staffpin"
)

// BenchmarkHash measures KioskParams (one PIN hash = one PIN check) and
// reports p50/p99 latency.
func BenchmarkHash(b *testing.B) {
	var lat []time.Duration
	for b.Loop() {
		t0 := time.Now()
		if _, err := staffpin.Hash("4821", staffpin.KioskParams); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	report(b, lat)
}

func BenchmarkCheck(b *testing.B) {
	h, _ := staffpin.Hash("4821", staffpin.KioskParams)
	var lat []time.Duration
	for b.Loop() {
		t0 := time.Now()
		if ok, _ := staffpin.Check(h, "4821"); !ok {
			b.Fatal("no match")
		}
		lat = append(lat, time.Since(t0))
	}
	report(b, lat)
}

func report(b *testing.B, lat []time.Duration) {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
