// Package staystest generates realistic door events for tests and
// benchmarks of attendance exports and billing: an organisation of n
// children coming before and after school on school days, all day on free
// afternoons and in vacations, in one location's time zone.
package staystest

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"runtime/metrics"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/calendar"
	"github.com/kinderdeur/kiosk/attendance/stays"
)

// Year returns the check-in/check-out events of children c0000..c(n-1) for
// every weekday of year (weekends and public holidays closed), in sequence
// order, times in UTC. Each open day a child has, with probability 0.96 for
// each, a morning and an afternoon stay on school days, or one long stay on
// vacation and free-afternoon days. About 500 children give about 250,000
// stays. The same seed gives the same events.
func Year(cal *calendar.Calendar, n, year int, seed uint64) []attendance.Event {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	loc := cal.Location()
	var out []attendance.Event
	seq := int64(0)
	add := func(typ attendance.EventType, child string, t time.Time, confirmed string) {
		seq++
		out = append(out, attendance.Event{ID: fmt.Sprintf("e%d", seq), DeviceID: "door-1", Seq: seq, Type: typ,
			LocationID: "loc-1", GroupID: fmt.Sprintf("group-%d", seqGroup(child)), ChildID: child,
			Wall: t.UTC(), ClockSynced: seq%500 != 0, ConfirmedBy: confirmed})
	}
	type span struct {
		child   string
		in, out time.Time
	}
	for d := time.Date(year, 1, 1, 0, 0, 0, 0, loc); d.Year() == year; d = d.AddDate(0, 0, 1) {
		date := attendance.DateOf(d)
		dt := cal.DayType(date)
		if dt == calendar.Weekend || dt == calendar.PublicHoliday {
			continue
		}
		at := func(h, m int) time.Time { return time.Date(d.Year(), d.Month(), d.Day(), h, m, 0, 0, loc) }
		var spans []span
		for c := 0; c < n; c++ {
			child := fmt.Sprintf("c%04d", c)
			switch dt {
			case calendar.Weekday:
				if r.Float64() < 0.96 {
					spans = append(spans, span{child, at(7, r.IntN(60)), at(8, 15+r.IntN(15))})
				}
				if r.Float64() < 0.96 {
					spans = append(spans, span{child, at(15, r.IntN(30)), at(16+r.IntN(2), r.IntN(60))})
				}
			default:
				if r.Float64() < 0.96 {
					spans = append(spans, span{child, at(7, r.IntN(60)), at(8, 15+r.IntN(15))})
				}
				if r.Float64() < 0.96 {
					spans = append(spans, span{child, at(12, r.IntN(60)), at(15+r.IntN(3), r.IntN(60))})
				}
			}
		}
		// Check-ins in the morning, then check-outs, like a real door.
		for _, s := range spans {
			add(attendance.ChildCheckIn, s.child, s.in, "")
			confirmed := ""
			if r.IntN(20) == 0 {
				confirmed = "staff-1"
			}
			add(attendance.ChildCheckOut, s.child, s.out, confirmed)
		}
	}
	return out
}

func seqGroup(child string) int {
	h := 0
	for _, c := range child {
		h = h*31 + int(c)
	}
	return h % 25
}

// Children names children c0000.. with a guardian per two children.
func Children(id string) (stays.Child, bool) {
	var n int
	if _, err := fmt.Sscanf(id, "c%d", &n); err != nil {
		return stays.Child{}, false
	}
	return stays.Child{Name: fmt.Sprintf("Kind %d", n), GuardianID: fmt.Sprintf("g%04d", n/2)}, true
}

// HeapSampler records the peak of live-and-unswept heap objects while a
// benchmark runs (runtime/metrics, sampled every millisecond, no
// stop-the-world). Start it after setup; Stop returns the peak growth over
// the heap at Start.
type HeapSampler struct {
	base, peak uint64
	stop       chan struct{}
	done       chan struct{}
}

const heapMetric = "/memory/classes/heap/objects:bytes"

func heapNow() uint64 {
	s := []metrics.Sample{{Name: heapMetric}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// StartHeapSampler collects garbage, then samples until Stop. The sampler's
// goroutine is owned by the returned value and ends in Stop.
func StartHeapSampler() *HeapSampler {
	runtime.GC()
	h := &HeapSampler{base: heapNow(), stop: make(chan struct{}), done: make(chan struct{})}
	h.peak = h.base
	go func() {
		defer close(h.done)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-h.stop:
				return
			case <-t.C:
				if v := heapNow(); v > h.peak {
					h.peak = v
				}
			}
		}
	}()
	return h
}

// Stop ends sampling and returns the peak heap growth in bytes.
func (h *HeapSampler) Stop() uint64 {
	close(h.stop)
	<-h.done
	if v := heapNow(); v > h.peak {
		h.peak = v
	}
	return h.peak - h.base
}
