package benefit

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/billing"
	"github.com/kinderdeur/kiosk/attendance/calendar"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func line(child, date string, billed int, cents int64, dt calendar.DayType) billing.Line {
	stays := 1
	if dt == "" {
		stays = 0
	}
	return billing.Line{ChildID: child, Date: attendance.MustDate(date), DayType: dt, Minutes: billed, BilledMinutes: billed,
		AmountCents: cents, Rule: "p/x", Stays: stays}
}

func TestNL(t *testing.T) {
	var lines []billing.Line
	// c1: 24 days of 10 h in March 2026 = 240 h, over the 230 h cap.
	for d := 1; d <= 24; d++ {
		lines = append(lines, line("c1", attendance.Date{Year: 2026, Month: 3, Day: d}.String(), 600, 5500, calendar.Weekday))
	}
	lines = append(lines,
		line("c1", "2026-04-01", 90, 825, calendar.Weekday),
		line("c1", "2026-04-30", 1110, 10175, ""),           // month minimum top-up
		line("c1", "2025-12-31", 60, 550, calendar.Weekday), // other year
		line("c2", "2026-04-02", 0, 0, calendar.Weekday),    // unpriced
	)
	contracts := map[string]billing.Contract{"c1": {ChildID: "c1", ChildName: "Noor", GuardianID: "g1", End: attendance.MustDate("2027-07-31"), MinutesPerMonth: 12000}}
	got := NL(lines, contracts, NLOptions{Year: 2026, LRK: "123456789"})
	end := attendance.MustDate("2027-07-31")
	want := []NLRow{
		{Year: 2026, Month: 3, ChildID: "c1", ChildName: "Noor", GuardianID: "g1", LRK: "123456789", ContractEnd: end, BilledMinutes: 14400, AmountCents: 132000,
			AvgHourlyCents: 550, ContractMinutes: 12000, CappedMinutes: 13800, OverCapMinutes: 600},
		{Year: 2026, Month: 4, ChildID: "c1", ChildName: "Noor", GuardianID: "g1", LRK: "123456789", ContractEnd: end, BilledMinutes: 1200, AmountCents: 11000,
			AvgHourlyCents: 550, ContractMinutes: 12000, CappedMinutes: 1200},
		{Year: 2026, ChildID: "c1", ChildName: "Noor", GuardianID: "g1", LRK: "123456789", ContractEnd: end, BilledMinutes: 15600, AmountCents: 143000,
			AvgHourlyCents: 550, ContractMinutes: 24000, CappedMinutes: 15000, OverCapMinutes: 600},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	var b bytes.Buffer
	if err := WriteNLCSV(&b, got); err != nil {
		t.Fatal(err)
	}
	golden(t, "nl-statement.golden.csv", b.Bytes())
}

func TestBE(t *testing.T) {
	lines := []billing.Line{
		line("c1", "2026-02-02", 60, 250, calendar.Weekday),
		line("c1", "2026-02-02", 300, 725, calendar.Vacation), // same day, another day type: one day
		line("c1", "2026-03-30", 480, 1405, calendar.Vacation),
		line("c1", "2026-07-06", 400, 1405, calendar.Vacation),
		line("c1", "2026-07-07", 0, 0, calendar.Vacation),
		line("c2", "2026-05-03", 60, 250, calendar.Weekday), // the day before the 14th birthday
		line("c2", "2026-05-04", 60, 250, calendar.Weekday), // the 14th birthday: not certified
		line("c2", "2026-06-01", 60, 250, calendar.Weekday),
	}
	contracts := map[string]billing.Contract{
		"c1": {ChildID: "c1", ChildName: "Lotte", GuardianID: "g1", BirthDate: attendance.MustDate("2019-09-01")},
		"c2": {ChildID: "c2", ChildName: "Wout", GuardianID: "g2", BirthDate: attendance.MustDate("2012-05-04")},
	}
	got, err := BE(lines, contracts, 2026)
	if err != nil {
		t.Fatal(err)
	}
	d := attendance.MustDate
	want := []BERow{
		{Year: 2026, Quarter: 1, ChildID: "c1", ChildName: "Lotte", GuardianID: "g1", BirthDate: d("2019-09-01"), From: d("2026-02-02"), To: d("2026-03-30"),
			Days: 2, AmountCents: 2380, DayPriceCents: 1190},
		{Year: 2026, Quarter: 3, ChildID: "c1", ChildName: "Lotte", GuardianID: "g1", BirthDate: d("2019-09-01"), From: d("2026-07-06"), To: d("2026-07-06"),
			Days: 1, AmountCents: 1405, DayPriceCents: 1405},
		{Year: 2026, Quarter: 2, ChildID: "c2", ChildName: "Wout", GuardianID: "g2", BirthDate: d("2012-05-04"), From: d("2026-05-03"), To: d("2026-05-03"),
			Days: 1, AmountCents: 250, DayPriceCents: 250, ExcludedDays: 2},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	var b bytes.Buffer
	if err := WriteBECSV(&b, got); err != nil {
		t.Fatal(err)
	}
	golden(t, "be-281-86.golden.csv", b.Bytes())

	if _, err := BE(lines, map[string]billing.Contract{"c1": contracts["c1"]}, 2026); !errors.Is(err, ErrNoBirthDate) {
		t.Errorf("missing birth date: %v, want ErrNoBirthDate", err)
	}
}

func TestHours(t *testing.T) {
	for m, want := range map[int]string{0: "0.00", 90: "1.50", 100: "1.67", 13800: "230.00", 59: "0.98"} {
		if got := Hours(m); got != want {
			t.Errorf("Hours(%d) = %s, want %s", m, got, want)
		}
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
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", name, diff)
	}
}

// absenceLine is a billed absence line as billing.BillWithAbsences makes it.
func absenceLine(child, date string, billed int, cents int64, dt calendar.DayType) billing.Line {
	l := line(child, date, billed, cents, dt)
	l.Minutes, l.Stays, l.Flags = 0, 0, []string{billing.FlagAbsencePrefix + string(billing.AbsenceSick)}
	return l
}

// Billed absences (paid contracted hours) are hours of the Dutch statement;
// on the Flemish certificate they are money, not days of care.
func TestAbsenceLines(t *testing.T) {
	lines := []billing.Line{
		line("c1", "2026-02-02", 120, 1100, calendar.Weekday),
		absenceLine("c1", "2026-02-03", 240, 2200, calendar.Weekday),
		absenceLine("c1", "2026-02-04", 0, 0, calendar.Wednesday), // past the limit: nothing
	}
	contracts := map[string]billing.Contract{"c1": {ChildID: "c1", BirthDate: attendance.MustDate("2019-09-01"), MinutesPerMonth: 600}}
	nl := NL(lines, contracts, NLOptions{Year: 2026, LRK: "1"})
	if len(nl) != 2 {
		t.Fatalf("NL rows: %+v", nl)
	}
	type sum struct {
		Minutes int
		Cents   int64
	}
	if diff := cmp.Diff(sum{360, 3300}, sum{nl[0].BilledMinutes, nl[0].AmountCents}); diff != "" {
		t.Errorf("NL month (-want +got):\n%s", diff)
	}
	be, err := BE(lines, contracts, 2026)
	if err != nil {
		t.Fatal(err)
	}
	d := attendance.MustDate
	want := []BERow{{Year: 2026, Quarter: 1, ChildID: "c1", BirthDate: d("2019-09-01"), From: d("2026-02-02"), To: d("2026-02-02"),
		Days: 1, AmountCents: 3300, DayPriceCents: 3300}}
	if diff := cmp.Diff(want, be); diff != "" {
		t.Errorf("BE (-want +got):\n%s", diff)
	}
}
