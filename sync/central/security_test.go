package central_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/sync/protocol"
)

// TestAdminRosterNeedsRosterRightsAndHidesPINHashes is the regression test
// for issue 16 item 1: an inspector's API token read the whole roster
// (allergies, contact-ban notes, badge hashes, staff PIN hashes) through
// GET /api/v1/admin/locations/{id}/roster.
func TestAdminRosterNeedsRosterRightsAndHidesPINHashes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		token := func(role string) string {
			code, out := e.admin(t, http.MethodPost, "/api/v1/admin/tokens", []byte(`{"name":"n","role":"`+role+`"}`))
			var r struct{ Token string }
			if code != 200 || json.Unmarshal(out, &r) != nil {
				t.Fatalf("create %s token: %d %s", role, code, out)
			}
			return r.Token
		}
		get := func(tok string) (int, []byte) {
			return e.do(t, http.MethodGet, "/api/v1/admin/locations/loc-regenboog/roster", nil, func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) })
		}
		for _, role := range []string{"inspector", "billing"} {
			if code, out := get(token(role)); code != http.StatusForbidden {
				t.Errorf("%s reads the roster: %d %.120s", role, code, out)
			}
		}
		for _, tok := range []string{token("manager"), adminToken} {
			code, out := get(tok)
			if code != http.StatusOK {
				t.Fatalf("roster: %d %s", code, out)
			}
			if strings.Contains(string(out), "pin_hash") || strings.Contains(string(out), "$argon2") {
				t.Errorf("admin roster carries PIN hashes: %.300s", out)
			}
			var r roster.Roster
			if err := json.Unmarshal(out, &r); err != nil || len(r.Staff) == 0 {
				t.Fatalf("roster: %v %.200s", err, out)
			}
		}
		// A GET-edit-PUT round trip through the admin API keeps the PINs.
		_, out := get(adminToken)
		var r roster.Roster
		json.Unmarshal(out, &r)
		r.Version = 0
		if code, out := e.admin(t, http.MethodPut, "/api/v1/admin/locations/loc-regenboog/roster", mustJSON(r)); code != 200 {
			t.Fatalf("put: %d %s", code, out)
		}
		d := e.enrol(t)
		code, out := d.signed(t, http.MethodGet, protocol.PathRoster, nil)
		if code != 200 || !strings.Contains(string(out), `"pin_hash"`) {
			t.Errorf("the device roster lost the PIN hashes after a round trip: %d", code)
		}
	})
}
