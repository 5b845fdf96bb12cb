package rules

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/roster"
)

// bytes is a reader of fuzz input that yields zeros when exhausted.
type bytesIn struct {
	b []byte
	i int
}

func (r *bytesIn) n(max int) int {
	if max <= 0 {
		return 0
	}
	if r.i >= len(r.b) {
		return 0
	}
	v := int(r.b[r.i])
	r.i++
	return v % max
}

func (r *bytesIn) bit() bool { return r.n(2) == 1 }

var fuzzPolicies = []string{"nl-kdv", "nl-bso", "1:3", "1:1", "be-vl-kdv", "nl-gastouder", "no-such-policy"}

// fuzzRoster builds a valid roster from fuzz input.
func fuzzRoster(in *bytesIn) *roster.Roster {
	r := &roster.Roster{Version: 1, Location: roster.Location{ID: "loc", TimeZone: "Europe/Amsterdam",
		MinPickupAge: in.n(20), MaxChildren: in.n(12)}}
	if in.bit() {
		r.Location.RatioMode = "block"
	}
	for wd := time.Sunday; wd <= time.Saturday; wd++ {
		if in.bit() {
			r.Location.Hours = append(r.Location.Hours, roster.Hours{Weekday: wd, Open: clock(in), Close: clock(in)})
		}
	}
	ng := 1 + in.n(3)
	for g := 0; g < ng; g++ {
		r.Groups = append(r.Groups, roster.Group{ID: fmt.Sprint("g", g), Name: fmt.Sprint("G", g),
			Policy: fuzzPolicies[in.n(len(fuzzPolicies))], MaxChildren: in.n(8)})
	}
	day := attendance.MustDate("2026-03-29")
	nc := 1 + in.n(10)
	for c := 0; c < nc; c++ {
		r.Children = append(r.Children, roster.Child{ID: fmt.Sprint("c", c), FirstName: fmt.Sprint("K", c),
			GroupID: fmt.Sprint("g", in.n(ng)), BirthDate: attendance.DateOf(day.In(time.UTC).AddDate(-in.n(14), -in.n(12), -in.n(40)))})
	}
	np := 1 + in.n(6)
	for p := 0; p < np; p++ {
		r.People = append(r.People, roster.Person{ID: fmt.Sprint("p", p), Name: fmt.Sprint("P", p),
			BirthDate: attendance.DateOf(day.In(time.UTC).AddDate(-in.n(60), 0, -in.n(400)))})
	}
	ns := in.n(4)
	for s := 0; s < ns; s++ {
		r.Staff = append(r.Staff, roster.Staff{ID: fmt.Sprint("s", s), Name: fmt.Sprint("S", s), Groups: []string{fmt.Sprint("g", in.n(ng))}})
	}
	child := func() string { return fmt.Sprint("c", in.n(nc)) }
	person := func() string { return fmt.Sprint("p", in.n(np)) }
	for k := in.n(12); k > 0; k-- {
		r.Guardianships = append(r.Guardianships, roster.Guardianship{ChildID: child(), PersonID: person()})
	}
	for k := in.n(6); k > 0; k-- {
		a := roster.Authorisation{ChildID: child(), PersonID: person()}
		if in.bit() {
			a.Weekdays = []time.Weekday{time.Weekday(in.n(7))}
		}
		if in.bit() {
			a.From = attendance.DateOf(day.In(time.UTC).AddDate(0, 0, in.n(7)-3))
		}
		r.Authorisations = append(r.Authorisations, a)
	}
	for k := in.n(6); k > 0; k-- {
		a := roster.AnnouncedPickup{ID: fmt.Sprint("a", k), ChildID: child(), PersonID: person(),
			Date: attendance.DateOf(day.In(time.UTC).AddDate(0, 0, in.n(3)-1))}
		if in.bit() {
			a.From, a.Until = clock(in), clock(in)
		}
		r.Announced = append(r.Announced, a)
	}
	for k := in.n(5); k > 0; k-- {
		r.ContactBans = append(r.ContactBans, roster.ContactBan{ChildID: child(), PersonID: person()})
	}
	for k := in.n(5); k > 0; k-- {
		p := roster.IndependencePermission{ChildID: child(), Scope: "home",
			From: attendance.DateOf(day.In(time.UTC).AddDate(0, 0, -in.n(5))), Until: attendance.DateOf(day.In(time.UTC).AddDate(0, 0, in.n(5)))}
		if in.bit() {
			p.After, p.Before = clock(in), clock(in)
		}
		r.Permissions = append(r.Permissions, p)
	}
	badge := func(role attendance.Role, id string) {
		r.Badges = append(r.Badges, roster.Badge{Hash: hashOf(string(role) + id), Role: role, HolderID: id})
	}
	for p := 0; p < np; p++ {
		role := attendance.RolePickup
		if in.bit() {
			role = attendance.RoleGuardian
		}
		badge(role, fmt.Sprint("p", p))
	}
	for c := 0; c < nc; c++ {
		if in.bit() {
			badge(attendance.RoleChild, fmt.Sprint("c", c))
		}
	}
	for s := 0; s < ns; s++ {
		badge(attendance.RoleStaff, fmt.Sprint("s", s))
	}
	return r
}

func clock(in *bytesIn) string { return fmt.Sprintf("%02d:%02d", in.n(24), in.n(4)*15) }

