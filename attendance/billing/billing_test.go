package billing

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/calendar"
	"github.com/kinderdeur/kiosk/attendance/stays"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// st is a complete stay "HH:MM-HH:MM" on date with a day type.
func st(child, date, span string, dt calendar.DayType) stays.Stay {
	a, b, _ := strings.Cut(span, "-")
	in, err := stays.ParseClock(a)
	if err != nil {
		panic(err)
	}
	out, err := stays.ParseClock(b)
	if err != nil {
		panic(err)
	}
	return stays.Stay{ChildID: child, Date: attendance.MustDate(date), CheckIn: in, CheckOut: out,
		Minutes: int(out - in), DayType: dt, Quality: stays.QualityOK}
}

func engine(t *testing.T, name string, contracts map[string]Contract) *Engine {
	t.Helper()
	p, err := Lookup(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(p, contracts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// brief is the part of a line the tariff tables check.
type brief struct {
	Date    string
	Minutes int
	Billed  int
	Cents   int64
	Rule    string
}

func briefs(lines []Line) []brief {
	var out []brief
	for _, l := range lines {
		out = append(out, brief{l.Date.String(), l.Minutes, l.BilledMinutes, l.AmountCents, l.Rule})
	}
	return out
}

func TestDeBurcht(t *testing.T) {
	wd := calendar.Weekday
	tests := []struct {
		name      string
		stays     []stays.Stay
		contracts map[string]Contract
		want      []brief
	}{
		{"1h40 is 1.75 h", []stays.Stay{st("c1", "2026-11-16", "14:00-15:40", wd)}, nil,
			[]brief{{"2026-11-16", 100, 105, 1400, "deburcht/quarter-hour"}}},
		{"1h50 is 2 h", []stays.Stay{st("c1", "2026-11-16", "14:00-15:50", wd)}, nil,
			[]brief{{"2026-11-16", 110, 120, 1600, "deburcht/quarter-hour"}}},
		{"exact quarter stays", []stays.Stay{st("c1", "2026-11-16", "14:00-14:45", wd)}, nil,
			[]brief{{"2026-11-16", 45, 45, 600, "deburcht/quarter-hour"}}},
		{"one minute is a quarter", []stays.Stay{st("c1", "2026-11-16", "14:00-14:01", wd)}, nil,
			[]brief{{"2026-11-16", 1, 15, 200, "deburcht/quarter-hour"}}},
		{"each stay rounds on its own", []stays.Stay{st("c1", "2026-11-16", "07:00-07:50", wd), st("c1", "2026-11-16", "14:00-14:20", wd)}, nil,
			[]brief{{"2026-11-16", 70, 90, 1200, "deburcht/quarter-hour"}}},
		{"contract rate with half-cent rounding up", []stays.Stay{st("c1", "2026-11-16", "14:00-15:40", wd)},
			map[string]Contract{"c1": {ChildID: "c1", RateCentsPerHour: 750}},
			[]brief{{"2026-11-16", 100, 105, 1313, "deburcht/quarter-hour"}}}, // 105*750/60 = 1312.5
		{"weekend has no surcharge", []stays.Stay{st("c1", "2026-11-21", "09:00-10:40", calendar.Weekend)}, nil,
			[]brief{{"2026-11-21", 100, 105, 1400, "deburcht/quarter-hour"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := briefs(engine(t, "deburcht", tt.contracts).Bill(tt.stays))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestAnzegem(t *testing.T) {
	wd, wed, vac, act, sf := calendar.Weekday, calendar.Wednesday, calendar.Vacation, calendar.VacationActivity, calendar.SchoolFree
	tests := []struct {
		name  string
		stays []stays.Stay
		want  []brief
	}{
		{"before school, started half hours", []stays.Stay{st("c1", "2026-11-16", "07:00-07:31", wd)},
			[]brief{{"2026-11-16", 31, 60, 250, "anzegem-bko/half-hour"}}},
		{"before and after school: each stay its own half hours", []stays.Stay{st("c1", "2026-11-16", "07:00-07:40", wd), st("c1", "2026-11-16", "15:30-16:20", wd)},
			[]brief{{"2026-11-16", 90, 120, 500, "anzegem-bko/half-hour"}}},
		{"weekday never forfait even when long", []stays.Stay{st("c1", "2026-11-16", "07:00-18:00", wd)},
			[]brief{{"2026-11-16", 660, 660, 2750, "anzegem-bko/half-hour"}}},
		{"vacation 2:59 forfait-1", []stays.Stay{st("c1", "2026-07-06", "09:00-11:59", vac)},
			[]brief{{"2026-07-06", 179, 179, 435, "anzegem-bko/forfait-1"}}},
		{"vacation 3:00 forfait-2", []stays.Stay{st("c1", "2026-07-06", "09:00-12:00", vac)},
			[]brief{{"2026-07-06", 180, 180, 725, "anzegem-bko/forfait-2"}}},
		{"vacation 6:00 forfait-2", []stays.Stay{st("c1", "2026-07-06", "09:00-15:00", vac)},
			[]brief{{"2026-07-06", 360, 360, 725, "anzegem-bko/forfait-2"}}},
		{"vacation 6:01 forfait-3", []stays.Stay{st("c1", "2026-07-06", "09:00-15:01", vac)},
			[]brief{{"2026-07-06", 361, 361, 1405, "anzegem-bko/forfait-3"}}},
		{"vacation: the day's stays add up", []stays.Stay{st("c1", "2026-07-06", "07:00-09:00", vac), st("c1", "2026-07-06", "16:00-17:30", vac)},
			[]brief{{"2026-07-06", 210, 210, 725, "anzegem-bko/forfait-2"}}},
		{"vacation: a short stay is still forfait-1", []stays.Stay{st("c1", "2026-07-06", "07:00-07:20", vac)},
			[]brief{{"2026-07-06", 20, 20, 435, "anzegem-bko/forfait-1"}}},
		{"school-free day forfait", []stays.Stay{st("c1", "2026-03-04", "08:00-16:00", sf)},
			[]brief{{"2026-03-04", 480, 480, 1405, "anzegem-bko/forfait-3"}}},
		// Most favourable: 1.25 per started half hour vs the forfait.
		{"wednesday 1h30: half hours (3.75 < 4.35)", []stays.Stay{st("c1", "2026-11-18", "12:00-13:30", wed)},
			[]brief{{"2026-11-18", 90, 90, 375, "anzegem-bko/half-hour"}}},
		{"wednesday 1h31: forfait-1 (4.35 < 5.00)", []stays.Stay{st("c1", "2026-11-18", "12:00-13:31", wed)},
			[]brief{{"2026-11-18", 91, 91, 435, "anzegem-bko/forfait-1"}}},
		{"wednesday 2h30: forfait-1 (4.35 < 6.25)", []stays.Stay{st("c1", "2026-11-18", "12:00-14:30", wed)},
			[]brief{{"2026-11-18", 150, 150, 435, "anzegem-bko/forfait-1"}}},
		{"wednesday 5h: forfait-2 (7.25 < 12.50)", []stays.Stay{st("c1", "2026-11-18", "12:00-17:00", wed)},
			[]brief{{"2026-11-18", 300, 300, 725, "anzegem-bko/forfait-2"}}},
		// Seed 003: only the afternoon is 'most favourable'; the morning is before-school care.
		{"wednesday morning+afternoon: morning half hours 3.75 + afternoon min(3.75, 4.35)", []stays.Stay{
			st("c1", "2026-11-18", "07:00-08:30", wed), st("c1", "2026-11-18", "12:00-13:30", wed)},
			[]brief{{"2026-11-18", 180, 180, 750, "anzegem-bko/morning-half-hour+afternoon-half-hour"}}},
		{"activity day 1h: half hours (2.50)", []stays.Stay{st("c1", "2026-07-07", "08:00-08:30", act), st("c1", "2026-07-07", "16:00-16:30", act)},
			[]brief{{"2026-07-07", 60, 60, 250, "anzegem-bko/half-hour"}}},
		{"activity day 4h: forfait-2 (7.25 < 10.00)", []stays.Stay{st("c1", "2026-07-07", "07:00-09:00", act), st("c1", "2026-07-07", "16:00-18:00", act)},
			[]brief{{"2026-07-07", 240, 240, 725, "anzegem-bko/forfait-2"}}},
		{"tie: 1h and forfait... half hours listed first win", []stays.Stay{st("c1", "2026-11-18", "12:00-12:30", wed)},
			[]brief{{"2026-11-18", 30, 30, 125, "anzegem-bko/half-hour"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := briefs(engine(t, "anzegem-bko", nil).Bill(tt.stays))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestBernefertier(t *testing.T) {
	wd, we, ph := calendar.Weekday, calendar.Weekend, calendar.PublicHoliday
	// A month of 20 h avoids the monthly minimum line where a test does not want it.
	fill := func(ss ...stays.Stay) []stays.Stay {
		return append(ss, st("c1", "2026-11-02", "07:00-17:00", wd), st("c1", "2026-11-03", "07:00-17:00", wd))
	}
	fillLines := []brief{{"2026-11-02", 600, 600, 5500, "bernefertier/hourly"}, {"2026-11-03", 600, 600, 5500, "bernefertier/hourly"}}
	tests := []struct {
		name      string
		stays     []stays.Stay
		contracts map[string]Contract
		want      []brief
	}{
		{"per minute", fill(st("c1", "2026-11-17", "08:00-10:07", wd)), nil,
			append(fillLines, brief{"2026-11-17", 127, 127, 1164, "bernefertier/hourly"})}, // 127*550/60 = 1164.17
		{"daily minimum 2 h", fill(st("c1", "2026-11-17", "08:00-09:00", wd)), nil,
			append(fillLines, brief{"2026-11-17", 60, 120, 1100, "bernefertier/hourly+day-minimum"})},
		{"daily minimum over the day's stays", fill(st("c1", "2026-11-17", "08:00-09:00", wd), st("c1", "2026-11-17", "15:00-15:50", wd)), nil,
			append(fillLines, brief{"2026-11-17", 110, 120, 1100, "bernefertier/hourly+day-minimum"})},
		{"weekend 150%", fill(st("c1", "2026-11-21", "09:00-12:00", we)), nil,
			append(fillLines, brief{"2026-11-21", 180, 180, 2475, "bernefertier/hourly+weekend-150%"})},
		{"public holiday 150% with the minimum", fill(st("c1", "2026-11-11", "09:00-10:00", ph)), nil,
			append(fillLines, brief{"2026-11-11", 60, 120, 1650, "bernefertier/hourly+day-minimum+public_holiday-150%"})},
		{"monthly minimum dagopvang 20 h", []stays.Stay{st("c1", "2026-11-17", "08:00-13:00", wd)}, nil,
			[]brief{{"2026-11-17", 300, 300, 2750, "bernefertier/hourly"}, {"2026-11-30", 0, 900, 8250, "bernefertier/month-minimum-dagopvang"}}},
		// 507 min is 46.475 (46.48), the 693 min top-up 63.525 (63.53): each
		// rounded on its own the 20 h minimum cost EUR 110.01. The top-up
		// makes the month's plain-rate lines cost exactly 20 h.
		{"monthly minimum adds up to the cent", []stays.Stay{st("c1", "2026-11-02", "08:33-17:00", wd)}, nil,
			[]brief{{"2026-11-02", 507, 507, 4648, "bernefertier/hourly"}, {"2026-11-30", 0, 693, 6352, "bernefertier/month-minimum-dagopvang"}}},
		{"monthly minimum bso 10 h with contract rate", []stays.Stay{st("c1", "2026-11-17", "08:00-13:00", wd)},
			map[string]Contract{"c1": {ChildID: "c1", CareKind: "bso", RateCentsPerHour: 600}},
			[]brief{{"2026-11-17", 300, 300, 3000, "bernefertier/hourly"}, {"2026-11-30", 0, 300, 3000, "bernefertier/month-minimum-bso"}}},
		{"settling-in: twice 2 h free, the third day billed", []stays.Stay{
			st("c1", "2026-10-27", "09:00-11:00", wd), st("c1", "2026-10-29", "09:00-11:30", wd), st("c1", "2026-10-30", "09:00-10:00", wd),
			st("c1", "2026-10-20", "09:00-10:00", wd)},
			map[string]Contract{"c1": {ChildID: "c1", Start: attendance.MustDate("2026-11-02"), MinutesPerMonth: 1200}},
			[]brief{
				{"2026-10-20", 60, 120, 1100, "bernefertier/hourly+day-minimum"}, // more than 7 days before the start: not settling-in
				{"2026-10-27", 120, 0, 0, "bernefertier/settling-in"},
				{"2026-10-29", 150, 30, 275, "bernefertier/settling-in+hourly"},
				{"2026-10-30", 60, 120, 1100, "bernefertier/hourly+day-minimum"},
				// No month minimum before the contract starts (seed 002 'Wen uren').
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := briefs(engine(t, "bernefertier", tt.contracts).Bill(tt.stays))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestMissingTimesNotPriced(t *testing.T) {
	s := st("c1", "2026-11-16", "07:00-08:00", calendar.Weekday)
	s.CheckOut, s.Minutes, s.Flags = stays.NoTime, 0, []string{stays.FlagMissingCheckOut}
	u := st("c1", "2026-11-17", "07:00-08:00", calendar.Weekday)
	u.Quality = stays.QualityUnverified
	got := engine(t, "deburcht", nil).Bill([]stays.Stay{s, u})
	want := []Line{
		{ChildID: "c1", Date: attendance.MustDate("2026-11-16"), DayType: calendar.Weekday, Rule: "deburcht/unpriced-missing-time",
			Stays: 1, Flags: []string{FlagMissingTime, stays.FlagMissingCheckOut}},
		{ChildID: "c1", Date: attendance.MustDate("2026-11-17"), DayType: calendar.Weekday, Minutes: 60, BilledMinutes: 60, AmountCents: 800,
			Rule: "deburcht/quarter-hour", Stays: 1, RateCentsPerHour: 800, Flags: []string{FlagUnverifiedTime}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestRounding(t *testing.T) {
	for _, tt := range []struct {
		r    Rounding
		in   int
		want int
	}{
		{Rounding{"none", 0}, 7, 7}, {Rounding{"up", 15}, 100, 105}, {Rounding{"up", 15}, 105, 105}, {Rounding{"up", 30}, 31, 60},
		{Rounding{"down", 15}, 29, 15}, {Rounding{"nearest", 15}, 7, 0}, {Rounding{"nearest", 15}, 8, 15}, {Rounding{"up", 15}, 0, 0},
	} {
		if got := tt.r.Apply(tt.in); got != tt.want {
			t.Errorf("%+v.Apply(%d) = %d, want %d", tt.r, tt.in, got, tt.want)
		}
	}
	if got := Amount(105, 750, 10000); got != 1313 {
		t.Errorf("Amount half-up = %d, want 1313", got)
	}
	if got := Amount(1, 550, 15000); got != 14 { // 13.75 -> 14
		t.Errorf("Amount(1, 550, 150%%) = %d, want 14", got)
	}
}

func TestPreviewFamilies(t *testing.T) {
	in := []stays.Stay{st("c1", "2026-11-16", "14:00-15:40", calendar.Weekday), st("c2", "2026-11-16", "14:00-16:00", calendar.Weekday),
		st("c1", "2026-11-17", "14:00-15:00", calendar.Weekday), st("c3", "2026-12-01", "14:00-15:00", calendar.Weekday)}
	in[0].GuardianID, in[0].ChildName = "g1", "Noor"
	contracts := map[string]Contract{"c1": {ChildID: "c1", MinutesPerMonth: 120}, "c2": {ChildID: "c2", GuardianID: "g1", ChildName: "Daan"}}
	lines := engine(t, "deburcht", contracts).Bill(in)
	got := Preview(lines, contracts)
	want := []MonthSummary{
		{Month: "2026-11", Level: "child", FamilyID: "g1", ChildID: "c1", ChildName: "Noor", Days: 2, Minutes: 160, BilledMinutes: 165, ContractMinutes: 120, ExtraMinutes: 45, AmountCents: 2200},
		{Month: "2026-11", Level: "child", FamilyID: "g1", ChildID: "c2", Days: 1, Minutes: 120, BilledMinutes: 120, AmountCents: 1600},
		{Month: "2026-11", Level: "family", FamilyID: "g1", Days: 3, Minutes: 280, BilledMinutes: 285, ContractMinutes: 120, ExtraMinutes: 45, AmountCents: 3800},
		{Month: "2026-12", Level: "child", FamilyID: "c3", ChildID: "c3", Days: 1, Minutes: 60, BilledMinutes: 60, AmountCents: 800},
		{Month: "2026-12", Level: "family", FamilyID: "c3", Days: 1, Minutes: 60, BilledMinutes: 60, AmountCents: 800},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestGoldenLines(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "stays", "testdata", "export.golden.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	in, err := stays.ReadCSV(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"deburcht", "bernefertier", "anzegem-bko"} {
		t.Run(name, func(t *testing.T) {
			lines := engine(t, name, nil).Bill(in)
			var b bytes.Buffer
			if err := WriteCSV(&b, lines); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", name+".golden.csv")
			if *update {
				if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), b.String()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseProfilesErrorsNameKey(t *testing.T) {
	valid := `{"name":"x","methods":{"m":{"kind":"time","per":"day","rounding":{"mode":"none"},"rate_cents_per_hour":100}},"default":["m"]}`
	for _, tt := range []struct{ in, key string }{
		{`{"name":"x","methodz":{}}`, "methodz"},
		{`{"name":"","methods":{}}`, "name"},
		{`{"name":"x","methods":{"m":{"kind":"hourly"}},"default":["m"]}`, "methods.m.kind"},
		{`{"name":"x","methods":{"m":{"kind":"time","per":"week","rounding":{"mode":"none"},"rate_cents_per_hour":1}},"default":["m"]}`, "methods.m.per"},
		{`{"name":"x","methods":{"m":{"kind":"time","per":"day","rounding":{"mode":"up"},"rate_cents_per_hour":1}},"default":["m"]}`, "methods.m.rounding.unit_minutes"},
		{`{"name":"x","methods":{"m":{"kind":"time","per":"day","rounding":{"mode":"none"},"rate_cents_per_hour":"5"}},"default":["m"]}`, "methods.m.rate_cents_per_hour"},
		{`{"name":"x","methods":{"m":{"kind":"forfait","bands":[{"name":"a","up_to_minutes":60,"amount_cents":1}]}},"default":["m"]}`, "methods.m.bands"},
		{`{"name":"x","methods":{"m":{"kind":"forfait","bands":[{"name":"a","up_to_minutes":60,"amount_cents":1},{"name":"b","up_to_minutes":30,"amount_cents":1},{"name":"c","amount_cents":1}]}},"default":["m"]}`, "methods.m.bands[1].up_to_minutes"},
		{`{"name":"x","methods":{"m":{"kind":"time","per":"day","rounding":{"mode":"none"},"rate_cents_per_hour":1}},"day_types":{"weekday":["m"]}}`, "day_types.wednesday"},
		{`{"name":"x","methods":{"m":{"kind":"time","per":"day","rounding":{"mode":"none"},"rate_cents_per_hour":1}},"default":["n"]}`, "default[0]"},
		{`{"name":"x","methods":{"m":{"kind":"time","per":"day","rounding":{"mode":"none"},"rate_cents_per_hour":1}},"default":["m"],"day_types":{"holiday":["m"]}}`, "day_types.holiday"},
		{`{"name":"x","methods":{"m":{"kind":"time","per":"day","rounding":{"mode":"none"},"rate_cents_per_hour":1}},"default":["m"],"multipliers_bp":{"weekend":-1}}`, "multipliers_bp.weekend"},
		{`{"name":"x","methods":{"m":{"kind":"time","per":"day","rounding":{"mode":"none"},"rate_cents_per_hour":1}},"default":["m"],"monthly_minimum":{"method":"m","minutes":{"a":1},"default_care_kind":"b"}}`, "monthly_minimum.default_care_kind"},
		{`{"profiles":[` + valid + `,` + valid + `]}`, "profiles[1].name"},
		{`{"profiles":[` + valid + `,{"name":"y","methods":{}}]}`, "profiles[1].methods"},
	} {
		t.Run(tt.key, func(t *testing.T) {
			_, err := ParseProfiles(strings.NewReader(tt.in))
			var pe *ProfileError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v, want a *ProfileError", err)
			}
			if pe.Key != tt.key {
				t.Errorf("key %q, want %q (%v)", pe.Key, tt.key, err)
			}
		})
	}
	if _, err := ParseProfiles(strings.NewReader(valid)); err != nil {
		t.Errorf("valid profile: %v", err)
	}
	if _, err := Lookup("nope", nil); !errors.Is(err, ErrUnknownProfile) {
		t.Errorf("Lookup(nope): %v", err)
	}
}

func TestReadContracts(t *testing.T) {
	got, err := ReadContracts(strings.NewReader("child_id,guardian_id,rate_cents_per_hour,hours_per_month,start,end,care_kind,birth_date,lrk\n" +
		"c1,g1,750,40.5,2026-01-01,2026-12-31,bso,2019-05-01,123456789\nc2,,,,,,,,\n"))
	if err != nil {
		t.Fatal(err)
	}
	d := attendance.MustDate
	want := map[string]Contract{
		"c1": {ChildID: "c1", GuardianID: "g1", RateCentsPerHour: 750, MinutesPerMonth: 2430, Start: d("2026-01-01"), End: d("2026-12-31"),
			CareKind: "bso", BirthDate: d("2019-05-01"), LRK: "123456789"},
		"c2": {ChildID: "c2"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	_, err = ReadContracts(strings.NewReader("child_id,rate_cents_per_hour,hours_per_month,start,end\n" +
		"c1,7.50,40,2026-01-01,2025-12-31\nc1,700,x,2026-13-01,\n"))
	var le *LinesError
	if !errors.As(err, &le) {
		t.Fatalf("error %v, want LinesError", err)
	}
	var msgs []string
	for _, e := range le.Errs {
		msgs = append(msgs, e.Error())
	}
	wantMsgs := []string{
		`line 2, column rate_cents_per_hour: contracts: bad value: "7.50": want whole cents 0-1000000`,
		"line 2, column end: contracts: bad value: 2025-12-31 is before start 2026-01-01",
		"line 3, column child_id: contracts: bad value: c1 already on line 2",
		`line 3, column hours_per_month: contracts: bad value: "x": want hours like 40 or 40.5 (at most 744)`,
		`line 3, column start: contracts: bad value: date "2026-13-01": want YYYY-MM-DD`,
	}
	if diff := cmp.Diff(wantMsgs, msgs); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	if _, err := ReadContracts(strings.NewReader("kid,rate\n")); !errors.Is(err, ErrContractColumn) {
		t.Errorf("bad header: %v", err)
	}
}

func FuzzParseProfiles(f *testing.F) {
	f.Add(string(presetsJSON))
	f.Add(`{"name":"x","methods":{"m":{"kind":"time","per":"day","rounding":{"mode":"up","unit_minutes":30},"rate_cents_per_hour":100}},"default":["m"],"absences":{"method":"m","kinds":{"sick":{"bill":"agreed","rule":"s","limit_calendar_days":3,"over_limit_rule":"t","break_days":2},"cancel":{"bill":"none","rule":"c"}}}}`)
	f.Add(`{"name":"x","methods":{"m":{"kind":"forfait","bands":[{"name":"a","up_to_minutes":60,"amount_cents":1},{"name":"b","amount_cents":2}]}},"default":["m"]}`)
	f.Add(`{"name":"x","methods":{"m":{"kind":"time","per":"stay","rounding":{"mode":"nearest","unit_minutes":15},"rate_cents_per_hour":100,"min_day_minutes":60}},"default":["m"],"multipliers_bp":{"weekend":15000}}`)
	f.Fuzz(func(t *testing.T, in string) {
		ps, err := ParseProfiles(strings.NewReader(in))
		if err != nil {
			return
		}
		// An accepted profile must price any day without panicking.
		for _, p := range ps {
			e, err := New(p, map[string]Contract{"c1": {ChildID: "c1", Start: attendance.MustDate("2026-11-20")}})
			if err != nil {
				t.Fatalf("ParseProfiles accepted a profile New rejects: %v", err)
			}
			var in []stays.Stay
			for _, dt := range calendar.DayTypes {
				in = append(in, st("c1", "2026-11-16", "07:00-08:01", dt), st("c1", "2026-11-16", "12:00-18:59", dt))
			}
			var abs []Absence
			for i, k := range AbsenceKinds {
				abs = append(abs, ab("c1", attendance.Date{Year: 2026, Month: 11, Day: 17 + i}.String(), k, 95), ab("c1", attendance.Date{Year: 2026, Month: 11, Day: 21 + i}.String(), k, 1440))
			}
			for _, l := range e.BillWithAbsences(in, abs, nlCal.DayType) {
				if l.AmountCents < 0 || l.BilledMinutes < 0 {
					t.Fatalf("negative line %+v", l)
				}
			}
		}
	})
}

func FuzzReadContracts(f *testing.F) {
	f.Add("child_id,guardian_id,rate_cents_per_hour,hours_per_month,start,end,care_kind,birth_date,lrk\nc1,g1,750,40.5,2026-01-01,2026-12-31,bso,2019-05-01,1\n")
	f.Add("child_id\nc1\nc1\n")
	f.Fuzz(func(t *testing.T, in string) {
		m, err := ReadContracts(strings.NewReader(in))
		if err != nil && m != nil {
			t.Fatal("contracts returned with an error")
		}
		var le *LinesError
		if err != nil && !errors.As(err, &le) {
			t.Fatalf("error %v is not a LinesError", err)
		}
	})
}

func TestExampleProfilesFile(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "example-profiles.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ps, err := ParseProfiles(f)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Lookup("example-kdv", ps)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := briefs(e.Bill([]stays.Stay{
		st("c1", "2026-11-16", "08:00-12:07", calendar.Weekday),  // 247 -> 240 (nearest quarter)
		st("c1", "2026-11-17", "08:00-12:08", calendar.Weekday),  // 248 -> 255
		st("c1", "2026-11-21", "08:00-10:00", calendar.Weekend),  // minimum 4 h at 125%
		st("c1", "2026-07-20", "08:00-13:00", calendar.Vacation), // 5 h: 49.00 hourly vs 45.00 half-day
		st("c1", "2026-07-21", "08:00-12:00", calendar.Vacation), // 4 h: 39.20 hourly vs 45.00 half-day
	}))
	want := []brief{
		{"2026-07-20", 300, 300, 4500, "example-kdv/half-day"},
		{"2026-07-21", 240, 240, 3920, "example-kdv/hourly"},
		{"2026-11-16", 247, 240, 3920, "example-kdv/hourly"}, // 247 rounds down to 240, the minimum
		{"2026-11-17", 248, 255, 4165, "example-kdv/hourly"},
		{"2026-11-21", 120, 240, 4900, "example-kdv/hourly+day-minimum+weekend-125%"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
