package ratio

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/kinderdeur/kiosk/attendance"
)

// fakeClock is a settable clock for the tracker.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func TestTracker(t *testing.T) {
	loc := amsterdam(t)
	rule := DefaultRule()
	rule.Windows = mustWindows(t, "mon-fri=07:00-08:30,17:00-18:30")
	calendar := func(d attendance.Date) Day {
		if d.Weekday() == time.Tuesday {
			return Day{Kind: BSOSchoolDay, Open: 7 * 60, Close: 18 * 60}
		}
		return Day{Kind: DayCare, Open: 7 * 60, Close: 18 * 60}
	}
	clock := &fakeClock{}
	tr, err := NewTracker(rule, loc, calendar, clock.Now)
	if err != nil {
		t.Fatal(err)
	}

	type step struct {
		at         string // wall time on day
		day        attendance.Date
		set        []int // staff, required; nil: only report
		wantBelow  time.Duration
		wantKind   DayKind
		wantAlerts []string // alertLine form
		wantOngo   int
	}
	steps := []step{
		{at: "06:55", day: monday, wantKind: DayCare},
		{at: "07:00", day: monday, set: []int{2, 2}},
		{at: "07:30", day: monday, set: []int{1, 2}},
		{at: "07:45", day: monday, wantBelow: 15 * time.Minute},
		{at: "08:40", day: monday, wantBelow: 70 * time.Minute,
			wantAlerts: []string{"outside_window 08:30 CET-08:40 CET 1/2 ongoing"}, wantOngo: 1},
		{at: "08:50", day: monday, set: []int{2, 2}},
		{at: "09:00", day: monday, wantBelow: 80 * time.Minute,
			wantAlerts: []string{"outside_window 08:30 CET-08:50 CET 1/2"}},
		{at: "23:00", day: monday, set: []int{0, 1}},
		{at: "23:59", day: monday, wantBelow: 139 * time.Minute,
			wantAlerts: []string{
				"outside_window 08:30 CET-08:50 CET 1/2",
				"below_floor 23:00 CET-23:59 CET 0/1 ongoing",
				"outside_window 23:00 CET-23:59 CET 0/1 ongoing",
			}, wantOngo: 2},
		// A new day (a school day for BSO): the state in force at midnight
		// carries on; yesterday is gone.
		{at: "00:30", day: nextMonday, wantBelow: 30 * time.Minute, wantKind: BSOSchoolDay,
			wantAlerts: []string{
				"below_floor 00:00 CET-00:30 CET 0/1 ongoing",
				"outside_window 00:00 CET-00:30 CET 0/1 ongoing",
			}, wantOngo: 2}, // the 30 minutes are used up exactly: not over yet
		{at: "00:31", day: nextMonday, set: []int{1, 1}},
		{at: "01:00", day: nextMonday, wantBelow: 31 * time.Minute, wantKind: BSOSchoolDay,
			wantAlerts: []string{
				"below_floor 00:00 CET-00:31 CET 0/1",
				"outside_window 00:00 CET-00:31 CET 0/1",
				"over_budget 00:30 CET-00:31 CET 0/1",
			}},
	}
	for _, s := range steps {
		clock.Set(at(loc, s.day, s.at))
		if s.set != nil {
			if err := tr.Set(s.set[0], s.set[1]); err != nil {
				t.Fatalf("%s %s: Set: %v", s.day, s.at, err)
			}
			continue
		}
		rep, err := tr.Report()
		if err != nil {
			t.Fatalf("%s %s: Report: %v", s.day, s.at, err)
		}
		var got []string
		for _, a := range rep.Alerts {
			got = append(got, alertLine(loc, a))
		}
		if diff := cmp.Diff(s.wantAlerts, got); diff != "" {
			t.Errorf("%s %s: alerts (-want +got):\n%s", s.day, s.at, diff)
		}
		if rep.Below != s.wantBelow || rep.Kind != s.wantKind || rep.Date != s.day || len(rep.Ongoing()) != s.wantOngo {
			t.Errorf("%s %s: below %v kind %v date %v ongoing %d; want %v %v %v %d",
				s.day, s.at, rep.Below, rep.Kind, rep.Date, len(rep.Ongoing()), s.wantBelow, s.wantKind, s.day, s.wantOngo)
		}
	}
	// Only the state in force since midnight is kept, then today's change.
	if n := len(tr.samples); n != 2 {
		t.Errorf("tracker keeps %d samples after midnight, want 2", n)
	}
}