func FuzzDecide(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("a guardian with several children and a contact ban"))
	f.Add([]byte{1, 0, 5, 1, 1, 1, 1, 1, 1, 1, 2, 0, 3, 1, 2, 9, 3, 5, 7, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30})
	f.Add([]byte{255, 254, 253, 252, 251, 250, 249, 248, 247, 246, 245, 244, 243, 242, 241, 240, 200, 100, 50, 25, 12, 6, 3, 1, 0, 0, 0, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7})
	f.Fuzz(func(t *testing.T, data []byte) {
		in := &bytesIn{b: data}
		r := fuzzRoster(in)
		ix, err := roster.NewIndex(r)
		if err != nil {
			t.Skip("invalid roster:", err) // the generator writes valid rosters; a rare clash is fine
		}
		// A tap on the days around the spring DST change.
		now := time.Date(2026, 3, 28, 0, 0, 0, 0, ams).Add(time.Duration(in.n(256)) * 17 * time.Minute)
		p := attendance.NewPresence()
		seq := int64(0)
		for _, c := range r.Children {
			if in.bit() {
				seq++
				p.Apply(attendance.Event{Seq: seq, Type: attendance.ChildCheckIn, ChildID: c.ID, GroupID: c.GroupID, Wall: now.Add(-time.Hour)})
			}
		}
		for _, s := range r.Staff {
			if in.bit() {
				seq++
				p.Apply(attendance.Event{Seq: seq, Type: attendance.StaffIn, StaffID: s.ID, GroupID: s.Groups[0], Wall: now.Add(-time.Hour)})
			}
		}
		input := Input{Now: now, Role: []attendance.ReaderRole{attendance.ReaderBoth, attendance.ReaderIn, attendance.ReaderOut}[in.n(3)], Roster: ix, Presence: p}
		if k := in.n(len(r.Badges) + 1); k < len(r.Badges) {
			b := r.Badges[k]
			input.Badge = &b
		}
		if in.bit() && len(r.Badges) > 0 {
			b := r.Badges[in.n(len(r.Badges))]
			prev := &Tap{Role: b.Role, ID: b.HolderID, At: now.Add(-time.Duration(in.n(40)) * time.Second)}
			if in.bit() {
				prev.CheckedOut = []string{fmt.Sprint("c", in.n(len(r.Children)))}
			}
			if in.bit() {
				prev.CheckedIn = []string{fmt.Sprint("c", in.n(len(r.Children)))}
			}
			input.Previous = prev
		}
		before := p.Clone()
		d := Decide(input)
		checkInvariants(t, input, d, before)
	})
}

func checkInvariants(t *testing.T, in Input, d Decision, before *attendance.Presence) {
	t.Helper()
	ix := in.Roster
	if len(in.Presence.Children()) != len(before.Children()) {
		t.Fatal("Decide changed the presence")
	}
	adult := d.Actor.Role == attendance.RoleGuardian || d.Actor.Role == attendance.RolePickup
	for _, c := range d.Children {
		if !c.Selected {
			continue
		}
		if d.Outcome == Denied {
			t.Fatalf("denied decision with a selected child: %+v", d)
		}
		_, present := in.Presence.Child(c.ID)
		switch c.Action {
		case ActCheckOut:
			if !present {
				t.Fatalf("check-out of an absent child: %+v", d)
			}
			if adult {
				if _, ban := ix.Ban(c.ID, d.Actor.ID); ban {
					t.Fatalf("child %s selected to leave with %s under a contact ban: %+v", c.ID, d.Actor.ID, d)
				}
			}
			if d.Actor.Role == attendance.RoleChild && d.Actor.ID == c.ID && d.Reason != ReasonIndependent {
				t.Fatalf("a child leaves alone without permission: %+v", d)
			}
		case ActCheckIn:
			if present {
				t.Fatalf("check-in of a present child: %+v", d)
			}
		case ActNone:
			t.Fatalf("selected child without an action: %+v", d)
		}
	}
	for _, e := range Events(d, attendance.Event{Wall: in.Now}, ix) {
		if e.Type == attendance.ChildCheckOut && adult {
			if _, ban := ix.Ban(e.ChildID, e.ActorID); ban {
				t.Fatalf("check-out event for a banned pair: %+v", e)
			}
		}
	}
	if d.Outcome == Denied && d.Reason == ReasonContactBan && d.StaffAlert == "" {
		t.Fatalf("contact ban without a staff alert: %+v", d)
	}
	// GroupsOf every group is Groups (every staff member is in the roster).
	var all []string
	for _, g := range ix.Roster.Groups {
		all = append(all, g.ID)
	}
	if diff := cmp.Diff(Groups(ix, in.Presence, in.Now), GroupsOf(ix, in.Presence, in.Now, all...)); diff != "" {
		t.Fatalf("GroupsOf differs from Groups (-Groups +GroupsOf):\n%s", diff)
	}
	// Assess agrees with Groups on the presence after the check-ins.
	if d.Outcome == CheckIn || d.Outcome == ChooseChildren {
		after := in.Presence.Clone()
		touched := map[string]bool{}
		for _, c := range d.Children {
			if c.Selected && c.Action == ActCheckIn {
				after.Apply(attendance.Event{Type: attendance.ChildCheckIn, ChildID: c.ID, GroupID: c.GroupID, Wall: in.Now})
				touched[c.GroupID] = true
			}
		}
		warned := map[string]bool{}
		for _, w := range Assess(ix, in.Presence, in.Now, d.Children).Warnings {
			if w.Code == ReasonRatio {
				warned[w.GroupID] = true
			}
		}
		for _, gs := range Groups(ix, after, in.Now) {
			if touched[gs.GroupID] && !gs.OK != warned[gs.GroupID] {
				t.Fatalf("group %s: Groups says OK=%v, Assess warned=%v", gs.GroupID, gs.OK, warned[gs.GroupID])
			}
		}
	}
}
