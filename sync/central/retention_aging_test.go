package central_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/retention"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/attendance/store"
	"github.com/kinderdeur/kiosk/sync/central"
	"github.com/kinderdeur/kiosk/sync/central/centraltest"
)

// leavers of the demo organisation: the De V. family and Tess leave care,
// Ahmed and Priya (labour dispute) leave employment, two applicants are
// turned down (one consents to being kept a year).
var (
	leaverChildren = []string{"c-noah", "c-emma", "c-sem", "c-tess"}
	leaverPersons  = []string{"p-sanne", "p-mark"}
	leaverStaff    = []string{"s-ahmed", "s-priya"}
	applicants     = []string{"applicant:a-1", "applicant:a-2"}
)

const demoLoc = "loc-regenboog"

// withoutIDs drops children, persons and staff (and everything naming
// them) from r: what an admin publishes when care or employment ends.
func withoutIDs(r roster.Roster, ids ...string) roster.Roster {
	drop := func(id string) bool { return slices.Contains(ids, id) }
	r.Children = slices.DeleteFunc(r.Children, func(c roster.Child) bool { return drop(c.ID) })
	r.People = slices.DeleteFunc(r.People, func(p roster.Person) bool { return drop(p.ID) })
	r.Staff = slices.DeleteFunc(r.Staff, func(s roster.Staff) bool { return drop(s.ID) })
	r.Badges = slices.DeleteFunc(r.Badges, func(b roster.Badge) bool { return drop(b.HolderID) })
	r.Guardianships = slices.DeleteFunc(r.Guardianships, func(g roster.Guardianship) bool { return drop(g.ChildID) || drop(g.PersonID) })
	r.Authorisations = slices.DeleteFunc(r.Authorisations, func(a roster.Authorisation) bool { return drop(a.ChildID) || drop(a.PersonID) })
	r.Announced = slices.DeleteFunc(r.Announced, func(a roster.AnnouncedPickup) bool { return drop(a.ChildID) || drop(a.PersonID) })
	r.ContactBans = slices.DeleteFunc(r.ContactBans, func(b roster.ContactBan) bool { return drop(b.ChildID) || drop(b.PersonID) })
	r.Permissions = slices.DeleteFunc(r.Permissions, func(p roster.IndependencePermission) bool { return drop(p.ChildID) })
	return r
}

