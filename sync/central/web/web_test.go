package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"html"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/audit"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/sync/central"
	"github.com/kinderdeur/kiosk/sync/central/auth"
	"github.com/kinderdeur/kiosk/sync/central/centraltest"
	"github.com/kinderdeur/kiosk/sync/central/web"
)

var update = flag.Bool("update", false, "rewrite golden files")

var roles = []auth.Role{auth.RoleAdmin, auth.RoleManager, auth.RoleBilling, auth.RoleInspector}

// concrete fills a route pattern with values that exist in the demo.
func concrete(rt web.Route, e *env) string {
	day := e.day
	p := strings.TrimSuffix(rt.Pattern, "{$}")
	r := strings.NewReplacer("{loc}", "loc-regenboog", "{l}", "en", "{run}", e.run.ID, "{file}", e.run.FirstNumber+".pdf", "{family}", e.fam, "{person}", "p-fatima", "{subject}", "child:c-emma")
	p = r.Replace(p)
	switch {
	case strings.HasPrefix(p, "/webhooks/"):
		p = strings.NewReplacer("{id}", e.hook, "{delivery}", "does-not-exist").Replace(p)
	case strings.HasPrefix(p, "/subjects/"):
		p = strings.NewReplacer("{kind}", "child", "{id}", "c-emma").Replace(p)
	case strings.Contains(p, "/statements/"):
		p = strings.Replace(p, "{kind}", "nl", 1) + "?year=2026"
	case strings.HasSuffix(p, "/billing/diff"):
		p += "?month=2026-11"
	case strings.Contains(p, "/roster/{kind}"):
		p = strings.Replace(p, "{kind}", "nothing", 1)
	}
	p = strings.ReplaceAll(p, "{id}", "does-not-exist")
	if rt.Method == http.MethodGet && strings.HasPrefix(p, "/locations/") {
		p += "?date=" + day.String()
		if strings.HasSuffix(rt.Pattern, "/statements/{kind}") || strings.HasSuffix(rt.Pattern, "/billing/diff") {
			p = strings.Replace(p, "?date", "&date", 1)
		}
	}
	return p
}

// TestRoleMatrix runs every route for every role: 401 without a session,
// 403 for a role without the route's permission, and success (200 for
// pages; not 401/403 for forms) for a role with it.
func TestRoleMatrix(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		clients := map[auth.Role]*client{}
		for _, r := range roles {
			clients[r] = e.signedIn(t, r)
		}
		anon := e.client()
		rts := e.web.Routes()
		if len(rts) < 20 {
			t.Fatalf("only %d routes", len(rts))
		}
		for _, rt := range rts {
			path := concrete(rt, e)
			t.Run(rt.Method+" "+rt.Pattern, func(t *testing.T) {
				var code int
				if rt.Method == http.MethodGet {
					code, _ = anon.get(t, path)
				} else {
					code, _ = anon.post(t, path, nil)
				}
				if code != http.StatusUnauthorized {
					t.Errorf("anonymous: %d, want 401", code)
				}
				for _, role := range roles {
					c := clients[role]
					if rt.Pattern == "/logout" {
						c = e.signedIn(t, role) // a fresh session to end
					}
					var body string
					if rt.Method == http.MethodGet {
						code, body = c.get(t, path)
					} else {
						code, body = c.post(t, path, nil)
					}
					allowed := auth.Can(role, rt.Perm)
					switch {
					case !allowed && code != http.StatusForbidden:
						t.Errorf("%s: %d, want 403", role, code)
					case allowed && rt.Method == http.MethodGet && code != http.StatusOK:
						t.Errorf("%s: %d, want 200: %.300s", role, code, body)
					case allowed && (code == http.StatusUnauthorized || code == http.StatusForbidden || code >= 500):
						t.Errorf("%s: %d, want it allowed: %.300s", role, code, body)
					}
				}
			})
		}
	})
}

