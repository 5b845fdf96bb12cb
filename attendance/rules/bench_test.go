package rules

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/roster"
)

// bigRoster is a large location: children in groups of 50 (nl-kdv groups
// of babies to 3-year-olds, nl-bso groups of 4 to 12), a guardian per one
// to three siblings, a grandparent per 10 children (weekday-limited), an
// announced pickup per 20, a contact ban per 50, a permission per 10 BSO
// children, one staff member per 8 children.
func bigRoster(children int, day attendance.Date) roster.Roster {
	rng := rand.New(rand.NewPCG(1, 2))
	r := roster.Roster{Version: 1, Location: roster.Location{ID: "big", Name: "Big", TimeZone: "Europe/Amsterdam", Country: "NL", Kind: "kdv", MinPickupAge: 16}}
	for wd := time.Monday; wd <= time.Friday; wd++ {
		r.Location.Hours = append(r.Location.Hours, roster.Hours{Weekday: wd, Open: "07:00", Close: "18:30"})
	}
	groups := (children + 49) / 50
	for g := 0; g < groups; g++ {
		pol := "nl-kdv"
		if g%3 == 2 {
			pol = "nl-bso"
		}
		r.Groups = append(r.Groups, roster.Group{ID: fmt.Sprintf("g%d", g), Name: fmt.Sprintf("Groep %d", g), Policy: pol, MaxChildren: 60})
	}
	badge := func(role attendance.Role, id string) {
		r.Badges = append(r.Badges, roster.Badge{Hash: hashOf(id), Role: role, HolderID: id})
	}
	guardian := ""
	for i := 0; i < children; i++ {
		g := i % groups
		age := rng.IntN(4)
		if r.Groups[g].Policy == "nl-bso" {
			age = 4 + rng.IntN(9)
		}
		born := attendance.DateOf(day.In(time.UTC).AddDate(-age, -rng.IntN(12), -rng.IntN(28)))
		id := fmt.Sprintf("c%d", i)
		r.Children = append(r.Children, roster.Child{ID: id, FirstName: "Kind" + id, GroupID: r.Groups[g].ID, BirthDate: born})
		if guardian == "" || rng.IntN(3) == 0 {
			guardian = fmt.Sprintf("p%d", i)
			r.People = append(r.People, roster.Person{ID: guardian, Name: "Ouder " + guardian})
			badge(attendance.RoleGuardian, guardian)
		}
		r.Guardianships = append(r.Guardianships, roster.Guardianship{ChildID: id, PersonID: guardian})
		if i%10 == 0 {
			gp := "gp" + id
			r.People = append(r.People, roster.Person{ID: gp, Name: "Oma " + id, BirthDate: attendance.MustDate("1960-01-01")})
			r.Authorisations = append(r.Authorisations, roster.Authorisation{ChildID: id, PersonID: gp, Weekdays: []time.Weekday{time.Monday, time.Wednesday}})
			badge(attendance.RolePickup, gp)
		}
		if i%20 == 5 {
			an := "an" + id
			r.People = append(r.People, roster.Person{ID: an, Name: "Buur " + id})
			r.Announced = append(r.Announced, roster.AnnouncedPickup{ID: "a" + id, ChildID: id, PersonID: an, Date: day, From: "15:00", Until: "18:00"})
			badge(attendance.RolePickup, an)
		}
		if i%50 == 7 {
			bn := "bn" + id
			r.People = append(r.People, roster.Person{ID: bn, Name: "Verbod " + id})
			r.ContactBans = append(r.ContactBans, roster.ContactBan{ChildID: id, PersonID: bn})
			badge(attendance.RolePickup, bn)
		}
		if age >= 4 {
			badge(attendance.RoleChild, id)
			if i%10 == 3 {
				r.Permissions = append(r.Permissions, roster.IndependencePermission{ChildID: id, Scope: "home",
					From: attendance.MustDate("2025-09-01"), Until: attendance.MustDate("2026-08-31")})
			}
		}
	}
	for s := 0; s < children/8; s++ {
		id := fmt.Sprintf("s%d", s)
		r.Staff = append(r.Staff, roster.Staff{ID: id, Name: "Staf " + id, Groups: []string{r.Groups[s%groups].ID}})
		badge(attendance.RoleStaff, id)
	}
	return r
}

