// Package web serves central's admin pages: sign-in with server-side
// sessions and CSRF tokens, locations, groups, children, guardians, pickup
// persons, badges, staff, announced pickups, independence permissions,
// contact bans, devices, users, attendance tables, a ratio chart per group
// and day (SVG rendered on the server), the inspection list (HTML for print
// and CSV), billing previews, benefit statement downloads and data-subject
// requests (access export, erasure) with retention runs.
//
// Pages are html/template (contextual auto-escaping) with templates and CSS
// embedded; there is no build step, no CDN and no JavaScript. Every route
// names one auth.Permission and is checked with auth.Can; the route table
// is exported (Routes) so tests cover every route for every role. UI text
// is Dutch by default with English (i18n.go).
package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/audit"
	"github.com/kinderdeur/kiosk/attendance/codes"
	"github.com/kinderdeur/kiosk/attendance/retention"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/attendance/stays"
	"github.com/kinderdeur/kiosk/sync/central"
	"github.com/kinderdeur/kiosk/sync/central/auth"
	"github.com/kinderdeur/kiosk/sync/central/fleet"
)

//go:embed templates/*.html static/*.css
var assets embed.FS

// Config configures the pages.
type Config struct {
	DB    *central.DB
	Auth  *auth.Authenticator // central.NewAuthenticator (users + sessions)
	Audit *audit.Log          // central's audit trail (DB.OpenAudit)
	// API serves everything that is not a page (/api/..., /healthz):
	// central.NewServer(...).Handler().
	API    http.Handler
	Logger *slog.Logger
	Now    func() time.Time
	// SignInLimiter limits sign-in attempts per (client address, e-mail)
	// pair (default: bursts of 5, then one per 12 s). Not per e-mail alone:
	// that let anyone keep an admin locked out; the owner at another
	// address still signs in, and an admin can lift a lock (/users).
	SignInLimiter *auth.Limiter
	// SignInIPLimiter limits sign-in attempts per client address over all
	// accounts (default: bursts of 30, then one per 4 s).
	SignInIPLimiter *auth.Limiter
	// SharedLimits, when set, keeps the sign-in limiters' buckets there
	// (central.DB.Limits) instead of in this process, so the limits hold
	// across every replica behind a load balancer and lifting a lock lifts
	// it everywhere.
	SharedLimits auth.Buckets
	// ClientIP keys the limits by client address (default auth.ClientIP;
	// behind a reverse proxy auth.Proxies.ClientIP).
	ClientIP func(*http.Request) string
	// Retention is the retention policy for /retention and erasure
	// (nil: retention.DefaultConfig(), the NL profile).
	Retention *retention.Config
}

// What the pages use of central's storage, one small interface per part;
// the stores of central.DB satisfy them.
type (
	siteStore interface {
		Location(ctx context.Context, id string) (central.Location, error)
		Locations(ctx context.Context) ([]central.Location, error)
		Roster(ctx context.Context, locationID string) (roster.Roster, []byte, error)
		PutRoster(ctx context.Context, r roster.Roster) (int64, error)
	}
	deviceAdmin interface {
		Devices(ctx context.Context) ([]central.Device, error)
		Revoke(ctx context.Context, id string) error
		CreateEnrolmentToken(ctx context.Context, locationID string, ttl time.Duration, note string) (string, error)
	}
	fleetView interface {
		Doors(ctx context.Context) ([]fleet.Door, error)
	}
	reportReader interface {
		Attendance(ctx context.Context, q central.AttendanceQuery) ([]stays.Stay, error)
		GroupDay(ctx context.Context, locationID, groupID string, date attendance.Date) (central.GroupDay, error)
	}
	userAdmin interface {
		Users(ctx context.Context) ([]central.User, error)
		CreateUser(ctx context.Context, email, name string, role auth.Role, passwordHash string) (central.User, error)
		SetUserDisabled(ctx context.Context, id string, disabled bool) error
	}
	subjectDesk interface {
		ExportSubject(ctx context.Context, subject string, auditLog *audit.Log) (central.SubjectExport, error)
		LogSubjectRequest(ctx context.Context, kind, subject, actor string) (central.SubjectRequest, error)
		CompleteSubjectRequest(ctx context.Context, id, outcome string) error
		SubjectRequest(ctx context.Context, id string) (central.SubjectRequest, error)
		SubjectRequests(ctx context.Context, subject string) ([]central.SubjectRequest, error)
		NewRetentionEngine(cfg retention.Config, auditFn retention.AuditFunc) (*retention.Engine, error)
		LastRetentionRun(ctx context.Context) (time.Time, string, error)
		CarePeriodsAt(ctx context.Context, loc string) ([]central.CarePeriod, error)
		CarePeriodOf(ctx context.Context, subject, loc string) (central.CarePeriod, error)
		PutCarePeriod(ctx context.Context, p central.CarePeriod) error
		ContactsAt(ctx context.Context, loc string) ([]central.ContactDetails, error)
		ContactOf(ctx context.Context, subject, loc string) (central.ContactDetails, error)
		PutContact(ctx context.Context, c central.ContactDetails) error
	}
)