// TestTrackerBudgetBoundary: a deviation of exactly the budget is allowed,
// one beyond it raises an ongoing over_budget alert.
func TestTrackerBudgetBoundary(t *testing.T) {
	loc := amsterdam(t)
	clock := &fakeClock{now: at(loc, monday, "07:00")}
	rule := DefaultRule()
	rule.Windows = mustWindows(t, "mon=07:00-18:00")
	tr, err := NewTracker(rule, loc, func(attendance.Date) Day { return Day{Kind: BSOSchoolDay, Open: 7 * 60, Close: 18 * 60} }, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Set(1, 2); err != nil {
		t.Fatal(err)
	}
	clock.Set(at(loc, monday, "07:29"))
	rep, _ := tr.Report()
	if len(rep.Alerts) != 0 || rep.Remaining() != time.Minute {
		t.Errorf("at 07:29: alerts %v, remaining %v", rep.Alerts, rep.Remaining())
	}
	clock.Set(at(loc, monday, "07:31"))
	rep, _ = tr.Report()
	if len(rep.Alerts) != 1 || rep.Alerts[0].Kind != AlertOverBudget || !rep.Alerts[0].Ongoing {
		t.Errorf("at 07:31: alerts %+v", rep.Alerts)
	}
}

func TestTrackerClockAndInput(t *testing.T) {
	loc := amsterdam(t)
	clock := &fakeClock{now: at(loc, monday, "08:00")}
	tr, err := NewTracker(DefaultRule(), loc, func(attendance.Date) Day { return Day{Open: 7 * 60, Close: 18 * 60} }, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Set(2, 2); err != nil {
		t.Fatal(err)
	}
	// Two changes at the same instant: the last wins.
	if err := tr.Set(1, 3); err != nil {
		t.Fatal(err)
	}
	// The clock steps back: the change is recorded at the last known time.
	clock.Set(at(loc, monday, "07:00"))
	if err := tr.Set(1, 2); err != nil {
		t.Fatal(err)
	}
	// An unchanged state adds nothing.
	clock.Set(at(loc, monday, "08:10"))
	if err := tr.Set(1, 2); err != nil {
		t.Fatal(err)
	}
	want := []Sample{{At: at(loc, monday, "08:00"), Staff: 1, Required: 2}}
	if diff := cmp.Diff(want, tr.samples); diff != "" {
		t.Errorf("samples (-want +got):\n%s", diff)
	}
	if err := tr.Set(-1, 2); !errors.Is(err, ErrTimeline) {
		t.Errorf("Set(-1, 2) = %v, want ErrTimeline", err)
	}
	if err := tr.Set(1, -2); !errors.Is(err, ErrTimeline) {
		t.Errorf("Set(1, -2) = %v, want ErrTimeline", err)
	}
	rep, err := tr.Report()
	if err != nil || rep.Below != 10*time.Minute {
		t.Errorf("Report = below %v, %v; want 10m", rep.Below, err)
	}
}

func TestNewTrackerErrors(t *testing.T) {
	loc := amsterdam(t)
	cal := func(attendance.Date) Day { return Day{} }
	bad := DefaultRule()
	bad.SchoolDayBudget = -1
	for _, tt := range []struct {
		name string
		rule Rule
		loc  *time.Location
		cal  func(attendance.Date) Day
		now  func() time.Time
	}{
		{"nil loc", DefaultRule(), nil, cal, time.Now},
		{"nil calendar", DefaultRule(), loc, nil, time.Now},
		{"nil clock", DefaultRule(), loc, cal, nil},
		{"bad rule", bad, loc, cal, time.Now},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewTracker(tt.rule, tt.loc, tt.cal, tt.now); err == nil {
				t.Fatal("want an error")
			}
		})
	}
}

// TestTrackerConcurrent exercises Set and Report from several goroutines
// (run with -race).
func TestTrackerConcurrent(t *testing.T) {
	loc := amsterdam(t)
	start := at(loc, monday, "07:00")
	var mu sync.Mutex
	n := 0
	now := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		n++
		return start.Add(time.Duration(n) * time.Second)
	}
	tr, err := NewTracker(DefaultRule(), loc, func(attendance.Date) Day { return Day{Open: 7 * 60, Close: 18 * 60} }, now)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for i := range 200 {
				if err := tr.Set(i%3, 2); err != nil {
					t.Error(err)
				}
				if _, err := tr.Report(); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
}