func TestSignIn(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		c := e.client()
		if code := c.signIn(t, "admin@demo", "wrong password!"); code != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d, want 401", code)
		}
		if code := c.signIn(t, "nobody@demo", central.DemoPassword); code != http.StatusUnauthorized {
			t.Fatalf("unknown user: %d, want 401", code)
		}
		// Sign-in with the e-mail in another case works; cookie flags.
		code, body := c.get(t, "/login")
		m := csrfField.FindStringSubmatch(body)
		code, _, hdr := c.do(t, http.MethodPost, "/login", url.Values{"csrf_token": {m[1]}, "email": {"Admin@Demo"}, "password": {central.DemoPassword}})
		if code != http.StatusSeeOther {
			t.Fatalf("sign in: %d", code)
		}
		var sc string
		for _, v := range hdr.Values("Set-Cookie") {
			if strings.HasPrefix(v, "kd_session=") {
				sc = v
			}
		}
		for _, want := range []string{"HttpOnly", "SameSite=Strict", "Path=/"} {
			if !strings.Contains(sc, want) {
				t.Errorf("session cookie %q lacks %s", sc, want)
			}
		}
		// Audit: sign_in_failed twice, sign_in once, chain intact.
		es, err := e.audit.Entries(context.Background(), 1, 0)
		if err != nil {
			t.Fatal(err)
		}
		count := map[audit.Action]int{}
		for _, en := range es {
			count[en.Action]++
			if strings.Contains(string(en.Details), "wrong password") || strings.Contains(string(en.Details), central.DemoPassword) {
				t.Errorf("audit entry holds a password: %s", en.Details)
			}
		}
		if diff := cmp.Diff(map[audit.Action]int{audit.SignInFailed: 2, audit.SignIn: 1}, count); diff != "" {
			t.Errorf("audit actions (-want +got):\n%s", diff)
		}
		if _, err := e.audit.Verify(context.Background()); err != nil {
			t.Fatal(err)
		}
		// Sign-out ends the session server-side.
		code, body = c.get(t, "/")
		c.csrf = csrfField.FindStringSubmatch(body)[1]
		if code, _ := c.post(t, "/logout", nil); code != http.StatusSeeOther {
			t.Fatalf("logout: %d", code)
		}
		if code, _ := c.get(t, "/"); code != http.StatusUnauthorized {
			t.Fatalf("after logout: %d, want 401", code)
		}
		es, _ = e.audit.Entries(context.Background(), 1, 0)
		if last := es[len(es)-1]; last.Action != audit.SignOut {
			t.Errorf("sign-out not audited: last entry %s", last.Action)
		}
	})
}

func TestSignInRateLimited(t *testing.T) {
	e := newEnvLimit(t, 3)
	c := e.client()
	for i := 0; i < 3; i++ {
		if code := c.signIn(t, "admin@demo", "wrong password!"); code != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i, code)
		}
	}
	// Even the right password is refused while the bucket is empty.
	if code := c.signIn(t, "admin@demo", central.DemoPassword); code != http.StatusTooManyRequests {
		t.Fatalf("4th attempt: %d, want 429", code)
	}
	e.clock.Set(e.clock.Now().Add(13e9)) // one token back per 12 s
	if code := c.signIn(t, "admin@demo", central.DemoPassword); code != http.StatusSeeOther {
		t.Fatalf("after waiting: %d, want 303", code)
	}
}

func TestCSRF(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		c := e.signedIn(t, auth.RoleAdmin)
		form := func(tok string) url.Values {
			v := url.Values{"email": {"x@demo"}, "name": {"X"}, "role": {"billing"}, "password": {"a long enough password"}}
			if tok != "" {
				v.Set("csrf_token", tok)
			}
			return v
		}
		for name, tok := range map[string]string{"missing": "", "wrong": "AAAA" + c.csrf[4:]} {
			code, _, _ := c.do(t, http.MethodPost, "/users", form(tok))
			if code != http.StatusForbidden {
				t.Errorf("%s token: %d, want 403", name, code)
			}
		}
		// The CSRF token of another session is wrong too.
		other := e.signedIn(t, auth.RoleAdmin)
		if code, _, _ := c.do(t, http.MethodPost, "/users", form(other.csrf)); code != http.StatusForbidden {
			t.Errorf("other session's token: %d, want 403", code)
		}
		if code, _ := c.post(t, "/users", form("")); code != http.StatusSeeOther {
			t.Fatalf("right token: %d, want 303", code)
		}
		// Sign-in form: the double-submit token is required.
		anon := e.client()
		code, _, _ := anon.do(t, http.MethodPost, "/login", url.Values{"email": {"admin@demo"}, "password": {central.DemoPassword}})
		if code != http.StatusForbidden {
			t.Errorf("login without csrf: %d, want 403", code)
		}
	})
}

func TestUsersCreateDisable(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		admin := e.signedIn(t, auth.RoleAdmin)
		if code, body := admin.post(t, "/users", url.Values{"email": {"Inge@GGD.example"}, "name": {"Inge"}, "role": {"inspector"}, "password": {"twelve chars plus"}}); code != http.StatusSeeOther {
			t.Fatalf("create: %d %s", code, body)
		}
		if code, _ := admin.post(t, "/users", url.Values{"email": {"inge@ggd.example"}, "name": {"Inge"}, "role": {"inspector"}, "password": {"twelve chars plus"}}); code != http.StatusConflict {
			t.Errorf("duplicate: %d, want 409", code)
		}
		if code, _ := admin.post(t, "/users", url.Values{"email": {"dev@x.example"}, "name": {"D"}, "role": {"device"}, "password": {"twelve chars plus"}}); code != http.StatusBadRequest {
			t.Errorf("device role: %d, want 400", code)
		}
		if code, _ := admin.post(t, "/users", url.Values{"email": {"short@x.example"}, "name": {"S"}, "role": {"billing"}, "password": {"short"}}); code != http.StatusBadRequest {
			t.Errorf("short password: %d, want 400", code)
		}
		inge := e.client()
		if code := inge.signIn(t, "inge@ggd.example", "twelve chars plus"); code != http.StatusSeeOther {
			t.Fatalf("new user sign in: %d", code)
		}
		if code, _ := inge.get(t, "/locations/loc-regenboog/inspection"); code != http.StatusOK {
			t.Errorf("inspector on inspection: %d", code)
		}
		if code, _ := inge.get(t, "/locations/loc-regenboog/roster"); code != http.StatusForbidden {
			t.Errorf("inspector on roster: %d, want 403", code)
		}
		us, _ := e.db.Users.Users(context.Background())
		var id string
		for _, u := range us {
			if u.Email == "inge@ggd.example" {
				id = u.ID
			}
		}
		if code, _ := admin.post(t, "/users/"+id+"/disable", nil); code != http.StatusSeeOther {
			t.Fatalf("disable: %d", code)
		}
		if code, _ := inge.get(t, "/locations/loc-regenboog/inspection"); code != http.StatusUnauthorized {
			t.Errorf("disabled user's session: %d, want 401", code)
		}
		if code := e.client().signIn(t, "inge@ggd.example", "twelve chars plus"); code != http.StatusUnauthorized {
			t.Errorf("disabled user signs in: %d, want 401", code)
		}
	})
}