// Server is the admin web UI (and the API behind it).
type Server struct {
	cfg      Config
	sites    siteStore
	devices  deviceAdmin
	fleet    fleetView
	reports  reportReader
	users    userAdmin
	subjects subjectDesk
	billing  billingDesk
	// parents: the portal's guardian e-mails and passkeys (portal.go)
	parents *central.Parents
	// corrections: the corrections of stays (corrections.go)
	corrections *central.CorrectionStore
	a           *auth.Authenticator
	audit       *audit.Log
	log         *slog.Logger
	now         func() time.Time
	limit       *auth.Limiter
	ipLimit     *auth.Limiter
	clientIP    func(*http.Request) string
	pages       map[string]*template.Template
	handler     http.Handler
}

// Route is one page or form endpoint and the permission it requires.
// Public routes (sign-in) have an empty Perm.
type Route struct {
	Method, Pattern string
	Perm            auth.Permission
	h               http.HandlerFunc
}

// New builds the admin UI.
func New(cfg Config) (*Server, error) {
	if cfg.DB == nil || cfg.Auth == nil || cfg.Audit == nil {
		return nil, errors.New("web: DB, Auth and Audit are required")
	}
	d := cfg.DB
	s := &Server{cfg: cfg, sites: d.Sites, devices: d.Devices, fleet: d.Fleet, reports: d.Reports, users: d.Users, subjects: d.Subjects, billing: d.Billing, a: cfg.Auth, audit: cfg.Audit, log: cfg.Logger, now: cfg.Now, limit: cfg.SignInLimiter}
	s.corrections = d.Corrections
	s.parents = d.Parents
	d.Corrections.SetAudit(cfg.Audit) // every correction is audited, whichever front made it
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.limit == nil {
		s.limit = auth.NewLimiter(1.0/12, 5, s.now)
	}
	if s.ipLimit = cfg.SignInIPLimiter; s.ipLimit == nil {
		s.ipLimit = auth.NewLimiter(1.0/4, 30, s.now)
	}
	if cfg.SharedLimits != nil {
		s.limit = s.limit.Shared("sign_in_pair", cfg.SharedLimits, s.log)
		s.ipLimit = s.ipLimit.Shared("sign_in_ip", cfg.SharedLimits, s.log)
	}
	if s.clientIP = cfg.ClientIP; s.clientIP == nil {
		s.clientIP = auth.ClientIP
	}
	if err := s.parse(); err != nil {
		return nil, err
	}
	m := http.NewServeMux()
	if cfg.API != nil {
		m.Handle("/api/", cfg.API)
		m.Handle("/healthz", cfg.API)
		m.Handle("/metrics", cfg.API)
	}
	static, _ := fs.Sub(assets, "static")
	m.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	m.HandleFunc("GET /login", s.loginPage)
	m.HandleFunc("POST /login", s.login)
	m.HandleFunc("GET /lang/{l}", s.setLang)
	for _, rt := range s.routes() {
		m.Handle(rt.Method+" "+rt.Pattern, s.guard(rt.Perm, rt.h))
	}
	s.handler = auth.SecurityHeaders(m)
	return s, nil
}

// Handler returns the pages plus the API.
func (s *Server) Handler() http.Handler { return s.handler }

// Routes lists every guarded route (for tests and documentation).
func (s *Server) Routes() []Route {
	rs := s.routes()
	for i := range rs {
		rs[i].h = nil
	}
	return rs
}

func (s *Server) parse() error {
	fm := template.FuncMap{
		"pct": func(a, b int) int {
			if b == 0 {
				return 0
			}
			return a * 100 / b
		},
		"join": strings.Join,
		"mib":  func(b int64) int64 { return b >> 20 },
		"secs": func(n int64) string { return (time.Duration(n) * time.Second).String() },
		// seg escapes one path segment of a URL: html/template leaves '/',
		// '?' and ".." alone in a path, so an id someone else chose (a
		// kiosk's device id, a roster id) could point a button elsewhere.
		"seg": central.PathSegment,
	}
	names, err := fs.Glob(assets, "templates/*.html")
	if err != nil {
		return fmt.Errorf("web: templates: %w", err)
	}
	s.pages = map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimPrefix(n, "templates/")
		if base == "layout.html" || base == "partials.html" {
			continue
		}
		t, err := template.New(base).Funcs(fm).ParseFS(assets, "templates/layout.html", "templates/partials.html", n)
		if err != nil {
			return fmt.Errorf("web: template %s: %w", base, err)
		}
		s.pages[strings.TrimSuffix(base, ".html")] = t
	}
	return nil
}

