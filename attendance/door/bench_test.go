package door

import (
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/attendance/rules"
	"github.com/kinderdeur/kiosk/attendance/store"
)

func benchUID(i int) []byte {
	b := make([]byte, 4)
	binary.BigEndian.PutUint32(b, uint32(0x10000000+i))
	return b
}

// benchDoor is a door on a real store with 1,000 children in 20 groups,
// a guardian per child (every tenth guardian has a second child, so taps
// of those open a choice), 125 staff, and 200 children and 60 staff
// present. It returns the UIDs of single-child and two-child guardians.
func benchDoor(b *testing.B) (s *Service, single, double [][]byte) {
	b.Helper()
	key := attendance.BadgeKey("bench-key-0123456789abcdef")
	now := time.Date(2026, 3, 4, 10, 0, 0, 0, ams)
	day := attendance.DateOf(now)
	r := roster.Roster{Version: 1, Location: roster.Location{ID: "big", Name: "Big", TimeZone: "Europe/Amsterdam", MinPickupAge: 16}}
	for wd := time.Monday; wd <= time.Friday; wd++ {
		r.Location.Hours = append(r.Location.Hours, roster.Hours{Weekday: wd, Open: "07:00", Close: "18:30"})
		r.Location.ThreeHourWindows = append(r.Location.ThreeHourWindows, roster.Window{Weekday: wd, From: "07:00", Until: "08:30"})
	}
	for g := 0; g < 20; g++ {
		pol, maxAge := "nl-kdv", 4
		if g%3 == 2 {
			pol, maxAge = "nl-bso", 13
		}
		_ = maxAge
		r.Groups = append(r.Groups, roster.Group{ID: fmt.Sprint("g", g), Name: fmt.Sprint("Groep ", g), Policy: pol})
	}
	uid := 0
	badge := func(role attendance.Role, id string) []byte {
		u := benchUID(uid)
		uid++
		r.Badges = append(r.Badges, roster.Badge{Hash: key.Hash(u), Role: role, HolderID: id})
		return u
	}
	for i := 0; i < 1000; i++ {
		g := i % 20
		age := i % 4
		if r.Groups[g].Policy == "nl-bso" {
			age = 4 + i%9
		}
		id := fmt.Sprint("c", i)
		r.Children = append(r.Children, roster.Child{ID: id, FirstName: "Kind" + id, GroupID: r.Groups[g].ID,
			BirthDate: attendance.DateOf(day.In(time.UTC).AddDate(-age, -1, 0))})
		if i%10 == 1 { // the second child of the previous guardian
			r.Guardianships = append(r.Guardianships, roster.Guardianship{ChildID: id, PersonID: fmt.Sprint("p", i-1)})
			continue
		}
		pid := fmt.Sprint("p", i)
		r.People = append(r.People, roster.Person{ID: pid, Name: "Ouder " + pid})
		r.Guardianships = append(r.Guardianships, roster.Guardianship{ChildID: id, PersonID: pid})
		u := badge(attendance.RoleGuardian, pid)
		if i%10 == 0 {
			double = append(double, u)
		} else {
			single = append(single, u)
		}
	}
	for i := 0; i < 125; i++ {
		id := fmt.Sprint("s", i)
		r.Staff = append(r.Staff, roster.Staff{ID: id, Name: "Staf " + id, Groups: []string{r.Groups[i%20].ID}})
		badge(attendance.RoleStaff, id)
	}
	ctx := context.Background()
	st, err := store.Open(filepath.Join(b.TempDir(), "kiosk.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if err := st.ApplyRoster(ctx, r); err != nil {
		b.Fatal(err)
	}
	var evs []attendance.Event
	for i := 0; i < 1000; i += 5 { // 200 children present
		c := r.Children[i]
		evs = append(evs, attendance.Event{Type: attendance.ChildCheckIn, ChildID: c.ID, GroupID: c.GroupID, Wall: now.Add(-2 * time.Hour)})
	}
	for i := 0; i < 60; i++ {
		m := r.Staff[i]
		evs = append(evs, attendance.Event{Type: attendance.StaffIn, StaffID: m.ID, GroupID: m.Groups[0], Wall: now.Add(-3 * time.Hour)})
	}
	if _, err := st.Append(ctx, evs...); err != nil {
		b.Fatal(err)
	}
	s, err = New(ctx, Config{Store: st, Key: key, Readers: map[string]attendance.ReaderRole{"entrance": attendance.ReaderBoth},
		Clock: &fakeClock{t: now}, Logger: quiet()})
	if err != nil {
		b.Fatal(err)
	}
	if n := len(s.Presence().Children); n != 200 {
		b.Fatalf("%d children present, want 200", n)
	}
	return s, single, double
}

func reportLatency(b *testing.B, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	q := func(f float64) float64 { return float64(ds[int(f*float64(len(ds)-1))]) / 1e3 }
	b.ReportMetric(q(0.50), "p50-µs")
	b.ReportMetric(q(0.99), "p99-µs")
	b.ReportMetric(float64(ds[len(ds)-1])/1e3, "max-µs")
}

// BenchmarkTapNoCommit is a whole Tap that decides without writing: a
// guardian of two children gets the choice screen (badge hash, roster
// lookup, rules, session, view, publish to a subscriber).
func BenchmarkTapNoCommit(b *testing.B) {
	s, _, double := benchDoor(b)
	ch, stop := s.Subscribe()
	defer stop()
	ctx := context.Background()
	ds := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		v, err := s.Tap(ctx, "entrance", double[i%len(double)])
		ds = append(ds, time.Since(t0))
		if err != nil || v.Outcome != rules.ChooseChildren {
			b.Fatalf("tap: %+v %v", v, err)
		}
		b.StopTimer()
		s.Cancel(v.Session)
		for len(ch) > 0 {
			<-ch
		}
		b.StartTimer()
	}
	b.StopTimer()
	reportLatency(b, ds)
}

