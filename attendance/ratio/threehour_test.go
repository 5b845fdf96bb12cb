package ratio

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/kinderdeur/kiosk/attendance"
)

func amsterdam(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		t.Fatalf("load Europe/Amsterdam (tzdata missing?): %v", err)
	}
	return loc
}

// Days used below (2026): a plain Monday, and the two DST change Sundays.
var (
	monday     = attendance.MustDate("2026-11-23")
	springSun  = attendance.MustDate("2026-03-29") // 02:00 CET -> 03:00 CEST: 23 h
	autumnSun  = attendance.MustDate("2026-10-25") // 03:00 CEST -> 02:00 CET: 25 h
	nextMonday = attendance.MustDate("2026-11-24")
)

// at returns the wall time hh:mm on d in loc (for unambiguous times).
func at(loc *time.Location, d attendance.Date, hhmm string) time.Time {
	c, err := ParseClock(hhmm)
	if err != nil {
		panic(err)
	}
	return time.Date(d.Year, d.Month, d.Day, int(c)/60, int(c)%60, 0, 0, loc)
}

func utc(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

func mustWindows(t testing.TB, s string) Windows {
	t.Helper()
	w, err := ParseWindows(s)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// alertLine renders an alert compactly, with zone names so that the two
// 02:30s of an autumn DST day differ.
func alertLine(loc *time.Location, a Alert) string {
	s := fmt.Sprintf("%s %s-%s %d/%d", a.Kind, a.From.In(loc).Format("15:04 MST"), a.To.In(loc).Format("15:04 MST"), a.Staff, a.Required)
	if a.Ongoing {
		s += " ongoing"
	}
	return s
}

type dayWant struct {
	Below, InWindow, Budget, OpenFor time.Duration
	Qualifies                        bool
	Alerts                           []string
}

func TestEvaluateDay(t *testing.T) {
	loc := amsterdam(t)
	rule := DefaultRule()
	rule.Windows = mustWindows(t, "mon-fri=07:00-08:30,17:00-18:30; sun=01:00-04:00")
	bso := DefaultRule()
	bso.Windows = mustWindows(t, "mon-fri=07:30-08:30,14:30-18:30")
	bso.VacationWindows = mustWindows(t, "mon-fri=08:00-10:00,16:00-18:00")
	roundDown := rule
	roundDown.Half = RoundDown
	open := func(d attendance.Date, k DayKind) Day { return Day{Date: d, Kind: k, Open: 7 * 60, Close: 18 * 60} }
	m := func(hhmm string, staff, req int) Sample {
		return Sample{At: at(loc, monday, hhmm), Staff: staff, Required: req}
	}
	endOf := func(d attendance.Date) time.Time { return nextDay(d).In(loc) }

	for _, tt := range []struct {
		name     string
		rule     Rule
		day      Day
		timeline []Sample
		until    time.Time
		want     dayWant
	}{
		{
			name: "at ratio all day", rule: rule, day: open(monday, DayCare),
			timeline: []Sample{m("07:00", 2, 2), m("18:00", 0, 0)}, until: endOf(monday),
			want: dayWant{Budget: 3 * time.Hour, OpenFor: 11 * time.Hour, Qualifies: true},
		},
		{
			name: "no timeline", rule: rule, day: open(monday, DayCare), until: endOf(monday),
			want: dayWant{Budget: 3 * time.Hour, OpenFor: 11 * time.Hour, Qualifies: true},
		},
		{
			name: "deviation inside a window", rule: rule, day: open(monday, DayCare),
			timeline: []Sample{m("07:00", 2, 2), m("07:30", 1, 2), m("08:00", 2, 2)}, until: endOf(monday),
			want: dayWant{Below: 30 * time.Minute, InWindow: 30 * time.Minute, Budget: 3 * time.Hour, OpenFor: 11 * time.Hour, Qualifies: true},
		},
		{
			name: "deviation running past a window", rule: rule, day: open(monday, DayCare),
			timeline: []Sample{m("08:00", 1, 2), m("09:00", 2, 2)}, until: endOf(monday),
			want: dayWant{Below: time.Hour, InWindow: 30 * time.Minute, Budget: 3 * time.Hour, OpenFor: 11 * time.Hour, Qualifies: true,
				Alerts: []string{"outside_window 08:30 CET-09:00 CET 1/2"}},
		},
		{
			name: "exactly the budget", rule: rule, day: open(monday, DayCare),
			timeline: []Sample{m("07:00", 1, 2), m("08:30", 2, 2), m("17:00", 2, 3), m("18:30", 2, 2)}, until: endOf(monday),
			want: dayWant{Below: 3 * time.Hour, InWindow: 3 * time.Hour, Budget: 3 * time.Hour, OpenFor: 11 * time.Hour, Qualifies: true},
		},
		{
			name: "one minute over the budget", rule: rule, day: open(monday, DayCare),
			timeline: []Sample{m("07:00", 1, 2), m("08:30", 2, 2), m("17:00", 2, 3), m("18:31", 2, 2)}, until: endOf(monday),
			want: dayWant{Below: 3*time.Hour + time.Minute, InWindow: 3 * time.Hour, Budget: 3 * time.Hour, OpenFor: 11 * time.Hour, Qualifies: true,
				Alerts: []string{"outside_window 18:30 CET-18:31 CET 2/3", "over_budget 18:30 CET-18:31 CET 2/3"}},
		},
		{
			name: "below half, rounded up", rule: rule, day: open(monday, DayCare),
			timeline: []Sample{m("07:00", 1, 3), m("07:10", 2, 3), m("07:20", 3, 3)}, until: endOf(monday),
			want: dayWant{Below: 20 * time.Minute, InWindow: 20 * time.Minute, Budget: 3 * time.Hour, OpenFor: 11 * time.Hour, Qualifies: true,
				Alerts: []string{"below_floor 07:00 CET-07:10 CET 1/3"}},
		},
		{
			name: "below half, rounded down", rule: roundDown, day: open(monday, DayCare),
			timeline: []Sample{m("07:00", 1, 3), m("07:10", 2, 3), m("07:20", 3, 3), m("08:00", 0, 1), m("08:05", 1, 1)}, until: endOf(monday),
			want: dayWant{Below: 25 * time.Minute, InWindow: 25 * time.Minute, Budget: 3 * time.Hour, OpenFor: 11 * time.Hour, Qualifies: true,
				Alerts: []string{"below_floor 08:00 CET-08:05 CET 0/1"}},
		},
		{
			name: "open less than 10 hours", rule: rule, day: Day{Date: monday, Kind: DayCare, Open: 8 * 60, Close: 17*60 + 59},
			timeline: []Sample{m("08:00", 1, 2), m("08:10", 2, 2)}, until: endOf(monday),
			want: dayWant{Below: 10 * time.Minute, InWindow: 10 * time.Minute, Budget: 3 * time.Hour, OpenFor: 9*time.Hour + 59*time.Minute,
				Alerts: []string{"short_opening 08:00 CET-08:10 CET 1/2"}},
		},
		{
			name: "closed day", rule: rule, day: Day{Date: monday, Kind: DayCare},
			timeline: []Sample{m("10:00", 0, 1), m("10:01", 0, 0)}, until: endOf(monday),
			want: dayWant{Below: time.Minute, Budget: 3 * time.Hour,
				Alerts: []string{"below_floor 10:00 CET-10:01 CET 0/1", "outside_window 10:00 CET-10:01 CET 0/1", "short_opening 10:00 CET-10:01 CET 0/1"}},
		},
		{
			name: "state carried over midnight", rule: rule, day: open(monday, DayCare),
			timeline: []Sample{{At: at(loc, monday, "00:00").Add(-4 * time.Hour), Staff: 0, Required: 1}, m("07:00", 1, 1)}, until: endOf(monday),
			want: dayWant{Below: 7 * time.Hour, Budget: 3 * time.Hour, OpenFor: 11 * time.Hour, Qualifies: true,
				Alerts: []string{
					"below_floor 00:00 CET-07:00 CET 0/1",
					"outside_window 00:00 CET-07:00 CET 0/1",
					"over_budget 03:00 CET-07:00 CET 0/1",
				}},
		},
		{
			name: "state runs into the next day", rule: rule, day: open(monday, DayCare),
			timeline: []Sample{m("23:00", 1, 2)}, until: at(loc, nextMonday, "03:00"),
			want: dayWant{Below: time.Hour, Budget: 3 * time.Hour, OpenFor: 11 * time.Hour, Qualifies: true,
				Alerts: []string{"outside_window 23:00 CET-00:00 CET 1/2"}},
		},
		{
			name: "day in progress: ongoing", rule: rule, day: open(monday, DayCare),
			timeline: []Sample{m("08:00", 1, 2)}, until: at(loc, monday, "08:45"),
			want: dayWant{Below: 45 * time.Minute, InWindow: 30 * time.Minute, Budget: 3 * time.Hour, OpenFor: 11 * time.Hour, Qualifies: true,
				Alerts: []string{"outside_window 08:30 CET-08:45 CET 1/2 ongoing"}},
		},
		{
			name: "day in progress: ended alert not ongoing", rule: rule, day: open(monday, DayCare),
			timeline: []Sample{m("08:00", 1, 2), m("08:40", 2, 2)}, until: at(loc, monday, "08:45"),
			want: dayWant{Below: 40 * time.Minute, InWindow: 30 * time.Minute, Budget: 3 * time.Hour, OpenFor: 11 * time.Hour, Qualifies: true,
				Alerts: []string{"outside_window 08:30 CET-08:40 CET 1/2"}},
		},
		{
			name: "day in progress: ended just now", rule: rule, day: open(monday, DayCare),
			timeline: []Sample{m("08:00", 1, 2), m("08:45", 2, 2)}, until: at(loc, monday, "08:45"),
			want: dayWant{Below: 45 * time.Minute, InWindow: 30 * time.Minute, Budget: 3 * time.Hour, OpenFor: 11 * time.Hour, Qualifies: true,
				Alerts: []string{"outside_window 08:30 CET-08:45 CET 1/2"}},
		},
		{
			name: "day in progress: later samples ignored", rule: rule, day: open(monday, DayCare),
			timeline: []Sample{m("08:00", 1, 2), m("09:00", 2, 2), m("10:00", 1, 2)}, until: at(loc, monday, "08:45"),
			want: dayWant{Below: 45 * time.Minute, InWindow: 30 * time.Minute, Budget: 3 * time.Hour, OpenFor: 11 * time.Hour, Qualifies: true,
				Alerts: []string{"outside_window 08:30 CET-08:45 CET 1/2 ongoing"}},
		},
		{
			name: "day in progress: ok now, later sample below", rule: rule, day: open(monday, DayCare),
			timeline: []Sample{m("08:00", 1, 2), m("08:40", 2, 2), m("10:00", 1, 2)}, until: at(loc, monday, "08:45"),
			want: dayWant{Below: 40 * time.Minute, InWindow: 30 * time.Minute, Budget: 3 * time.Hour, OpenFor: 11 * time.Hour, Qualifies: true,
				Alerts: []string{"outside_window 08:30 CET-08:40 CET 1/2"}},
		},
		{
			name: "until before the day", rule: rule, day: open(monday, DayCare),
			timeline: []Sample{m("08:00", 1, 2)}, until: at(loc, monday, "00:00").Add(-time.Hour),
			want: dayWant{Budget: 3 * time.Hour, OpenFor: 11 * time.Hour, Qualifies: true},
		},
		{
			name: "BSO school day: 30 minutes", rule: bso, day: Day{Date: monday, Kind: BSOSchoolDay, Open: 14*60 + 30, Close: 18*60 + 30},
			timeline: []Sample{m("15:00", 1, 2), m("15:45", 2, 2)}, until: endOf(monday),
			want: dayWant{Below: 45 * time.Minute, InWindow: 45 * time.Minute, Budget: 30 * time.Minute, OpenFor: 4 * time.Hour, Qualifies: true,
				Alerts: []string{"over_budget 15:30 CET-15:45 CET 1/2"}},
		},
		{
			name: "BSO school day: morning and afternoon add up", rule: bso, day: Day{Date: monday, Kind: BSOSchoolDay, Open: 7*60 + 30, Close: 18*60 + 30},
			timeline: []Sample{m("07:30", 1, 2), m("07:50", 2, 2), m("17:00", 1, 2), m("17:20", 2, 2)}, until: endOf(monday),
			want: dayWant{Below: 40 * time.Minute, InWindow: 40 * time.Minute, Budget: 30 * time.Minute, OpenFor: 11 * time.Hour, Qualifies: true,
				Alerts: []string{"over_budget 17:10 CET-17:20 CET 1/2"}},
		},
		{
			name: "BSO vacation day: 3 hours, vacation windows", rule: bso, day: Day{Date: monday, Kind: BSOVacationDay, Open: 8 * 60, Close: 18 * 60},
			timeline: []Sample{m("08:00", 1, 2), m("10:00", 2, 2), m("16:00", 2, 3), m("17:00", 3, 3)}, until: endOf(monday),
			want: dayWant{Below: 3 * time.Hour, InWindow: 3 * time.Hour, Budget: 3 * time.Hour, OpenFor: 10 * time.Hour, Qualifies: true},
		},
		{
			name: "BSO same timeline on a school day", rule: bso, day: Day{Date: monday, Kind: BSOSchoolDay, Open: 8 * 60, Close: 18 * 60},
			timeline: []Sample{m("08:00", 1, 2), m("10:00", 2, 2), m("16:00", 2, 3), m("17:00", 3, 3)}, until: endOf(monday),
			want: dayWant{Below: 3 * time.Hour, InWindow: 90 * time.Minute, Budget: 30 * time.Minute, OpenFor: 10 * time.Hour, Qualifies: true,
				Alerts: []string{
					"outside_window 08:30 CET-10:00 CET 1/2",
					"over_budget 08:30 CET-10:00 CET 1/2",
					"over_budget 16:00 CET-17:00 CET 2/3",
				}},
		},
		{
			name: "BSO vacation day shorter than 10 hours", rule: bso, day: Day{Date: monday, Kind: BSOVacationDay, Open: 8 * 60, Close: 17 * 60},
			timeline: []Sample{m("08:00", 1, 2), m("08:30", 2, 2)}, until: endOf(monday),
			want: dayWant{Below: 30 * time.Minute, InWindow: 30 * time.Minute, Budget: 3 * time.Hour, OpenFor: 9 * time.Hour,
				Alerts: []string{"short_opening 08:00 CET-08:30 CET 1/2"}},
		},
		{
			// 00:30 CET to 04:30 CEST is 3 real hours; the window
			// 01:00-04:00 is 2 real hours on this day.
			name: "spring DST day", rule: rule, day: Day{Date: springSun, Kind: DayCare, Open: 0, Close: 24 * 60},
			timeline: []Sample{{At: at(loc, springSun, "00:30"), Staff: 1, Required: 2}, {At: at(loc, springSun, "04:30"), Staff: 2, Required: 2}},
			until:    endOf(springSun),
			want: dayWant{Below: 3 * time.Hour, InWindow: 2 * time.Hour, Budget: 3 * time.Hour, OpenFor: 23 * time.Hour, Qualifies: true,
				Alerts: []string{"outside_window 00:30 CET-01:00 CET 1/2", "outside_window 04:00 CEST-04:30 CEST 1/2"}},
		},
		{
			// 00:30 CEST to 04:30 CET is 5 real hours; the window is 4.
			name: "autumn DST day", rule: rule, day: Day{Date: autumnSun, Kind: DayCare, Open: 0, Close: 24 * 60},
			timeline: []Sample{{At: at(loc, autumnSun, "00:30"), Staff: 1, Required: 2}, {At: at(loc, autumnSun, "04:30"), Staff: 2, Required: 2}},
			until:    endOf(autumnSun),
			want: dayWant{Below: 5 * time.Hour, InWindow: 4 * time.Hour, Budget: 3 * time.Hour, OpenFor: 25 * time.Hour, Qualifies: true,
				Alerts: []string{
					"outside_window 00:30 CEST-01:00 CEST 1/2",
					"over_budget 02:30 CET-04:30 CET 1/2",
					"outside_window 04:00 CET-04:30 CET 1/2",
				}},
		},
		{
			name: "autumn DST day: whole day below ratio is 25 hours", rule: rule, day: Day{Date: autumnSun, Kind: DayCare, Open: 7 * 60, Close: 17 * 60},
			timeline: []Sample{{At: utc("2026-10-20 00:00"), Staff: 1, Required: 1}, {At: utc("2026-10-24 12:00"), Staff: 1, Required: 2}},
			until:    endOf(autumnSun).Add(time.Hour),
			want: dayWant{Below: 25 * time.Hour, InWindow: 4 * time.Hour, Budget: 3 * time.Hour, OpenFor: 10 * time.Hour, Qualifies: true,
				Alerts: []string{
					"outside_window 00:00 CEST-01:00 CEST 1/2",
					"over_budget 02:00 CET-00:00 CET 1/2",
					"outside_window 04:00 CET-00:00 CET 1/2",
				}},
		},
		{
			name: "spring DST day: whole day below ratio is 23 hours", rule: rule, day: Day{Date: springSun, Kind: DayCare, Open: 7 * 60, Close: 17 * 60},
			timeline: []Sample{{At: utc("2026-03-28 12:00"), Staff: 1, Required: 2}},
			until:    endOf(springSun),
			want: dayWant{Below: 23 * time.Hour, InWindow: 2 * time.Hour, Budget: 3 * time.Hour, OpenFor: 10 * time.Hour, Qualifies: true,
				Alerts: []string{
					"outside_window 00:00 CET-01:00 CET 1/2",
					"outside_window 04:00 CEST-00:00 CEST 1/2",
					"over_budget 04:00 CEST-00:00 CEST 1/2",
				}},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := EvaluateDay(tt.rule, loc, tt.day, tt.timeline, tt.until)
			if err != nil {
				t.Fatal(err)
			}
			got := dayWant{Below: rep.Below, InWindow: rep.InWindow, Budget: rep.Budget, OpenFor: rep.OpenFor, Qualifies: rep.Qualifies}
			for _, a := range rep.Alerts {
				got.Alerts = append(got.Alerts, alertLine(loc, a))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("report (-want +got):\n%s", diff)
			}
			if rep.Date != tt.day.Date || rep.Kind != tt.day.Kind {
				t.Errorf("report for %v %v, want %v %v", rep.Date, rep.Kind, tt.day.Date, tt.day.Kind)
			}
		})
	}
}

func TestDayReportHelpers(t *testing.T) {
	rep := DayReport{Budget: 3 * time.Hour, Qualifies: true, Below: 90*time.Minute + time.Second,
		Alerts: []Alert{{Kind: AlertBelowFloor}, {Kind: AlertOutsideWindow, Ongoing: true}}}
	if got := rep.BelowMinutes(); got != 91 {
		t.Errorf("BelowMinutes = %d, want 91", got)
	}
	if got := rep.Remaining(); got != 89*time.Minute+59*time.Second {
		t.Errorf("Remaining = %v", got)
	}
	if diff := cmp.Diff([]Alert{{Kind: AlertOutsideWindow, Ongoing: true}}, rep.Ongoing()); diff != "" {
		t.Errorf("Ongoing (-want +got):\n%s", diff)
	}
	rep.Qualifies = false
	if got := rep.Remaining(); got != 0 {
		t.Errorf("Remaining on a short day = %v", got)
	}
	rep.Qualifies, rep.Below = true, 4*time.Hour
	if got := rep.Remaining(); got != 0 {
		t.Errorf("Remaining over budget = %v", got)
	}
}

func TestAlertMessage(t *testing.T) {
	loc := amsterdam(t)
	rule := DefaultRule()
	rep, err := EvaluateDay(rule, loc, Day{Date: monday, Open: 7 * 60, Close: 18 * 60},
		[]Sample{{At: at(loc, monday, "09:00"), Staff: 1, Required: 3}, {At: at(loc, monday, "12:10"), Staff: 3, Required: 3}}, nextDay(monday).In(loc))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range rep.Alerts {
		got = append(got, a.Message())
	}
	want := []string{
		"1 staff, fewer than half of the 3 required",
		"below ratio (1 staff, 3 required) outside the plan's windows",
		"below ratio (1 staff, 3 required) beyond the day's budget",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}
}

func TestWallSpans(t *testing.T) {
	loc := amsterdam(t)
	for _, tt := range []struct {
		name     string
		date     attendance.Date
		from, to string
		want     []string
	}{
		{"plain", monday, "07:00", "08:30", []string{"06:00-07:30"}},
		{"whole day", monday, "00:00", "24:00", []string{"23:00-23:00"}},
		{"spring gap is empty", springSun, "02:00", "03:00", nil},
		{"spring across the gap", springSun, "01:30", "03:30", []string{"00:30-01:30"}},
		{"spring whole day", springSun, "00:00", "24:00", []string{"23:00-22:00"}},
		{"autumn whole day", autumnSun, "00:00", "24:00", []string{"22:00-23:00"}},
		{"spring inside the gap to after", springSun, "02:30", "04:00", []string{"01:00-02:00"}},
		{"autumn repeated hour", autumnSun, "02:00", "03:00", []string{"00:00-02:00"}},
		{"autumn half of the repeated hour", autumnSun, "02:30", "03:00", []string{"00:30-01:00", "01:30-02:00"}},
		{"autumn across", autumnSun, "01:00", "04:00", []string{"23:00-03:00"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, _ := ParseClock(tt.from)
			to, _ := ParseClock(tt.to)
			var got []string
			for _, sp := range wallSpans(tt.date, loc, f, to) {
				got = append(got, sp.from.UTC().Format("15:04")+"-"+sp.to.UTC().Format("15:04"))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("spans in UTC (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEvaluateDayErrors(t *testing.T) {
	loc := amsterdam(t)
	day := Day{Date: monday, Open: 7 * 60, Close: 18 * 60}
	t0 := at(loc, monday, "08:00")
	bad := DefaultRule()
	bad.Windows = Windows{time.Monday: {{From: 9 * 60, To: 10 * 60}, {From: 7 * 60, To: 8 * 60}}}
	overlap := DefaultRule()
	overlap.Windows = Windows{time.Monday: {{From: 7 * 60, To: 9 * 60}, {From: 8 * 60, To: 10 * 60}}}
	negative := DefaultRule()
	negative.Budget = -time.Minute
	rounding := DefaultRule()
	rounding.Half = 7
	for _, tt := range []struct {
		name     string
		rule     Rule
		loc      *time.Location
		timeline []Sample
		want     error
	}{
		{"out of order", DefaultRule(), loc, []Sample{{At: t0, Staff: 1, Required: 1}, {At: t0.Add(-time.Second)}}, ErrTimeline},
		{"negative staff", DefaultRule(), loc, []Sample{{At: t0, Staff: -1, Required: 1}}, ErrTimeline},
		{"negative required", DefaultRule(), loc, []Sample{{At: t0, Staff: 1, Required: -1}}, ErrTimeline},
		{"unsorted windows", bad, loc, nil, ErrInvalidRule},
		{"overlapping windows", overlap, loc, nil, ErrInvalidRule},
		{"negative budget", negative, loc, nil, ErrInvalidRule},
		{"bad rounding", rounding, loc, nil, ErrInvalidRule},
		{"nil location", DefaultRule(), nil, nil, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := EvaluateDay(tt.rule, tt.loc, day, tt.timeline, t0.Add(time.Hour))
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestParseWindows(t *testing.T) {
	w := func(from, to string) Window {
		f, _ := ParseClock(from)
		t, _ := ParseClock(to)
		return Window{f, t}
	}
	for _, tt := range []struct {
		in   string
		want Windows
		err  bool
	}{
		{in: "", want: Windows{}},
		{in: " ; ", want: Windows{}},
		{in: "mon=07:00-08:30", want: Windows{time.Monday: {w("07:00", "08:30")}}},
		{in: "mon-wed=17:00-18:30, 07:00-08:30 ; Fri=12:00-24:00", want: Windows{
			time.Monday:    {w("07:00", "08:30"), w("17:00", "18:30")},
			time.Tuesday:   {w("07:00", "08:30"), w("17:00", "18:30")},
			time.Wednesday: {w("07:00", "08:30"), w("17:00", "18:30")},
			time.Friday:    {w("12:00", "24:00")},
		}},
		{in: "sun-sat=00:00-00:01", want: Windows{
			time.Sunday: {w("00:00", "00:01")}, time.Monday: {w("00:00", "00:01")}, time.Tuesday: {w("00:00", "00:01")},
			time.Wednesday: {w("00:00", "00:01")}, time.Thursday: {w("00:00", "00:01")}, time.Friday: {w("00:00", "00:01")},
			time.Saturday: {w("00:00", "00:01")},
		}},
		{in: "mon", err: true},
		{in: "mon=", err: true},
		{in: "xyz=07:00-08:00", err: true},
		{in: "fri-mon=07:00-08:00", err: true},
		{in: "mon=07:00-08:00; mon=09:00-10:00", err: true},
		{in: "mon-fri=07:00-08:00; wed=09:00-10:00", err: true},
		{in: "mon=08:00-07:00", err: true},
		{in: "mon=08:00-08:00", err: true},
		{in: "mon=07:00-09:00,08:00-10:00", err: true},
		{in: "mon=7:00-08:00", err: true},
		{in: "mon=07:00-24:01", err: true},
		{in: "mon=07:60-08:00", err: true},
		{in: "mon=07:00", err: true},
		{in: "mon=+7:00-08:00", err: true},
	} {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseWindows(tt.in)
			if tt.err {
				if err == nil {
					t.Fatalf("ParseWindows(%q) = %v, want an error", tt.in, got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("windows (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseClock(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Clock
		err  bool
	}{
		{in: "00:00", want: 0},
		{in: "07:30", want: 450},
		{in: "23:59", want: 1439},
		{in: "24:00", want: 1440},
		{in: "24:01", err: true},
		{in: "25:00", err: true},
		{in: "12:60", err: true},
		{in: "1230", err: true},
		{in: "-1:00", err: true},
		{in: "+1:00", err: true},
		{in: "", err: true},
	} {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseClock(tt.in)
			if (err != nil) != tt.err || got != tt.want {
				t.Fatalf("ParseClock(%q) = %v, %v", tt.in, got, err)
			}
			if err == nil && got.String() != tt.in {
				t.Errorf("String() = %q, want %q", got.String(), tt.in)
			}
		})
	}
}

func TestStrings(t *testing.T) {
	got := []string{DayCare.String(), BSOSchoolDay.String(), BSOVacationDay.String(), DayKind(9).String()}
	for _, k := range []AlertKind{AlertOutsideWindow, AlertOverBudget, AlertBelowFloor, AlertShortOpening, "other"} {
		got = append(got, Alert{Kind: k, Staff: 1, Required: 3}.Message())
	}
	want := []string{
		"daycare", "bso_school_day", "bso_vacation_day", "DayKind(9)",
		"below ratio (1 staff, 3 required) outside the plan's windows",
		"below ratio (1 staff, 3 required) beyond the day's budget",
		"1 staff, fewer than half of the 3 required",
		"below ratio (1 staff, 3 required) on a day not open long enough to deviate",
		"other (1 staff, 3 required)",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("strings (-want +got):\n%s", diff)
	}
}