// view is what every page template gets.
type view struct {
	Lang    Lang
	User    auth.Principal
	Signed  bool
	CSRF    string
	Title   string
	Flash   string
	Error   string
	Path    string
	Here    string // this page as the language switch returns to it: path and query of a GET
	Data    any
	Printed time.Time
}

// T translates key into the page's language.
func (v view) T(key string) string { return T(v.Lang, key) }

// Code translates a domain code (day type, time quality, flag, alert kind).
func (v view) Code(code any) string { return Code(v.Lang, fmt.Sprint(code)) }

// Day formats a date as the office writes it: 20-12-2026.
func (v view) Day(d attendance.Date) string {
	return fmt.Sprintf("%02d-%02d-%04d", d.Day, int(d.Month), d.Year)
}

// Rule is a tariff rule in words ("per uur + weekend 150%").
func (v view) Rule(rule string) string { return codes.Rule(string(v.Lang), rule) }

// Euro formats cents as an amount: "€ 1.234,56" in Dutch, "€1,234.56" in English.
func (v view) Euro(cents int64) string { return Euro(v.Lang, cents) }

// HM formats minutes as hours and minutes, "8:05".
func (v view) HM(minutes int) string { return HM(minutes) }

// Can reports whether the signed-in user has permission p (for menus).
func (v view) Can(p string) bool { return v.Signed && auth.Can(v.User.Role, auth.Permission(p)) }

func (s *Server) newView(r *http.Request, titleKey string, data any) view {
	v := view{Lang: langOf(r), Data: data, Path: r.URL.Path, Here: r.URL.Path, Printed: s.now()}
	if r.Method == http.MethodGet && r.URL.RawQuery != "" && !r.URL.Query().Has("next") {
		// The period, filters and page stay when the language changes (a
		// page's own next, the sign-in form's, is not carried along).
		v.Here = r.URL.RequestURI()
	}
	v.Title = T(v.Lang, titleKey)
	if p, ok := auth.PrincipalFrom(r.Context()); ok {
		v.User, v.Signed = p, true
	}
	if ss, ok := auth.SessionFrom(r.Context()); ok {
		v.CSRF = ss.CSRFToken
	}
	v.Flash = r.URL.Query().Get("ok")
	return v
}

