package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// nastyNext are redirect targets a browser would take to another host (or
// treat as a scheme): every redirect must answer them with a local path.
var nastyNext = []string{
	"//evil.example",
	"//evil.example/",
	"/\\evil.example",
	"\\/evil.example",
	"\\\\evil.example",
	"/\t/evil.example",
	"/\n/evil.example",
	"/\r/evil.example",
	"/ /evil.example",
	"/\x00/evil.example",
	"https:evil.example",
	"https://evil.example",
	"javascript:alert(1)",
	"/%2F/evil.example",
	"/%5Cevil.example",
	"/%09/evil.example",
	"/\u00a0/evil.example",
	"/\u2028/evil.example",
	"http:/evil.example",
	"evil.example",
	"",
}

// TestRedirectsStayOnSite is the regression test for the open redirect of
// issue 16: /lang/{l}?next= and the sign-in form's next must never send
// the browser to another host.
func TestRedirectsStayOnSite(t *testing.T) {
	e := newEnvLimit(t, 1000)
	h := e.web.Handler()
	// Served in-process: Go's client refuses to parse such a Location, a
	// browser follows it.
	serve := func(req *http.Request) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	for _, next := range nastyNext {
		t.Run("lang/"+url.QueryEscape(next), func(t *testing.T) {
			rec := serve(httptest.NewRequest(http.MethodGet, "/lang/en?next="+url.QueryEscape(next), nil))
			if rec.Code != http.StatusSeeOther || !isLocal(rec.Header().Get("Location")) {
				t.Errorf("next=%q: %d Location %q", next, rec.Code, rec.Header().Get("Location"))
			}
		})
	}
	// The raw form of the reported attack: %09 in the query itself.
	rec := serve(httptest.NewRequest(http.MethodGet, "/lang/en?next=/%09/evil.example", nil))
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/" {
		t.Errorf("next=/%%09/evil.example: %d Location %q, want /", rec.Code, rec.Header().Get("Location"))
	}
	for _, next := range nastyNext {
		t.Run("login/"+url.QueryEscape(next), func(t *testing.T) {
			page := serve(httptest.NewRequest(http.MethodGet, "/login?next="+url.QueryEscape(next), nil))
			if strings.Contains(page.Body.String(), "evil.example") {
				t.Errorf("login form carries next=%q", next)
			}
			m := csrfField.FindStringSubmatch(page.Body.String())
			if m == nil {
				t.Fatal("no csrf token")
			}
			form := url.Values{"csrf_token": {m[1]}, "email": {"admin@demo"}, "password": {"kinderdeur-demo"}, "next": {next}}
			req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for _, ck := range page.Result().Cookies() {
				req.AddCookie(ck)
			}
			rec := serve(req)
			if rec.Code != http.StatusSeeOther || !isLocal(rec.Header().Get("Location")) {
				t.Errorf("next=%q: %d Location %q", next, rec.Code, rec.Header().Get("Location"))
			}
		})
	}
	// A good next still works.
	rec = serve(httptest.NewRequest(http.MethodGet, "/lang/en?next="+url.QueryEscape("/locations/loc-regenboog/roster?x=1"), nil))
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/locations/loc-regenboog/roster?x=1" {
		t.Errorf("good next: %d %q", rec.Code, rec.Header().Get("Location"))
	}
}

// isLocal is what a browser would treat as this site: one leading slash,
// then no slash or backslash, and nothing it would strip.
func isLocal(loc string) bool {
	if !strings.HasPrefix(loc, "/") || len(loc) > 1 && (loc[1] == '/' || loc[1] == '\\') {
		return false
	}
	return !strings.ContainsAny(loc, "\\\t\r\n \x00")
}
