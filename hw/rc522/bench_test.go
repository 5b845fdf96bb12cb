package rc522

import (
	"bytes"
	"context"
	"fmt"
	"math/rand"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kinderdeur/kiosk/hw"
	"github.com/kinderdeur/kiosk/hw/mfrc522test"
	"periph.io/x/devices/v3/mfrc522"
)

func report(b *testing.B, st mfrc522test.Stats, per int, unit string) {
	n := float64(per)
	b.ReportMetric(float64(st.Transactions)/n, "spi-frames/"+unit)
	b.ReportMetric(float64(st.Calls)/n, "spi-calls/"+unit)
	b.ReportMetric(float64(st.Bytes)/n, "spi-bytes/"+unit)
	b.ReportMetric(float64(st.BusTime.Microseconds())/n, "bus-µs/"+unit)
}

var benchUIDs = []struct {
	name string
	uid  []byte
}{{"uid4", uid4}, {"uid7", uid7}, {"uid10", uid10}}

// BenchmarkTap: one new card read (WUPA, anticollision and SELECT per
// cascade level, HLTA) at the default 4 MHz bus clock.
func BenchmarkTap(b *testing.B) {
	for _, u := range benchUIDs {
		for _, irq := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/irq=%v", u.name, irq), func(b *testing.B) {
				chip := mfrc522test.New()
				r := newReader(b, chip, irq, nil)
				if err := r.Init(); err != nil {
					b.Fatal(err)
				}
				chip.Present(card(b, u.uid...))
				chip.ResetStats()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					det, err := r.Poll()
					if err != nil || !bytes.Equal(det.UID, u.uid) {
						b.Fatalf("Poll = %x, %v", det.UID, err)
					}
				}
				report(b, chip.Stats(), b.N, "tap")
			})
		}
	}
}

// BenchmarkRestingPoll: a poll while the card rests on the reader (WUPA,
// SELECT with the known UID, HLTA).
func BenchmarkRestingPoll(b *testing.B) {
	for _, u := range benchUIDs {
		b.Run(u.name, func(b *testing.B) {
			chip := mfrc522test.New()
			r := newReader(b, chip, false, nil)
			if err := r.Init(); err != nil {
				b.Fatal(err)
			}
			chip.Present(card(b, u.uid...))
			r.pres.seen(u.uid, time.Now())
			chip.ResetStats()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				det, err := r.Poll()
				if err != nil || !det.Resting {
					b.Fatalf("Poll = %+v, %v", det, err)
				}
			}
			report(b, chip.Stats(), b.N, "poll")
		})
	}
}

// BenchmarkIdle: polls of an empty field; per second at the default 25ms
// poll interval (40 polls/s).
func BenchmarkIdle(b *testing.B) {
	chip := mfrc522test.New()
	r := newReader(b, chip, false, nil)
	if err := r.Init(); err != nil {
		b.Fatal(err)
	}
	chip.ResetStats()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if det, err := r.Poll(); err != nil || det.UID != nil {
			b.Fatalf("Poll = %+v, %v", det, err)
		}
	}
	st := chip.Stats()
	report(b, st, b.N, "poll")
	perSec := float64(time.Second / (25 * time.Millisecond))
	b.ReportMetric(float64(st.Transactions)/float64(b.N)*perSec, "spi-frames/s@25ms")
	b.ReportMetric(float64(st.BusTime.Microseconds())/float64(b.N)*perSec, "bus-µs/s@25ms")
}

// BenchmarkPeriphReadUID: periph's mfrc522.Dev.ReadUID with the IRQ line
// wired (it cannot run without), at its fixed 10 MHz. The 10-byte UID comes
// back wrong; it is measured for the transfer count only.
func BenchmarkPeriphReadUID(b *testing.B) {
	for _, u := range benchUIDs {
		b.Run(u.name, func(b *testing.B) {
			chip := mfrc522test.New()
			dev, err := mfrc522.NewSPI(chip, chip.ResetPin(), chip.IRQ())
			if err != nil {
				b.Fatal(err)
			}
			chip.Present(card(b, u.uid...))
			chip.ResetStats()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				got, err := dev.ReadUID(time.Second)
				if err != nil || (len(u.uid) < 10 && !bytes.Equal(got, u.uid)) {
					b.Fatalf("ReadUID = %x, %v", got, err)
				}
			}
			report(b, chip.Stats(), b.N, "tap")
		})
	}
}

// BenchmarkDetectionLatency: time from a card entering the field to the
// tap leaving Run, at the default 25ms poll interval, cards presented at
// random moments.
func BenchmarkDetectionLatency(b *testing.B) {
	for _, irq := range []bool{false, true} {
		b.Run(fmt.Sprintf("poll=25ms/irq=%v", irq), func(b *testing.B) {
			chip := mfrc522test.New()
			r := newReader(b, chip, irq, func(c *Config) { c.PollInterval = 25 * time.Millisecond })
			ctx, cancel := context.WithCancel(context.Background())
			taps := make(chan hw.Tap, 1)
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { defer wg.Done(); _ = r.Run(ctx, taps) }()
			defer func() { cancel(); wg.Wait() }()
			rng := rand.New(rand.NewSource(1))
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				time.Sleep(time.Duration(rng.Int63n(int64(25 * time.Millisecond))))
				c := card(b, uid7...)
				t0 := time.Now()
				chip.Present(c)
				tp := <-taps
				lat = append(lat, tp.At.Sub(t0))
				chip.RemoveAll()
				for r.Resting() {
					time.Sleep(time.Millisecond)
				}
			}
			b.StopTimer()
			slices.Sort(lat)
			q := func(p float64) float64 {
				return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000
			}
			b.ReportMetric(q(0.5), "p50-ms")
			b.ReportMetric(q(0.99), "p99-ms")
			b.ReportMetric(q(1), "max-ms")
		})
	}
}
