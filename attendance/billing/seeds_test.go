package billing

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/calendar"
	"github.com/kinderdeur/kiosk/attendance/stays"
)

// The seeds to the letter (issue 15). Each case failed before its fix.

// Seed 003: only the Wednesday AFTERNOON is priced 'most favourable'; the
// before-school stay of a Wednesday morning is ordinary before-school care.
func TestAnzegemWednesdayMorningIsBeforeSchoolCare(t *testing.T) {
	wed := calendar.Wednesday
	tests := []struct {
		name  string
		stays []stays.Stay
		want  []brief
	}{
		{"morning per half hour + afternoon forfait: 375 + 725",
			[]stays.Stay{st("c1", "2026-11-18", "07:00-08:30", wed), st("c1", "2026-11-18", "12:00-18:00", wed)},
			[]brief{{"2026-11-18", 450, 450, 1100, "anzegem-bko/morning-half-hour+afternoon-forfait-2"}}},
		{"morning + short afternoon: 375 + 375 (half hours cheaper than forfait-1)",
			[]stays.Stay{st("c1", "2026-11-18", "07:00-08:30", wed), st("c1", "2026-11-18", "12:00-13:30", wed)},
			[]brief{{"2026-11-18", 180, 180, 750, "anzegem-bko/morning-half-hour+afternoon-half-hour"}}},
		{"morning only: per started half hour, never a forfait",
			[]stays.Stay{st("c1", "2026-11-18", "07:00-08:31", wed)},
			[]brief{{"2026-11-18", 91, 120, 500, "anzegem-bko/half-hour"}}},
		{"a stay across noon is split at 12:00: 11:40-12:00 morning, 12:00-15:00 afternoon",
			[]stays.Stay{st("c1", "2026-11-18", "11:40-15:00", wed)},
			[]brief{{"2026-11-18", 200, 210, 850, "anzegem-bko/morning-half-hour+afternoon-forfait-2"}}},
		{"afternoon only is unchanged", []stays.Stay{st("c1", "2026-11-18", "12:00-13:31", wed)},
			[]brief{{"2026-11-18", 91, 91, 435, "anzegem-bko/forfait-1"}}},
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

// Seed 002: no month minimum before the contract starts; the first and the
// last month of a contract have a pro-rated minimum.
func TestBernefertierMonthMinimumFollowsTheContract(t *testing.T) {
	wd := calendar.Weekday
	c := func(start, end string) map[string]Contract {
		k := Contract{ChildID: "c1"}
		if start != "" {
			k.Start = attendance.MustDate(start)
		}
		if end != "" {
			k.End = attendance.MustDate(end)
		}
		return map[string]Contract{"c1": k}
	}
	tests := []struct {
		name      string
		stays     []stays.Stay
		contracts map[string]Contract
		want      []brief
	}{
		{"settling-in in the month before the start: free, no month minimum",
			[]stays.Stay{st("c1", "2026-10-27", "09:00-11:00", wd), st("c1", "2026-10-29", "09:00-11:00", wd)},
			c("2026-11-02", ""),
			[]brief{{"2026-10-27", 120, 0, 0, "bernefertier/settling-in"}, {"2026-10-29", 120, 0, 0, "bernefertier/settling-in"}}},
		{"first month from the 16th: 15 of 30 days, minimum 600 of 1200 minutes",
			[]stays.Stay{st("c1", "2026-11-17", "08:00-13:00", wd)},
			c("2026-11-16", ""),
			[]brief{{"2026-11-17", 300, 300, 2750, "bernefertier/hourly"}, {"2026-11-30", 0, 300, 2750, "bernefertier/month-minimum-dagopvang-pro-rata"}}},
		{"last month to the 10th: 10 of 30 days, minimum 400",
			[]stays.Stay{st("c1", "2026-11-03", "08:00-13:00", wd)},
			c("2026-01-01", "2026-11-10"),
			[]brief{{"2026-11-03", 300, 300, 2750, "bernefertier/hourly"}, {"2026-11-30", 0, 100, 917, "bernefertier/month-minimum-dagopvang-pro-rata"}}},
		{"a whole month of the contract: the full minimum",
			[]stays.Stay{st("c1", "2026-11-17", "08:00-13:00", wd)},
			c("2026-11-01", "2026-11-30"),
			[]brief{{"2026-11-17", 300, 300, 2750, "bernefertier/hourly"}, {"2026-11-30", 0, 900, 8250, "bernefertier/month-minimum-dagopvang"}}},
		{"care after the contract ended: no minimum",
			[]stays.Stay{st("c1", "2026-12-01", "08:00-09:00", wd)},
			c("2026-01-01", "2026-11-30"),
			[]brief{{"2026-12-01", 60, 120, 1100, "bernefertier/hourly+day-minimum"}}},
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

// Seed 002 'Het kind wordt tijdens de opvang ziek': the hours the child was
// not present because of illness are billed 'op de gebruikelijke wijze':
// the agreed hours, not the agreed hours on top of the stay, and outside the
// one-week limit of an absent sick child. Seed 004 'Afgesproken opvanguren
// worden ... in rekening gebracht': a shortened day bills the agreed hours.
func TestSentHomeAndShortenedDays(t *testing.T) {
	wd := calendar.Weekday
	runAbsCases(t, "bernefertier", []absCase{
		{name: "sent home sick at 11:00 of an agreed 08:00-18:00: 600 minutes in all",
			stays: []stays.Stay{st("c1", "2026-11-17", "08:00-11:00", wd), st("c1", "2026-11-02", "08:00-18:00", wd), st("c1", "2026-11-03", "08:00-18:00", wd)},
			abs:   []Absence{ab("c1", "2026-11-17", AbsenceSick, 600)},
			want: []absBrief{
				{"2026-11-02", wd, 600, 600, 5500, "bernefertier/hourly", ""},
				{"2026-11-03", wd, 600, 600, 5500, "bernefertier/hourly", ""},
				{"2026-11-17", wd, 180, 180, 1650, "bernefertier/hourly", ""},
				{"2026-11-17", wd, 0, 420, 3850, "bernefertier/sick-sent-home", fSick},
			}},
		{name: "sent home after 30 minutes: the day minimum of the stay counts toward the agreed hours",
			stays: []stays.Stay{st("c1", "2026-11-17", "08:00-08:30", wd), st("c1", "2026-11-02", "08:00-18:00", wd), st("c1", "2026-11-03", "08:00-18:00", wd)},
			abs:   []Absence{ab("c1", "2026-11-17", AbsenceSick, 240)},
			want: []absBrief{
				{"2026-11-02", wd, 600, 600, 5500, "bernefertier/hourly", ""},
				{"2026-11-03", wd, 600, 600, 5500, "bernefertier/hourly", ""},
				{"2026-11-17", wd, 30, 120, 1100, "bernefertier/hourly+day-minimum", ""},
				{"2026-11-17", wd, 0, 120, 1100, "bernefertier/sick-sent-home", fSick},
			}},
	})
	runAbsCases(t, "deburcht", []absCase{
		{name: "shortened day: 14:00-15:40 of an agreed 14:00-18:00 bills 4 h",
			stays: []stays.Stay{st("c1", "2026-11-16", "14:00-15:40", wd)},
			abs:   []Absence{ab("c1", "2026-11-16", AbsenceShortDay, 240)},
			want: []absBrief{
				{"2026-11-16", wd, 100, 105, 1400, "deburcht/quarter-hour", ""},
				{"2026-11-16", wd, 0, 135, 1800, "deburcht/agreed-hours", "absence_short_day"},
			}},
		{name: "a longer day than agreed bills the actual times, nothing more",
			stays: []stays.Stay{st("c1", "2026-11-16", "14:00-18:10", wd)},
			abs:   []Absence{ab("c1", "2026-11-16", AbsenceShortDay, 240)},
			want: []absBrief{
				{"2026-11-16", wd, 250, 255, 3400, "deburcht/quarter-hour", ""},
				{"2026-11-16", wd, 0, 0, 0, "deburcht/agreed-hours", "absence_short_day"},
			}},
	})
}

// Seed 004 'Reistijd': the time Adri is away from home to fetch or bring a
// child is care time, billed like care.
func TestDeBurchtTravelTimeIsCare(t *testing.T) {
	wd := calendar.Weekday
	s := st("c1", "2026-11-16", "14:00-15:40", wd)
	s.TravelMinutes = 20 // 1h40 + 20 min = 2 h
	got := engine(t, "deburcht", nil).Bill([]stays.Stay{s})
	want := []brief{{"2026-11-16", 100, 120, 1600, "deburcht/quarter-hour+travel"}}
	if diff := cmp.Diff(want, briefs(got)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got[0].TravelMinutes != 20 {
		t.Errorf("TravelMinutes = %d, want 20", got[0].TravelMinutes)
	}
	// Each stay rounds its own care plus travel.
	a, b := st("c1", "2026-11-16", "07:00-08:00", wd), st("c1", "2026-11-16", "14:00-15:00", wd)
	a.TravelMinutes, b.TravelMinutes = 10, 5
	got = engine(t, "deburcht", nil).Bill([]stays.Stay{a, b})
	if got[0].BilledMinutes != 75+75 || got[0].TravelMinutes != 15 {
		t.Errorf("two stays with travel: billed %d travel %d, want 150 and 15", got[0].BilledMinutes, got[0].TravelMinutes)
	}
	// A profile that does not bill travel says so on the line.
	got = engine(t, "anzegem-bko", nil).Bill([]stays.Stay{s})
	if got[0].AmountCents != 500 || !hasFlag(got[0].Flags, FlagTravelNotBilled) {
		t.Errorf("anzegem with travel: %+v, want 500 cents and flag %s", got[0], FlagTravelNotBilled)
	}
}
