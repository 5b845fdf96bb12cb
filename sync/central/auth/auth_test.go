package auth_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kinderdeur/kiosk/sync/central/auth"
)

// testParams keep tests fast; the code path is the server's.
var testParams = auth.PasswordParams{Time: 1, Memory: 64, Threads: 1, KeyLen: 32, SaltLen: 16}

// TestRolePermissionMatrix pins the whole policy: every role against every
// permission. Changing a grant must change this table too.
func TestRolePermissionMatrix(t *testing.T) {
	Y := true
	want := map[auth.Role]map[auth.Permission]bool{
		auth.RoleAdmin: {auth.ReadAttendance: Y, auth.ReadInspection: Y, auth.ReadBilling: Y, auth.ManageBilling: Y, auth.ManageProvider: Y,
			auth.ReadPersonalData: Y, auth.EditPersonalData: Y, auth.ExportPersonalData: Y, auth.EraseData: Y,
			auth.EditRoster: Y, auth.ManageDevices: Y, auth.ManageUsers: Y, auth.ReadAudit: Y, auth.CorrectAttendance: Y},
		auth.RoleManager: {auth.ReadAttendance: Y, auth.ReadInspection: Y, auth.ReadBilling: Y,
			auth.ReadPersonalData: Y, auth.EditPersonalData: Y, auth.ExportPersonalData: Y, auth.EraseData: Y,
			auth.EditRoster: Y, auth.ReadAudit: Y, auth.CorrectAttendance: Y},
		auth.RoleBilling:   {auth.ReadAttendance: Y, auth.ReadBilling: Y, auth.ManageBilling: Y},
		auth.RoleInspector: {auth.ReadAttendance: Y, auth.ReadInspection: Y},
		auth.RoleDevice:    {auth.SyncDevice: Y},
		"":                 {},
		"root":             {},
		"ADMIN":            {},
	}
	for role, perms := range want {
		for _, p := range auth.Permissions {
			t.Run(fmt.Sprintf("%s/%s", role, p), func(t *testing.T) {
				if got := auth.Can(role, p); got != perms[p] {
					t.Errorf("Can(%q, %s) = %v, want %v", role, p, got, perms[p])
				}
			})
		}
	}
	if auth.Can(auth.RoleAdmin, "launch") {
		t.Error("unknown permission granted")
	}
}

func TestTokens(t *testing.T) {
	plain, hash, err := auth.NewToken("kda")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(plain, "kda_") || len(plain) != 4+43 {
		t.Errorf("token %q: want kda_ + 43 chars", plain[:4])
	}
	if hash != auth.HashToken(plain) || len(hash) != 64 || strings.Contains(hash, plain) {
		t.Errorf("hash %q is not the hex SHA-256 of the token", hash)
	}
	if auth.HashToken("abc") != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Error("HashToken is not SHA-256")
	}
	p2, _, _ := auth.NewToken("kda")
	if p2 == plain {
		t.Error("two tokens equal")
	}
	if _, _, err := auth.NewToken("KD-1"); err == nil {
		t.Error("bad prefix accepted")
	}
}

func TestPasswordHashVerifyRehash(t *testing.T) {
	old := auth.Hasher{Params: testParams}
	newer := auth.Hasher{Params: auth.PasswordParams{Time: 2, Memory: 128, Threads: 1, KeyLen: 32, SaltLen: 16}}
	h, err := old.Hash("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		hasher     auth.Hasher
		pw         string
		ok, rehash bool
	}{
		{"same params", old, "correct horse battery", true, false},
		{"wrong password", old, "correct horse battery!", false, false},
		{"stronger params now", newer, "correct horse battery", true, true},
		{"wrong with stronger params", newer, "wrong horse battery", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := tt.hasher.Verify(h, tt.pw)
			if err != nil || ok != tt.ok || rehash != tt.rehash {
				t.Errorf("Verify = %v, %v, %v; want %v, %v", ok, rehash, err, tt.ok, tt.rehash)
			}
		})
	}
	if _, err := old.Hash("short"); !errors.Is(err, auth.ErrWeakPassword) {
		t.Errorf("short password: %v", err)
	}
	if _, _, err := old.Verify("$2y$10$bcrypt", "x"); !errors.Is(err, auth.ErrMalformedHash) {
		t.Errorf("bcrypt hash: %v", err)
	}
	if !strings.HasPrefix(func() string { h, _ := auth.Hasher{Params: auth.ServerParams}.Hash("correct horse battery"); return h }(), "$argon2id$v=19$m=65536,t=3,p=4$") {
		t.Error("server params not in the PHC string")
	}
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)} }
func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func TestSessionTimeouts(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		steps []time.Duration // advance, then Lookup
		want  []bool          // live?
	}{
		{"active session lives", []time.Duration{time.Minute, 29 * time.Minute}, []bool{true, true}},
		{"idle 30 minutes ends it", []time.Duration{30 * time.Minute, 0}, []bool{false, false}},
		{"activity keeps it alive until the absolute limit", []time.Duration{
			25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute,
			25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute,
			25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute,
			25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute,
			25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute,
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			store := auth.NewMemorySessions()
			m := auth.NewSessions(store)
			m.Now = c.now
			id, s, err := m.Create(ctx, auth.Principal{ID: "u1", Role: auth.RoleManager})
			if err != nil {
				t.Fatal(err)
			}
			if s.IDHash == id || s.IDHash != auth.HashToken(id) {
				t.Error("store keyed by the raw session id")
			}
			want := tt.want
			if want == nil { // 12 h absolute: 28 steps of 25 min = 11h40 live, the 29th (12h05) not
				for i := range tt.steps {
					want = append(want, i < 28)
				}
			}
			var got []bool
			for _, d := range tt.steps {
				c.add(d)
				_, err := m.Lookup(ctx, id)
				if err != nil && !errors.Is(err, auth.ErrNoSession) {
					t.Fatal(err)
				}
				got = append(got, err == nil)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("live after each step (-want +got):\n%s", diff)
			}
		})
	}
}

