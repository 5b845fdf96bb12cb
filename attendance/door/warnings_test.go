package door

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/kinderdeur/kiosk/attendance/rules"
)

// TestWarningsRepeatCountUpAndSortNewestFirst: the same warning within the
// window counts up; the panel lists contact bans and unrecorded taps first,
// then newest first; every note has a time.
func TestWarningsRepeatCountUpAndSortNewestFirst(t *testing.T) {
	ams, _ := time.LoadLocation("Europe/Amsterdam")
	now := time.Date(2026, 3, 4, 8, 0, 0, 0, ams)
	w := &warnings{now: func() time.Time { return now }}
	ratio := rules.Warning{Code: rules.ReasonRatio, GroupID: "g-vlinders", Text: "Vlinders: 0 medewerkers aanwezig, 1 nodig voor 1 kind"}
	ban := rules.Warning{Code: rules.ReasonContactBan, Text: "contactverbod"}
	w.add(ban)
	now = now.Add(time.Minute)
	w.add(ratio)
	now = now.Add(5 * time.Minute)
	w.add(ratio, rules.Warning{Code: rules.ReasonOutsideHours, Text: "Check-in buiten de openingstijden"})
	now = now.Add(time.Minute)
	w.add(ratio)
	now = now.Add(NoteRepeatWindow + time.Minute) // too late to count up
	w.add(ratio)

	type line struct {
		Code, At string
		Count    int
	}
	var got []line
	for _, n := range w.sorted() {
		got = append(got, line{n.Code, n.At.Format("15:04"), n.Count})
	}
	want := []line{
		{"contact_ban", "08:00", 1},
		{"ratio", "08:23", 1},
		{"ratio", "08:07", 3},
		{"outside_hours", "08:06", 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}

	for i := 0; i < 2*maxNotes; i++ {
		now = now.Add(time.Minute)
		w.add(rules.Warning{Code: rules.ReasonCapacity, Text: strings.Repeat("x", i+1)})
	}
	if n := len(w.list); n != maxNotes {
		t.Errorf("%d notes kept, want %d", n, maxNotes)
	}
	if s := w.sorted(); s[0].Code == rules.ReasonContactBan {
		t.Errorf("an old contact ban outlived %d newer notes", 2*maxNotes)
	}
}