// TestScriptInjection renames a child (correction through the roster form)
// to a script and checks every page that can show the name escapes it.
func TestScriptInjection(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		const evil = `<script>alert(1)</script>`
		admin := e.signedIn(t, auth.RoleAdmin)
		if code, body := admin.post(t, "/locations/loc-regenboog/roster/child", url.Values{"id": {"c-noah"}, "first_name": {evil}, "group_id": {"g-rupsen"}, "birth_date": {"2026-03-01"}}); code != http.StatusSeeOther {
			t.Fatalf("rename: %d %s", code, body)
		}
		if code, body := admin.post(t, "/locations/loc-regenboog/roster/person", url.Values{"id": {"p-evil"}, "name": {`"><img src=x onerror=alert(2)>`}, "guardian_of": {"c-noah"}}); code != http.StatusSeeOther {
			t.Fatalf("person: %d %s", code, body)
		}
		d := e.day.String()
		pages := []string{
			"/locations/loc-regenboog/roster",
			"/locations/loc-regenboog/attendance?date=" + d,
			"/locations/loc-regenboog/inspection?group=g-rupsen&date=" + d,
			"/locations/loc-regenboog/chart?group=g-rupsen&date=" + d,
			"/locations/loc-regenboog/billing?month=" + d[:7],
			"/subjects/child/c-noah",
			"/subjects/person/p-evil",
			"/audit",
		}
		for _, p := range pages {
			code, body := admin.get(t, p)
			if code != http.StatusOK {
				t.Errorf("%s: %d", p, code)
				continue
			}
			if strings.Contains(body, evil) || strings.Contains(body, "<img src=x") {
				t.Errorf("%s: raw script in the page", p)
			}
			if p != "/audit" && !strings.Contains(p, "/chart") && !strings.Contains(p, "p-evil") && !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
				t.Errorf("%s: the escaped name is not shown", p)
			}
		}
		// The inspection CSV defuses nothing here (no formula) but keeps the name.
		code, body := admin.get(t, "/locations/loc-regenboog/inspection.csv?group=g-rupsen&date="+d)
		if code != http.StatusOK || !strings.Contains(body, evil) {
			t.Errorf("csv: %d", code)
		}
	})
}

func TestBadgeStoresOnlyKeyedHash(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		admin := e.signedIn(t, auth.RoleManager)
		const uid = "04A1B2C3D4E5F6"
		if code, body := admin.post(t, "/locations/loc-regenboog/roster/badge", url.Values{"uid": {uid}, "role": {"guardian"}, "holder_id": {"p-sanne"}, "label": {"sleutelhanger"}}); code != http.StatusSeeOther {
			t.Fatalf("add badge: %d %s", code, body)
		}
		loc, _ := e.db.Sites.Location(context.Background(), "loc-regenboog")
		key, _ := attendance.ParseBadgeKey(loc.BadgeKey)
		raw, _ := attendance.ParseUID(uid)
		want := key.Hash(raw)
		r, body, err := e.db.Sites.Roster(context.Background(), "loc-regenboog")
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, b := range r.Badges {
			found = found || (b.Hash == want && b.HolderID == "p-sanne")
		}
		if !found {
			t.Fatal("badge hash not in the new roster")
		}
		if bytes.Contains(bytes.ToLower(body), []byte(strings.ToLower(uid))) {
			t.Fatal("raw UID stored in the roster")
		}
		_, page := admin.get(t, "/locations/loc-regenboog/roster")
		if strings.Contains(page, want) || !strings.Contains(page, want[:8]) {
			t.Error("roster page must show only the hash prefix")
		}
		// The change is audited as roster_change.
		es, _ := e.audit.Entries(context.Background(), 1, 0)
		if last := es[len(es)-1]; last.Action != audit.RosterChange || strings.Contains(string(last.Details), uid) {
			t.Errorf("last audit entry: %s %s", last.Action, last.Details)
		}
		// An invalid roster change is refused with 400 and stores nothing.
		if code, _ := admin.post(t, "/locations/loc-regenboog/roster/child", url.Values{"id": {"c-x"}, "first_name": {"X"}, "group_id": {"g-nope"}}); code != http.StatusBadRequest {
			t.Errorf("unknown group: %d, want 400", code)
		}
		r2, _, _ := e.db.Sites.Roster(context.Background(), "loc-regenboog")
		if r2.Version != r.Version {
			t.Errorf("version moved %d -> %d on a refused change", r.Version, r2.Version)
		}
	})
}

