package door

import (
	"context"
	"sync"
	"testing"
	"time"
)

// BenchmarkReadersWhileCommitting measures what a reader of the door
// (GET /api/v1/presence, a screen connecting and asking for a snapshot)
// waits while taps commit to SQLite with fsync (synchronous=FULL) on the
// big bench roster. A writer goroutine taps single-child guardians back to
// back (every tap is a check-in or check-out: one durable transaction);
// the benchmark calls Presence or Snapshot and reports their latency. With
// a lock held across the commit, a reader waits for the disk.
func BenchmarkReadersWhileCommitting(b *testing.B) {
	for _, tc := range []struct {
		name string
		read func(s *Service)
		taps bool // a writer taps meanwhile (else: the idle baseline)
	}{
		{"Presence/idle", func(s *Service) { s.Presence() }, false},
		{"Presence", func(s *Service) { s.Presence() }, true},
		{"Snapshot/idle", func(s *Service) { s.Snapshot() }, false},
		{"Snapshot", func(s *Service) { s.Snapshot() }, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s, single, _ := benchDoor(b)
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			wg.Add(1)
			commits := 0
			go func() {
				defer wg.Done()
				for i := 0; tc.taps && ctx.Err() == nil; i++ {
					if _, err := s.Tap(ctx, "entrance", single[i%len(single)]); err != nil {
						b.Error(err)
						return
					}
					commits++
				}
			}()
			time.Sleep(20 * time.Millisecond) // the writer is busy
			ds := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				t0 := time.Now()
				tc.read(s)
				ds = append(ds, time.Since(t0))
				time.Sleep(200 * time.Microsecond) // a reader, not a busy loop
			}
			b.StopTimer()
			cancel()
			wg.Wait()
			reportLatency(b, ds)
			b.ReportMetric(float64(commits), "commits")
		})
	}
}
