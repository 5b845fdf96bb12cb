package stays

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kinderdeur/kiosk/attendance"
)

// at is a local Amsterdam time in UTC.
func at(local string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", local, ams)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// corr builds a correction event made at local time made.
func corr(id, child, made string, c attendance.Correction) attendance.Event {
	if c.Reason == "" {
		c.Reason = "vergeten"
	}
	c.By = "staff:s1"
	return attendance.Event{ID: id, DeviceID: "door-1", Type: attendance.CorrectionEvent, LocationID: "burcht",
		GroupID: "bso-1", ChildID: child, Wall: at(made), ClockSynced: true, Correction: &c}
}

// rows renders stays compactly: "date child in-out minutes flags".
func rows(st []Stay) []string {
	out := make([]string, len(st))
	for i, s := range st {
		out[i] = strings.TrimSpace(fmt.Sprintf("%s %s %s-%s %d %s %s", s.Date, s.ChildID, s.CheckIn, s.CheckOut, s.Minutes, s.Quality, FlagsString(s.Flags)))
	}
	return out
}

func TestBuildCorrections(t *testing.T) {
	in, out := attendance.ChildCheckIn, attendance.ChildCheckOut
	// A forgotten check-out on Monday: c1 stays "present" until Tuesday.
	forgotten := []attendance.Event{
		ev(1, in, "c1", "2026-11-16 08:00"),
		ev(2, in, "c1", "2026-11-17 08:10"),
		ev(3, out, "c1", "2026-11-17 16:00"),
	}
	normal := []attendance.Event{
		ev(1, in, "c1", "2026-11-16 08:00"),
		ev(2, out, "c1", "2026-11-16 17:00"),
	}
	eb := "e" + string(rune('a'+1)) // id of seq 1
	ec := "e" + string(rune('a'+2)) // id of seq 2
	setOut := func(id, made, to string) attendance.Event {
		return corr(id, "c1", made, attendance.Correction{Kind: attendance.SetCheckOut, Target: eb, CheckOut: at(to)})
	}
	tests := []struct {
		name   string
		events []attendance.Event
		want   []string
	}{
		{"no correction: the forgotten check-out is flagged", forgotten, []string{
			"2026-11-16 c1 08:00- 0 ok missing_checkout",
			"2026-11-17 c1 08:10-16:00 470 ok",
		}},
		{"set_check_out ends the forgotten stay", append(forgotten[:3:3],
			setOut("x1", "2026-11-17 09:00", "2026-11-16 17:30")), []string{
			"2026-11-16 c1 08:00-17:30 570 ok corrected",
			"2026-11-17 c1 08:10-16:00 470 ok",
		}},
		{"set_check_in by the check-out's event id", append(normal[:2:2],
			corr("x1", "c1", "2026-11-16 18:00", attendance.Correction{Kind: attendance.SetCheckIn, Target: ec, CheckIn: at("2026-11-16 07:45")})), []string{
			"2026-11-16 c1 07:45-17:00 555 ok corrected",
		}},
		{"remove_stay: the stay disappears", append(normal[:2:2],
			corr("x1", "c1", "2026-11-16 18:00", attendance.Correction{Kind: attendance.RemoveStay, Target: eb})), []string{}},
		{"add_stay: a missed stay", append(normal[:2:2],
			corr("x1", "c2", "2026-11-16 18:00", attendance.Correction{Kind: attendance.AddStay, CheckIn: at("2026-11-16 12:00"), CheckOut: at("2026-11-16 15:15")})), []string{
			"2026-11-16 c1 08:00-17:00 540 ok",
			"2026-11-16 c2 12:00-15:15 195 ok corrected",
		}},
		{"two corrections of the same stay: the later wins, whatever the input order", append(forgotten[:3:3],
			setOut("x2", "2026-11-17 10:00", "2026-11-16 18:00"),
			setOut("x1", "2026-11-17 09:00", "2026-11-16 17:30")), []string{
			"2026-11-16 c1 08:00-18:00 600 ok corrected",
			"2026-11-17 c1 08:10-16:00 470 ok",
		}},
		{"the same correction twice counts once", append(normal[:2:2],
			corr("x1", "c1", "2026-11-16 18:00", attendance.Correction{Kind: attendance.SetCheckIn, Target: eb, CheckIn: at("2026-11-16 07:00")}),
			corr("x1", "c1", "2026-11-16 18:00", attendance.Correction{Kind: attendance.SetCheckIn, Target: eb, CheckIn: at("2026-11-16 07:00")})), []string{
			"2026-11-16 c1 07:00-17:00 600 ok corrected",
		}},
		{"a correction of a correction: an added stay corrected, then removed", append(normal[:2:2],
			corr("x1", "c2", "2026-11-16 18:00", attendance.Correction{Kind: attendance.AddStay, CheckIn: at("2026-11-16 12:00"), CheckOut: at("2026-11-16 15:00")}),
			corr("x2", "c2", "2026-11-16 18:05", attendance.Correction{Kind: attendance.SetCheckOut, Target: "x1", CheckOut: at("2026-11-16 16:00")})), []string{
			"2026-11-16 c1 08:00-17:00 540 ok",
			"2026-11-16 c2 12:00-16:00 240 ok corrected",
		}},
		{"an added stay removed again", append(normal[:2:2],
			corr("x1", "c2", "2026-11-16 18:00", attendance.Correction{Kind: attendance.AddStay, CheckIn: at("2026-11-16 12:00"), CheckOut: at("2026-11-16 15:00")}),
			corr("x2", "c2", "2026-11-16 18:05", attendance.Correction{Kind: attendance.RemoveStay, Target: "x1"})), []string{
			"2026-11-16 c1 08:00-17:00 540 ok",
		}},
		{"a removed stay stays removed: a later set is ignored", append(normal[:2:2],
			corr("x1", "c1", "2026-11-16 18:00", attendance.Correction{Kind: attendance.RemoveStay, Target: eb}),
			corr("x2", "c1", "2026-11-16 18:05", attendance.Correction{Kind: attendance.SetCheckOut, Target: eb, CheckOut: at("2026-11-16 16:00")})), []string{}},
		{"an unknown target or another child's stay changes nothing", append(normal[:2:2],
			corr("x1", "c1", "2026-11-16 18:00", attendance.Correction{Kind: attendance.RemoveStay, Target: "nope"}),
			corr("x2", "c2", "2026-11-16 18:00", attendance.Correction{Kind: attendance.RemoveStay, Target: eb})), []string{
			"2026-11-16 c1 08:00-17:00 540 ok",
		}},
		{"set_check_in on a check-out without check-in completes it", []attendance.Event{
			ev(1, out, "c1", "2026-11-16 17:00"),
			corr("x1", "c1", "2026-11-16 18:00", attendance.Correction{Kind: attendance.SetCheckIn, Target: eb, CheckIn: at("2026-11-16 08:30")})}, []string{
			"2026-11-16 c1 08:30-17:00 510 ok corrected",
		}},
		{"a corrected check-out after midnight splits at midnight", append(forgotten[:1:1],
			corr("x1", "c1", "2026-11-17 09:00", attendance.Correction{Kind: attendance.SetCheckOut, Target: eb, CheckOut: at("2026-11-17 01:00")})), []string{
			"2026-11-16 c1 08:00-24:00 960 ok split_midnight;corrected",
			"2026-11-17 c1 00:00-01:00 60 ok split_midnight;corrected",
		}},
		{"DST: a corrected stay across the October change counts real minutes", []attendance.Event{
			ev(1, in, "c1", "2026-10-25 01:00"),
			corr("x1", "c1", "2026-10-25 12:00", attendance.Correction{Kind: attendance.SetCheckOut, Target: eb, CheckOut: at("2026-10-25 04:00")})}, []string{
			"2026-10-25 c1 01:00-04:00 240 ok corrected",
		}},
		{"a corrected time replaces an unverified one", []attendance.Event{
			{ID: eb, Seq: 1, Type: in, ChildID: "c1", GroupID: "bso-1", Wall: at("2026-11-16 08:00"), ClockSynced: true},
			{ID: ec, Seq: 2, Type: out, ChildID: "c1", GroupID: "bso-1", Wall: at("2026-11-16 23:59")},
			corr("x1", "c1", "2026-11-17 09:00", attendance.Correction{Kind: attendance.SetCheckOut, Target: eb, CheckOut: at("2026-11-16 17:00")})}, []string{
			"2026-11-16 c1 08:00-17:00 540 ok corrected",
		}},
	}
	opt := testOptions()
	opt.Now = nil
	opt.Activity = nil
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Build(tt.events, opt)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, rows(got)); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestCorrectionValidate(t *testing.T) {
	now := at("2026-11-16 18:00")
	ok := attendance.Correction{Kind: attendance.SetCheckOut, Target: "e1", CheckOut: at("2026-11-16 17:00"), Reason: "vergeten", By: "staff:s1"}
	tests := []struct {
		name string
		mod  func(*attendance.Correction)
		ok   bool
	}{
		{"fine", func(*attendance.Correction) {}, true},
		{"no reason", func(c *attendance.Correction) { c.Reason = "  " }, false},
		{"control characters", func(c *attendance.Correction) { c.Reason = "a\u202eb" }, false},
		{"no by", func(c *attendance.Correction) { c.By = "" }, false},
		{"no target", func(c *attendance.Correction) { c.Target = "" }, false},
		{"in the future", func(c *attendance.Correction) { c.CheckOut = now.Add(time.Hour) }, false},
		{"unknown kind", func(c *attendance.Correction) { c.Kind = "edit" }, false},
		{"set_check_in without time", func(c *attendance.Correction) { c.Kind = attendance.SetCheckIn }, false},
		{"add_stay backwards", func(c *attendance.Correction) {
			c.Kind, c.Target, c.CheckIn, c.CheckOut = attendance.AddStay, "", at("2026-11-16 12:00"), at("2026-11-16 11:00")
		}, false},
		{"add_stay", func(c *attendance.Correction) {
			c.Kind, c.Target, c.CheckIn = attendance.AddStay, "", at("2026-11-16 12:00")
		}, true},
		{"remove_stay", func(c *attendance.Correction) { c.Kind, c.CheckOut = attendance.RemoveStay, time.Time{} }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.mod(&c)
			if err := c.Validate(now); (err == nil) != tt.ok {
				t.Errorf("Validate = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

// Presence on the kiosk honours a correction of the stay a child is in now.
func TestPresenceHonoursCorrections(t *testing.T) {
	p := attendance.NewPresence()
	p.Apply(ev(1, attendance.ChildCheckIn, "c1", "2026-11-16 08:00"))
	p.Apply(ev(2, attendance.ChildCheckIn, "c2", "2026-11-16 08:05"))
	p.Apply(corr("x0", "c2", "2026-11-16 09:00", attendance.Correction{Kind: attendance.SetCheckOut, Target: "other", CheckOut: at("2026-11-16 08:30")}))
	p.Apply(corr("x1", "c1", "2026-11-16 09:00", attendance.Correction{Kind: attendance.SetCheckIn, Target: "e" + string(rune('a'+1)), CheckIn: at("2026-11-16 07:50")}))
	if s, ok := p.Child("c1"); !ok || !s.Since.Equal(at("2026-11-16 07:50")) {
		t.Fatalf("c1 = %+v %v, want present since 07:50", s, ok)
	}
	p.Apply(corr("x2", "c1", "2026-11-16 09:01", attendance.Correction{Kind: attendance.SetCheckOut, Target: "e" + string(rune('a'+1)), CheckOut: at("2026-11-16 08:30")}))
	if _, ok := p.Child("c1"); ok {
		t.Fatal("c1 still present after its check-out was set")
	}
	if _, ok := p.Child("c2"); !ok {
		t.Fatal("c2 dropped by a correction of another stay")
	}
	p.Apply(corr("x3", "c2", "2026-11-16 09:02", attendance.Correction{Kind: attendance.RemoveStay, Target: "e" + string(rune('a'+2))}))
	if p.CountChildren() != 0 {
		t.Fatalf("children present %d, want 0", p.CountChildren())
	}
}