func TestAnnouncedAndPermissions(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		m := e.signedIn(t, auth.RoleManager)
		if code, body := m.post(t, "/locations/loc-regenboog/roster/announced", url.Values{"child_id": {"c-emma"}, "person_id": {"p-buurvrouw"}, "date": {"2026-11-18"}, "from": {"16:00"}, "until": {"17:30"}}); code != http.StatusSeeOther {
			t.Fatalf("announce: %d %s", code, body)
		}
		if code, body := m.post(t, "/locations/loc-regenboog/roster/permission", url.Values{"child_id": {"c-sem"}, "scope": {"home"}, "from": {"2026-09-01"}, "until": {"2027-07-10"}, "granted_by": {"p-sanne"}}); code != http.StatusSeeOther {
			t.Fatalf("permission: %d %s", code, body)
		}
		if code, _ := m.post(t, "/locations/loc-regenboog/roster/announced", url.Values{"child_id": {"c-emma"}, "person_id": {"p-buurvrouw"}, "date": {"2026-11-18"}, "from": {"25:00"}}); code != http.StatusBadRequest {
			t.Errorf("bad time: %d, want 400", code)
		}
		r, _, _ := e.db.Sites.Roster(context.Background(), "loc-regenboog")
		var ann bool
		for _, a := range r.Announced {
			ann = ann || (a.ChildID == "c-emma" && a.PersonID == "p-buurvrouw" && a.From == "16:00")
		}
		if !ann {
			t.Error("announced pickup missing")
		}
		_, page := m.get(t, "/locations/loc-regenboog/roster")
		// The next school year starts on the first Monday of September 2027.
		if !strings.Contains(page, "(2027-09-06)") {
			t.Error("expiring section does not name the next school year start")
		}
	})
}

var (
	uuidRe = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	hashRe = regexp.MustCompile(`[0-9a-f]{64}`)
)

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", name, diff)
	}
}

func TestInspectionCSVGolden(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		c := e.signedIn(t, auth.RoleInspector)
		for _, g := range []string{"g-rupsen", "g-vlinders"} {
			code, body := c.get(t, "/locations/loc-regenboog/inspection.csv?group="+g+"&date="+e.day.String())
			if code != http.StatusOK {
				t.Fatalf("%s: %d %s", g, code, body)
			}
			golden(t, "inspection-"+g+".csv", []byte(body))
		}
	})
}

func TestExportGolden(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		c := e.signedIn(t, auth.RoleManager)
		code, body := c.get(t, "/subjects/child/c-emma/export.json")
		if code != http.StatusOK {
			t.Fatalf("%d %s", code, body)
		}
		var v central.SubjectExport
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Fatal(err)
		}
		if len(v.Stays) == 0 || len(v.Events) == 0 || len(v.Locations) != 1 || v.Locations[0].Child.FirstName != "Emma" {
			t.Fatalf("export incomplete: %d stays, %d events, %d locations", len(v.Stays), len(v.Events), len(v.Locations))
		}
		var audited bool
		for _, a := range v.Audit {
			audited = audited || a.Action == audit.PersonalDataExport
		}
		if !audited {
			t.Error("the export itself is not in the audit section")
		}
		scrubbed := hashRe.ReplaceAllString(uuidRe.ReplaceAllString(body, "UUID"), "HASH")
		golden(t, "export-c-emma.json", []byte(scrubbed))
		// Unknown subject: 404; a malformed kind: 400.
		if code, _ := c.get(t, "/subjects/child/c-nobody/export.json"); code != http.StatusNotFound {
			t.Errorf("unknown child: %d, want 404", code)
		}
		if code, _ := c.get(t, "/subjects/bsn/123/export.json"); code != http.StatusBadRequest {
			t.Errorf("bad kind: %d, want 400", code)
		}
	})
}

