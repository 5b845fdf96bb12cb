package billing

import (
	"bytes"
	"encoding/csv"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/calendar"
	"github.com/kinderdeur/kiosk/attendance/stays"
)

// ab is an absence row.
func ab(child, date string, kind AbsenceKind, agreed int) Absence {
	return Absence{ChildID: child, Date: attendance.MustDate(date), Kind: kind, AgreedMinutes: agreed}
}

// absBrief is the part of a line the absence tables check.
type absBrief struct {
	Date    string
	DayType calendar.DayType
	Minutes int
	Billed  int
	Cents   int64
	Rule    string
	Flags   string
}

func absBriefs(lines []Line) []absBrief {
	var out []absBrief
	for _, l := range lines {
		out = append(out, absBrief{l.Date.String(), l.DayType, l.Minutes, l.BilledMinutes, l.AmountCents, l.Rule, strings.Join(l.Flags, ";")})
	}
	return out
}

// nlCal is the real Dutch calendar (midden, free Wednesday afternoons):
// November 2026 has Monday 16, Wednesday 18, weekend 21-22.
var nlCal = calendar.MustNew(calendar.DefaultConfig())

type absCase struct {
	name      string
	stays     []stays.Stay
	abs       []Absence
	contracts map[string]Contract
	want      []absBrief
}

