package calendar

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kinderdeur/kiosk/attendance"
)

func TestDayTypeNL(t *testing.T) {
	c := MustNew(DefaultConfig()) // nl, midden
	tests := []struct {
		date string
		want DayType
	}{
		{"2026-01-01", PublicHoliday}, // Nieuwjaarsdag (also kerstvakantie: holiday wins)
		{"2026-04-05", PublicHoliday}, // Eerste Paasdag (a Sunday)
		{"2026-04-06", PublicHoliday}, // Tweede Paasdag
		{"2026-04-03", Weekday},       // Goede Vrijdag: not a holiday by default
		{"2026-04-27", PublicHoliday}, // Koningsdag on a Monday
		{"2025-04-26", PublicHoliday}, // Koningsdag 2025: 27 April was a Sunday
		{"2025-04-27", Weekend},       // ... so the Sunday itself is just weekend
		{"2025-05-05", PublicHoliday}, // Bevrijdingsdag in a lustrum year
		{"2026-05-05", Weekday},       // not a lustrum year (a Tuesday after meivakantie)
		{"2026-04-29", Vacation},      // meivakantie
		{"2027-05-05", Wednesday},     // not a lustrum year, a Wednesday
		{"2026-05-14", PublicHoliday}, // Hemelvaartsdag
		{"2026-05-25", PublicHoliday}, // Tweede Pinksterdag
		{"2026-12-25", PublicHoliday}, // Eerste Kerstdag
		{"2026-12-26", PublicHoliday}, // Tweede Kerstdag (a Saturday)
		{"2026-11-21", Weekend},       // Saturday
		{"2026-11-22", Weekend},       // Sunday
		{"2026-11-18", Wednesday},     // free afternoon
		{"2026-11-19", Weekday},       // Thursday
		{"2026-02-16", Vacation},      // voorjaarsvakantie midden
		{"2026-02-23", Weekday},       // noord has vacation, midden not
		{"2026-07-20", Vacation},      // zomervakantie midden
		{"2026-07-15", Wednesday},     // midden still at school
		{"2026-10-21", Vacation},      // herfstvakantie midden 2026 (a Wednesday)
		{"2026-10-14", Wednesday},     // noord's herfstvakantie week
		{"2027-01-04", Weekday},       // first school day 2027
	}
	for _, tt := range tests {
		t.Run(tt.date, func(t *testing.T) {
			if got := c.DayType(attendance.MustDate(tt.date)); got != tt.want {
				t.Errorf("DayType(%s) = %s, want %s", tt.date, got, tt.want)
			}
		})
	}
}

func TestDayTypeRegionsNL(t *testing.T) {
	d := attendance.MustDate("2026-07-06") // Monday
	want := map[string]DayType{"noord": Vacation, "midden": Weekday, "zuid": Weekday}
	for region, w := range want {
		cfg := DefaultConfig()
		cfg.Region = region
		if got := MustNew(cfg).DayType(d); got != w {
			t.Errorf("%s: DayType(%s) = %s, want %s", region, d, got, w)
		}
	}
}

func TestDayTypeBE(t *testing.T) {
	cfg, err := ParseConfig(strings.NewReader(`{"country":"be","school_free_days":["2026-03-04"]}`))
	if err != nil {
		t.Fatal(err)
	}
	c := MustNew(cfg)
	if got := c.Location().String(); got != "Europe/Brussels" {
		t.Errorf("time zone %s, want Europe/Brussels", got)
	}
	tests := []struct {
		date string
		want DayType
	}{
		{"2026-05-01", PublicHoliday}, // Dag van de Arbeid
		{"2026-07-21", PublicHoliday}, // Nationale feestdag (in zomervakantie)
		{"2026-08-15", PublicHoliday}, // O.L.V. Hemelvaart (Saturday)
		{"2026-11-11", PublicHoliday}, // Wapenstilstand (a Wednesday)
		{"2026-11-01", PublicHoliday}, // Allerheiligen
		{"2026-12-26", Weekend},       // no Tweede Kerstdag in Belgium
		{"2026-04-27", Weekday},       // no Koningsdag in Belgium
		{"2026-03-04", SchoolFree},    // configured pedagogische studiedag
		{"2026-03-11", Wednesday},     // free Wednesday afternoon
		{"2026-02-18", Vacation},      // krokusvakantie
		{"2026-04-08", Vacation},      // paasvakantie
		{"2026-07-01", Vacation},      // zomervakantie
		{"2026-09-01", Weekday},       // school again
		{"2025-10-29", Vacation},      // herfstvakantie
		{"2027-03-29", PublicHoliday}, // Paasmaandag 2027, first day of paasvakantie
		{"2027-03-31", Vacation},
	}
	for _, tt := range tests {
		t.Run(tt.date, func(t *testing.T) {
			if got := c.DayType(attendance.MustDate(tt.date)); got != tt.want {
				t.Errorf("DayType(%s) = %s, want %s", tt.date, got, tt.want)
			}
		})
	}
}