func TestErasureRequest(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		m := e.signedIn(t, auth.RoleManager)
		if code, body := m.post(t, "/requests", url.Values{"kind": {"erasure"}, "subject_kind": {"child"}, "subject_id": {"c-julia"}}); code != http.StatusSeeOther {
			t.Fatalf("log: %d %s", code, body)
		}
		reqs, _ := e.db.Subjects.SubjectRequests(ctx, "child:c-julia")
		if len(reqs) != 1 || !reqs[0].Deadline.Equal(reqs[0].Received.AddDate(0, 1, 0)) {
			t.Fatalf("requests: %+v", reqs)
		}
		id := reqs[0].ID
		code, page := m.post(t, "/requests/"+id+"/erase", nil) // dry run
		if code != http.StatusOK || !strings.Contains(page, "loc-regenboog/child:c-julia") || !strings.Contains(page, "attendance") {
			t.Fatalf("dry run: %d", code)
		}
		if r, _, _ := e.db.Sites.Roster(ctx, "loc-regenboog"); !hasChild(r.Children, "c-julia") {
			t.Fatal("dry run changed the roster")
		}
		if code, _ := m.post(t, "/requests/"+id+"/erase", url.Values{"apply": {"1"}}); code != http.StatusOK {
			t.Fatalf("apply: %d", code)
		}
		r, _, _ := e.db.Sites.Roster(ctx, "loc-regenboog")
		if hasChild(r.Children, "c-julia") {
			t.Error("child still in the roster")
		}
		var rows int
		e.db.SQL().QueryRow("SELECT count(*) FROM rosters WHERE body LIKE '%c-julia%'").Scan(&rows)
		if rows != 0 {
			t.Errorf("%d stored roster versions still name the child", rows)
		}
		// Attendance is kept by law (7 years), then anonymised.
		e.db.SQL().QueryRow("SELECT count(*) FROM events WHERE child_id = 'c-julia'").Scan(&rows)
		if rows == 0 {
			t.Error("attendance evidence deleted before its term")
		}
		reqs, _ = e.db.Subjects.SubjectRequests(ctx, "child:c-julia")
		if reqs[0].Done.IsZero() || !strings.Contains(reqs[0].Outcome, "scheduled") {
			t.Errorf("request not closed: %+v", reqs[0])
		}
		es, _ := e.audit.Entries(ctx, 1, 0)
		var got []audit.Action
		for _, en := range es {
			if en.Subject == "child:c-julia" {
				got = append(got, en.Action)
			}
		}
		if diff := cmp.Diff([]audit.Action{audit.ErasureRequested, audit.Erasure}, got); diff != "" {
			t.Errorf("audit (-want +got):\n%s", diff)
		}
		// Eight years on, the retention run anonymises the events.
		e.clock.Set(e.clock.Now().AddDate(8, 0, 0))
		a := e.signedIn(t, auth.RoleAdmin)
		code, page = a.get(t, "/retention")
		if code != http.StatusOK || !strings.Contains(page, "child:c-julia") {
			t.Fatalf("retention dry run: %d", code)
		}
		if code, _ := a.post(t, "/retention/apply", nil); code != http.StatusOK {
			t.Fatalf("retention apply: %d", code)
		}
		if code, page := a.get(t, "/retention"); code != http.StatusOK || !strings.Contains(page, e.clock.Now().UTC().Format("2006-01-02 15:04")) {
			t.Errorf("retention page does not show the last run: %d", code)
		}
		e.db.SQL().QueryRow("SELECT count(*) FROM events WHERE child_id IS NOT NULL").Scan(&rows)
		if rows != 0 {
			t.Errorf("%d events still name a child after their term", rows)
		}
		e.db.SQL().QueryRow("SELECT count(*) FROM events WHERE body LIKE '%c-julia%'").Scan(&rows)
		if rows != 0 {
			t.Errorf("%d event bodies still name the child", rows)
		}
	})
}

func hasChild(cs []roster.Child, id string) bool {
	for _, c := range cs {
		if c.ID == id {
			return true
		}
	}
	return false
}

var missingText = regexp.MustCompile(`\?[a-z_]+\?`)

// TestLanguages renders every page in Dutch (default) and English and
// checks that no text key is missing.
func TestLanguages(t *testing.T) {
	e := newEnv(t, centraltest.Backends()[0])
	c := e.signedIn(t, auth.RoleAdmin)
	for _, lang := range []string{"nl", "en"} {
		if code, _ := c.get(t, "/lang/"+lang+"?next=/"); code != http.StatusSeeOther {
			t.Fatalf("lang %s: %d", lang, code)
		}
		want := map[string]string{"nl": "Uitloggen", "en": "Sign out"}[lang]
		for _, rt := range e.web.Routes() {
			if rt.Method != http.MethodGet {
				continue
			}
			p := concrete(rt, e)
			code, body := c.get(t, p)
			if code != http.StatusOK {
				continue // downloads are checked elsewhere
			}
			if m := missingText.FindString(body); m != "" {
				t.Errorf("%s %s: missing text %s", lang, p, m)
			}
			if strings.HasPrefix(body, "<!doctype html>") && !strings.Contains(body, want) {
				t.Errorf("%s %s: not in %s", lang, p, lang)
			}
		}
	}
	// An open redirect through ?next= is refused.
	code, _, hdr := c.do(t, http.MethodGet, "/lang/en?next=//evil.example/", nil)
	if code != http.StatusSeeOther || hdr.Get("Location") != "/" {
		t.Errorf("next=//evil: %d %q", code, hdr.Get("Location"))
	}
}

