package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/audit"
	"github.com/kinderdeur/kiosk/attendance/invoice"
	"github.com/kinderdeur/kiosk/sync/central"
	"github.com/kinderdeur/kiosk/sync/central/auth"
	"github.com/kinderdeur/kiosk/sync/central/centraltest"
	"github.com/kinderdeur/kiosk/sync/central/web"
)

const adminToken = "web-test-admin-token"

// testHasher is a cheap argon2id for tests (the server default costs ~100 ms).
var testHasher = auth.Hasher{Params: auth.PasswordParams{Time: 1, Memory: 1024, Threads: 1, KeyLen: 32, SaltLen: 16}}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

type env struct {
	db    *central.DB
	audit *audit.Log
	web   *web.Server
	srv   *httptest.Server
	clock *clock
	day   attendance.Date // a seeded day with attendance
	run   central.Run     // November 2026 invoiced (a billing run)
	fam   string          // a family with a SEPA mandate
	hook  string          // a webhook endpoint
}

// newEnv starts central + the admin pages on backend b with the demo
// organisation, demo users and one generated day of attendance.
func newEnv(t testing.TB, b centraltest.Backend) *env { return newEnvOpts(t, b, 1000) }

// newEnvLimit is a SQLite env whose sign-in limiter allows burst attempts.
func newEnvLimit(t testing.TB, burst int) *env {
	return newEnvOpts(t, centraltest.Backends()[0], burst)
}

func newEnvOpts(t testing.TB, b centraltest.Backend, burst int) *env {
	t.Helper()
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 11, 17, 20, 0, 0, 0, time.UTC)} // Tuesday evening
	db, err := central.Open(ctx, b.DSN(t), clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	day := attendance.DateOf(clk.Now())
	if err := db.Demo.SeedDemo(ctx, day); err != nil {
		t.Fatal(err)
	}
	if err := db.Demo.SeedDemoUsers(ctx, testHasher); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Demo.SeedDemoAttendance(ctx, "loc-regenboog", day); err != nil {
		t.Fatal(err)
	}
	// November is invoiced once it is over (the first of December), then
	// the clock goes back to the seeded day.
	clk.Set(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC))
	run, fam := seedBillingRun(t, db)
	clk.Set(time.Date(2026, 11, 17, 20, 0, 0, 0, time.UTC))
	hook, _, err := db.Webhooks.CreateEndpoint(ctx, central.WebhookInput{URL: "https://93.184.215.14/kinderdeur", Events: central.HookEventTypes})
	if err != nil {
		t.Fatal(err)
	}
	al, err := db.OpenAudit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a := central.NewAuthenticator(db, central.AuthOptions{StaticAdminTokens: []string{adminToken}, Hasher: testHasher, Audit: al.Hook})
	api := central.NewServer(central.Config{DB: db, Auth: a, Audit: al, Now: clk.Now})
	w, err := web.New(web.Config{DB: db, Auth: a, Audit: al, API: api.Handler(), Now: clk.Now, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		SignInLimiter: auth.NewLimiter(1.0/12, burst, clk.Now)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(w.Handler())
	t.Cleanup(srv.Close)
	return &env{db: db, audit: al, web: w, srv: srv, clock: clk, day: day, run: run, fam: fam, hook: hook.ID}
}

// seedBillingRun gives the demo location provider details, a mandate
// and an invoiced November 2026 (its one seeded day).
func seedBillingRun(t testing.TB, db *central.DB) (central.Run, string) {
	t.Helper()
	ctx := context.Background()
	p := invoice.Provider{Name: "Kinderopvang De Regenboog", Address: []string{"Dorpsstraat 1", "1234 AB  Ergens"}, Country: "NL",
		KvK: "12345678", LRK: "123456789", IBAN: "NL91ABNA0417164300", DueDayOfNextMonth: 20, CreditorID: "NL69ZZZ123456780000", NumberPrefix: "RB"}
	if err := db.Billing.SetProvider(ctx, "loc-regenboog", p, "user:test"); err != nil {
		t.Fatal(err)
	}
	rs, _, _ := db.Sites.Roster(ctx, "loc-regenboog")
	fam := central.BillingContracts(rs)[rs.Children[0].ID].GuardianID
	m, _ := central.ParseMandate(fam, "RB-M-0001", "NL20INGB0001234567", "", "", "2025-08-30", "FRST")
	if err := db.Billing.SetMandate(ctx, "loc-regenboog", m); err != nil {
		t.Fatal(err)
	}
	run, err := db.Billing.Issue(ctx, central.RunRequest{LocationID: "loc-regenboog", Month: "2026-11", Actor: "user:test", AllowUnpriced: true})
	if err != nil {
		t.Fatal(err)
	}
	return run, fam
}

// client is a browser-like client with a cookie jar that does not follow
// redirects (tests look at them).
type client struct {
	e    *env
	http *http.Client
	csrf string
}

func (e *env) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{e: e, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func (c *client) do(t testing.TB, method, path string, form url.Values) (int, string, http.Header) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.e.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func (c *client) get(t testing.TB, path string) (int, string) {
	t.Helper()
	code, body, _ := c.do(t, http.MethodGet, path, nil)
	return code, body
}

// post sends a form with the session's CSRF token.
func (c *client) post(t testing.TB, path string, form url.Values) (int, string) {
	t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if form.Get("csrf_token") == "" {
		form.Set("csrf_token", c.csrf)
	}
	code, body, _ := c.do(t, http.MethodPost, path, form)
	return code, body
}

// signIn signs in through the form and learns the session's CSRF token.
func (c *client) signIn(t testing.TB, email, password string) int {
	t.Helper()
	code, body := c.get(t, "/login")
	if code != http.StatusOK {
		t.Fatalf("GET /login: %d", code)
	}
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("login form without csrf token")
	}
	code, _, _ = c.do(t, http.MethodPost, "/login", url.Values{"csrf_token": {m[1]}, "email": {email}, "password": {password}, "next": {"/"}})
	if code != http.StatusSeeOther {
		return code
	}
	code, body = c.get(t, "/")
	if code != http.StatusOK {
		t.Fatalf("GET / after sign-in: %d", code)
	}
	m = csrfField.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("home page without csrf token")
	}
	c.csrf = m[1]
	return http.StatusSeeOther
}

func (e *env) signedIn(t testing.TB, role auth.Role) *client {
	t.Helper()
	c := e.client()
	if code := c.signIn(t, string(role)+"@demo", central.DemoPassword); code != http.StatusSeeOther {
		t.Fatalf("sign in as %s: %d", role, code)
	}
	return c
}

func forEachBackend(t *testing.T, f func(t *testing.T, e *env)) {
	for _, b := range centraltest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			f(t, newEnv(t, b))
		})
	}
}
