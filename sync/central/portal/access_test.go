package portal_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestEveryRouteAsAnotherFamily tries every route of the portal (the table
// must name each one: a new route without a case fails the test) as
// Ingrid and as Omar with the Fatima family's ids, and without any
// credential. Acting routes must answer 404 and change nothing; reading
// routes must not show a name of the Fatima family.
func TestEveryRouteAsAnotherFamily(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		// Fatima's things.
		var ann, perm struct{ ID string }
		e.do(t, tokFatima, "POST", "/api/v1/parent/pickups", map[string]any{"children": []string{"c-daan", "c-sara"},
			"person_name": "Henk K.", "date": e.today.String()}).json(t, &ann)
		e.do(t, tokFatima, "POST", "/api/v1/parent/permissions", map[string]any{"child": "c-sara", "scope": "home",
			"from": e.today.String(), "until": "2027-07-31", "confirm": true}).json(t, &perm)
		var abs []struct{ ID string }
		e.do(t, tokFatima, "POST", "/api/v1/parent/absences", map[string]any{"child": "c-daan", "date": "2026-11-30", "kind": "sick"}).json(t, &abs)
		if ann.ID == "" || perm.ID == "" || len(abs) != 1 {
			t.Fatalf("setup: %v %v %v", ann, perm, abs)
		}
		inv := issueOctober(t, e)
		fatimaNames := []string{"Daan", "Mila", "Sara", "Henk", "fatima@", inv}
		type tc struct {
			path string
			body any
			form url.Values
			read bool // a listing: must not show the other family
		}
		form := func(kv ...string) url.Values {
			v := url.Values{}
			for i := 0; i+1 < len(kv); i += 2 {
				v.Add(kv[i], kv[i+1])
			}
			return v
		}
		d := e.today.String()
		cases := map[string]tc{
			"GET /ouders/{$}":                                {path: "/ouders/", read: true},
			"GET /ouders/pickups":                            {path: "/ouders/pickups", read: true},
			"POST /ouders/pickups":                           {path: "/ouders/pickups", form: form("children", "c-daan", "person", "new", "person_name", "X Y.", "date", d)},
			"POST /ouders/pickups/{id}/withdraw":             {path: "/ouders/pickups/" + ann.ID + "/withdraw", form: form()},
			"GET /ouders/permissions":                        {path: "/ouders/permissions", read: true},
			"POST /ouders/permissions":                       {path: "/ouders/permissions", form: form("child", "c-sara", "scope", "home", "from", d, "until", "2027-01-01", "confirm", "yes")},
			"POST /ouders/permissions/{id}/revoke":           {path: "/ouders/permissions/" + perm.ID + "/revoke", form: form()},
			"GET /ouders/absences":                           {path: "/ouders/absences", read: true},
			"POST /ouders/absences":                          {path: "/ouders/absences", form: form("child", "loc-regenboog/c-daan", "date", d, "kind", "sick")},
			"POST /ouders/absences/{id}/withdraw":            {path: "/ouders/absences/" + abs[0].ID + "/withdraw", form: form()},
			"GET /ouders/history":                            {path: "/ouders/history?month=2026-11", read: true},
			"GET /ouders/data":                               {path: "/ouders/data", read: true},
			"GET /ouders/invoices/{location}/{file}":         {path: "/ouders/invoices/loc-regenboog/" + inv + ".pdf"},
			"POST /ouders/requests":                          {path: "/ouders/requests", form: form("kind", "erasure", "subject", "c-mila", "message", "x")},
			"POST /ouders/children/{id}/photo":               {path: "/ouders/children/c-mila/photo", form: form("consent", "no")},
			"GET /ouders/passkeys":                           {path: "/ouders/passkeys", read: true},
			"POST /ouders/logout":                            {path: "/ouders/logout", form: form()},
			"POST /api/v1/parent/passkeys/register/begin":    {path: "/api/v1/parent/passkeys/register/begin", body: map[string]any{}},
			"POST /api/v1/parent/passkeys/register/finish":   {path: "/api/v1/parent/passkeys/register/finish", body: map[string]any{}},
			"GET /api/v1/parent/me":                          {path: "/api/v1/parent/me", read: true},
			"GET /api/v1/parent/today":                       {path: "/api/v1/parent/today", read: true},
			"GET /api/v1/parent/today/stream":                {path: "/api/v1/parent/today/stream", read: true},
			"GET /api/v1/parent/pickups":                     {path: "/api/v1/parent/pickups", read: true},
			"POST /api/v1/parent/pickups":                    {path: "/api/v1/parent/pickups", body: map[string]any{"children": []string{"c-daan"}, "person_id": "p-henk", "date": d}},
			"DELETE /api/v1/parent/pickups/{id}":             {path: "/api/v1/parent/pickups/" + ann.ID},
			"GET /api/v1/parent/people":                      {path: "/api/v1/parent/people", read: true},
			"GET /api/v1/parent/permissions":                 {path: "/api/v1/parent/permissions", read: true},
			"POST /api/v1/parent/permissions":                {path: "/api/v1/parent/permissions", body: map[string]any{"child": "c-sara", "scope": "home", "from": d, "until": "2027-01-01", "confirm": true}},
			"DELETE /api/v1/parent/permissions/{id}":         {path: "/api/v1/parent/permissions/" + perm.ID},
			"GET /api/v1/parent/absences":                    {path: "/api/v1/parent/absences", read: true},
			"POST /api/v1/parent/absences":                   {path: "/api/v1/parent/absences", body: map[string]any{"child": "c-daan", "date": d, "kind": "sick"}},
			"DELETE /api/v1/parent/absences/{id}":            {path: "/api/v1/parent/absences/" + abs[0].ID},
			"GET /api/v1/parent/history":                     {path: "/api/v1/parent/history?month=2026-11", read: true},
			"GET /api/v1/parent/data":                        {path: "/api/v1/parent/data", read: true},
			"GET /api/v1/parent/invoices":                    {path: "/api/v1/parent/invoices", read: true},
			"GET /api/v1/parent/invoices/{location}/{file}":  {path: "/api/v1/parent/invoices/loc-regenboog/" + inv + ".pdf"},
			"POST /api/v1/parent/requests":                   {path: "/api/v1/parent/requests", body: map[string]any{"kind": "erasure", "subject": "c-daan"}},
			"PUT /api/v1/parent/children/{id}/photo-consent": {path: "/api/v1/parent/children/c-mila/photo-consent", body: map[string]bool{"consent": false}},
			"POST /api/v1/parent/logout":                     {path: "/api/v1/parent/logout", body: map[string]any{}},
			// The check-out e-mail names no id: it switches the caller's own
			// setting only (checked below: Fatima's stays off).
			"POST /ouders/notify":       {path: "/ouders/notify", form: form("checkout", "yes"), read: true},
			"PUT /api/v1/parent/notify": {path: "/api/v1/parent/notify", body: map[string]bool{"checkout": true}, read: true},
		}
		before := map[string]int64{"loc-regenboog": e.roster(t, "loc-regenboog").Version, "loc-zon": e.roster(t, "loc-zon").Version}
		for _, rt := range e.p.Routes() {
			key := rt.Method + " " + rt.Pattern
			if rt.Public {
				continue
			}
			c, ok := cases[key]
			if !ok {
				t.Errorf("route %s has no access case: add one", key)
				continue
			}
			delete(cases, key)
			for _, tok := range []string{tokIngrid, tokOmar, ""} {
				who := map[string]string{tokIngrid: "ingrid", tokOmar: "omar", "": "anonymous"}[tok]
				t.Run(key+"/"+who, func(t *testing.T) {
					var a answer
					if c.form != nil {
						a = e.postForm(t, tok, c.path, c.form)
					} else if strings.HasSuffix(c.path, "/stream") {
						a = e.peek(t, tok, c.path)
					} else {
						a = e.do(t, tok, rt.Method, c.path, c.body)
					}
					if tok == "" {
						if a.status != http.StatusUnauthorized && a.status != http.StatusSeeOther {
							t.Errorf("anonymous: %d, want 401 or a redirect to sign in", a.status)
						}
						return
					}
					for _, n := range fatimaNames {
						if strings.Contains(a.body, n) {
							t.Errorf("shows %q of another family: %.400s", n, a.body)
						}
					}
					if !c.read && a.status < 300 && !strings.HasSuffix(key, "logout") && !strings.Contains(key, "register/begin") {
						t.Errorf("acting route answered %d for another family's id: %.300s", a.status, a.body)
					}
				})
			}
		}
		for k := range cases {
			t.Errorf("case %s names no route", k)
		}
		for loc, v := range before {
			if got := e.roster(t, loc).Version; got != v {
				t.Errorf("%s: roster changed (v%d -> v%d) by another family's requests", loc, v, got)
			}
		}
		if on, err := e.db.Parents.NotifyCheckout(context.Background(), "fatima@ouders.demo"); err != nil || on {
			t.Errorf("Fatima's check-out e-mail switched by another family: %v %v", on, err)
		}
		// Fatima's things are all still there.
		if a := e.do(t, tokFatima, "GET", "/api/v1/parent/pickups", nil); !strings.Contains(a.body, ann.ID) {
			t.Errorf("Fatima's announcement gone: %s", a.body)
		}
		if a := e.do(t, tokFatima, "GET", "/api/v1/parent/absences", nil); !strings.Contains(a.body, abs[0].ID) {
			t.Errorf("Fatima's absence gone: %s", a.body)
		}
	})
}

// postForm posts a form as a browser would (a token stands in for the
// session: CSRF applies to cookies only).
func (e *env) postForm(t testing.TB, token, path string, v url.Values) answer {
	t.Helper()
	req, _ := http.NewRequest("POST", e.url(path), strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := jarClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b := make([]byte, 1<<20)
	n, _ := readFull(res.Body, b)
	return answer{res.StatusCode, string(b[:n]), res.Header}
}

// peek reads the first event of a stream.
func (e *env) peek(t testing.TB, token, path string) answer {
	t.Helper()
	req, _ := http.NewRequest("GET", e.url(path), nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := jarClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b := make([]byte, 64<<10)
	n, _ := res.Body.Read(b)
	return answer{res.StatusCode, string(b[:n]), res.Header}
}

func readFull(r interface{ Read([]byte) (int, error) }, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := r.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