// fixture is a server with every permission behind Require and one
// principal of each role as token and as session.
type fixture struct {
	a        *auth.Authenticator
	srv      http.Handler
	tokens   map[auth.Role]string
	sessions map[auth.Role][2]string // id, csrf
	audit    []string
	mu       sync.Mutex
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{tokens: map[auth.Role]string{}, sessions: map[auth.Role][2]string{}}
	toks := auth.NewMemoryTokens()
	users := auth.NewMemoryUsers()
	hasher := auth.Hasher{Params: testParams}
	f.a = &auth.Authenticator{Tokens: toks, Sessions: auth.NewSessions(auth.NewMemorySessions()), Users: users, Hasher: hasher,
		Audit: func(_ context.Context, action, actor, subject string, _ map[string]any) error {
			f.mu.Lock()
			f.audit = append(f.audit, action+" "+actor+" "+subject)
			f.mu.Unlock()
			return nil
		}}
	for _, r := range auth.Roles {
		plain, hash, _ := auth.NewToken("kdt")
		toks.Add(hash, auth.Principal{ID: "tok-" + string(r), Role: r})
		f.tokens[r] = plain
		pwHash, _ := hasher.Hash("password-of-" + string(r))
		users.Put(auth.User{ID: "u-" + string(r), Username: string(r) + "@example.org", Role: r, PasswordHash: pwHash})
		id, s, err := f.a.SignIn(context.Background(), string(r)+"@example.org", "password-of-"+string(r))
		if err != nil {
			t.Fatal(err)
		}
		f.sessions[r] = [2]string{id, s.CSRFToken}
	}
	mux := http.NewServeMux()
	for _, p := range auth.Permissions {
		mux.Handle("/p/"+string(p), f.a.Require(p)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			pr, _ := auth.PrincipalFrom(r.Context())
			fmt.Fprint(w, pr.ID)
		})))
	}
	f.srv = auth.SecurityHeaders(mux)
	return f
}

func (f *fixture) do(method, path string, hdr map[string]string, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	f.srv.ServeHTTP(w, r)
	return w
}

// TestEscalation: every role, by token and by session, against every
// permission-guarded endpoint: 200 exactly where Can says so, else 403.
func TestEscalation(t *testing.T) {
	f := newFixture(t)
	for _, role := range auth.Roles {
		for _, p := range auth.Permissions {
			want := http.StatusForbidden
			if auth.Can(role, p) {
				want = http.StatusOK
			}
			t.Run(fmt.Sprintf("%s/%s/token", role, p), func(t *testing.T) {
				w := f.do("POST", "/p/"+string(p), map[string]string{"Authorization": "Bearer " + f.tokens[role]}, "")
				if w.Code != want {
					t.Errorf("status %d, want %d: %s", w.Code, want, w.Body)
				}
			})
			t.Run(fmt.Sprintf("%s/%s/session", role, p), func(t *testing.T) {
				s := f.sessions[role]
				w := f.do("POST", "/p/"+string(p), map[string]string{"Cookie": auth.CookieNamePlain + "=" + s[0], auth.CSRFHeader: s[1]}, "")
				if w.Code != want {
					t.Errorf("status %d, want %d: %s", w.Code, want, w.Body)
				}
			})
		}
	}
}

