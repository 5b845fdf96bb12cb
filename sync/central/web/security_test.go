package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/kinderdeur/kiosk/sync/central"
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

// signInFrom posts the sign-in form from a client address, in-process.
func signInFrom(t *testing.T, e *env, ip, email, password string) int {
	t.Helper()
	h := e.web.Handler()
	get := httptest.NewRequest(http.MethodGet, "/login", nil)
	get.RemoteAddr = ip + ":40000"
	page := httptest.NewRecorder()
	h.ServeHTTP(page, get)
	m := csrfField.FindStringSubmatch(page.Body.String())
	if m == nil {
		t.Fatal("no csrf token")
	}
	form := url.Values{"csrf_token": {m[1]}, "email": {email}, "password": {password}, "next": {"/"}}
	req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = ip + ":40001"
	for _, ck := range page.Result().Cookies() {
		req.AddCookie(ck)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

// TestSignInLockoutIsPerAddress is the regression test for issue 16 item
// 4: the per-account limiter let anyone keep an admin locked out by
// failing to sign in as them. Attempts are now limited per (client
// address, account) plus per address over all accounts; the owner from
// another address still signs in, and an admin can lift a lock.
func TestSignInLockoutIsPerAddress(t *testing.T) {
	e := newEnvLimit(t, 3)
	const attacker, owner = "203.0.113.66", "198.51.100.10"
	for i := range 6 {
		code := signInFrom(t, e, attacker, "admin@demo", "wrong password!")
		if want := map[bool]int{true: 401, false: 429}[i < 3]; code != want {
			t.Errorf("attacker attempt %d: %d, want %d", i, code, want)
		}
	}
	if code := signInFrom(t, e, owner, "admin@demo", central.DemoPassword); code != http.StatusSeeOther {
		t.Fatalf("the real admin from another address: %d, want 303", code)
	}
	// From the attacker's address the account stays locked...
	if code := signInFrom(t, e, attacker, "admin@demo", central.DemoPassword); code != http.StatusTooManyRequests {
		t.Errorf("attacker's address after the lock: %d, want 429", code)
	}
	// ...and one address cannot spray every account: the per-address
	// limit (default bursts of 30) stops it.
	limited := false
	for i := range 40 {
		if signInFrom(t, e, "203.0.113.99", fmt.Sprintf("user%d@demo", i), "wrong password!") == http.StatusTooManyRequests {
			limited = true
			break
		}
	}
	if !limited {
		t.Error("40 accounts tried from one address without a 429")
	}

	// The owner behind the same address (an office NAT) is locked out
	// too; an admin lifts the lock of that account.
	const office = "192.0.2.1"
	for range 3 {
		signInFrom(t, e, office, "manager@demo", "wrong password!")
	}
	if code := signInFrom(t, e, office, "manager@demo", central.DemoPassword); code != http.StatusTooManyRequests {
		t.Fatalf("locked manager: %d, want 429", code)
	}
	admin := e.signedIn(t, "admin")
	us, err := e.db.Users.Users(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var id string
	for _, u := range us {
		if u.Email == "manager@demo" {
			id = u.ID
		}
	}
	if code, body := admin.post(t, "/users/"+id+"/unlock", nil); code != http.StatusSeeOther {
		t.Fatalf("unlock: %d %.200s", code, body)
	}
	if code := signInFrom(t, e, office, "manager@demo", central.DemoPassword); code != http.StatusSeeOther {
		t.Errorf("after an admin lifted the lock: %d, want 303", code)
	}
	es, _ := e.audit.Entries(context.Background(), 1, 0)
	found := false
	for _, en := range es {
		if en.Subject == "user:"+id && strings.Contains(string(en.Details), "sign_in_unlocked") {
			found = true
		}
	}
	if !found {
		t.Error("the unlock is not in the audit trail")
	}
	// Managers may not lift locks.
	if code, _ := e.signedIn(t, "manager").post(t, "/users/"+id+"/unlock", nil); code != http.StatusForbidden {
		t.Errorf("manager unlocks: %d, want 403", code)
	}
}
