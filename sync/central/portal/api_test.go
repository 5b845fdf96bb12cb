package portal_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/sync/central"
	"github.com/kinderdeur/kiosk/sync/central/centraltest"
)

func eachBackend(t *testing.T, f func(t *testing.T, e *env)) {
	for _, b := range centraltest.Backends() {
		t.Run(b.Name, func(t *testing.T) { f(t, newEnv(t, b)) })
	}
}

// TestContract10 is DESIGN.md contract 10: announce for Daan, 201 with an
// id, the announcement in the location's roster (a new version, so the
// kiosks' pull and push carry it) with who announced it and when, another
// family's child refused, withdraw.
func TestContract10(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		before := e.roster(t, "loc-regenboog").Version
		req := map[string]any{"children": []string{"c-daan"}, "person_name": "Henk K.", "date": e.today.String(), "from": "16:00", "until": "18:30"}
		a := e.do(t, tokFatima, "POST", "/api/v1/parent/pickups", req)
		if a.status != http.StatusCreated {
			t.Fatalf("announce: %d %s", a.status, a.body)
		}
		var p struct {
			ID       string `json:"id"`
			PersonID string `json:"person_id"`
		}
		a.json(t, &p)
		if p.ID == "" || p.PersonID != "p-henk" {
			t.Fatalf("announce answered %s: want an id and the known person p-henk", a.body)
		}
		r := e.roster(t, "loc-regenboog")
		if r.Version <= before {
			t.Errorf("roster version %d, want above %d", r.Version, before)
		}
		var got *roster.AnnouncedPickup
		for i := range r.Announced {
			if r.Announced[i].ID == p.ID {
				got = &r.Announced[i]
			}
		}
		if got == nil || got.ChildID != "c-daan" || got.PersonID != "p-henk" || got.CreatedBy != "p-fatima" || got.CreatedAt.IsZero() || got.From != "16:00" {
			t.Fatalf("roster announcement = %+v", got)
		}
		ix, err := roster.NewIndex(&r)
		if err != nil {
			t.Fatal(err)
		}
		at := e.today.In(ix.TZ).Add(17 * 60 * 60 * 1e9)
		if _, ok := ix.Announcement("c-daan", "p-henk", at); !ok {
			t.Error("the door's index does not release Daan to Henk at 17:00")
		}
		if name, when := ix.Announcer(*got); name != "Fatima B." || when.IsZero() {
			t.Errorf("Announcer = %q %v", name, when)
		}
		// Another family's child: 404, and nothing stored.
		v := r.Version
		other := map[string]any{"children": []string{"c-julia"}, "person_name": "Henk K.", "date": e.today.String()}
		if a := e.do(t, tokFatima, "POST", "/api/v1/parent/pickups", other); a.status != 404 && a.status != 403 {
			t.Errorf("another family's child: %d %s", a.status, a.body)
		}
		if e.roster(t, "loc-regenboog").Version != v {
			t.Error("a refused announcement stored a roster version")
		}
		// Ingrid cannot withdraw Fatima's announcement.
		if a := e.do(t, tokIngrid, "DELETE", "/api/v1/parent/pickups/"+p.ID, nil); a.status != 404 {
			t.Errorf("other family withdraws: %d", a.status)
		}
		if a := e.do(t, tokFatima, "DELETE", "/api/v1/parent/pickups/"+p.ID, nil); a.status != 200 {
			t.Fatalf("withdraw: %d %s", a.status, a.body)
		}
		for _, x := range e.roster(t, "loc-regenboog").Announced {
			if x.ID == p.ID {
				t.Error("withdrawn announcement still in the roster")
			}
		}
		if a := e.do(t, tokFatima, "DELETE", "/api/v1/parent/pickups/"+p.ID, nil); a.status != 404 {
			t.Errorf("second withdraw: %d", a.status)
		}
		// Audited.
		es, err := e.audit.Entries(context.Background(), 1, 0)
		if err != nil {
			t.Fatal(err)
		}
		var ann, wd bool
		for _, x := range es {
			ann = ann || (x.Action == "pickup_announced" && strings.HasPrefix(x.Actor, "parent:"))
			wd = wd || x.Action == "pickup_withdrawn"
		}
		if !ann || !wd {
			t.Errorf("audit: announced %v withdrawn %v", ann, wd)
		}
	})
}