func (s *Server) render(w http.ResponseWriter, status int, page string, v view) {
	t, ok := s.pages[page]
	if !ok {
		http.Error(w, "no such page", http.StatusInternalServerError)
		return
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout", v); err != nil {
		s.log.Error("web: render", "page", page, "err", err)
		http.Error(w, "render failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprint(w, b.String())
}

// guard authenticates (401 with the sign-in page when there is no
// credential), checks CSRF on unsafe methods (auth middleware) and the
// route's permission (403).
func (s *Server) guard(p auth.Permission, h http.HandlerFunc) http.Handler {
	inner := s.a.Require(p)(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		c, cerr := r.Cookie(s.a.CookieName())
		expired := false
		if cerr == nil && r.Method == http.MethodGet && r.Header.Get("Authorization") == "" {
			// A browser with an ended session gets the sign-in page, not JSON.
			if _, err := s.a.Sessions.Lookup(r.Context(), c.Value); errors.Is(err, auth.ErrNoSession) {
				s.a.ClearSessionCookie(w)
				expired = true
			}
		}
		if (cerr != nil || expired) && r.Header.Get("Authorization") == "" {
			v := s.newView(r, "signin", loginData{Next: r.URL.RequestURI()})
			v.Error = T(v.Lang, "need_signin")
			s.render(w, http.StatusUnauthorized, "login", v)
			return
		}
		inner.ServeHTTP(w, r)
	})
}

// actor is the audit actor of a request.
func actor(r *http.Request) string {
	if p, ok := auth.PrincipalFrom(r.Context()); ok {
		return "user:" + p.ID
	}
	return "anonymous"
}

func (s *Server) appendAudit(ctx context.Context, r *http.Request, action audit.Action, subject string, details map[string]any) error {
	var d any // a nil map would marshal as null, which is not an object
	if details != nil {
		d = details
	}
	_, err := s.audit.Append(ctx, audit.Record{Actor: actor(r), Action: action, Subject: subject, Details: d})
	if err != nil {
		return fmt.Errorf("web: audit %s: %w", action, err)
	}
	return nil
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	switch {
	case errors.Is(err, central.ErrNotFound), errors.Is(err, central.ErrNoGroup), errors.Is(err, central.ErrUnknownDevice):
		http.Error(w, "not found", http.StatusNotFound)
		return
	case errors.Is(err, central.ErrMalformed), errors.Is(err, errBadInput):
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.log.Error("web: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	http.Error(w, "internal error", http.StatusInternalServerError)
}

var errBadInput = errors.New("web: bad input")

func badInput(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errBadInput, fmt.Sprintf(format, a...))
}

// ---- sign-in ----

type loginData struct {
	Next  string
	Email string
}

const loginCSRFCookie = "kd_login_csrf"

func randomToken() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// loginPage shows the form with a double-submit CSRF token (there is no
// session yet to bind a token to).
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	v := s.newView(r, "signin", loginData{Next: safeNext(r.URL.Query().Get("next"))})
	s.renderLogin(w, http.StatusOK, v)
}

func (s *Server) renderLogin(w http.ResponseWriter, status int, v view) {
	tok := randomToken()
	http.SetCookie(w, &http.Cookie{Name: loginCSRFCookie, Value: tok, Path: "/login", HttpOnly: true,
		Secure: s.a.Secure, SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	v.CSRF = tok
	s.render(w, status, "login", v)
}

// safeNext keeps redirects on this site (auth.LocalPath) and off the
// sign-in page.
func safeNext(n string) string {
	p, ok := auth.LocalPath(n)
	if !ok || strings.HasPrefix(p, "/login") {
		return "/"
	}
	return p
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	c, err := r.Cookie(loginCSRFCookie)
	sub := r.PostFormValue(auth.CSRFField)
	if err != nil || sub == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(sub)) != 1 {
		auth.WriteError(w, http.StatusForbidden, "csrf", "missing or wrong CSRF token")
		return
	}
	email := strings.ToLower(strings.TrimSpace(r.PostFormValue("email")))
	v := s.newView(r, "signin", loginData{Next: safeNext(r.PostFormValue("next")), Email: email})
	ip := s.clientIP(r)
	okIP, _ := s.ipLimit.Allow(ip)
	okPair, _ := s.limit.Allow(signInKey(ip, email))
	if !okIP || !okPair {
		if err := s.audit.Hook(r.Context(), string(audit.SignInFailed), "anonymous", "user:"+email, map[string]any{"reason": "rate_limited"}); err != nil {
			s.log.Error("web: audit", "err", err)
		}
		w.Header().Set("Retry-After", "60")
		v.Error = T(v.Lang, "too_many")
		s.renderLogin(w, http.StatusTooManyRequests, v)
		return
	}
	id, _, err := s.a.SignIn(r.Context(), email, r.PostFormValue("password"))
	if errors.Is(err, auth.ErrBadCredentials) {
		v.Error = T(v.Lang, "bad_credentials")
		s.renderLogin(w, http.StatusUnauthorized, v)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.a.SetSessionCookie(w, id)
	http.SetCookie(w, &http.Cookie{Name: loginCSRFCookie, Value: "", Path: "/login", MaxAge: -1, HttpOnly: true, Secure: s.a.Secure, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, v.Data.(loginData).Next, http.StatusSeeOther)
}

// signInKey is the sign-in limiter's key of an address and an account.
func signInKey(ip, email string) string { return ip + "|user:" + email }

// unlockUser lifts the sign-in locks of a user's account at every address
// (the owner behind the attacker's address, e.g. an office NAT).
func (s *Server) unlockUser(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	us, err := s.users.Users(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	email := ""
	for _, u := range us {
		if u.ID == id {
			email = strings.ToLower(u.Email)
		}
	}
	if email == "" {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	n := s.limit.Forget(func(k string) bool { return strings.HasSuffix(k, "|user:"+email) })
	if err := s.appendAudit(r.Context(), r, audit.UserChange, "user:"+id, map[string]any{"change": "sign_in_unlocked", "locks": n}); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/users?ok=1", http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(s.a.CookieName()); err == nil {
		if err := s.a.Sessions.End(r.Context(), c.Value); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if p, ok := auth.PrincipalFrom(r.Context()); ok {
		if err := s.appendAudit(r.Context(), r, audit.SignOut, "user:"+p.ID, nil); err != nil {
			s.log.Error("web: audit", "err", err)
		}
	}
	s.a.ClearSessionCookie(w)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (s *Server) setLang(w http.ResponseWriter, r *http.Request) {
	l := NL
	if r.PathValue("l") == string(EN) {
		l = EN
	}
	http.SetCookie(w, &http.Cookie{Name: "lang", Value: string(l), Path: "/", MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteLaxMode, Secure: s.a.Secure})
	http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
}