func TestAuthErrors(t *testing.T) {
	f := newFixture(t)
	mgr := f.sessions[auth.RoleManager]
	other := f.sessions[auth.RoleBilling]
	cookie := auth.CookieNamePlain + "=" + mgr[0]
	tests := []struct {
		name   string
		method string
		hdr    map[string]string
		body   string
		want   int
		code   string
	}{
		{"no credentials", "GET", nil, "", 401, "unauthenticated"},
		{"unknown token", "GET", map[string]string{"Authorization": "Bearer kdt_nope"}, "", 401, "unauthenticated"},
		{"basic auth", "GET", map[string]string{"Authorization": "Basic dTpw"}, "", 401, "unauthenticated"},
		{"empty bearer", "GET", map[string]string{"Authorization": "Bearer "}, "", 401, "unauthenticated"},
		{"unknown session", "GET", map[string]string{"Cookie": auth.CookieNamePlain + "=forged"}, "", 401, "unauthenticated"},
		{"role lacks permission", "GET", map[string]string{"Authorization": "Bearer " + f.tokens[auth.RoleInspector]}, "", 403, "forbidden"},
		{"session GET needs no CSRF", "GET", map[string]string{"Cookie": cookie}, "", 200, ""},
		{"session POST without CSRF", "POST", map[string]string{"Cookie": cookie}, "", 403, "csrf"},
		{"session POST with wrong CSRF", "POST", map[string]string{"Cookie": cookie, auth.CSRFHeader: mgr[1] + "x"}, "", 403, "csrf"},
		{"session POST with another session's CSRF", "POST", map[string]string{"Cookie": cookie, auth.CSRFHeader: other[1]}, "", 403, "csrf"},
		{"session DELETE without CSRF", "DELETE", map[string]string{"Cookie": cookie}, "", 403, "csrf"},
		{"session POST with CSRF header", "POST", map[string]string{"Cookie": cookie, auth.CSRFHeader: mgr[1]}, "", 200, ""},
		{"session form POST with CSRF field", "POST", map[string]string{"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
			url.Values{auth.CSRFField: {mgr[1]}}.Encode(), 200, ""},
		{"session form POST with wrong field", "POST", map[string]string{"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
			url.Values{auth.CSRFField: {"x"}}.Encode(), 403, "csrf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := f.do(tt.method, "/p/"+string(auth.EditRoster), tt.hdr, tt.body)
			if w.Code != tt.want {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.want, w.Body)
			}
			if tt.code == "" {
				return
			}
			var body struct{ Error string }
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Error != tt.code {
				t.Errorf("body %q: want JSON error %q", w.Body, tt.code)
			}
			if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
			if (tt.want == 401) != (w.Header().Get("WWW-Authenticate") != "") {
				t.Errorf("WWW-Authenticate = %q for %d", w.Header().Get("WWW-Authenticate"), tt.want)
			}
		})
	}
}

func TestSignIn(t *testing.T) {
	ctx := context.Background()
	users := auth.NewMemoryUsers()
	weak := auth.Hasher{Params: testParams}
	h, _ := weak.Hash("a long enough password")
	users.Put(auth.User{ID: "u1", Username: "Anna", Role: auth.RoleManager, PasswordHash: h})
	users.Put(auth.User{ID: "u2", Username: "gone", Role: auth.RoleAdmin, PasswordHash: h, Disabled: true})
	var audit []string
	a := &auth.Authenticator{Users: users, Sessions: auth.NewSessions(auth.NewMemorySessions()),
		Hasher: auth.Hasher{Params: auth.PasswordParams{Time: 2, Memory: 64, Threads: 1, KeyLen: 32, SaltLen: 16}},
		Audit: func(_ context.Context, action, actor, subject string, _ map[string]any) error {
			audit = append(audit, action+" "+actor+" "+subject)
			return nil
		}}
	for _, tt := range []struct{ user, pw string }{
		{"anna", "wrong password here"}, {"nobody", "a long enough password"}, {"gone", "a long enough password"},
		{"evil\nname", "x"},
	} {
		if _, _, err := a.SignIn(ctx, tt.user, tt.pw); !errors.Is(err, auth.ErrBadCredentials) {
			t.Errorf("SignIn(%q) = %v, want ErrBadCredentials", tt.user, err)
		}
	}
	_, s, err := a.SignIn(ctx, "anna", "a long enough password")
	if err != nil || s.Principal.ID != "u1" || s.Principal.Role != auth.RoleManager {
		t.Fatalf("SignIn = %+v, %v", s, err)
	}
	u, _ := users.LookupUser(ctx, "anna")
	if !strings.Contains(u.PasswordHash, "t=2") {
		t.Errorf("hash not upgraded: %s", u.PasswordHash)
	}
	want := []string{
		"sign_in_failed anonymous user:anna", "sign_in_failed anonymous user:nobody",
		"sign_in_failed anonymous user:gone", "sign_in_failed anonymous user:evilname", "sign_in user:u1 user:u1",
	}
	if diff := cmp.Diff(want, audit); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}
}

