package stays

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kinderdeur/kiosk/attendance"
)

// On a day summer time changes, minutes come from instants: only a stay
// across the changed hour (02:00-03:00 local) differs by 60 minutes from its
// clock times, and a whole day is 1500 (October) or 1380 (March) minutes.
func TestDSTDaysMinutesFromInstants(t *testing.T) {
	in, out := attendance.ChildCheckIn, attendance.ChildCheckOut
	at := func(seq int64, typ attendance.EventType, utc time.Time) attendance.Event {
		return attendance.Event{ID: "e" + string(rune('a'+seq)), Seq: seq, Type: typ, LocationID: "burcht",
			GroupID: "bso-1", ChildID: "c1", Wall: utc, ClockSynced: true}
	}
	u := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, time.UTC) }
	tests := []struct {
		name   string
		events []attendance.Event
		want   []string // "date in-out minutes"
	}{
		{"October: a whole day across the change is 1500 minutes", []attendance.Event{
			at(1, in, u(2026, 10, 24, 18, 0)), at(2, out, u(2026, 10, 26, 7, 0))}, // 20:00 CEST .. 08:00 CET
			[]string{"2026-10-24 20:00-24:00 240", "2026-10-25 00:00-24:00 1500", "2026-10-26 00:00-08:00 480"}},
		{"March: a whole day across the change is 1380 minutes", []attendance.Event{
			at(1, in, u(2026, 3, 28, 19, 0)), at(2, out, u(2026, 3, 30, 6, 0))}, // 20:00 CET .. 08:00 CEST
			[]string{"2026-03-28 20:00-24:00 240", "2026-03-29 00:00-24:00 1380", "2026-03-30 00:00-08:00 480"}},
		{"October: a morning stay after the change keeps its clock minutes", []attendance.Event{
			at(1, in, u(2026, 10, 25, 6, 0)), at(2, out, u(2026, 10, 25, 8, 30))}, // 07:00-09:30 CET
			[]string{"2026-10-25 07:00-09:30 150"}},
		{"October: within the repeated hour, first 02:10 to second 02:50", []attendance.Event{
			at(1, in, u(2026, 10, 25, 0, 10)), at(2, out, u(2026, 10, 25, 1, 50))},
			[]string{"2026-10-25 02:10-02:50 100"}},
		{"March: 01:30-03:30 is one hour of real time", []attendance.Event{
			at(1, in, u(2026, 3, 29, 0, 30)), at(2, out, u(2026, 3, 29, 1, 30))},
			[]string{"2026-03-29 01:30-03:30 60"}},
	}
	opt := testOptions()
	opt.Now = nil
	opt.MaxStay = 48 * time.Hour
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Build(tt.events, opt)
			if err != nil {
				t.Fatal(err)
			}
			var msgs []string
			for _, s := range got {
				msgs = append(msgs, s.Date.String()+" "+s.CheckIn.String()+"-"+s.CheckOut.String()+" "+itoa(s.Minutes))
			}
			if diff := cmp.Diff(tt.want, msgs); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			// What Build writes, ReadCSV accepts.
			var buf bytes.Buffer
			if err := WriteCSV(&buf, got); err != nil {
				t.Fatal(err)
			}
			back, err := ReadCSV(&buf)
			if err != nil {
				t.Fatalf("ReadCSV of Build's own output: %v", err)
			}
			if len(back) != len(got) {
				t.Errorf("ReadCSV: %d stays, want %d", len(back), len(got))
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestReadCSVDSTOnlyAcrossTheChangedHour(t *testing.T) {
	const hdr = "child_id,child_name,group,date,check_in,check_out,minutes,day_type\n"
	tests := []struct {
		row string
		err error // nil: accepted
	}{
		{"c1,N,g,2026-10-25,00:00,09:30,630,weekend", nil},
		{"c1,N,g,2026-10-25,00:00,24:00,1500,weekend", nil},
		{"c1,N,g,2026-10-25,07:00,09:30,150,weekend", nil},
		{"c1,N,g,2026-10-25,07:00,09:30,210,weekend", ErrBadMinutes}, // after the change: no extra hour
		{"c1,N,g,2026-10-25,07:00,09:30,90,weekend", ErrBadMinutes},
		{"c1,N,g,2026-10-25,00:00,09:30,570,weekend", ErrBadMinutes}, // across the repeated hour: +60 only
		{"c1,N,g,2026-10-25,02:10,02:50,100,weekend", nil},           // ambiguous: first 02:10 to second 02:50
		{"c1,N,g,2026-10-25,02:10,02:50,40,weekend", nil},
		{"c1,N,g,2026-03-29,00:00,24:00,1380,weekend", nil},
		{"c1,N,g,2026-03-29,01:30,03:30,60,weekend", nil},
		{"c1,N,g,2026-03-29,01:30,03:30,120,weekend", ErrBadMinutes},
		{"c1,N,g,2026-03-29,18:00,19:00,0,weekend", ErrBadMinutes},
		{"c1,N,g,2026-03-29,18:00,19:00,60,weekend", nil},
		{"c1,N,g,2026-03-29,02:30,04:00,30,weekend", ErrBadTime}, // 02:30 does not exist that day
		{"c1,N,g,2026-10-18,00:00,09:30,630,weekend", ErrBadMinutes},
		{"c1,N,g,2026-10-18,00:00,24:00,1500,weekend", ErrBadMinutes},
	}
	for _, tt := range tests {
		t.Run(tt.row, func(t *testing.T) {
			_, err := ReadCSV(strings.NewReader(hdr + tt.row + "\n"))
			if tt.err == nil && err != nil {
				t.Errorf("rejected: %v", err)
			}
			if tt.err != nil && !errors.Is(err, tt.err) {
				t.Errorf("err = %v, want %v", err, tt.err)
			}
		})
	}
}

func TestReadCSVTravelMinutes(t *testing.T) {
	const hdr = "child_id,child_name,group,date,check_in,check_out,minutes,day_type,travel_minutes\n"
	got, err := ReadCSV(strings.NewReader(hdr + "c1,N,g,2026-11-16,14:00,15:40,100,weekday,20\nc1,N,g,2026-11-17,14:00,15:40,100,weekday,\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got[0].TravelMinutes != 20 || got[1].TravelMinutes != 0 {
		t.Errorf("travel = %d, %d; want 20, 0", got[0].TravelMinutes, got[1].TravelMinutes)
	}
	_, err = ReadCSV(strings.NewReader(hdr + "c1,N,g,2026-11-16,14:00,15:40,100,weekday,-5\n"))
	var pe *ParseError
	if !errors.As(err, &pe) || len(pe.Errs) != 1 || pe.Errs[0].Line != 2 || pe.Errs[0].Column != TravelColumn {
		t.Errorf("travel -5: %v, want one error on line 2, column %s", err, TravelColumn)
	}
}