// leftData counts, per category, the leavers (subjects) that still have
// data of that category at central.
func leftData(t *testing.T, db *central.DB) map[retention.Category]int {
	t.Helper()
	ctx := context.Background()
	named := map[string]bool{} // subject named in some roster version
	alert := map[string]bool{}
	rows, err := db.SQL().QueryContext(ctx, "SELECT body FROM rosters")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			t.Fatal(err)
		}
		var r roster.Roster
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			t.Fatal(err)
		}
		for _, c := range r.Children {
			named["child:"+c.ID] = true
			if c.StaffAlert != "" {
				alert["child:"+c.ID] = true
			}
		}
		for _, p := range r.People {
			named["person:"+p.ID] = true
		}
		for _, s := range r.Staff {
			named["staff:"+s.ID] = true
		}
		for _, b := range r.Badges {
			named[string(b.Role)+"-badge:"+b.HolderID] = true
		}
	}
	rows.Close()
	count := func(q string, args ...any) int {
		var n int
		if err := db.SQL().QueryRowContext(ctx, rebind(db, q), args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	has := func(table, subject string) bool {
		return count("SELECT count(*) FROM "+table+" WHERE subject = ? AND location_id = ?", subject, demoLoc) > 0
	}
	out := map[retention.Category]int{}
	for _, c := range leaverChildren {
		sub := "child:" + c
		if has("care_periods", sub) {
			out[retention.Administration]++
		}
		if has("contact_details", sub) || named[sub] {
			out[retention.Contact]++
		}
		if alert[sub] {
			out[retention.Health]++
		}
		if count("SELECT count(*) FROM events WHERE child_id = ?", c) > 0 {
			out[retention.Attendance]++
		}
	}
	for _, p := range leaverPersons {
		sub := "person:" + p
		if has("care_periods", sub) {
			out[retention.Administration]++
		}
		if has("contact_details", sub) || named[sub] {
			out[retention.Contact]++
		}
	}
	for _, s := range leaverStaff {
		sub := "staff:" + s
		if has("care_periods", sub) || has("contact_details", sub) || named[sub] || named["staff-badge:"+s] ||
			count("SELECT count(*) FROM events WHERE staff_id = ?", s) > 0 {
			out[retention.Staff]++
		}
	}
	for _, a := range applicants {
		if has("care_periods", a) || has("contact_details", a) {
			out[retention.Applicant]++
		}
	}
	return out
}

func rebind(db *central.DB, q string) string {
	if db.Dialect() != central.Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// TestRetentionAgesDemoOrganisation ages the demo organisation by years
// with the database clock and checks after each scheduled run, category by
// category, how many leavers still have data: every term of seed 001's
// table (and seed 000's two years, seed 004's one year for health) runs on
// its own, counted from the end of care, and a legal hold keeps Tess's
// data until it expires.
func TestRetentionAgesDemoOrganisation(t *testing.T) {
	for _, b := range centraltest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			ctx := context.Background()
			db, subj := e.db, e.db.Subjects
			t0 := e.clock.Now() // Monday 2026-11-16 09:00 UTC
			for d := 7; d >= 1; d-- {
				if _, err := db.Demo.SeedDemoAttendance(ctx, demoLoc, attendance.DateOf(t0.AddDate(0, 0, -d))); err != nil {
					t.Fatal(err)
				}
			}
			// Administration and contact data central keeps beside the roster.
			for _, sub := range []string{"child:c-emma", "child:c-noah", "person:p-sanne", "child:c-julia", "staff:s-ahmed"} {
				if err := subj.PutContact(ctx, central.ContactDetails{Subject: sub, LocationID: demoLoc, Address: "Dorpsstraat 1",
					Postcode: "1234 AB", City: "Utrecht", Email: "x@example.org", Phone: "0612345678", BankAccount: "NL00BANK0123456789"}); err != nil {
					t.Fatal(err)
				}
			}
			// Emma's contract ends today, but the admin leaves her on the
			// roster: her last contract day still starts every term.
			if err := subj.PutCarePeriod(ctx, central.CarePeriod{Subject: "child:c-emma", LocationID: demoLoc,
				Started: t0.AddDate(-3, 0, 0), Ended: t0, LegalName: "Emma de Vries", BSN: "123456782"}); err != nil {
				t.Fatal(err)
			}
			if err := subj.PutCarePeriod(ctx, central.CarePeriod{Subject: "staff:s-priya", LocationID: demoLoc,
				Started: t0.AddDate(-5, 0, 0), Extended: true}); err != nil { // labour dispute
				t.Fatal(err)
			}
			for _, a := range []central.CarePeriod{
				{Subject: "applicant:a-1", LocationID: demoLoc, Started: t0.AddDate(0, -1, 0), Ended: t0, LegalName: "A. Sollicitant"},
				{Subject: "applicant:a-2", LocationID: demoLoc, Started: t0.AddDate(0, -1, 0), Ended: t0, LegalName: "B. Sollicitant", Extended: true},
			} {
				if err := subj.PutCarePeriod(ctx, a); err != nil {
					t.Fatal(err)
				}
				if err := subj.PutContact(ctx, central.ContactDetails{Subject: a.Subject, LocationID: demoLoc, Email: "cv@example.org"}); err != nil {
					t.Fatal(err)
				}
			}

			cfg, err := retention.ParseConfig(strings.NewReader(`{"holds":[{"subject":"child:c-tess","reason":"GGD inquiry","until":"2029-06-01"}]}`))
			if err != nil {
				t.Fatal(err)
			}
			run := func() {
				t.Helper()
				if _, err := subj.RunRetention(ctx, cfg, e.audit.Hook); err != nil {
					t.Fatal(err)
				}
			}
			// A run while everyone is in care changes nothing.
			run()
			before := leftData(t, db)

			// Care and employment end today: the admin publishes the roster
			// without the leavers.
			cur, _, err := db.Sites.Roster(ctx, demoLoc)
			if err != nil {
				t.Fatal(err)
			}
			next := withoutIDs(cur, "c-noah", "c-sem", "c-tess", "p-sanne", "p-mark", "s-ahmed", "s-priya")
			next.Version = 0
			if _, err := db.Sites.PutRoster(ctx, next); err != nil {
				t.Fatal(err)
			}
			// A kiosk pulls that roster: Emma's allergy alert is on it.
			kiosk, err := store.Open(filepath.Join(t.TempDir(), "kiosk.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer kiosk.Close()
			kioskAlert := func() string {
				t.Helper()
				r, _, err := db.Sites.Roster(ctx, demoLoc)
				if err != nil {
					t.Fatal(err)
				}
				if err := kiosk.ApplyRoster(ctx, r); err != nil && !errors.Is(err, store.ErrStaleRoster) {
					t.Fatal(err)
				}
				kr, err := kiosk.Roster(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range kr.Children {
					if c.ID == "c-emma" {
						return "listed:" + c.StaffAlert
					}
				}
				return "not listed"
			}
			if got := kioskAlert(); !strings.HasPrefix(got, "listed:Pinda") {
				t.Fatalf("kiosk before: %q", got)
			}

			type row struct {
				Category retention.Category
				Term     string
				Before   int
				After    int
			}
			steps := []struct {
				age  string
				at   time.Time
				want map[retention.Category]int
			}{
				{"3 weeks", t0.AddDate(0, 0, 21), map[retention.Category]int{retention.Administration: 6, retention.Contact: 6, retention.Health: 2, retention.Attendance: 4, retention.Staff: 2, retention.Applicant: 2}},
				{"5 weeks", t0.AddDate(0, 0, 35), map[retention.Category]int{retention.Administration: 6, retention.Contact: 6, retention.Health: 2, retention.Attendance: 4, retention.Staff: 2, retention.Applicant: 1}},
				{"1 year", t0.AddDate(1, 0, 1), map[retention.Category]int{retention.Administration: 6, retention.Contact: 6, retention.Health: 1, retention.Attendance: 4, retention.Staff: 2}},
				{"2 years", t0.AddDate(2, 0, 1), map[retention.Category]int{retention.Administration: 6, retention.Contact: 1, retention.Health: 1, retention.Attendance: 4, retention.Staff: 1}},
				{"3 years (hold over)", t0.AddDate(3, 0, 1), map[retention.Category]int{retention.Administration: 6, retention.Attendance: 4, retention.Staff: 1}},
				{"7 years", t0.AddDate(7, 0, 1), map[retention.Category]int{retention.Attendance: 4, retention.Staff: 1}},
				{"8 years", t0.AddDate(8, 0, 0), map[retention.Category]int{retention.Staff: 1}},
				{"10 years", t0.AddDate(10, 0, 1), map[retention.Category]int{}},
			}
			terms := map[retention.Category]string{}
			for c, p := range cfg.Policies {
				terms[c] = p.Term.String()
				if !p.ExtendedTerm.IsZero() {
					terms[c] += "/" + p.ExtendedTerm.String()
				}
			}
			cats := []retention.Category{retention.Administration, retention.Attendance, retention.Contact, retention.Health, retention.Staff, retention.Applicant}
			prev := before
			auditBefore, err := e.audit.Verify(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, st := range steps {
				e.clock.Set(st.at)
				run()
				got := leftData(t, db)
				for c, n := range got {
					if n == 0 {
						delete(got, c)
					}
				}
				if diff := cmp.Diff(st.want, got); diff != "" {
					t.Errorf("after %s (-want +got):\n%s", st.age, diff)
				}
				var tbl strings.Builder
				fmt.Fprintf(&tbl, "after %s (%s):\n%-15s %-6s %6s %6s\n", st.age, st.at.Format(time.DateOnly), "category", "term", "before", "after")
				for _, c := range cats {
					r := row{c, terms[c], prev[c], got[c]}
					fmt.Fprintf(&tbl, "%-15s %-6s %6d %6d\n", r.Category, r.Term, r.Before, r.After)
				}
				t.Log(tbl.String())
				prev = got

				// The kiosk applies central's newest roster after each run:
				// the alert goes after 1 year, Emma after 2.
				want := "listed:Pinda-allergie: EpiPen in de groepskast"
				switch {
				case st.at.After(t0.AddDate(2, 0, 0)):
					want = "not listed"
				case st.at.After(t0.AddDate(1, 0, 0)):
					want = "listed:"
				}
				if got := kioskAlert(); got != want {
					t.Errorf("after %s the kiosk has Emma %q, want %q", st.age, got, want)
				}
			}
			// Children and staff still in care keep their data.
			if _, err := subj.ContactOf(ctx, "child:c-julia", demoLoc); err != nil {
				t.Errorf("Julia (in care) lost her contact details: %v", err)
			}
			r, _, _ := db.Sites.Roster(ctx, demoLoc)
			if !slices.ContainsFunc(r.Children, func(c roster.Child) bool { return c.ID == "c-julia" }) {
				t.Error("Julia (in care) left the roster")
			}
			// The audit trail is kept whole and still verifies.
			n, err := e.audit.Verify(ctx)
			if err != nil || n < auditBefore+int64(len(steps)) {
				t.Errorf("audit: %d entries (before %d), %v", n, auditBefore, err)
			}
			if at, _, err := subj.LastRetentionRun(ctx); err != nil || !at.Equal(steps[len(steps)-1].at) {
				t.Errorf("last run %v, %v; want %v", at, err, steps[len(steps)-1].at)
			}
		})
	}
}
