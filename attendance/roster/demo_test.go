package roster

import (
	"testing"
	"time"
)

// TestDemoTodayIsTheDemoLocationsDate: kioskd -demo and central -demo seed
// the demo roster of the same date, whatever zone their machines run in
// (at 23:30 UTC it is already the next day in Amsterdam).
func TestDemoTodayIsTheDemoLocationsDate(t *testing.T) {
	for _, tt := range []struct {
		now  time.Time
		want string
	}{
		{time.Date(2026, 12, 4, 23, 30, 0, 0, time.UTC), "2026-12-05"},
		{time.Date(2026, 12, 4, 22, 59, 0, 0, time.UTC), "2026-12-04"},
		{time.Date(2026, 6, 10, 22, 30, 0, 0, time.UTC), "2026-06-11"},
		{time.Date(2026, 12, 5, 0, 30, 0, 0, time.FixedZone("UTC-5", -5*3600)), "2026-12-05"},
	} {
		if got := DemoToday(tt.now).String(); got != tt.want {
			t.Errorf("DemoToday(%s) = %s, want %s", tt.now, got, tt.want)
		}
	}
	r, _ := Demo(DemoToday(time.Now()))
	if r.Location.TimeZone != DemoTimeZone {
		t.Errorf("the demo location's zone %q is not DemoTimeZone", r.Location.TimeZone)
	}
}