func TestDevicesAndStatements(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		a := e.signedIn(t, auth.RoleAdmin)
		code, page := a.post(t, "/devices/tokens", url.Values{"location": {"loc-regenboog"}, "note": {"voordeur"}})
		if code != http.StatusOK || !strings.Contains(page, `class="secret"`) {
			t.Fatalf("enrolment token: %d", code)
		}
		if code, _ := a.post(t, "/devices/tokens", url.Values{"location": {"loc-nope"}}); code != http.StatusBadRequest {
			t.Errorf("unknown location: %d, want 400", code)
		}
		dev := central.DemoHistoryDevice + "-loc-regenboog"
		if code, _ := a.post(t, "/devices/"+dev+"/revoke", nil); code != http.StatusSeeOther {
			t.Fatalf("revoke: %d", code)
		}
		if d, _ := e.db.Devices.Device(ctx, dev); d.RevokedAt.IsZero() {
			t.Error("device not revoked")
		}
		b := e.signedIn(t, auth.RoleBilling)
		for _, kind := range []string{"nl", "be"} {
			code, body := b.get(t, "/locations/loc-regenboog/statements/"+kind+"?year=2026")
			lines := strings.Split(strings.TrimSpace(body), "\n")
			if code != http.StatusOK || len(lines) < 2 {
				t.Errorf("%s statement: %d, %d lines: %.300s", kind, code, len(lines), body)
			}
		}
		if code, _ := b.get(t, "/locations/loc-regenboog/statements/nl?year=abc"); code != http.StatusBadRequest {
			t.Errorf("bad year: %d, want 400", code)
		}
		code, page = b.get(t, "/locations/loc-regenboog/billing?month=2026-11&profile=deburcht")
		if code != http.StatusOK || !strings.Contains(page, "per kwartier") || strings.Contains(page, "deburcht/") {
			t.Errorf("billing preview: %d (want deburcht's rule in words, not raw)", code)
		}
	})
}

// TestIssueFormAsksBeforeUnpricedStays: the Facturen form refuses a month
// with stays missing a time, says how many, and issues it only with the
// box ticked.
func TestIssueFormAsksBeforeUnpricedStays(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		if _, err := e.db.Demo.SeedDemoAttendance(context.Background(), "loc-regenboog", attendance.MustDate("2026-10-05")); err != nil {
			t.Fatal(err)
		}
		c := e.signedIn(t, auth.RoleBilling)
		path := "/locations/loc-regenboog/billing/runs"
		code, body := c.post(t, path, url.Values{"month": {"2026-10"}})
		if code != http.StatusConflict || !strings.Contains(body, "1 verblijf mist een aankomst- of vertrektijd en zou") || strings.Contains(body, "1 verblijven") || !strings.Contains(body, `name="allow_unpriced"`) {
			t.Fatalf("unticked: %d, want 409 naming 1 stay and the box: %.300s", code, body)
		}
		if code, body := c.post(t, path, url.Values{"month": {"2026-10"}, "allow_unpriced": {"1"}}); code != http.StatusSeeOther {
			t.Fatalf("ticked: %d %.300s, want 303 to the run", code, body)
		}
	})
}

// Counted messages agree with their number, in both languages.
func TestCountedMessagesSingularAndPlural(t *testing.T) {
	for _, c := range []struct {
		lang web.Lang
		n    int
		want string
	}{
		{web.NL, 1, "1 verblijf mist"}, {web.NL, 2, "2 verblijven missen"}, {web.NL, 0, "0 verblijven missen"},
		{web.EN, 1, "1 stay lacks"}, {web.EN, 3, "3 stays lack"},
	} {
		if got := web.Count(c.lang, "err_unpriced", c.n); !strings.Contains(got, c.want) {
			t.Errorf("%s %d: %q, want %q", c.lang, c.n, got, c.want)
		}
	}
	if err := (&central.UnpricedError{Stays: 1}).Error(); !strings.Contains(err, "1 stay would") {
		t.Errorf("API: %q", err)
	}
}

// The billing run page lists families by name as people read them: a name
// typed with a leading formula character is not put before every other.
func TestRunPageSortsFamiliesByTheirLetters(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		rs, _, err := e.db.Sites.Roster(ctx, "loc-regenboog")
		if err != nil {
			t.Fatal(err)
		}
		for i := range rs.People {
			if rs.People[i].ID == "p-eva" {
				rs.People[i].Name = "=1+1 Zwart"
			}
		}
		rs.Version++
		if _, err := e.db.Sites.PutRoster(ctx, rs); err != nil {
			t.Fatal(err)
		}
		e.clock.Set(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
		if _, err := e.db.Demo.SeedDemoAttendance(ctx, "loc-regenboog", attendance.MustDate("2026-10-05")); err != nil {
			t.Fatal(err)
		}
		run, err := e.db.Billing.Issue(ctx, central.RunRequest{LocationID: "loc-regenboog", Month: "2026-10", AllowUnpriced: true})
		if err != nil {
			t.Fatal(err)
		}
		c := e.signedIn(t, auth.RoleBilling)
		code, body := c.get(t, "/locations/loc-regenboog/billing/runs/"+run.ID)
		if code != 200 {
			t.Fatalf("%d", code)
		}
		zwart, fatima := strings.Index(body, " Zwart"), strings.Index(body, "Fatima B.")
		if zwart < 0 || fatima < 0 || zwart < fatima {
			t.Errorf("=1+1 Zwart at %d, Fatima at %d: want Zwart after Fatima", zwart, fatima)
		}
	})
}