// BenchmarkTapCommit is a whole Tap that checks a child in or out: the
// decision, the SQLite commit (WAL, synchronous=FULL: an fsync per tap),
// presence, the three-hour trackers and the publish.
func BenchmarkTapCommit(b *testing.B) {
	s, single, _ := benchDoor(b)
	ctx := context.Background()
	ds := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		v, err := s.Tap(ctx, "entrance", single[i%len(single)])
		ds = append(ds, time.Since(t0))
		if err != nil || !v.Committed || (v.Outcome != rules.CheckIn && v.Outcome != rules.CheckOut) {
			b.Fatalf("tap: %+v %v", v, err)
		}
	}
	b.StopTimer()
	reportLatency(b, ds)
}

// promObserver is kioskd's metrics in miniature (a counter by outcome, two
// histograms), to measure what observing costs on the tap path.
type promObserver struct {
	taps             *prometheus.CounterVec
	decision, commit prometheus.Histogram
}

func newPromObserver() *promObserver {
	b := []float64{.001, .0025, .005, .01, .02, .035, .05, .075, .1, .25, .5, 1, 2.5}
	return &promObserver{
		taps:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "taps_total"}, []string{"outcome"}),
		decision: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "decision_seconds", Buckets: b}),
		commit:   prometheus.NewHistogram(prometheus.HistogramOpts{Name: "commit_seconds", Buckets: b}),
	}
}

func (o *promObserver) TapDecided(outcome string, took time.Duration) {
	o.taps.WithLabelValues(outcome).Inc()
	o.decision.Observe(took.Seconds())
}

func (o *promObserver) Committed(_ int, took time.Duration, err error) {
	if err == nil {
		o.commit.Observe(took.Seconds())
	}
}

// BenchmarkTapCommitObserved is BenchmarkTapCommit with the metrics
// observer attached (compare the two: the cost of /metrics on the tap).
func BenchmarkTapCommitObserved(b *testing.B) {
	s, single, _ := benchDoor(b)
	s.cfg.Observer = newPromObserver()
	s.rec.obs = s.cfg.Observer
	ctx := context.Background()
	ds := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		v, err := s.Tap(ctx, "entrance", single[i%len(single)])
		ds = append(ds, time.Since(t0))
		if err != nil || !v.Committed || (v.Outcome != rules.CheckIn && v.Outcome != rules.CheckOut) {
			b.Fatalf("tap: %+v %v", v, err)
		}
	}
	b.StopTimer()
	reportLatency(b, ds)
}

// BenchmarkObserve is the observer alone: what one tap adds.
func BenchmarkObserve(b *testing.B) {
	o := newPromObserver()
	for i := 0; i < b.N; i++ {
		o.TapDecided("check_in", 800*time.Microsecond)
		o.Committed(1, 700*time.Microsecond, nil)
	}
}