// TestFlemishVacationRule re-derives the shipped Flemish dates from the rule
// of the Besluit van de Vlaamse Regering van 17 april 1991.
func TestFlemishVacationRule(t *testing.T) {
	easter := func(y int) time.Time {
		d := MustNew(Config{Country: "be"}).Holidays(y)
		for _, p := range d {
			if p.Name == "Pasen" {
				return p.From.In(time.UTC)
			}
		}
		t.Fatalf("no Easter in %d", y)
		return time.Time{}
	}
	monday := func(t time.Time) time.Time { // Monday of t's week
		off := (int(t.Weekday()) + 6) % 7
		return t.AddDate(0, 0, -off)
	}
	var want []Period
	for _, y := range []int{2025, 2026} {
		nov1 := time.Date(y, 11, 1, 0, 0, 0, 0, time.UTC)
		herfst := monday(nov1)
		if nov1.Weekday() == time.Sunday {
			herfst = nov1.AddDate(0, 0, 1)
		}
		xmas := time.Date(y, 12, 25, 0, 0, 0, 0, time.UTC)
		kerst := monday(xmas)
		if xmas.Weekday() == time.Saturday || xmas.Weekday() == time.Sunday {
			kerst = monday(xmas).AddDate(0, 0, 7)
		}
		e := easter(y + 1)
		krokus := e.AddDate(0, 0, -48) // 7th Monday before Easter Sunday
		apr1 := time.Date(y+1, 4, 1, 0, 0, 0, 0, time.UTC)
		paas := apr1.AddDate(0, 0, (8-int(apr1.Weekday()))%7)
		switch {
		case e.Month() == time.March:
			paas = e.AddDate(0, 0, 1)
		case e.After(time.Date(y+1, 4, 15, 0, 0, 0, 0, time.UTC)):
			paas = e.AddDate(0, 0, -13)
		}
		p := func(name string, from time.Time, days int) Period {
			return Period{name, attendance.DateOf(from), attendance.DateOf(from.AddDate(0, 0, days-1))}
		}
		want = append(want, p("herfstvakantie", herfst, 7), p("kerstvakantie", kerst, 14), p("krokusvakantie", krokus, 7),
			p("paasvakantie", paas, 14), Period{"zomervakantie", attendance.Date{Year: y + 1, Month: 7, Day: 1}, attendance.Date{Year: y + 1, Month: 8, Day: 31}})
	}
	if diff := cmp.Diff(want, BuiltinVacations("vlaanderen")); diff != "" {
		t.Errorf("vlaanderen vacations (-rule +shipped):\n%s", diff)
	}
}

func TestBuiltinVacationsWellFormed(t *testing.T) {
	for _, region := range []string{"noord", "midden", "zuid", "vlaanderen"} {
		ps := BuiltinVacations(region)
		if len(ps) != 10 {
			t.Errorf("%s: %d periods, want 10 (two school years)", region, len(ps))
		}
		for i, p := range ps {
			if p.To.Before(p.From) || (i > 0 && !ps[i-1].To.Before(p.From)) {
				t.Errorf("%s: period %d %v out of order", region, i, p)
			}
			if region != "vlaanderen" && (p.From.Weekday() != time.Saturday || p.To.Weekday() != time.Sunday) {
				t.Errorf("%s: %v does not run Saturday to Sunday", region, p)
			}
		}
	}
}