func runAbsCases(t *testing.T, profile string, cases []absCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := engine(t, profile, tc.contracts)
			got := absBriefs(e.BillWithAbsences(tc.stays, tc.abs, nlCal.DayType))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

const (
	fSick   = "absence_sick"
	fLate   = "absence_late_cancel"
	fCancel = "absence_cancel"
	fAway   = "absence_provider_away"
)

func TestAbsencesDeBurcht(t *testing.T) {
	wd, we, wed := calendar.Weekday, calendar.Weekend, calendar.Wednesday
	runAbsCases(t, "deburcht", []absCase{
		{name: "late cancel 1h40 bills 1.75 h", abs: []Absence{ab("c1", "2026-11-16", AbsenceLateCancel, 100)},
			want: []absBrief{{"2026-11-16", wd, 0, 105, 1400, "deburcht/late-cancel", fLate}}},
		{name: "late cancel 1h50 bills 2 h", abs: []Absence{ab("c1", "2026-11-16", AbsenceLateCancel, 110)},
			want: []absBrief{{"2026-11-16", wd, 0, 120, 1600, "deburcht/late-cancel", fLate}}},
		{name: "late cancel exact quarter not rounded", abs: []Absence{ab("c1", "2026-11-16", AbsenceLateCancel, 120)},
			want: []absBrief{{"2026-11-16", wd, 0, 120, 1600, "deburcht/late-cancel", fLate}}},
		{name: "late cancel at the contract rate", contracts: map[string]Contract{"c1": {ChildID: "c1", RateCentsPerHour: 900}},
			abs:  []Absence{ab("c1", "2026-11-16", AbsenceLateCancel, 100)},
			want: []absBrief{{"2026-11-16", wd, 0, 105, 1575, "deburcht/late-cancel", fLate}}},
		{name: "cancel in time bills nothing", abs: []Absence{ab("c1", "2026-11-16", AbsenceCancel, 180)},
			want: []absBrief{{"2026-11-16", wd, 0, 0, 0, "deburcht/cancel-in-time", fCancel}}},
		{name: "childminder away bills nothing", abs: []Absence{ab("c1", "2026-11-17", AbsenceProviderAway, 180)},
			want: []absBrief{{"2026-11-17", wd, 0, 0, 0, "deburcht/provider-away", fAway}}},
		{name: "3-day sick spell bills 2 days",
			abs: []Absence{ab("c1", "2026-11-16", AbsenceSick, 170), ab("c1", "2026-11-17", AbsenceSick, 170), ab("c1", "2026-11-18", AbsenceSick, 170)},
			want: []absBrief{
				{"2026-11-16", wd, 0, 180, 2400, "deburcht/sick-first-two-days", fSick},
				{"2026-11-17", wd, 0, 180, 2400, "deburcht/sick-first-two-days", fSick},
				{"2026-11-18", wed, 0, 0, 0, "deburcht/sick-after-two-days", fSick},
			}},
		{name: "a weekend does not break a spell (Thu, Fri, Mon)",
			abs: []Absence{ab("c1", "2026-11-19", AbsenceSick, 60), ab("c1", "2026-11-20", AbsenceSick, 60), ab("c1", "2026-11-23", AbsenceSick, 60)},
			want: []absBrief{
				{"2026-11-19", wd, 0, 60, 800, "deburcht/sick-first-two-days", fSick},
				{"2026-11-20", wd, 0, 60, 800, "deburcht/sick-first-two-days", fSick},
				{"2026-11-23", wd, 0, 0, 0, "deburcht/sick-after-two-days", fSick},
			}},
		{name: "weekly booked child: successive Mondays are one spell",
			abs: []Absence{ab("c1", "2026-11-02", AbsenceSick, 60), ab("c1", "2026-11-09", AbsenceSick, 60), ab("c1", "2026-11-16", AbsenceSick, 60)},
			want: []absBrief{
				{"2026-11-02", wd, 0, 60, 800, "deburcht/sick-first-two-days", fSick},
				{"2026-11-09", wd, 0, 60, 800, "deburcht/sick-first-two-days", fSick},
				{"2026-11-16", wd, 0, 0, 0, "deburcht/sick-after-two-days", fSick},
			}},
		{name: "a gap of more than 7 days starts a new spell",
			abs: []Absence{ab("c1", "2026-11-02", AbsenceSick, 60), ab("c1", "2026-11-03", AbsenceSick, 60), ab("c1", "2026-11-11", AbsenceSick, 60)},
			want: []absBrief{
				{"2026-11-02", wd, 0, 60, 800, "deburcht/sick-first-two-days", fSick},
				{"2026-11-03", wd, 0, 60, 800, "deburcht/sick-first-two-days", fSick},
				{"2026-11-11", wed, 0, 60, 800, "deburcht/sick-first-two-days", fSick},
			}},
		{name: "a stay between sick days starts a new spell; stay line first on its day",
			stays: []stays.Stay{st("c1", "2026-11-17", "14:00-15:40", wd), st("c1", "2026-11-19", "14:00-15:00", wd)},
			abs: []Absence{ab("c1", "2026-11-16", AbsenceSick, 60), ab("c1", "2026-11-18", AbsenceSick, 60), ab("c1", "2026-11-19", AbsenceSick, 60),
				ab("c1", "2026-11-20", AbsenceSick, 60)},
			want: []absBrief{
				{"2026-11-16", wd, 0, 60, 800, "deburcht/sick-first-two-days", fSick},
				{"2026-11-17", wd, 100, 105, 1400, "deburcht/quarter-hour", ""},
				{"2026-11-18", wed, 0, 60, 800, "deburcht/sick-first-two-days", fSick},
				{"2026-11-19", wd, 60, 60, 800, "deburcht/quarter-hour", ""},
				// The day's stay billed the agreed hour already: the sick row adds nothing.
				{"2026-11-19", wd, 0, 0, 0, "deburcht/sick-first-two-days", fSick},
				{"2026-11-20", wd, 0, 0, 0, "deburcht/sick-after-two-days", fSick},
			}},
		{name: "another absence kind between sick days starts a new spell",
			abs: []Absence{ab("c1", "2026-11-16", AbsenceSick, 60), ab("c1", "2026-11-17", AbsenceCancel, 60), ab("c1", "2026-11-18", AbsenceSick, 60),
				ab("c1", "2026-11-19", AbsenceSick, 60), ab("c1", "2026-11-20", AbsenceSick, 60)},
			want: []absBrief{
				{"2026-11-16", wd, 0, 60, 800, "deburcht/sick-first-two-days", fSick},
				{"2026-11-17", wd, 0, 0, 0, "deburcht/cancel-in-time", fCancel},
				{"2026-11-18", wed, 0, 60, 800, "deburcht/sick-first-two-days", fSick},
				{"2026-11-19", wd, 0, 60, 800, "deburcht/sick-first-two-days", fSick},
				{"2026-11-20", wd, 0, 0, 0, "deburcht/sick-after-two-days", fSick},
			}},
		{name: "spells are per child; unsorted input",
			abs: []Absence{ab("c2", "2026-11-17", AbsenceSick, 60), ab("c1", "2026-11-17", AbsenceSick, 60), ab("c1", "2026-11-16", AbsenceSick, 60),
				ab("c1", "2026-11-21", AbsenceSick, 60), ab("c2", "2026-11-16", AbsenceSick, 60)},
			want: []absBrief{
				{"2026-11-16", wd, 0, 60, 800, "deburcht/sick-first-two-days", fSick},
				{"2026-11-17", wd, 0, 60, 800, "deburcht/sick-first-two-days", fSick},
				{"2026-11-21", we, 0, 0, 0, "deburcht/sick-after-two-days", fSick},
				{"2026-11-16", wd, 0, 60, 800, "deburcht/sick-first-two-days", fSick},
				{"2026-11-17", wd, 0, 60, 800, "deburcht/sick-first-two-days", fSick},
			}},
	})
}

func TestAbsencesBernefertier(t *testing.T) {
	wd, we, wed := calendar.Weekday, calendar.Weekend, calendar.Wednesday
	nine := []Absence{}
	for d := 16; d <= 24; d++ {
		nine = append(nine, ab("c1", attendance.Date{Year: 2026, Month: 11, Day: d}.String(), AbsenceSick, 240))
	}
	sickWeek := "bernefertier/sick-week"
	runAbsCases(t, "bernefertier", []absCase{
		{name: "9-day sick spell bills 7 days (weekend at 150%)", abs: nine,
			want: []absBrief{
				{"2026-11-16", wd, 0, 240, 2200, sickWeek, fSick},
				{"2026-11-17", wd, 0, 240, 2200, sickWeek, fSick},
				{"2026-11-18", wed, 0, 240, 2200, sickWeek, fSick},
				{"2026-11-19", wd, 0, 240, 2200, sickWeek, fSick},
				{"2026-11-20", wd, 0, 240, 2200, sickWeek, fSick},
				{"2026-11-21", we, 0, 240, 3300, sickWeek + "+weekend-150%", fSick},
				{"2026-11-22", we, 0, 240, 3300, sickWeek + "+weekend-150%", fSick},
				{"2026-11-23", wd, 0, 0, 0, "bernefertier/sick-after-week", fSick},
				{"2026-11-24", wd, 0, 0, 0, "bernefertier/sick-after-week", fSick},
			}},
		{name: "one week is 7 calendar days, not 7 booked days",
			abs: []Absence{ab("c1", "2026-11-18", AbsenceSick, 300), ab("c1", "2026-11-20", AbsenceSick, 300), ab("c1", "2026-11-24", AbsenceSick, 300),
				ab("c1", "2026-11-25", AbsenceSick, 300)},
			want: []absBrief{
				{"2026-11-18", wed, 0, 300, 2750, sickWeek, fSick},
				{"2026-11-20", wd, 0, 300, 2750, sickWeek, fSick},
				{"2026-11-24", wd, 0, 300, 2750, sickWeek, fSick},
				{"2026-11-25", wed, 0, 0, 0, "bernefertier/sick-after-week", fSick},
				{"2026-11-30", "", 0, 300, 2750, "bernefertier/month-minimum-dagopvang", ""},
			}},
		{name: "late notice bills the agreed minutes, no rounding, no day minimum",
			abs: []Absence{ab("c1", "2026-11-16", AbsenceLateCancel, 61), ab("c1", "2026-11-17", AbsenceCancel, 600),
				ab("c1", "2026-11-18", AbsenceProviderAway, 600)},
			stays: []stays.Stay{st("c1", "2026-11-19", "08:00-18:00", wd), st("c1", "2026-11-20", "08:00-18:00", wd)},
			want: []absBrief{
				{"2026-11-16", wd, 0, 61, 559, "bernefertier/late-notice", fLate},
				{"2026-11-17", wd, 0, 0, 0, "bernefertier/cancel-in-time", fCancel},
				{"2026-11-18", wed, 0, 0, 0, "bernefertier/provider-away", fAway},
				{"2026-11-19", wd, 600, 600, 5500, "bernefertier/hourly", ""},
				{"2026-11-20", wd, 600, 600, 5500, "bernefertier/hourly", ""},
			}},
		{name: "billed sick minutes count toward the monthly minimum",
			stays: []stays.Stay{st("c1", "2026-11-16", "09:00-12:00", wd)},
			abs:   []Absence{ab("c1", "2026-11-17", AbsenceSick, 240), ab("c1", "2026-11-18", AbsenceProviderAway, 240)},
			want: []absBrief{
				{"2026-11-16", wd, 180, 180, 1650, "bernefertier/hourly", ""},
				{"2026-11-17", wd, 0, 240, 2200, sickWeek, fSick},
				{"2026-11-18", wed, 0, 0, 0, "bernefertier/provider-away", fAway},
				{"2026-11-30", "", 0, 780, 7150, "bernefertier/month-minimum-dagopvang", ""},
			}},
		{name: "a month with only the childminder away gets no top-up",
			abs: []Absence{ab("c1", "2026-12-01", AbsenceProviderAway, 240), ab("c1", "2026-12-02", AbsenceCancel, 240)},
			want: []absBrief{
				{"2026-12-01", wd, 0, 0, 0, "bernefertier/provider-away", fAway},
				{"2026-12-02", wed, 0, 0, 0, "bernefertier/cancel-in-time", fCancel},
			}},
		{name: "a month with only a sick day is topped up",
			abs: []Absence{ab("c1", "2026-12-01", AbsenceSick, 240)},
			want: []absBrief{
				{"2026-12-01", wd, 0, 240, 2200, sickWeek, fSick},
				{"2026-12-31", "", 0, 960, 8800, "bernefertier/month-minimum-dagopvang", ""},
			}},
	})
}

func TestAbsencesAnzegemNotBilled(t *testing.T) {
	be := calendar.DefaultConfig()
	be.Country, be.Region = "be", "vlaanderen"
	cal, err := calendar.New(be)
	if err != nil {
		t.Fatal(err)
	}
	e := engine(t, "anzegem-bko", nil)
	got := absBriefs(e.BillWithAbsences(nil, []Absence{ab("c1", "2026-11-11", AbsenceSick, 120), ab("c1", "2026-11-12", AbsenceLateCancel, 120)}, cal.DayType))
	want := []absBrief{
		{"2026-11-11", calendar.PublicHoliday, 0, 0, 0, "anzegem-bko/absence-not-billed", fSick}, // Wapenstilstand
		{"2026-11-12", calendar.Weekday, 0, 0, 0, "anzegem-bko/absence-not-billed", fLate},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestAbsencesNilDayTypeAndNames(t *testing.T) {
	e := engine(t, "deburcht", map[string]Contract{"c1": {ChildID: "c1", ChildName: "Noor", GuardianID: "g1"}})
	in := []stays.Stay{st("c2", "2026-11-16", "14:00-15:00", calendar.Weekday)}
	in[0].ChildName, in[0].GuardianID = "Daan", "g2"
	lines := e.BillWithAbsences(in, []Absence{ab("c1", "2026-11-21", AbsenceLateCancel, 60), ab("c2", "2026-11-18", AbsenceLateCancel, 60)}, nil)
	type who struct{ Child, Date, DayType, Name, Guardian string }
	var got []who
	for _, l := range lines {
		got = append(got, who{l.ChildID, l.Date.String(), string(l.DayType), l.ChildName, l.GuardianID})
	}
	want := []who{
		{"c1", "2026-11-21", "weekend", "Noor", "g1"},
		{"c2", "2026-11-16", "weekday", "Daan", "g2"},
		{"c2", "2026-11-18", "weekday", "Daan", "g2"}, // no calendar: a Wednesday is a weekday
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestAbsencesInPreview(t *testing.T) {
	e := engine(t, "deburcht", map[string]Contract{"c1": {ChildID: "c1", GuardianID: "g1", MinutesPerMonth: 240}})
	lines := e.BillWithAbsences([]stays.Stay{st("c1", "2026-11-16", "14:00-15:40", calendar.Weekday)},
		[]Absence{ab("c1", "2026-11-17", AbsenceSick, 100), ab("c1", "2026-11-18", AbsenceProviderAway, 100)}, nlCal.DayType)
	got := Preview(lines, nil)
	want := []MonthSummary{
		{Month: "2026-11", Level: "child", FamilyID: "g1", ChildID: "c1", Days: 1, Minutes: 100, BilledMinutes: 210, AmountCents: 2800, AbsenceMinutes: 105},
		{Month: "2026-11", Level: "family", FamilyID: "g1", Days: 1, Minutes: 100, BilledMinutes: 210, AmountCents: 2800, AbsenceMinutes: 105},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	var b bytes.Buffer
	if err := WriteSummaryCSV(&b, got); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(strings.Split(b.String(), "\n")[1], ",0,0,105") {
		t.Errorf("summary CSV row lacks absence_billed_minutes: %q", b.String())
	}
}

func TestAbsenceRulesErrorsNameKey(t *testing.T) {
	base := `{"name":"p","methods":{"m":{"kind":"time","per":"day","rounding":{"mode":"none"},"rate_cents_per_hour":100},` +
		`"f":{"kind":"forfait","bands":[{"name":"b","amount_cents":1}]}},"default":["m"],"absences":%s}`
	for _, tc := range []struct{ name, abs, key string }{
		{"no method", `{"kinds":{}}`, "absences.method"},
		{"forfait method", `{"method":"f","kinds":{}}`, "absences.method"},
		{"unknown kind", `{"method":"m","kinds":{"flu":{"bill":"none","rule":"x"}}}`, "absences.kinds.flu"},
		{"bad bill", `{"method":"m","kinds":{"sick":{"bill":"half","rule":"x"}}}`, "absences.kinds.sick.bill"},
		{"bad rule", `{"method":"m","kinds":{"sick":{"bill":"none","rule":"a/b"}}}`, "absences.kinds.sick.rule"},
		{"both limits", `{"method":"m","kinds":{"sick":{"bill":"agreed","rule":"x","limit_days":2,"limit_calendar_days":7,"over_limit_rule":"y"}}}`, "absences.kinds.sick.limit_calendar_days"},
		{"limit without over rule", `{"method":"m","kinds":{"sick":{"bill":"agreed","rule":"x","limit_days":2}}}`, "absences.kinds.sick.over_limit_rule"},
		{"over rule without limit", `{"method":"m","kinds":{"sick":{"bill":"agreed","rule":"x","over_limit_rule":"y"}}}`, "absences.kinds.sick.over_limit_rule"},
		{"limit on none", `{"method":"m","kinds":{"sick":{"bill":"none","rule":"x","limit_days":2,"over_limit_rule":"y"}}}`, "absences.kinds.sick.bill"},
		{"negative limit", `{"method":"m","kinds":{"sick":{"bill":"agreed","rule":"x","limit_days":-1}}}`, "absences.kinds.sick.limit_days"},
		{"break days", `{"method":"m","kinds":{"sick":{"bill":"agreed","rule":"x","break_days":400}}}`, "absences.kinds.sick.break_days"},
		{"unknown key", `{"method":"m","kinds":{},"extra":1}`, "absences.extra"},
		{"unknown key in a kind", `{"method":"m","kinds":{"sick":{"bill":"none","rule":"x","foo":1}}}`, "absences.kinds.sick.foo"},
		{"wrong type in a kind", `{"method":"m","kinds":{"sick":{"bill":"none","rule":"x","limit_days":"2"}}}`, "absences.kinds.sick.limit_days"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseProfiles(strings.NewReader(strings.Replace(base, "%s", tc.abs, 1)))
			var pe *ProfileError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a *ProfileError", err)
			}
			if pe.Key != tc.key {
				t.Errorf("key = %q, want %q (%v)", pe.Key, tc.key, err)
			}
		})
	}
	// A valid file profile with absence rules works like a preset.
	ps, err := ParseProfiles(strings.NewReader(strings.Replace(base, "%s",
		`{"method":"m","kinds":{"sick":{"bill":"agreed","rule":"ill","limit_days":1,"over_limit_rule":"ill-later","break_days":1}}}`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(ps[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	got := absBriefs(e.BillWithAbsences(nil, []Absence{ab("c", "2026-11-16", AbsenceSick, 60), ab("c", "2026-11-17", AbsenceSick, 60),
		ab("c", "2026-11-19", AbsenceSick, 60)}, nlCal.DayType))
	want := []absBrief{
		{"2026-11-16", calendar.Weekday, 0, 60, 100, "p/ill", fSick},
		{"2026-11-17", calendar.Weekday, 0, 0, 0, "p/ill-later", fSick},
		{"2026-11-19", calendar.Weekday, 0, 60, 100, "p/ill", fSick}, // gap 2 > break_days 1
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestReadAbsences(t *testing.T) {
	in := "\ufeffnote,agreed_minutes,kind,date,child_id\n" +
		"\"griep, koorts\",180,sick,2026-11-17,c1\n" +
		",100,late_cancel,2026-11-16,c1\n" +
		"\n" +
		"Adri op vakantie,0,provider_away,2026-11-16,c2\n"
	got, err := ReadAbsences(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Absence{
		{ChildID: "c1", Date: attendance.MustDate("2026-11-16"), Kind: AbsenceLateCancel, AgreedMinutes: 100},
		{ChildID: "c1", Date: attendance.MustDate("2026-11-17"), Kind: AbsenceSick, AgreedMinutes: 180, Note: "griep, koorts"},
		{ChildID: "c2", Date: attendance.MustDate("2026-11-16"), Kind: AbsenceProviderAway, Note: "Adri op vakantie"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// Without the optional note column.
	if _, err := ReadAbsences(strings.NewReader("child_id,date,kind,agreed_minutes\nc1,2026-11-16,cancel,60\n")); err != nil {
		t.Errorf("no note column: %v", err)
	}
}

func TestReadAbsencesErrors(t *testing.T) {
	const h = "child_id,date,kind,agreed_minutes,note\n"
	for _, tc := range []struct {
		name, in string
		want     []string
		sentinel error
	}{
		{"empty", "", []string{"line 1: absences: bad header: empty file"}, ErrAbsenceColumn},
		{"missing columns", "child_id,date,note\n", []string{
			"line 1, column kind: absences: bad header: missing column",
			"line 1, column agreed_minutes: absences: bad header: missing column"}, ErrAbsenceColumn},
		{"unknown and duplicate column", "child_id,date,kind,agreed_minutes,kind,planned\n", []string{
			"line 1, column kind: absences: bad header: duplicate column",
			"line 1, column planned: absences: bad header: unknown column (want child_id,date,kind,agreed_minutes,note)"}, ErrAbsenceColumn},
		{"unknown kind", h + "c1,2026-11-16,flu,60,\n", []string{
			`line 2, column kind: unknown absence kind "flu" (want sick, late_cancel, cancel, provider_away, short_day)`}, ErrAbsenceKind},
		{"bad date", h + "c1,2026-11-31,sick,60,\nc1,,sick,60,\n", []string{
			`line 2, column date: absences: bad date: date "2026-11-31": want YYYY-MM-DD`,
			"line 3, column date: absences: bad date: empty"}, ErrAbsenceDate},
		{"bad minutes", h + "c1,2026-11-16,sick,-5,\nc1,2026-11-17,sick,1441,\nc1,2026-11-18,sick,1.5,\nc1,2026-11-19,sick,+3,\nc1,2026-11-20,sick,,\n", []string{
			`line 2, column agreed_minutes: absences: bad agreed_minutes: "-5": want whole minutes 0-1440`,
			`line 3, column agreed_minutes: absences: bad agreed_minutes: "1441": want whole minutes 0-1440`,
			`line 4, column agreed_minutes: absences: bad agreed_minutes: "1.5": want whole minutes 0-1440`,
			`line 5, column agreed_minutes: absences: bad agreed_minutes: "+3": want whole minutes 0-1440`,
			"line 6, column agreed_minutes: absences: bad agreed_minutes: empty (want whole minutes 0-1440)"}, ErrAbsenceMinutes},
		{"duplicate child and date", h + "c1,2026-11-16,sick,60,\nc2,2026-11-16,sick,60,\nc1,2026-11-16,late_cancel,60,\n", []string{
			"line 4, column date: absences: duplicate child and date: c1 2026-11-16 already on line 2"}, ErrAbsenceDuplicate},
		{"empty child and several errors on one line", h + ",x,y,z,\n", []string{
			"line 2, column child_id: absences: bad value: empty",
			`line 2, column date: absences: bad date: date "x": want YYYY-MM-DD`,
			`line 2, column kind: unknown absence kind "y" (want sick, late_cancel, cancel, provider_away, short_day)`,
			`line 2, column agreed_minutes: absences: bad agreed_minutes: "z": want whole minutes 0-1440`}, ErrAbsenceValue},
		{"quote error stops", h + "c1,2026-11-16,sick,60,\"open\nc1,2026-11-17,sick,60,\n", []string{
			`line 2: absences: bad value: record on line 2; parse error on line 3, column 24: extraneous or missing " in quoted-field`}, ErrAbsenceValue},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadAbsences(strings.NewReader(tc.in))
			if got != nil {
				t.Errorf("rows returned with an error: %v", got)
			}
			var le *LinesError
			if !errors.As(err, &le) {
				t.Fatalf("err = %v, want LinesError", err)
			}
			var msgs []string
			for _, e := range le.Errs {
				msgs = append(msgs, e.Error())
			}
			if diff := cmp.Diff(tc.want, msgs); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if !errors.Is(err, tc.sentinel) {
				t.Errorf("errors.Is(err, %v) = false", tc.sentinel)
			}
		})
	}
}

func FuzzReadAbsences(f *testing.F) {
	f.Add("child_id,date,kind,agreed_minutes,note\nc1,2026-11-16,sick,180,griep\nc1,2026-11-17,late_cancel,100,\n")
	f.Add("kind,child_id,agreed_minutes,date\nprovider_away,c2,0,2026-12-01\n")
	f.Add("child_id,date,kind,agreed_minutes\nc1,2026-11-16,sick,60\nc1,2026-11-16,cancel,60\n")
	f.Add("child_id,date,kind,agreed_minutes,note\n\"c1\",2026-02-30,x,-1,\"a\"\"b\"\n")
	f.Add("\ufeffchild_id,date,kind,agreed_minutes\n")
	f.Add("child_id,date\n\"")
	f.Fuzz(func(t *testing.T, in string) {
		rows, err := ReadAbsences(strings.NewReader(in))
		if err != nil {
			if rows != nil {
				t.Fatal("rows and an error")
			}
			var le *LinesError
			if !errors.As(err, &le) || len(le.Errs) == 0 {
				t.Fatalf("error %v is no LinesError", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, a := range rows {
			if _, err := ParseAbsenceKind(string(a.Kind)); err != nil || a.ChildID == "" || a.Date.IsZero() ||
				a.AgreedMinutes < 0 || a.AgreedMinutes > 1440 {
				t.Fatalf("invalid row accepted: %+v", a)
			}
			k := a.ChildID + "|" + a.Date.String()
			if seen[k] {
				t.Fatalf("duplicate accepted: %+v", a)
			}
			seen[k] = true
		}
		// Round trip: writing the rows and reading them again gives them back.
		var b bytes.Buffer
		w := csv.NewWriter(&b)
		w.Write(AbsenceColumns)
		for _, a := range rows {
			w.Write([]string{a.ChildID, a.Date.String(), string(a.Kind), strconv.Itoa(a.AgreedMinutes), a.Note})
		}
		w.Flush()
		again, err := ReadAbsences(&b)
		if err != nil {
			t.Fatalf("re-read: %v", err)
		}
		if diff := cmp.Diff(rows, again); diff != "" {
			t.Fatalf("round trip (-first +again):\n%s", diff)
		}
		// Pricing any accepted file with every preset never panics.
		for _, p := range Presets() {
			e, err := New(p, nil)
			if err != nil {
				t.Fatal(err)
			}
			e.BillWithAbsences(nil, rows, nil)
		}
	})
}
