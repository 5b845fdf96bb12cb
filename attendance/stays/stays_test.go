package stays

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/calendar"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

var ams = mustLoc("Europe/Amsterdam")

func mustLoc(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// ev builds an event at a local Amsterdam time, stored in UTC as the door does.
func ev(seq int64, typ attendance.EventType, child, local string) attendance.Event {
	t, err := time.ParseInLocation("2006-01-02 15:04", local, ams)
	if err != nil {
		panic(err)
	}
	return attendance.Event{ID: "e" + string(rune('a'+seq)), DeviceID: "door-1", Seq: seq, Type: typ,
		LocationID: "burcht", GroupID: "bso-1", ChildID: child, Wall: t.UTC(), ClockSynced: true}
}

func testOptions() Options {
	children := map[string]Child{
		"c1": {Name: "Noor", GuardianID: "g1"},
		"c2": {Name: "Daan", GuardianID: "g1", Group: "bso-2"},
		"c3": {Name: "Saar", GuardianID: "g2"},
	}
	return Options{
		Calendar: calendar.MustNew(calendar.DefaultConfig()),
		Child:    func(id string) (Child, bool) { c, ok := children[id]; return c, ok },
		Activity: func(child string, d attendance.Date) bool {
			return child == "c3" && d == attendance.MustDate("2026-07-21")
		},
		Now: func() time.Time { return time.Date(2026, 11, 19, 12, 0, 0, 0, ams) },
	}
}

// sampleEvents covers: two stays a day, a missing check-out, a check-out with
// no check-in, a confirmed pickup, an unsynchronised clock, a stay across
// midnight, a DST day, an activity in a vacation, a still-open stay.
func sampleEvents() []attendance.Event {
	in, out := attendance.ChildCheckIn, attendance.ChildCheckOut
	es := []attendance.Event{
		ev(1, in, "c1", "2026-11-16 07:30"), // Monday
		ev(2, out, "c1", "2026-11-16 08:25"),
		ev(3, in, "c1", "2026-11-16 14:00"),
		ev(4, out, "c1", "2026-11-16 15:40"), // 1h40
		ev(5, in, "c2", "2026-11-18 12:00"),  // Wednesday
		ev(6, out, "c2", "2026-11-18 18:05"),
		ev(7, in, "c3", "2026-11-17 07:00"), // forgotten check-out
		ev(8, in, "c3", "2026-11-17 14:00"),
		ev(9, out, "c3", "2026-11-17 17:00"),
		ev(10, out, "c1", "2026-11-17 17:10"), // no check-in
		ev(11, in, "c2", "2026-10-24 20:00"),  // Saturday evening, across midnight into the DST change
		ev(12, out, "c2", "2026-10-25 09:30"),
		ev(13, in, "c3", "2026-07-21 08:00"), // vacation with an activity
		ev(14, out, "c3", "2026-07-21 09:15"),
		ev(15, in, "c1", "2026-11-19 07:45"), // still present "now"
		{Type: attendance.StaffIn, StaffID: "s1", Wall: time.Date(2026, 11, 16, 7, 0, 0, 0, time.UTC)},
	}
	es[3].ConfirmedBy = "s1"
	es[5].ClockSynced = false
	return es
}

func TestBuild(t *testing.T) {
	got, err := Build(sampleEvents(), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	d := attendance.MustDate
	want := []Stay{
		{ChildID: "c3", ChildName: "Saar", Group: "bso-1", Date: d("2026-07-21"), CheckIn: 480, CheckOut: 555, Minutes: 75,
			DayType: calendar.VacationActivity, Location: "burcht", GuardianID: "g2", Quality: QualityOK, Flags: []string{FlagActivity}},
		{ChildID: "c2", ChildName: "Daan", Group: "bso-2", Date: d("2026-10-24"), CheckIn: 1200, CheckOut: 1440, Minutes: 240,
			DayType: calendar.Weekend, Location: "burcht", GuardianID: "g1", Quality: QualityOK, Flags: []string{FlagSplitMidnight}},
		// 00:00-09:30 on the night summer time ends is 10h30 of real time.
		{ChildID: "c2", ChildName: "Daan", Group: "bso-2", Date: d("2026-10-25"), CheckIn: 0, CheckOut: 570, Minutes: 630,
			DayType: calendar.Weekend, Location: "burcht", GuardianID: "g1", Quality: QualityOK, Flags: []string{FlagSplitMidnight}},
		{ChildID: "c1", ChildName: "Noor", Group: "bso-1", Date: d("2026-11-16"), CheckIn: 450, CheckOut: 505, Minutes: 55,
			DayType: calendar.Weekday, Location: "burcht", GuardianID: "g1", Quality: QualityOK},
		{ChildID: "c1", ChildName: "Noor", Group: "bso-1", Date: d("2026-11-16"), CheckIn: 840, CheckOut: 940, Minutes: 100,
			DayType: calendar.Weekday, Location: "burcht", GuardianID: "g1", Quality: QualityOK, Flags: []string{FlagPickupConfirmed}},
		{ChildID: "c1", ChildName: "Noor", Group: "bso-1", Date: d("2026-11-17"), CheckIn: NoTime, CheckOut: 1030,
			DayType: calendar.Weekday, Location: "burcht", GuardianID: "g1", Quality: QualityOK, Flags: []string{FlagMissingCheckIn}},
		{ChildID: "c3", ChildName: "Saar", Group: "bso-1", Date: d("2026-11-17"), CheckIn: 420, CheckOut: NoTime,
			DayType: calendar.Weekday, Location: "burcht", GuardianID: "g2", Quality: QualityOK, Flags: []string{FlagMissingCheckOut}},
		{ChildID: "c3", ChildName: "Saar", Group: "bso-1", Date: d("2026-11-17"), CheckIn: 840, CheckOut: 1020, Minutes: 180,
			DayType: calendar.Weekday, Location: "burcht", GuardianID: "g2", Quality: QualityOK},
		{ChildID: "c2", ChildName: "Daan", Group: "bso-2", Date: d("2026-11-18"), CheckIn: 720, CheckOut: 1085, Minutes: 365,
			DayType: calendar.Wednesday, Location: "burcht", GuardianID: "g1", Quality: QualityUnverified},
		{ChildID: "c1", ChildName: "Noor", Group: "bso-1", Date: d("2026-11-19"), CheckIn: 465, CheckOut: NoTime,
			DayType: calendar.Weekday, Location: "burcht", GuardianID: "g1", Quality: QualityOK, Flags: []string{FlagOpen}},
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(Stay{}, "StayID")); diff != "" {
		t.Errorf("Build (-want +got):\n%s", diff)
	}
}

func TestBuildEdgeCases(t *testing.T) {
	in, out := attendance.ChildCheckIn, attendance.ChildCheckOut
	opt := testOptions()
	opt.Now = nil
	tests := []struct {
		name   string
		events []attendance.Event
		want   []string // "date in-out minutes flags"
	}{
		{"forgotten for days", []attendance.Event{ev(1, in, "c1", "2026-11-16 07:30"), ev(2, out, "c1", "2026-11-18 17:00")},
			[]string{"2026-11-16 07:30- 0 missing_checkout", "2026-11-18 -17:00 0 missing_checkin"}},
		{"clock went backwards", []attendance.Event{ev(1, in, "c1", "2026-11-16 07:30"), ev(2, out, "c1", "2026-11-16 07:00")},
			[]string{"2026-11-16 07:30- 0 missing_checkout"}},
		{"open without Now is missing", []attendance.Event{ev(1, in, "c1", "2026-11-16 07:30")},
			[]string{"2026-11-16 07:30- 0 missing_checkout"}},
		{"spring forward", []attendance.Event{ev(1, in, "c1", "2026-03-29 01:00"), ev(2, out, "c1", "2026-03-29 04:00")},
			[]string{"2026-03-29 01:00-04:00 120 "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Build(tt.events, opt)
			if err != nil {
				t.Fatal(err)
			}
			var short []string
			for _, s := range got {
				short = append(short, s.Date.String()+" "+s.CheckIn.String()+"-"+s.CheckOut.String()+" "+
					strconv.Itoa(s.Minutes)+" "+FlagsString(s.Flags))
			}
			if diff := cmp.Diff(tt.want, short); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if _, err := Build(nil, Options{}); err == nil {
		t.Error("Build without a calendar: no error")
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", name, diff)
	}
}

func TestGoldenExports(t *testing.T) {
	s, err := Build(sampleEvents(), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	var csvOut, jsonOut bytes.Buffer
	if err := WriteCSV(&csvOut, s); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(&jsonOut, s); err != nil {
		t.Fatal(err)
	}
	golden(t, "export.golden.csv", csvOut.Bytes())
	golden(t, "export.golden.json", jsonOut.Bytes())

	// What we write, we read back unchanged.
	back, err := ReadCSV(bytes.NewReader(csvOut.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s, back, cmpopts.IgnoreFields(Stay{}, "StayID")); diff != "" {
		t.Errorf("ReadCSV(WriteCSV(s)) (-want +got):\n%s", diff)
	}
}

func TestReadCSVContractOnly(t *testing.T) {
	// A third party's file: contract columns only, another order, an extra column.
	in := "day_type,minutes,check_out,check_in,date,group,child_name,child_id,remark\n" +
		"weekday,100,15:40,14:00,2026-11-16,bso-1,Noor,c1,hello\n" +
		"weekday,0,,07:00,2026-11-17,bso-1,Saar,c3,\n"
	got, err := ReadCSV(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Stay{
		{ChildID: "c1", ChildName: "Noor", Group: "bso-1", Date: attendance.MustDate("2026-11-16"), CheckIn: 840, CheckOut: 940, Minutes: 100, DayType: calendar.Weekday},
		{ChildID: "c3", ChildName: "Saar", Group: "bso-1", Date: attendance.MustDate("2026-11-17"), CheckIn: 420, CheckOut: NoTime, DayType: calendar.Weekday, Flags: []string{FlagMissingCheckOut}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestReadCSVErrors(t *testing.T) {
	const hdr = "child_id,child_name,group,date,check_in,check_out,minutes,day_type\n"
	tests := []struct {
		name string
		in   string
		want []string // each LineError's text
		is   error
	}{
		{"empty input", "", []string{"line 1: missing column: no header"}, ErrMissingColumn},
		{"missing columns", "child_id,date,check_in,minutes,day_type\n",
			[]string{"line 1, column child_name: missing column", "line 1, column group: missing column", "line 1, column check_out: missing column"}, ErrMissingColumn},
		{"bad time", hdr + "c1,Noor,g,2026-11-16,7:30,08:25,55,weekday\nc1,Noor,g,2026-11-16,14:00,25:10,0,weekday\n",
			[]string{`line 2, column check_in: bad time "7:30": want HH:MM`, `line 3, column check_out: bad time "25:10": want HH:MM`}, ErrBadTime},
		{"bad date", hdr + "c1,Noor,g,2026-02-30,07:30,08:25,55,weekday\n",
			[]string{`line 2, column date: bad date: date "2026-02-30": want YYYY-MM-DD`}, ErrBadDate},
		{"check-out before check-in", hdr + "c1,Noor,g,2026-11-16,08:25,07:30,0,weekday\n",
			[]string{"line 2, column check_out: check-out before check-in: 07:30 is before 08:25"}, ErrCheckOutBeforeCheckIn},
		{"duplicate", hdr + "c1,Noor,g,2026-11-16,07:30,08:25,55,weekday\nc2,Daan,g,2026-11-16,07:30,08:25,55,weekday\nc1,Noor,g,2026-11-16,07:30,08:30,60,weekday\n",
			[]string{"line 4: duplicate stay: child c1 checked in on 2026-11-16 at 07:30 already on line 2"}, ErrDuplicate},
		{"overlap", hdr + "c1,Noor,g,2026-11-16,07:30,09:00,90,weekday\nc1,Noor,g,2026-11-16,08:30,10:00,90,weekday\n",
			[]string{"line 3, column check_in: overlapping stays: child c1 on 2026-11-16 overlaps line 2"}, ErrOverlap},
		{"bad minutes", hdr + "c1,Noor,g,2026-11-16,07:30,08:25,5x,weekday\nc1,Noor,g,2026-11-17,07:30,08:25,50,weekday\nc1,Noor,g,2026-11-18,07:30,,5,weekday\n",
			[]string{`line 2, column minutes: bad minutes "5x": want a whole number 0-1500`,
				"line 3, column minutes: bad minutes: 50, but 07:30-08:25 on 2026-11-17 is 55 minutes",
				"line 4, column minutes: bad minutes: 5 for a stay without both times, want 0"}, ErrBadMinutes},
		{"bad day type and quality", "child_id,child_name,group,date,check_in,check_out,minutes,day_type,time_quality\n" +
			"c1,Noor,g,2026-11-16,07:30,08:25,55,holiday,ok\nc1,Noor,g,2026-11-17,07:30,08:25,55,weekday,good\n",
			[]string{`line 2, column day_type: bad day type: unknown day type "holiday" (want one of weekday, wednesday, school_free, vacation, vacation_activity, weekend, public_holiday)`,
				`line 3, column time_quality: bad time quality "good": want ok, corrected or unverified`}, ErrBadDayType},
		{"empty child and both times", hdr + ",Noor,g,2026-11-16,,,0,weekday\n",
			[]string{"line 2, column child_id: empty value", "line 2, column check_in: empty value: check_in and check_out both empty"}, ErrEmpty},
		{"24:00 check-in", hdr + "c1,Noor,g,2026-11-16,24:00,24:00,0,weekday\n",
			[]string{`line 2, column check_in: bad time "24:00": 24:00 only ends a day`}, ErrBadTime},
		{"csv quote", hdr + "c1,\"No\"or,g,2026-11-16,07:30,08:25,55,weekday\n",
			[]string{`line 2: csv syntax: parse error on line 2, column 7: extraneous or missing " in quoted-field`}, ErrSyntax},
		{"all errors, nothing half read", hdr + "c1,Noor,g,2026-11-16,07:30,08:25,55,weekday\nc1,Noor,g,2026-11-17,x,08:25,55,weekday\n",
			[]string{`line 3, column check_in: bad time "x": want HH:MM`}, ErrBadTime},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadCSV(strings.NewReader(tt.in))
			if got != nil {
				t.Errorf("ReadCSV returned %d stays with an error", len(got))
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v, want a *ParseError", err)
			}
			var msgs []string
			for _, le := range pe.Errs {
				msgs = append(msgs, le.Error())
			}
			if diff := cmp.Diff(tt.want, msgs); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
			if !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(err, %v) = false", tt.is)
			}
		})
	}
}

func TestReadCSVDSTMinutes(t *testing.T) {
	const hdr = "child_id,child_name,group,date,check_in,check_out,minutes,day_type\n"
	if _, err := ReadCSV(strings.NewReader(hdr + "c1,N,g,2026-10-25,00:00,09:30,630,weekend\n")); err != nil {
		t.Errorf("DST day with 60 extra minutes rejected: %v", err)
	}
	if _, err := ReadCSV(strings.NewReader(hdr + "c1,N,g,2026-10-18,00:00,09:30,630,weekend\n")); !errors.Is(err, ErrBadMinutes) {
		t.Errorf("ordinary Sunday with 60 extra minutes: %v, want ErrBadMinutes", err)
	}
}

func FuzzReadCSV(f *testing.F) {
	seed, err := os.ReadFile(filepath.Join("testdata", "export.golden.csv"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(seed))
	f.Add("child_id,child_name,group,date,check_in,check_out,minutes,day_type\nc1,N,g,2026-11-16,07:30,08:25,55,weekday\n")
	f.Add("child_id,child_name,group,date,check_in,check_out,minutes,day_type\nc1,\"N\"\"x\",g,2026-11-16,,08:25,0,weekday\n")
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ReadCSV(strings.NewReader(in))
		if err != nil {
			if s != nil {
				t.Fatal("stays returned with an error")
			}
			var pe *ParseError
			if !errors.As(err, &pe) || len(pe.Errs) == 0 {
				t.Fatalf("error %v is not a non-empty *ParseError", err)
			}
			for _, le := range pe.Errs {
				if le.Line < 1 {
					t.Fatalf("error without a line: %v", le)
				}
			}
			return
		}
		// Whatever is accepted must survive a round trip.
		var buf bytes.Buffer
		if err := WriteCSV(&buf, s); err != nil {
			t.Fatal(err)
		}
		back, err := ReadCSV(&buf)
		if err != nil {
			t.Fatalf("re-reading our own output: %v\n%s", err, buf.String())
		}
		if len(back) != len(s) {
			t.Fatalf("round trip: %d stays, want %d", len(back), len(s))
		}
	})
}

func TestFilter(t *testing.T) {
	s, err := Build(sampleEvents(), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	d := attendance.MustDate
	for _, tt := range []struct {
		name string
		f    Filter
		want int
	}{
		{"all", Filter{}, len(s)},
		{"november 16-17", Filter{From: d("2026-11-16"), To: d("2026-11-17")}, 5},
		{"one day", Filter{From: d("2026-11-18"), To: d("2026-11-18")}, 1},
		{"group", Filter{Group: "bso-2"}, 3},
		{"child", Filter{ChildID: "c3"}, 3},
		{"location", Filter{Location: "elsewhere"}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := len(tt.f.Apply(s)); got != tt.want {
				t.Errorf("%d stays, want %d", got, tt.want)
			}
		})
	}
}
