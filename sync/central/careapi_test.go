package central_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kinderdeur/kiosk/sync/central"
)

func roleTokens(t *testing.T, e *env) map[string]string {
	t.Helper()
	token := map[string]string{"admin": adminToken}
	for _, role := range []string{"manager", "billing", "inspector"} {
		code, out := e.admin(t, http.MethodPost, "/api/v1/admin/tokens", []byte(`{"name":"n","role":"`+role+`"}`))
		var r struct{ Token string }
		json.Unmarshal(out, &r)
		if code != 200 {
			t.Fatalf("token %s: %d %s", role, code, out)
		}
		token[role] = r.Token
	}
	return token
}

// TestCareAPIRoles: care periods (the contract dates the retention terms
// count from) and contact details are fed through the admin API: admin and
// manager edit, billing reads care periods only, the inspector nothing;
// every change is audited without its values.
func TestCareAPIRoles(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		token := roleTokens(t, e)
		base := "/api/v1/admin/locations/" + loc
		care := `{"start":"2024-09-01","end":"2026-07-31","legal_name":"Emma de Vries","bsn":"111222333"}`
		contact := `{"address":"Dorpsstraat 1","postcode":"1234 AB","city":"Ergens","email":"emma@example.nl","phone":"0612345678","bank_account":"nl20 ingb 0001 2345 67"}`
		routes := []struct {
			method, path, body string
			want               [4]int // admin, manager, billing, inspector
		}{
			{"PUT", base + "/care-periods/child:c-emma", care, [4]int{200, 200, 403, 403}},
			{"GET", base + "/care-periods", "", [4]int{200, 200, 200, 403}},
			{"GET", base + "/care-periods/child:c-emma", "", [4]int{200, 200, 200, 403}},
			{"PUT", base + "/contacts/child:c-emma", contact, [4]int{200, 200, 403, 403}},
			{"GET", base + "/contacts", "", [4]int{200, 200, 403, 403}},
			{"GET", base + "/contacts/child:c-emma", "", [4]int{200, 200, 403, 403}},
			{"PUT", base + "/care-periods/staff:s-lotte", `{"start":"2020-01-01","end":"2025-12-31","extended":true}`, [4]int{200, 200, 403, 403}},
			{"PUT", base + "/care-periods/applicant:a-sara", `{"start":"2026-10-01"}`, [4]int{200, 200, 403, 403}},
		}
		for _, rt := range routes {
			for i, role := range []string{"admin", "manager", "billing", "inspector"} {
				code, out := e.do(t, rt.method, rt.path, []byte(rt.body), func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token[role]) })
				if code != rt.want[i] {
					t.Errorf("%s %s as %s: %d %.200s, want %d", rt.method, rt.path, role, code, out, rt.want[i])
				}
			}
		}
		if code, _ := e.do(t, "GET", base+"/care-periods", nil, nil); code != 401 {
			t.Errorf("anonymous: %d", code)
		}
		p, err := e.db.Subjects.CarePeriodOf(ctx, "child:c-emma", loc)
		if err != nil || p.Ended != time.Date(2026, 7, 31, 0, 0, 0, 0, time.UTC) || p.BSN != "111222333" {
			t.Errorf("stored care period %+v, %v", p, err)
		}
		c, err := e.db.Subjects.ContactOf(ctx, "child:c-emma", loc)
		if err != nil || c.BankAccount != "NL20INGB0001234567" {
			t.Errorf("stored contact %+v, %v", c, err)
		}
		// Refused input.
		for _, bad := range []struct{ path, body, want string }{
			{"/care-periods/child:c-emma", `{"start":"2026-09-01","end":"2026-08-31"}`, "end: before the start"},
			{"/care-periods/child:c-emma", `{"start":"1-9-2026"}`, "start: want YYYY-MM-DD"},
			{"/care-periods/child:c-emma", `{"start":"2026-09-01","bsn":"123456789"}`, "bsn"},
			{"/care-periods/martian:x", `{"start":"2026-09-01"}`, "subject"},
			{"/contacts/child:c-emma", `{"email":"not an address"}`, "email"},
			{"/contacts/child:c-emma", `{"bank_account":"NL00INGB0001234567"}`, "bank_account"},
		} {
			code, out := e.admin(t, http.MethodPut, base+bad.path, []byte(bad.body))
			if code != http.StatusBadRequest || !strings.Contains(string(out), bad.want) {
				t.Errorf("PUT %s %s: %d %s, want 400 naming %q", bad.path, bad.body, code, out, bad.want)
			}
		}
		if code, _ := e.admin(t, http.MethodGet, "/api/v1/admin/locations/loc-nowhere/care-periods", nil); code != 404 {
			t.Errorf("unknown location: %d", code)
		}
		// Audited by field, never with the values.
		es, err := e.audit.Entries(ctx, 1, 0)
		if err != nil {
			t.Fatal(err)
		}
		changes := map[string]int{}
		for _, a := range es {
			if a.Action == "personal_data_change" {
				changes[a.Subject]++
				if d := string(a.Details); strings.Contains(d, "111222333") || strings.Contains(d, "Dorpsstraat") || strings.Contains(d, "Emma de Vries") {
					t.Errorf("audit entry holds a value: %s", d)
				}
			}
		}
		if changes["child:c-emma"] != 4 || changes["staff:s-lotte"] != 2 || changes["applicant:a-sara"] != 2 {
			t.Errorf("audited changes %v, want 4 for c-emma (2 roles x care period and contact), 2 each for s-lotte and a-sara", changes)
		}
		var list []central.CarePeriod
		_, out := e.do(t, "GET", base+"/care-periods", nil, func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token["billing"]) })
		if json.Unmarshal(out, &list); len(list) != 3 {
			t.Errorf("care periods as billing: %s", out)
		}
	})
}