func TestLiberationDayAndGoodFriday(t *testing.T) {
	for _, tt := range []struct {
		cfg  string
		date string
		want DayType
	}{
		{`{"liberation_day":"yearly"}`, "2026-05-05", PublicHoliday},
		{`{"liberation_day":"never"}`, "2025-05-05", Weekday},
		{`{"liberation_day":"lustrum"}`, "2030-05-05", PublicHoliday} /* a Sunday, but a lustrum year */, {`{}`, "2030-05-04", Weekend},
		{`{"good_friday":true}`, "2026-04-03", PublicHoliday},
		{`{"extra_holidays":["2026-06-01"]}`, "2026-06-01", PublicHoliday},
		{`{"free_afternoons":["Wednesday","friday"]}`, "2026-11-20", Wednesday},
		{`{"vacations":[]}`, "2026-07-20", Weekday},
		{`{"vacations":[{"name":"x","from":"2026-06-01","to":"2026-06-02"}]}`, "2026-06-02", Vacation},
	} {
		t.Run(tt.cfg, func(t *testing.T) {
			cfg, err := ParseConfig(strings.NewReader(tt.cfg))
			if err != nil {
				t.Fatal(err)
			}
			if got := MustNew(cfg).DayType(attendance.MustDate(tt.date)); got != tt.want {
				t.Errorf("DayType(%s) = %s, want %s", tt.date, got, tt.want)
			}
		})
	}
}

func TestParseConfigErrorsNameKey(t *testing.T) {
	for _, tt := range []struct{ in, key string }{
		{`{"country":"de"}`, "country"},
		{`{"region":"west"}`, "region"},
		{`{"country":"be","region":"zuid"}`, "region"},
		{`{"time_zone":"Mars/Olympus"}`, "time_zone"},
		{`{"free_afternoons":["woensdag"]}`, "free_afternoons[0]"},
		{`{"school_free_days":["2026-02-30"]}`, "school_free_days[0]"},
		{`{"extra_holidays":["x"]}`, "extra_holidays[0]"},
		{`{"vacations":[{"name":"a","from":"2026-01-02","to":"2026-01-01"}]}`, "vacations[0]"},
		{`{"vacations":[{"name":"a","from":"bad","to":"2026-01-01"}]}`, "vacations[0].from"},
		{`{"liberation_day":"sometimes"}`, "liberation_day"},
		{`{"good_friday":"yes"}`, "good_friday"},
		{`{"colour":"red"}`, "colour"},
	} {
		t.Run(tt.in, func(t *testing.T) {
			_, err := ParseConfig(strings.NewReader(tt.in))
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("ParseConfig error %v, want a *ConfigError", err)
			}
			if ce.Key != tt.key {
				t.Errorf("key %q, want %q (error: %v)", ce.Key, tt.key, err)
			}
		})
	}
}

func TestWithActivity(t *testing.T) {
	if got := WithActivity(Vacation, true); got != VacationActivity {
		t.Errorf("vacation+activity = %s", got)
	}
	if got := WithActivity(Weekday, true); got != Weekday {
		t.Errorf("weekday+activity = %s", got)
	}
	if _, err := ParseDayType("holiday"); !errors.Is(err, ErrDayType) {
		t.Errorf("ParseDayType(holiday) error %v, want ErrDayType", err)
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add(`{"country":"be"}`)
	f.Add(`{"region":"zuid","free_afternoons":["wednesday"],"school_free_days":["2026-03-04"]}`)
	f.Add(`{"vacations":[{"name":"a","from":"2026-01-01","to":"2026-01-09"}],"liberation_day":"yearly"}`)
	f.Add(`{"time_zone":"UTC"}`)
	f.Fuzz(func(t *testing.T, in string) {
		cfg, err := ParseConfig(strings.NewReader(in))
		if err != nil {
			return
		}
		if _, err := New(cfg); err != nil {
			t.Fatalf("ParseConfig accepted %q but New failed: %v", in, err)
		}
	})
}

func TestExampleConfigs(t *testing.T) {
	for _, tt := range []struct {
		file string
		date string
		want DayType
	}{
		{"anzegem.json", "2026-03-04", SchoolFree},
		{"anzegem.json", "2026-02-18", Vacation},
		{"deburcht.json", "2026-11-20", Wednesday}, // a Friday: free afternoon
		{"deburcht.json", "2026-04-03", PublicHoliday},
		{"deburcht.json", "2026-07-13", Vacation}, // zuid
	} {
		t.Run(tt.file+"/"+tt.date, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			cfg, err := ParseConfig(f)
			if err != nil {
				t.Fatal(err)
			}
			if got := MustNew(cfg).DayType(attendance.MustDate(tt.date)); got != tt.want {
				t.Errorf("DayType(%s) = %s, want %s", tt.date, got, tt.want)
			}
		})
	}
}