// The care page feeds the retention terms: admin and manager set a
// child's, guardian's, staff member's or applicant's contract dates and
// contact details; billing sees the dates, not the contact details; the
// inspector sees neither; every change is audited.
func TestCarePageRoles(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		care := url.Values{"start": {"2024-09-01"}, "end": {"2026-07-31"}, "legal_name": {"Emma de Vries"}, "bsn": {"111222333"}}
		contact := url.Values{"address": {"Dorpsstraat 1"}, "postcode": {"1234 AB"}, "city": {"Ergens"}, "email": {"emma@example.nl"}, "bank_account": {"NL20INGB0001234567"}}
		base := "/locations/loc-regenboog/care/"
		for _, role := range roles {
			c := e.signedIn(t, role)
			wantEdit := role == auth.RoleAdmin || role == auth.RoleManager
			sub := "staff:s-lotte"
			if role == auth.RoleManager {
				sub = "child:c-emma"
			}
			code, _ := c.post(t, base+sub, maps.Clone(care))
			if wantEdit && code != http.StatusSeeOther || !wantEdit && code != http.StatusForbidden {
				t.Errorf("%s saves a care period: %d", role, code)
			}
			code, _ = c.post(t, base+sub+"/contact", maps.Clone(contact))
			if wantEdit && code != http.StatusSeeOther || !wantEdit && code != http.StatusForbidden {
				t.Errorf("%s saves contact details: %d", role, code)
			}
		}
		p, err := e.db.Subjects.CarePeriodOf(ctx, "child:c-emma", "loc-regenboog")
		if err != nil || p.Ended.Format("2006-01-02") != "2026-07-31" || p.LegalName != "Emma de Vries" {
			t.Fatalf("stored %+v %v", p, err)
		}
		if _, err := e.db.Subjects.ContactOf(ctx, "staff:s-lotte", "loc-regenboog"); err != nil {
			t.Errorf("admin's contact details: %v", err)
		}
		for _, role := range roles {
			c := e.signedIn(t, role)
			code, list := c.get(t, "/locations/loc-regenboog/care")
			_, one := c.get(t, base+"child:c-emma")
			switch role {
			case auth.RoleInspector:
				if code != http.StatusForbidden {
					t.Errorf("inspector: %d", code)
				}
			case auth.RoleBilling:
				if code != 200 || !strings.Contains(list, "2026-07-31") || strings.Contains(list, "Dorpsstraat") || strings.Contains(one, "Dorpsstraat") {
					t.Errorf("billing sees the dates and no contact details: %d", code)
				}
			default:
				if code != 200 || !strings.Contains(list, "2026-07-31") || !strings.Contains(list, "Dorpsstraat") || !strings.Contains(one, "111222333") {
					t.Errorf("%s: %d, the page lacks the care period or contact", role, code)
				}
			}
		}
		m := e.signedIn(t, auth.RoleManager)
		if code, body := m.post(t, base+"child:c-emma", url.Values{"start": {"2026-09-01"}, "end": {"2026-08-01"}}); code != http.StatusBadRequest || !strings.Contains(body, "before the start") {
			t.Errorf("end before start: %d", code)
		}
		if code, _, h := m.do(t, http.MethodGet, base+"new?id=a-sara", nil); code != http.StatusSeeOther || !strings.Contains(h.Get("Location"), "applicant:a-sara") {
			t.Errorf("applicant form: %d %s", code, h.Get("Location"))
		}
		if code, _ := m.post(t, base+"applicant:a-sara", url.Values{"start": {"2026-10-01"}}); code != http.StatusSeeOther {
			t.Errorf("applicant care period: %d", code)
		}
		es, _ := e.audit.Entries(ctx, 1, 0)
		n := 0
		for _, a := range es {
			if a.Action == "personal_data_change" && (strings.Contains(string(a.Details), "care_period") || strings.Contains(string(a.Details), "contact_details")) {
				n++
			}
		}
		if n != 5 {
			t.Errorf("%d audited changes, want 5", n)
		}
	})
}

