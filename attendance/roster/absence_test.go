package roster

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
)

// Absences and announcements travel in the roster's JSON (the sync wire
// form and the kiosk's stored form) and come out of the index as the staff
// panel needs them.
func TestAbsencesAndAnnouncementsRoundTrip(t *testing.T) {
	today := attendance.MustDate("2026-03-02")
	tomorrow := attendance.MustDate("2026-03-03")
	r, _ := Demo(today)
	at := time.Date(2026, 3, 2, 15, 55, 0, 0, time.UTC)
	r.Announced = append(r.Announced, AnnouncedPickup{ID: "a-1", ChildID: r.Children[0].ID, PersonID: r.People[0].ID,
		Date: today, From: "16:00", Until: "17:00", CreatedBy: r.People[1].ID, CreatedAt: at})
	r.Absences = []Absence{
		{ChildID: r.Children[1].ID, Date: today, Kind: AbsenceSick},
		{ChildID: r.Children[1].ID, Date: today, Kind: AbsenceCancel}, // a second report: the first counts
		{ChildID: r.Children[2].ID, Date: tomorrow, Kind: AbsenceLateCancel},
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"absences":[{"child_id":"`+r.Children[1].ID+`","date":"2026-03-02","kind":"sick"}`) {
		t.Fatalf("wire form: %s", b)
	}
	var back Roster
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	ix, err := NewIndex(&back)
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := ix.Absence(r.Children[1].ID, today); !ok || a.Kind != AbsenceSick {
		t.Errorf("absence today: %+v %v", a, ok)
	}
	if _, ok := ix.Absence(r.Children[1].ID, tomorrow); ok {
		t.Error("absence on the wrong day")
	}
	if a, ok := ix.Absence(r.Children[2].ID, tomorrow); !ok || a.Kind != AbsenceLateCancel {
		t.Errorf("absence tomorrow: %+v %v", a, ok)
	}
	as := ix.AnnouncedOn(r.Children[0].ID, today)
	if len(as) != 1 || as[0].ID != "a-1" {
		t.Fatalf("announced on: %+v", as)
	}
	name, when := ix.Announcer(as[0])
	if name != r.People[1].Name || !when.Equal(at) || when.Location() != ix.TZ {
		t.Errorf("announcer: %q %v", name, when)
	}
	loc := ix.TZ
	if as[0].Covers(time.Date(2026, 3, 2, 15, 59, 0, 0, loc)) || !as[0].Covers(time.Date(2026, 3, 2, 16, 0, 0, 0, loc)) ||
		!as[0].Covers(time.Date(2026, 3, 2, 17, 0, 0, 0, loc)) || as[0].Covers(time.Date(2026, 3, 2, 17, 1, 0, 0, loc)) {
		t.Error("covers: window 16:00-17:00 inclusive")
	}
	if len(ix.AnnouncedOn(r.Children[0].ID, tomorrow)) != 0 {
		t.Error("announced on another day")
	}

	bad := back
	bad.Absences = []Absence{{ChildID: "ghost", Date: today, Kind: "holiday"}, {ChildID: r.Children[0].ID, Kind: AbsenceSick}}
	err = bad.Validate()
	for _, want := range []string{`absences[0]: unknown child "ghost"`, `absences[0]: kind "holiday"`, "absences[1]: missing date"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("validate: want %q in %v", want, err)
		}
	}
}