// TestBannedPersonNeverAnnounced: an announcement cannot name a person
// under a contact ban for the child, by id or by name.
func TestBannedPersonNeverAnnounced(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		if _, err := e.db.Sites.EditRoster(context.Background(), "loc-regenboog", func(r *roster.Roster) error {
			r.ContactBans = append(r.ContactBans, roster.ContactBan{ChildID: "c-daan", PersonID: "p-henk", Note: "test"})
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		for name, body := range map[string]map[string]any{
			"by name": {"children": []string{"c-daan"}, "person_name": "henk  k.", "date": e.today.String()},
			"by id":   {"children": []string{"c-mila", "c-daan"}, "person_id": "p-henk", "date": e.today.String()},
		} {
			if a := e.do(t, tokFatima, "POST", "/api/v1/parent/pickups", body); a.status != http.StatusForbidden {
				t.Errorf("%s: %d %s, want 403", name, a.status, a.body)
			}
		}
	})
}

// TestWithdrawnOrBannedGuardianSeesNothing.
func TestWithdrawnOrBannedGuardianSeesNothing(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		var me struct{ Children []struct{ ID string } }
		e.do(t, tokIngrid, "GET", "/api/v1/parent/me", nil).json(t, &me)
		if len(me.Children) != 2 {
			t.Fatalf("Ingrid sees %d children, want 2", len(me.Children))
		}
		if err := e.db.Parents.SetGuardianWithdrawn(ctx, "loc-regenboog", "p-ingrid", true); err != nil {
			t.Fatal(err)
		}
		me.Children = nil
		e.do(t, tokIngrid, "GET", "/api/v1/parent/me", nil).json(t, &me)
		if len(me.Children) != 0 {
			t.Errorf("withdrawn guardian sees %v", me.Children)
		}
		if a := e.do(t, tokIngrid, "GET", "/api/v1/parent/today", nil); strings.Contains(a.body, "Julia") {
			t.Errorf("withdrawn guardian's today: %s", a.body)
		}
		// A contact ban on Fatima at De Zon hides Sara, not Mila and Daan.
		if _, err := e.db.Sites.EditRoster(ctx, "loc-zon", func(r *roster.Roster) error {
			r.ContactBans = append(r.ContactBans, roster.ContactBan{ChildID: "c-sara", PersonID: "z-fatima"})
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		a := e.do(t, tokFatima, "GET", "/api/v1/parent/today", nil)
		if strings.Contains(a.body, "Sara") || !strings.Contains(a.body, "Daan") {
			t.Errorf("banned at De Zon: today = %s", a.body)
		}
	})
}

// TestTwoLocations: one account, children at two locations; one
// announcement for both lands in both rosters.
func TestTwoLocations(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		var me struct {
			Children []struct{ ID, Location string }
		}
		e.do(t, tokFatima, "GET", "/api/v1/parent/me", nil).json(t, &me)
		if len(me.Children) != 3 {
			t.Fatalf("children %v, want Mila, Daan and Sara", me.Children)
		}
		a := e.do(t, tokFatima, "POST", "/api/v1/parent/pickups", map[string]any{"children": []string{"c-mila", "c-sara"},
			"person_name": "Loes de B.", "relation": "buurvrouw", "id_document": "rijbewijs", "date": e.today.String()})
		if a.status != 201 {
			t.Fatalf("announce: %d %s", a.status, a.body)
		}
		for _, loc := range []string{"loc-regenboog", "loc-zon"} {
			n := 0
			for _, x := range e.roster(t, loc).Announced {
				if x.IDNote == "rijbewijs" {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%s: %d announcements, want 1", loc, n)
			}
		}
	})
}

// TestGuardianEmailNeverInKioskRoster: the invitation address lives beside
// the roster at central, never in a roster snapshot a kiosk receives.
func TestGuardianEmailNeverInKioskRoster(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		for _, loc := range []string{"loc-regenboog", "loc-zon"} {
			_, body, err := e.db.Sites.Roster(context.Background(), loc)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(body), "@") {
				t.Errorf("%s: roster snapshot holds an e-mail address: %s", loc, body)
			}
		}
		ls, err := e.db.Parents.GuardianEmails(context.Background(), "loc-zon")
		if err != nil || len(ls) != 2 {
			t.Fatalf("guardian e-mails of loc-zon: %v %v", ls, err)
		}
	})
}