// TestBillingLinesPaged: the preview's lines table shows LinesPerPage lines
// at a time with a pager; the totals are over every line; a bad page is a
// clear 400 and a page past the end shows the last.
func TestBillingLinesPaged(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		for d := attendance.MustDate("2026-10-01"); d.Month == time.October; d = attendance.DateOf(d.In(time.UTC).AddDate(0, 0, 1)) {
			if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
				continue
			}
			if _, err := e.db.Demo.SeedDemoAttendance(ctx, "loc-regenboog", d); err != nil {
				t.Fatal(err)
			}
		}
		b := e.signedIn(t, auth.RoleBilling)
		base := "/locations/loc-regenboog/billing?from=2026-10-01&to=2026-10-31&profile=bernefertier"
		rows := regexp.MustCompile(`(?s)<h2 id="lines">.*?</table>`)
		lineRows := func(page string) int { return strings.Count(rows.FindString(page), "<tr><td>") }
		code, p1 := b.get(t, base)
		if code != http.StatusOK {
			t.Fatalf("page 1: %d", code)
		}
		pager := regexp.MustCompile(`Regels 1–250 van (\d+) · pagina 1 van (\d+)`).FindStringSubmatch(p1)
		if pager == nil {
			t.Fatalf("no pager on a month of %d-plus lines: %.400s", web.LinesPerPage, rows.FindString(p1))
		}
		total, _ := strconv.Atoi(pager[1])
		pages, _ := strconv.Atoi(pager[2])
		if total <= web.LinesPerPage || pages != (total+web.LinesPerPage-1)/web.LinesPerPage {
			t.Fatalf("pager says %d lines on %d pages", total, pages)
		}
		if n := lineRows(p1); n != web.LinesPerPage {
			t.Errorf("page 1 shows %d lines, want %d", n, web.LinesPerPage)
		}
		if strings.Contains(p1, `id="lines-prev"`) || !strings.Contains(p1, `id="lines-next"`) {
			t.Error("page 1: want a next link and no previous link")
		}
		seen := lineRows(p1)
		for n := 2; n <= pages; n++ {
			code, pn := b.get(t, base+"&page="+strconv.Itoa(n))
			if code != http.StatusOK || !strings.Contains(pn, `id="lines-prev"`) {
				t.Fatalf("page %d: %d, or no previous link", n, code)
			}
			seen += lineRows(pn)
			// The totals are the month's, on every page.
			if g1, gn := regexp.MustCompile(`(?s)<tr class="grand">.*?</tr>`).FindString(p1), regexp.MustCompile(`(?s)<tr class="grand">.*?</tr>`).FindString(pn); g1 != gn || g1 == "" {
				t.Errorf("page %d: grand total %q, page 1 %q", n, gn, g1)
			}
		}
		if seen != total {
			t.Errorf("the pages show %d lines together, want %d", seen, total)
		}
		if code, last := b.get(t, base+"&page=999"); code != http.StatusOK || !strings.Contains(last, fmt.Sprintf("pagina %d van %d", pages, pages)) {
			t.Errorf("page past the end: %d, want the last page", code)
		}
		if code, body := b.get(t, base+"&page=nul"); code != http.StatusBadRequest || !strings.Contains(body, "page") {
			t.Errorf("page=nul: %d, want 400 naming page", code)
		}
	})
}

// TestBillingPagerLinksStayOnTheLocation: the pager's links put the
// location id in the path as one segment, "." and ".." too (a browser
// resolves those: ".." sent "next" to /billing); a page number too large
// for an int is past the end too, so the last page, not a 400.
func TestBillingPagerLinksStayOnTheLocation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		ro, _, err := e.db.Sites.Roster(ctx, "loc-regenboog")
		if err != nil {
			t.Fatal(err)
		}
		ro.Location.ID, ro.Version = "..", 0
		if err := e.db.Sites.PutLocation(ctx, "..", "Dotdot", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := e.db.Sites.PutRoster(ctx, ro); err != nil {
			t.Fatal(err)
		}
		for d := attendance.MustDate("2026-10-01"); d.Month == time.October; d = attendance.DateOf(d.In(time.UTC).AddDate(0, 0, 1)) {
			if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
				if _, err := e.db.Demo.SeedDemoAttendance(ctx, "..", d); err != nil {
					t.Fatal(err)
				}
			}
		}
		b := e.signedIn(t, auth.RoleBilling)
		page := e.srv.URL + "/locations/%2E%2E/billing?from=2026-10-01&to=2026-10-31&profile=bernefertier"
		code, body := b.get(t, "/locations/%2E%2E/billing?from=2026-10-01&to=2026-10-31&profile=bernefertier")
		if code != http.StatusOK {
			t.Fatalf("billing of location ..: %d", code)
		}
		next := regexp.MustCompile(`<a href="([^"]*)" id="lines-next"`).FindStringSubmatch(body)
		if next == nil {
			t.Fatalf("no next link: %.300s", body)
		}
		base, _ := url.Parse(page)
		u, err := base.Parse(html.UnescapeString(next[1]))
		if err != nil || u.EscapedPath() != "/locations/%2E%2E/billing" {
			t.Errorf("next link %q goes to %s", next[1], u.EscapedPath())
		}
		code, last := b.get(t, "/locations/%2E%2E/billing?from=2026-10-01&to=2026-10-31&profile=bernefertier&page=99999999999999999999")
		if m := regexp.MustCompile(`pagina (\d+) van (\d+)`).FindStringSubmatch(last); code != http.StatusOK || m == nil || m[1] != m[2] {
			t.Errorf("a page past any int: %d, want the last page", code)
		}
	})
}

// TestLanguageSwitchKeepsThePeriod: the language link returns to the same
// page with its query (period, profile, page); it used to keep only the
// path, so an admin switching language at month end lost the period.
func TestLanguageSwitchKeepsThePeriod(t *testing.T) {
	e := newEnv(t, centraltest.Backends()[0])
	b := e.signedIn(t, auth.RoleBilling)
	page := "/locations/loc-regenboog/billing?from=2026-10-01&to=2026-10-31&profile=deburcht&page=2"
	code, body := b.get(t, page)
	if code != http.StatusOK {
		t.Fatalf("billing: %d", code)
	}
	m := regexp.MustCompile(`href="(/lang/en\?next=[^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no language link to English")
	}
	code, _, hdr := b.do(t, http.MethodGet, html.UnescapeString(m[1]), nil)
	if code != http.StatusSeeOther || hdr.Get("Location") != page {
		t.Errorf("language switch: %d to %q, want 303 to %q", code, hdr.Get("Location"), page)
	}
}
