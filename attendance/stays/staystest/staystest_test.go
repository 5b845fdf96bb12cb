package staystest

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kinderdeur/kiosk/attendance/calendar"
	"github.com/kinderdeur/kiosk/attendance/stays"
)

func TestYearIsRealisticAndDeterministic(t *testing.T) {
	cal := calendar.MustNew(calendar.DefaultConfig())
	a, b := Year(cal, 4, 2026, 7), Year(cal, 4, 2026, 7)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Fatalf("same seed, different events:\n%s", diff)
	}
	s, err := stays.Build(a, stays.Options{Calendar: cal, Child: Children})
	if err != nil {
		t.Fatal(err)
	}
	// 2026 has 261 weekdays, 9 of them public holidays in region midden's
	// calendar; two stays a day with p=0.96 each.
	if n := len(s); n < 1800 || n > 2100 {
		t.Errorf("%d stays for 4 children, want about 1,940", n)
	}
	for _, st := range s {
		if !st.Complete() || st.Minutes <= 0 || st.ChildName == "" || st.GuardianID == "" {
			t.Fatalf("bad generated stay %+v", st)
		}
		if st.DayType == calendar.Weekend || st.DayType == calendar.PublicHoliday {
			t.Fatalf("care on a closed day: %+v", st)
		}
	}
}

func TestHeapSampler(t *testing.T) {
	h := StartHeapSampler()
	buf := make([]byte, 8<<20)
	for i := range buf {
		buf[i] = byte(i)
	}
	peak := h.Stop()
	if peak < 8<<20 {
		t.Errorf("peak %d bytes, want at least the 8 MiB allocated", peak)
	}
	_ = buf[len(buf)-1]
}
