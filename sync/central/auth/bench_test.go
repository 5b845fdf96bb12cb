package auth_test

import (
	"sort"
	"testing"
	"time"

	"github.com/kinderdeur/kiosk/sync/central/auth"
)

// BenchmarkHashPassword measures ServerParams (a sign-in costs one hash).
func BenchmarkHashPassword(b *testing.B) {
	h := auth.Hasher{Params: auth.ServerParams}
	var lat []time.Duration
	for b.Loop() {
		t0 := time.Now()
		if _, err := h.Hash("correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

func BenchmarkLimiterAllow(b *testing.B) {
	l := auth.NewLimiter(1e9, 1e9, nil)
	for b.Loop() {
		l.Allow("device-1")
	}
}