// bigPresence checks in the first n children (spread over the groups) and
// enough staff for most groups.
func bigPresence(ix *roster.Index, n int, since time.Time) *attendance.Presence {
	p := attendance.NewPresence()
	seq := int64(0)
	for i, c := range ix.Roster.Children {
		if i >= n {
			break
		}
		seq++
		p.Apply(attendance.Event{Seq: seq, Type: attendance.ChildCheckIn, ChildID: c.ID, GroupID: c.GroupID, Wall: since})
	}
	for i, s := range ix.Roster.Staff {
		if i%2 == 0 {
			seq++
			p.Apply(attendance.Event{Seq: seq, Type: attendance.StaffIn, StaffID: s.ID, GroupID: s.Groups[0], Wall: since})
		}
	}
	return p
}

// reportLatency reports p50, p99 and max of ds in microseconds.
func reportLatency(b *testing.B, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	q := func(f float64) float64 { return float64(ds[int(f*float64(len(ds)-1))]) / 1e3 }
	b.ReportMetric(q(0.50), "p50-µs")
	b.ReportMetric(q(0.99), "p99-µs")
	b.ReportMetric(float64(ds[len(ds)-1])/1e3, "max-µs")
}

// BenchmarkDecide is the decision alone for a random badge of a roster of
// 1,000 children with 200 present (every kind of holder, a third of the
// taps check a child in and so assess ratio and capacity).
func BenchmarkDecide(b *testing.B) {
	now := time.Date(2026, 3, 4, 16, 0, 0, 0, ams)
	r := bigRoster(1000, attendance.DateOf(now))
	ix, err := roster.NewIndex(&r)
	if err != nil {
		b.Fatal(err)
	}
	p := bigPresence(ix, 200, now.Add(-6*time.Hour))
	badges := ix.Roster.Badges
	rng := rand.New(rand.NewPCG(3, 4))
	ds := make([]time.Duration, 0, b.N)
	outcomes := map[Outcome]int{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		bd := badges[rng.IntN(len(badges))]
		in := Input{Now: now, Role: attendance.ReaderBoth, Badge: &bd, Roster: ix, Presence: p}
		t0 := time.Now()
		d := Decide(in)
		ds = append(ds, time.Since(t0))
		outcomes[d.Outcome]++
	}
	b.StopTimer()
	reportLatency(b, ds)
	if b.N > 1000 && (outcomes[CheckIn] == 0 || outcomes[CheckOut] == 0 || outcomes[ChooseChildren] == 0 || outcomes[StaffIn] == 0) {
		b.Errorf("the benchmark misses outcomes: %v", outcomes)
	}
}

// BenchmarkDecideCheckIn is the most expensive tap: a child checked in,
// so Assess recomputes every group's ratio.
func BenchmarkDecideCheckIn(b *testing.B) {
	now := time.Date(2026, 3, 4, 8, 0, 0, 0, ams)
	r := bigRoster(1000, attendance.DateOf(now))
	ix, err := roster.NewIndex(&r)
	if err != nil {
		b.Fatal(err)
	}
	p := bigPresence(ix, 200, now.Add(-time.Hour))
	var absent []roster.Badge
	for _, bd := range ix.Roster.Badges {
		if bd.Role != attendance.RoleGuardian || len(ix.ChildrenOf(bd.HolderID)) != 1 {
			continue
		}
		if _, in := p.Child(ix.ChildrenOf(bd.HolderID)[0]); !in {
			absent = append(absent, bd)
		}
	}
	ds := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		bd := absent[i%len(absent)]
		t0 := time.Now()
		d := Decide(Input{Now: now, Role: attendance.ReaderBoth, Badge: &bd, Roster: ix, Presence: p})
		ds = append(ds, time.Since(t0))
		if d.Outcome != CheckIn && d.Outcome != NeedsStaff {
			b.Fatalf("outcome %s", d.Outcome)
		}
	}
	b.StopTimer()
	reportLatency(b, ds)
}