// TestPermissionsAbsencesConsent runs items 4, 5 and 7 through the API.
func TestPermissionsAbsencesConsent(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		// Going home alone: confirmation required, then in the roster, revocable.
		grant := map[string]any{"child": "c-sara", "scope": "home", "from": e.today.String(), "until": "2027-07-31", "weekdays": []int{1, 2, 4}, "after": "16:00"}
		if a := e.do(t, tokFatima, "POST", "/api/v1/parent/permissions", grant); a.status != 400 {
			t.Errorf("grant without confirm: %d", a.status)
		}
		grant["confirm"] = true
		a := e.do(t, tokFatima, "POST", "/api/v1/parent/permissions", grant)
		if a.status != 201 {
			t.Fatalf("grant: %d %s", a.status, a.body)
		}
		var p struct {
			ID string `json:"id"`
		}
		a.json(t, &p)
		r := e.roster(t, "loc-zon")
		ix, _ := roster.NewIndex(&r)
		if got, ok := ix.Independence("c-sara", e.today.In(ix.TZ).Add(16*3600e9+30*60e9)); !ok || got.GrantedBy != "z-fatima" || got.GrantedAt.IsZero() {
			t.Errorf("Independence at 16:30 Tuesday = %+v %v", got, ok)
		}
		if a := e.do(t, tokOmar, "DELETE", "/api/v1/parent/permissions/"+p.ID, nil); a.status != 404 {
			t.Errorf("other family revokes: %d", a.status)
		}
		if a := e.do(t, tokFatima, "DELETE", "/api/v1/parent/permissions/"+p.ID, nil); a.status != 200 {
			t.Fatalf("revoke: %d %s", a.status, a.body)
		}
		if len(e.roster(t, "loc-zon").Permissions) != 0 {
			t.Error("revoked permission still in the roster")
		}
		// Absences: a cancel for tomorrow (07:00 is under 48 h away) is late.
		tomorrow := e.today.In(time.UTC).AddDate(0, 0, 1).Format("2006-01-02")
		a = e.do(t, tokFatima, "POST", "/api/v1/parent/absences", map[string]any{"child": "c-daan", "date": tomorrow, "kind": "cancel"})
		if a.status != 201 || !strings.Contains(a.body, `"late_cancel"`) {
			t.Errorf("late cancel: %d %s", a.status, a.body)
		}
		far := e.today.In(time.UTC).AddDate(0, 0, 7).Format("2006-01-02")
		a = e.do(t, tokFatima, "POST", "/api/v1/parent/absences", map[string]any{"child": "c-daan", "date": far, "kind": "cancel"})
		if a.status != 201 || !strings.Contains(a.body, `"cancel"`) {
			t.Errorf("cancel: %d %s", a.status, a.body)
		}
		var abs []central.ParentAbsence
		a.json(t, &abs)
		got, err := e.db.Parents.Absences(context.Background(), "loc-regenboog", e.today, e.today)
		if err != nil || len(got) != 0 {
			t.Errorf("absences today: %v %v", got, err)
		}
		if a := e.do(t, tokIngrid, "DELETE", "/api/v1/parent/absences/"+abs[0].ID, nil); a.status != 404 {
			t.Errorf("other family withdraws an absence: %d", a.status)
		}
		if a := e.do(t, tokFatima, "DELETE", "/api/v1/parent/absences/"+abs[0].ID, nil); a.status != 200 {
			t.Errorf("withdraw absence: %d", a.status)
		}
		// Photo consent.
		if a := e.do(t, tokFatima, "PUT", "/api/v1/parent/children/c-mila/photo-consent", map[string]bool{"consent": false}); a.status != 200 {
			t.Fatalf("consent: %d %s", a.status, a.body)
		}
		for _, c := range e.roster(t, "loc-regenboog").Children {
			if c.ID == "c-mila" && c.PhotoConsent {
				t.Error("Mila's photo consent still on")
			}
		}
		// Correction request with the one-month deadline.
		a = e.do(t, tokFatima, "POST", "/api/v1/parent/requests", map[string]any{"kind": "correction", "subject": "c-daan", "message": "Geboortedatum klopt niet"})
		var req central.SubjectRequest
		a.json(t, &req)
		if a.status != 201 || req.Subject != "child:c-daan" || req.Deadline.Sub(req.Received) < 27*24*3600e9 {
			t.Errorf("request: %d %+v", a.status, req)
		}
		// The export holds the family and no other family.
		x := e.do(t, tokFatima, "GET", "/api/v1/parent/data", nil)
		if x.status != 200 || !strings.Contains(x.body, "Daan") || !strings.Contains(x.body, "Sara") || strings.Contains(x.body, "Yara") || strings.Contains(x.body, "Julia") {
			t.Errorf("export: %d %.300s", x.status, x.body)
		}
	})
}
