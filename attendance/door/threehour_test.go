package door

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/calendar"
	"github.com/kinderdeur/kiosk/attendance/ratio"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/attendance/rules"
	"github.com/kinderdeur/kiosk/attendance/store"
)

const cardRuben = "1C2D3E4F" // guardian of Levi (Vlinders)

func (r *rig) threeHour(group string) *rules.ThreeHour {
	r.t.Helper()
	sv := r.staffView()
	if sv == nil {
		r.tap(cardAhmed) // a parent's tap locked the panel: Ahmed opens it again
		sv = r.staffView()
	}
	if sv == nil {
		r.t.Fatal("no staff view")
	}
	for _, g := range sv.Groups {
		if g.GroupID == group {
			return g.ThreeHour
		}
	}
	r.t.Fatalf("no group %s", group)
	return nil
}

func TestThreeHourRuleOnTheStaffPanel(t *testing.T) {
	// Vlinders at 1:1, so two children need two staff; the demo's windows
	// on weekdays are 07:00-08:30, 13:00-14:00 and 17:30-18:00.
	oneToOne := func(ro *roster.Roster) {
		for i := range ro.Groups {
			if ro.Groups[i].ID == "g-vlinders" {
				ro.Groups[i].Policy = "1:1"
			}
		}
	}
	r := newRig(t, oneToOne)
	ctx := context.Background()
	r.tap(cardAhmed)   // 07:30
	r.tap(cardYoussef) // Zoë: 1 child, 1 staff
	r.clk.advance(10 * time.Minute)
	r.tap(cardRuben) // 07:40 Levi: 2 children, 1 staff: below ratio, in a window
	r.clk.advance(20 * time.Minute)
	if diff := cmp.Diff(&rules.ThreeHour{MinutesBelow: 20, Budget: 180}, r.threeHour("g-vlinders")); diff != "" {
		t.Errorf("08:00 (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(&rules.ThreeHour{MinutesBelow: 0, Budget: 30}, r.threeHour("g-bikkels")); diff != "" {
		t.Errorf("BSO on a school day (-want +got):\n%s", diff)
	}
	r.clk.advance(40 * time.Minute) // 08:40: the window closed at 08:30
	want := &rules.ThreeHour{MinutesBelow: 60, Budget: 180, Alert: "outside_window"}
	if diff := cmp.Diff(want, r.threeHour("g-vlinders")); diff != "" {
		t.Errorf("08:40 (-want +got):\n%s", diff)
	}

	// A restart rebuilds the day from the stored events.
	r.st.Close()
	st, err := store.Open(r.path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg := r.cfg
	cfg.Store = st
	s2, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.s, r.st = s2, st
	r.tap(cardAhmed) // staff menu
	if diff := cmp.Diff(want, r.threeHour("g-vlinders")); diff != "" {
		t.Errorf("after restart (-want +got):\n%s", diff)
	}

	// 09:00 Ahmed leaves: no staff for two children, below the floor.
	r.clk.advance(20 * time.Minute)
	r.s.Activity()
	if err := r.s.Manual(ctx, ManualStaffOut, "", ""); err != nil {
		t.Fatal(err)
	}
	if err := r.s.Manual(ctx, ManualStaffOutSure, "", ""); err != nil {
		t.Fatal(err)
	}
	r.clk.advance(time.Minute)
	r.tap(cardPriya)
	want = &rules.ThreeHour{MinutesBelow: 81, Budget: 180, Alert: "below_floor,outside_window"}
	if diff := cmp.Diff(want, r.threeHour("g-vlinders")); diff != "" {
		t.Errorf("09:01 (-want +got):\n%s", diff)
	}
	r.s.expire() // the door's tick raises three-hour alerts (off the tap path)
	warned := false
	for _, w := range r.staffView().Warnings {
		if w.Code == "three_hour" && w.GroupID == "g-vlinders" {
			warned = true
		}
	}
	if !warned {
		t.Errorf("no three-hour warning: %+v", r.staffView().Warnings)
	}

	// The next day starts at zero (the state at midnight carries over).
	r.clk.set(time.Date(2026, 3, 5, 0, 30, 0, 0, ams))
	r.tap(cardPriya)
	if diff := cmp.Diff(&rules.ThreeHour{MinutesBelow: 30, Budget: 180, Alert: "below_floor,outside_window"}, r.threeHour("g-vlinders")); diff != "" {
		t.Errorf("00:30 next day (-want +got):\n%s", diff)
	}
}

func TestThreeHourClosedDayAndBadWindows(t *testing.T) {
	r := newRig(t)
	r.clk.set(time.Date(2026, 3, 7, 10, 0, 0, 0, ams)) // Saturday: closed
	r.tap(cardLotte)
	if diff := cmp.Diff(&rules.ThreeHour{Budget: 0}, r.threeHour("g-rupsen")); diff != "" {
		t.Errorf("closed day (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(&rules.ThreeHour{Budget: 0}, r.threeHour("g-bikkels")); diff != "" {
		t.Errorf("BSO on a closed Saturday (-want +got):\n%s", diff)
	}
	bad := newRig(t, func(ro *roster.Roster) {
		ro.Location.ThreeHourWindows = append(ro.Location.ThreeHourWindows, roster.Window{Weekday: time.Wednesday, From: "07:30", Until: "09:00"})
	})
	bad.tap(cardLotte)
	if th := bad.threeHour("g-rupsen"); th != nil {
		t.Errorf("overlapping windows: three-hour state %+v, want none", th)
	}
}

func TestThreeHourRuleOnDSTDays(t *testing.T) {
	// Open on Sundays 00:00-24:00 with a window 01:00-04:00: on the spring
	// change day the window is 2 real hours long, in autumn 4.
	sunday := func(ro *roster.Roster) {
		ro.Location.Hours = append(ro.Location.Hours, roster.Hours{Weekday: time.Sunday, Open: "00:00", Close: "23:59"})
		ro.Location.ThreeHourWindows = append(ro.Location.ThreeHourWindows, roster.Window{Weekday: time.Sunday, From: "01:00", Until: "04:00"})
		for i := range ro.Groups {
			ro.Groups[i].Policy = "1:1"
		}
	}
	for _, tt := range []struct {
		name string
		day  time.Time // 00:30 local
		want rules.ThreeHour
	}{
		// Below ratio from 00:30 to 05:00 local. Spring: 3.5 real hours,
		// 2 of them inside the window. Autumn: 5.5 real hours, 4 inside.
		{"spring", time.Date(2026, 3, 29, 0, 30, 0, 0, ams), rules.ThreeHour{MinutesBelow: 210, Budget: 180, Alert: "outside_window,over_budget"}},
		{"autumn", time.Date(2026, 10, 25, 0, 30, 0, 0, ams), rules.ThreeHour{MinutesBelow: 330, Budget: 180, Alert: "outside_window,over_budget"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, sunday)
			r.clk.set(tt.day)
			r.tap(cardYoussef) // Zoë in, nobody there: below ratio and floor
			r.tap(cardLotte)   // staff of another group
			r.clk.set(time.Date(tt.day.Year(), tt.day.Month(), tt.day.Day(), 5, 0, 0, 0, ams))
			got := r.threeHour("g-vlinders")
			if got == nil || got.MinutesBelow != tt.want.MinutesBelow || got.Budget != tt.want.Budget {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestCalendarThreeHourDay(t *testing.T) {
	cal := calendar.MustNew(calendar.DefaultConfig()) // midden, free Wednesday afternoons
	day := CalendarThreeHourDay(cal)
	bso := roster.Group{ID: "g", Policy: "nl-bso"}
	kdv := roster.Group{ID: "k", Policy: "nl-kdv"}
	for _, tt := range []struct {
		g    roster.Group
		date string
		want ratio.DayKind
	}{
		{bso, "2026-03-03", ratio.BSOSchoolDay},   // Tuesday
		{bso, "2026-03-04", ratio.BSOSchoolDay},   // Wednesday, free afternoon
		{bso, "2026-03-07", ratio.BSOVacationDay}, // Saturday
		{bso, "2026-07-29", ratio.BSOVacationDay}, // summer vacation (midden)
		{bso, "2026-12-25", ratio.BSOVacationDay}, // Christmas
		{kdv, "2026-07-29", ratio.DayCare},
		{kdv, "2026-03-03", ratio.DayCare},
	} {
		if got := day(tt.g, attendance.MustDate(tt.date)); got != tt.want {
			t.Errorf("%s on %s: %s, want %s", tt.g.Policy, tt.date, got, tt.want)
		}
	}
}