func TestRateLimit(t *testing.T) {
	c := newClock()
	l := auth.NewLimiter(2, 3, c.now) // 2/s, bursts of 3
	h := auth.RateLimit(l, auth.ClientIP)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	do := func(addr string) (int, string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = addr
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code, w.Header().Get("Retry-After")
	}
	type res struct {
		Code  int
		Retry string
	}
	var got []res
	for range 4 {
		c, ra := do("10.0.0.1:1234")
		got = append(got, res{c, ra})
	}
	c2, _ := do("10.0.0.2:1") // another client has its own bucket
	got = append(got, res{c2, ""})
	c.add(499 * time.Millisecond)
	cd, ra := do("10.0.0.1:999") // same IP, other port: same bucket
	got = append(got, res{cd, ra})
	c.add(time.Millisecond)
	cd, ra = do("10.0.0.1:999")
	got = append(got, res{cd, ra})
	c.add(10 * time.Second) // refills to the burst, not beyond
	for range 4 {
		cd, ra = do("10.0.0.1:1")
		got = append(got, res{cd, ra})
	}
	want := []res{{200, ""}, {200, ""}, {200, ""}, {429, "1"}, {200, ""}, {429, "1"}, {200, ""},
		{200, ""}, {200, ""}, {200, ""}, {429, "1"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	slow := auth.NewLimiter(0.1, 1, c.now)
	slow.Allow("d")
	if ok, wait := slow.Allow("d"); ok || wait != 10*time.Second {
		t.Errorf("slow limiter: %v, %v; want false, 10s", ok, wait)
	}
}

func TestRateLimitPerDevice(t *testing.T) {
	f := newFixture(t)
	c := newClock()
	l := auth.NewLimiter(1, 2, c.now)
	h := f.a.Authenticate(auth.RateLimit(l, auth.PrincipalOrIP)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	codes := func(tok string) []int {
		var out []int
		for range 3 {
			r := httptest.NewRequest("POST", "/", nil)
			r.Header.Set("Authorization", "Bearer "+tok)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			out = append(out, w.Code)
		}
		return out
	}
	// Both devices come from the same address but have their own buckets.
	if diff := cmp.Diff([]int{200, 200, 429}, codes(f.tokens[auth.RoleDevice])); diff != "" {
		t.Errorf("device (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{200, 200, 429}, codes(f.tokens[auth.RoleAdmin])); diff != "" {
		t.Errorf("admin (-want +got):\n%s", diff)
	}
}

func TestSecurityHeaders(t *testing.T) {
	h := auth.SecurityHeaders(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for _, tlsOn := range []bool{false, true} {
		r := httptest.NewRequest("GET", "/", nil)
		if tlsOn {
			r.TLS = &tls.ConnectionState{}
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		got := map[string]string{}
		for _, k := range []string{"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "Strict-Transport-Security"} {
			got[k] = w.Header().Get(k)
		}
		want := map[string]string{
			"Content-Security-Policy": auth.ContentSecurityPolicy,
			"X-Content-Type-Options":  "nosniff",
			"X-Frame-Options":         "DENY",
			"Referrer-Policy":         "no-referrer",
		}
		if tlsOn {
			want["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
		} else {
			want["Strict-Transport-Security"] = ""
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("tls=%v (-want +got):\n%s", tlsOn, diff)
		}
		for _, must := range []string{"default-src 'self'", "frame-ancestors 'none'"} {
			if !strings.Contains(got["Content-Security-Policy"], must) {
				t.Errorf("CSP lacks %s", must)
			}
		}
	}
}

func TestLimitBody(t *testing.T) {
	h := auth.LimitBody(10)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 100)
		n := 0
		for {
			m, err := r.Body.Read(buf[n:])
			n += m
			if err != nil {
				var mbe *http.MaxBytesError
				if errors.As(err, &mbe) {
					w.WriteHeader(http.StatusRequestEntityTooLarge)
				}
				return
			}
		}
	}))
	for _, tt := range []struct {
		body string
		cl   bool
		want int
	}{{"short", true, 200}, {"much too long body", true, 413}, {"much too long body", false, 413}} {
		r := httptest.NewRequest("POST", "/", strings.NewReader(tt.body))
		if !tt.cl {
			r.ContentLength = -1
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tt.want {
			t.Errorf("%q (content-length %v): %d, want %d", tt.body, tt.cl, w.Code, tt.want)
		}
	}
}
