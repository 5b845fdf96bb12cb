package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kinderdeur/kiosk/attendance/audit"
	"github.com/kinderdeur/kiosk/sync/central/auth"
)

// TestPortalInvitations: the portal page of a location lists its guardians
// with their e-mail and access; admins and managers invite, change and
// withdraw (audited, CSRF-checked, NL and EN); billing and inspectors get
// 403; another location's person or a non-guardian is 404.
func TestPortalInvitations(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		page := "/locations/loc-regenboog/portal"
		for _, role := range roles {
			c := e.signedIn(t, role)
			code, body := c.get(t, page)
			allowed := role == auth.RoleAdmin || role == auth.RoleManager
			if allowed != auth.Can(role, auth.EditPersonalData) {
				t.Fatalf("%s: permission table changed", role)
			}
			if !allowed {
				if code != http.StatusForbidden {
					t.Errorf("%s: GET %d, want 403", role, code)
				}
				if code, _ := c.post(t, page+"/p-fatima", url.Values{"action": {"save"}, "email": {"x@y.nl"}}); code != http.StatusForbidden {
					t.Errorf("%s: POST %d, want 403", role, code)
				}
				continue
			}
			if code != http.StatusOK || !strings.Contains(body, "Fatima B.") || !strings.Contains(body, "niet uitgenodigd") {
				t.Fatalf("%s: page %d %.500s", role, code, body)
			}
			// Invite Fatima (a manager changes the address the admin set).
			addr := string(role) + "-fatima@ouders.test"
			if code, body := c.post(t, page+"/p-fatima", url.Values{"action": {"save"}, "email": {" " + strings.ToUpper(addr) + " "}}); code != http.StatusSeeOther {
				t.Fatalf("%s: invite %d %s", role, code, body)
			}
			links, _ := e.db.Parents.GuardianEmails(ctx, "loc-regenboog")
			var got string
			for _, l := range links {
				if l.PersonID == "p-fatima" {
					got = l.Email
				}
			}
			if got != addr {
				t.Errorf("%s: e-mail %q, want %q", role, got, addr)
			}
			_, body = c.get(t, page+"?ok=save")
			if !strings.Contains(body, addr) || !strings.Contains(body, "nog geen passkey") || !strings.Contains(body, "E-mailadres opgeslagen.") {
				t.Errorf("%s: after invite: %.2000s", role, body)
			}
			// Withdraw, then restore.
			if code, _ := c.post(t, page+"/p-fatima", url.Values{"action": {"withdraw"}}); code != http.StatusSeeOther {
				t.Errorf("%s: withdraw %d", role, code)
			}
			if _, body := c.get(t, page); !strings.Contains(body, "toegang ingetrokken") {
				t.Errorf("%s: not shown withdrawn", role)
			}
			if code, _ := c.post(t, page+"/p-fatima", url.Values{"action": {"restore"}}); code != http.StatusSeeOther {
				t.Errorf("%s: restore %d", role, code)
			}
			// A bad address: 400 with a Dutch message, nothing stored.
			if code, body := c.post(t, page+"/p-fatima", url.Values{"action": {"save"}, "email": {"geen adres"}}); code != http.StatusBadRequest || !strings.Contains(body, "Dat is geen geldig e-mailadres.") {
				t.Errorf("%s: bad address %d %.300s", role, code, body)
			}
			// Not a guardian (the neighbour) and an unknown person: 404.
			for _, p := range []string{"p-buurvrouw", "z-nobody"} {
				if code, _ := c.post(t, page+"/"+p, url.Values{"action": {"save"}, "email": {"a@b.nl"}}); code != http.StatusNotFound {
					t.Errorf("%s: %s %d, want 404", role, p, code)
				}
			}
			// Without the CSRF token: refused, nothing changed.
			if code, _, _ := c.do(t, http.MethodPost, page+"/p-fatima", url.Values{"action": {"save"}, "email": {"evil@x.nl"}}); code != http.StatusForbidden {
				t.Errorf("%s: without CSRF %d", role, code)
			}
			// English.
			if code, _ := c.get(t, "/lang/en?next="+page); code != http.StatusSeeOther {
				t.Fatal(code)
			}
			if _, body := c.get(t, page); !strings.Contains(body, "Withdraw access") || strings.Contains(body, "Toegang intrekken") {
				t.Errorf("%s: English page: %.500s", role, body)
			}
		}
		links, _ := e.db.Parents.GuardianEmails(ctx, "loc-regenboog")
		for _, l := range links {
			if l.Email == "evil@x.nl" || l.Withdrawn {
				t.Errorf("after the test: %+v", l)
			}
		}
		// Audited: who changed which guardian's invitation.
		es, err := e.audit.Entries(ctx, 1, 0)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, x := range es {
			if x.Action == audit.PersonalDataChange && x.Subject == "person:p-fatima" && strings.HasPrefix(x.Actor, "user:") {
				n++
			}
		}
		if n != 6 { // admin and manager: invite, withdraw, restore
			t.Errorf("%d audit entries, want 6", n)
		}
	})
}
