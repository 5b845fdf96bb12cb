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
	"periph.io/x/conn/v3/gpio"
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

// pollIntervals are the intervals compared for issue 14.
var pollIntervals = []time.Duration{25 * time.Millisecond, 15 * time.Millisecond, 10 * time.Millisecond, 5 * time.Millisecond}

// BenchmarkIdleBus: what a running reader costs with an empty field, per
// second of wall time, at each poll interval: b.N poll intervals of Run.
// cpu-µs/s is this process's CPU time (the simulator's share included).
//
//	go test ./hw/rc522 -run '^$' -bench IdleBus -benchtime 200x
func BenchmarkIdleBus(b *testing.B) {
	for _, every := range pollIntervals {
		for _, irq := range []bool{false, true} {
			b.Run(fmt.Sprintf("poll=%v/irq=%v", every, irq), func(b *testing.B) {
				chip := mfrc522test.New()
				r := newReader(b, chip, irq, func(c *Config) { c.PollInterval = every })
				if err := r.Init(); err != nil {
					b.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				var wg sync.WaitGroup
				wg.Add(1)
				chip.ResetStats()
				cpu0, t0 := cpuTime(), time.Now()
				go func() { defer wg.Done(); _ = r.Run(ctx, make(chan hw.Tap)) }()
				time.Sleep(time.Duration(b.N) * every)
				cancel()
				wg.Wait()
				wall, cpu := time.Since(t0).Seconds(), cpuTime()-cpu0
				st := chip.Stats()
				b.ReportMetric(float64(st.Frames)/wall, "polls/s")
				b.ReportMetric(float64(st.Transactions)/wall, "spi-frames/s")
				b.ReportMetric(float64(st.Calls)/wall, "spi-calls/s")
				b.ReportMetric(float64(st.Bytes)/wall, "spi-bytes/s")
				b.ReportMetric(float64(st.BusTime.Microseconds())/wall, "bus-µs/s")
				b.ReportMetric(float64(cpu.Microseconds())/wall, "cpu-µs/s")
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}

// BenchmarkDetectionLatency: time from a card (7-byte UID) entering the
// field to the tap leaving Run, cards presented at random moments, at each
// poll interval; polled, with the IRQ line, and with the IRQ line stuck
// (after the reader gave it up for polling).
//
//	go test ./hw/rc522 -run '^$' -bench DetectionLatency -benchtime 200x
func BenchmarkDetectionLatency(b *testing.B) {
	for _, every := range pollIntervals {
		for _, mode := range []string{"polled", "irq", "irq-stuck"} {
			b.Run(fmt.Sprintf("poll=%v/%s", every, mode), func(b *testing.B) {
				chip := mfrc522test.New()
				if mode == "irq-stuck" {
					chip.IRQ().SetStuck(true, gpio.High)
				}
				r := newReader(b, chip, mode != "polled", func(c *Config) { c.PollInterval = every })
				ctx, cancel := context.WithCancel(context.Background())
				taps := make(chan hw.Tap, 1)
				var wg sync.WaitGroup
				wg.Add(1)
				go func() { defer wg.Done(); _ = r.Run(ctx, taps) }()
				defer func() { cancel(); wg.Wait() }()
				for mode == "irq-stuck" && r.Health().Degraded == "" {
					time.Sleep(time.Millisecond)
				}
				rng := rand.New(rand.NewSource(1))
				lat := make([]time.Duration, 0, b.N)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					time.Sleep(time.Duration(rng.Int63n(int64(every))))
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
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}
