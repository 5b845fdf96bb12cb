package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/sync/central/auth"
)

var formAction = regexp.MustCompile(`<form[^>]*action="([^"]*)"`)

// TestIDsCannotRedirectAFormsButton: ids that someone other than the admin
// chose (a kiosk picks its device id at enrolment; a manager the roster's
// person ids) were put into form actions as they were, and html/template
// leaves '/', '?' and ".." alone in a URL path. A manager renamed a
// guardian "../../../../users/ID/disable?", and the admin's "remove" button
// of that family's mandate on the billing settings page disabled user ID
// (with the admin's CSRF token: a manager reaching manage_users); a door
// enrolled as "x/../../users/ID/disable?" did the same with the fleet
// page's "revoke". Every form action on those pages must stay on its own
// route.
func TestIDsCannotRedirectAFormsButton(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		us, err := e.db.Users.Users(ctx)
		if err != nil {
			t.Fatal(err)
		}
		victim := ""
		for _, u := range us {
			if u.Role == auth.RoleManager {
				victim = u.ID
			}
		}
		evil := "../../../../users/" + victim + "/disable?"
		// The manager's roster edit: the family's guardian gets the evil id.
		ro, _, err := e.db.Sites.Roster(ctx, "loc-regenboog")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(ro)
		b = bytes.ReplaceAll(b, []byte(`"`+e.fam+`"`), []byte(`"`+evil+`"`))
		var ro2 roster.Roster
		if err := json.Unmarshal(b, &ro2); err != nil {
			t.Fatal(err)
		}
		ro2.Version = 0
		if _, err := e.db.Sites.PutRoster(ctx, ro2); err != nil {
			t.Fatal(err)
		}
		billing := e.signedIn(t, auth.RoleBilling)
		code, body := billing.post(t, "/locations/loc-regenboog/billing/mandates", url.Values{"family": {evil}, "mandate_id": {"M-1"},
			"iban": {"NL20INGB0001234567"}, "signed": {"2025-08-30"}, "sequence": {"RCUR"}})
		if code != http.StatusSeeOther {
			t.Fatalf("save mandate: %d %.300s", code, body)
		}
		// Inserted as it is: enrolment now refuses such an id, but a door
		// enrolled before may have one.
		if _, err := e.db.SQL().Exec(`INSERT INTO devices (id, location_id, public_key, name, enrolled_ns) VALUES ('x/../../users/` + victim + `/disable?', 'loc-regenboog', 'x', 'door', 1)`); err != nil {
			t.Fatal(err)
		}
		admin := e.signedIn(t, auth.RoleAdmin)
		for _, page := range []struct{ path, route string }{
			{"/locations/loc-regenboog/billing/settings", "/locations/loc-regenboog/billing/"},
			{"/devices", "/devices/"},
		} {
			code, body := admin.get(t, page.path)
			if code != http.StatusOK {
				t.Fatalf("%s: %d", page.path, code)
			}
			base, _ := url.Parse(e.srv.URL + page.path)
			for _, m := range formAction.FindAllStringSubmatch(body, -1) {
				raw := strings.ReplaceAll(m[1], "&amp;", "&")
				u, err := base.Parse(raw)
				if err != nil {
					t.Errorf("%s: action %q: %v", page.path, raw, err)
					continue
				}
				if raw == "/logout" {
					continue
				}
				if !strings.HasPrefix(u.EscapedPath(), page.route) || u.RawQuery != "" {
					t.Errorf("%s: a button posts to %s (action %q)", page.path, u.RequestURI(), raw)
					continue
				}
				admin.post(t, u.RequestURI(), nil) // press it
			}
		}
		us, _ = e.db.Users.Users(ctx)
		for _, u := range us {
			if u.ID == victim && u.Disabled {
				t.Errorf("the admin's buttons disabled user %s", victim)
			}
		}
	})
}
