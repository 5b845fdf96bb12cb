// Package portal is the parents' portal served by central: a phone-first
// web app (server-rendered pages under /ouders/, one small script for
// passkeys and the live "today" view, no CDN) and its JSON API under
// /api/v1/parent/. A parent signs in with a one-time code sent by e-mail
// to the address the centre keeps for them (invitation), then registers a
// passkey (WebAuthn) and signs in with it. They see and act only for their
// own children: today's check-ins live, announced pickups (which become
// part of the location's roster, so the door releases the person), going
// home alone, absences, history with the billing preview, and their data
// (export, correction and erasure requests, photo consent).
//
// Every route resolves the family afresh from the current rosters (see
// Family) and answers 404 for any id outside it; Routes lists every route
// so the tests try each one as another family.
package portal

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/audit"
	"github.com/kinderdeur/kiosk/attendance/retention"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/attendance/stays"
	"github.com/kinderdeur/kiosk/sync/central"
	"github.com/kinderdeur/kiosk/sync/central/auth"
)

//go:embed templates/*.html static/*
var assets embed.FS

// RoleParent is the role of a signed-in parent. It holds no admin
// permission (auth.Can is false for every one), and portal sessions live
// in their own table under their own cookie.
const RoleParent auth.Role = "parent"

// Config configures the portal.
type Config struct {
	DB    *central.DB
	Audit *audit.Log
	// Origin is the portal's public origin (https://ouders.example.nl): the
	// WebAuthn relying party (its host is the RP ID) and the link in the
	// e-mail.
	Origin string
	// Mailer sends the sign-in codes (nil: e-mail sign-in is off).
	Mailer Mailer
	// ParentTokens maps bearer tokens to parent account ids (the demo's
	// -parent-token; scripts and tests).
	ParentTokens map[string]string
	Secure       bool // served over TLS (directly or behind a proxy)
	Logger       *slog.Logger
	Now          func() time.Time
	ClientIP     func(*http.Request) string
	// CodeLimiter limits code e-mails per address and per client
	// (default bursts of 3, then one per 2 minutes); VerifyLimiter code
	// and passkey attempts per client (bursts of 10, then one per 6 s);
	// APILimiter every signed-in request per parent (bursts of 120, 5/s).
	// WriteLimiter limits every changing request per parent (bursts of 30,
	// then one per 10 s): each announcement, permission or consent is a new
	// roster version that every kiosk of the location pulls.
	// CodeTryLimiter caps code tries per e-mail address over all codes and
	// clients (20, then 20 a day): new codes would otherwise give five
	// fresh tries every few minutes.
	CodeLimiter, VerifyLimiter, APILimiter, WriteLimiter, CodeTryLimiter *auth.Limiter
	// CancelDeadline: a cancellation later than this before the day's
	// start is a late_cancel (default 48 h, seed 004).
	CancelDeadline time.Duration
	// LivePoll is how often the live view looks for new events (2 s).
	LivePoll time.Duration
	// CodeHasher hashes e-mail codes (default: auth.ServerParams).
	CodeHasher auth.Hasher
}

type (
	siteStore interface {
		Location(ctx context.Context, id string) (central.Location, error)
		Roster(ctx context.Context, locationID string) (roster.Roster, []byte, error)
		EditRoster(ctx context.Context, locationID string, edit func(r *roster.Roster) error) (roster.Roster, error)
		// AbsencesChanged sends an absence of today or tomorrow to the door
		// (a new roster version carries it).
		AbsencesChanged(ctx context.Context, locationID string, d attendance.Date) error
	}
	eventReader interface {
		Events(ctx context.Context, f central.EventFilter) ([]central.StoredEvent, error)
	}
	reportReader interface {
		Attendance(ctx context.Context, q central.AttendanceQuery) ([]stays.Stay, error)
	}
	subjectDesk interface {
		ExportSubject(ctx context.Context, subject string, auditLog *audit.Log) (central.SubjectExport, error)
		LogSubjectRequest(ctx context.Context, kind, subject, actor string) (central.SubjectRequest, error)
		SubjectRequests(ctx context.Context, subject string) ([]central.SubjectRequest, error)
	}
)

// Server is the portal.
type Server struct {
	cfg            Config
	parents        *central.Parents
	sites          siteStore
	events         eventReader
	reports        reportReader
	subjects       subjectDesk
	billing        *central.Billing
	audit          *audit.Log
	log            *slog.Logger
	now            func() time.Time
	a              *auth.Authenticator
	wa             *webauthn.WebAuthn
	ceremonies     *ceremonies
	codeLimit      *auth.Limiter
	verifyLimit    *auth.Limiter
	apiLimit       *auth.Limiter
	writeLimit     *auth.Limiter
	codeTryLimit   *auth.Limiter
	streamsMu      sync.Mutex
	streams        map[string]int // open live streams per account
	clientIP       func(*http.Request) string
	cancelDeadline time.Duration
	livePoll       time.Duration
	pages          map[string]*template.Template
	handler        http.Handler
	dummyOnce      sync.Once
	dummyHash      string
}

// Route is one guarded route. Public routes have Public set.
type Route struct {
	Method, Pattern string
	Public          bool
	h               http.HandlerFunc
}

// New builds the portal.
func New(cfg Config) (*Server, error) {
	if cfg.DB == nil {
		return nil, errors.New("portal: DB is required")
	}
	d := cfg.DB
	s := &Server{cfg: cfg, parents: d.Parents, sites: d.Sites, events: d.Events, reports: d.Reports, subjects: d.Subjects, billing: d.Billing,
		audit: cfg.Audit, log: cfg.Logger, now: cfg.Now, clientIP: cfg.ClientIP, cancelDeadline: cfg.CancelDeadline, livePoll: cfg.LivePoll,
		ceremonies: newCeremonies()}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.clientIP == nil {
		s.clientIP = auth.ClientIP
	}
	if s.cancelDeadline == 0 {
		s.cancelDeadline = CancelDeadline
	}
	if s.livePoll == 0 {
		s.livePoll = 2 * time.Second
	}
	if s.codeLimit = cfg.CodeLimiter; s.codeLimit == nil {
		s.codeLimit = auth.NewLimiter(1.0/120, 3, s.now)
	}
	if s.verifyLimit = cfg.VerifyLimiter; s.verifyLimit == nil {
		s.verifyLimit = auth.NewLimiter(1.0/6, 10, s.now)
	}
	if s.apiLimit = cfg.APILimiter; s.apiLimit == nil {
		s.apiLimit = auth.NewLimiter(5, 120, s.now)
	}
	if s.writeLimit = cfg.WriteLimiter; s.writeLimit == nil {
		s.writeLimit = auth.NewLimiter(1.0/10, 30, s.now)
	}
	if s.codeTryLimit = cfg.CodeTryLimiter; s.codeTryLimit == nil {
		s.codeTryLimit = auth.NewLimiter(20.0/86400, 20, s.now)
	}
	s.streams = map[string]int{}
	if cfg.CodeHasher.Params == (auth.PasswordParams{}) {
		s.cfg.CodeHasher = auth.Hasher{Params: auth.ServerParams}
	}
	origin, err := url.Parse(cfg.Origin)
	if err != nil || origin.Host == "" || (origin.Scheme != "https" && origin.Scheme != "http") {
		return nil, fmt.Errorf("portal: origin %q: want https://host[:port]", cfg.Origin)
	}
	s.wa, err = webauthn.New(&webauthn.Config{RPID: origin.Hostname(), RPDisplayName: "Kinderdeur ouders",
		RPOrigins: []string{origin.Scheme + "://" + origin.Host}})
	if err != nil {
		return nil, fmt.Errorf("portal: webauthn: %w", err)
	}
	sess := auth.NewSessions(d.Parents)
	sess.Now = s.now
	sess.Idle = 2 * time.Hour // a phone app: longer idle than the admins', same absolute cap
	s.a = &auth.Authenticator{Tokens: parentTokens(cfg.ParentTokens), Sessions: sess, Secure: cfg.Secure, Cookie: "kd_parent", Log: s.log}
	if err := s.parse(); err != nil {
		return nil, err
	}
	m := http.NewServeMux()
	static, _ := fs.Sub(assets, "static")
	m.Handle("GET /ouders/static/", http.StripPrefix("/ouders/static/", http.FileServerFS(static)))
	for _, rt := range s.routes() {
		if rt.Public {
			m.Handle(rt.Method+" "+rt.Pattern, s.public(rt.h))
		} else {
			m.Handle(rt.Method+" "+rt.Pattern, s.guard(rt.Pattern, rt.h))
		}
	}
	s.handler = auth.SecurityHeaders(m)
	return s, nil
}

// Handler serves /ouders/ and /api/v1/parent/.
func (s *Server) Handler() http.Handler { return s.handler }

// Routes lists every route (for the access tests and the docs).
func (s *Server) Routes() []Route {
	rs := s.routes()
	for i := range rs {
		rs[i].h = nil
	}
	return rs
}

// Owns reports whether path belongs to the portal (for central's mux).
func Owns(path string) bool {
	return path == "/ouders" || strings.HasPrefix(path, "/ouders/") || strings.HasPrefix(path, "/api/v1/parent/") || path == "/api/v1/parent"
}

func (s *Server) routes() []Route {
	return []Route{
		// Pages.
		{"GET", "/ouders/login", true, s.loginPage},
		{"POST", "/ouders/login/code", true, s.requestCodeForm},
		{"POST", "/ouders/login/verify", true, s.verifyCodeForm},
		{"GET", "/ouders/lang/{l}", true, s.setLang},
		{"GET", "/ouders/{$}", false, s.todayPage},
		{"GET", "/ouders/pickups", false, s.pickupsPage},
		{"POST", "/ouders/pickups", false, s.pickupForm},
		{"POST", "/ouders/pickups/{id}/withdraw", false, s.withdrawPickupForm},
		{"GET", "/ouders/permissions", false, s.permissionsPage},
		{"POST", "/ouders/permissions", false, s.permissionForm},
		{"POST", "/ouders/permissions/{id}/revoke", false, s.revokePermissionForm},
		{"GET", "/ouders/absences", false, s.absencesPage},
		{"POST", "/ouders/absences", false, s.absenceForm},
		{"POST", "/ouders/absences/{id}/withdraw", false, s.withdrawAbsenceForm},
		{"GET", "/ouders/history", false, s.historyPage},
		{"GET", "/ouders/invoices/{location}/{file}", false, s.invoiceDownload},
		{"GET", "/ouders/data", false, s.dataPage},
		{"POST", "/ouders/requests", false, s.requestForm},
		{"POST", "/ouders/children/{id}/photo", false, s.photoForm},
		{"POST", "/ouders/notify", false, s.notifyForm},
		{"GET", "/ouders/passkeys", false, s.passkeysPage},
		{"POST", "/ouders/logout", false, s.logoutForm},
		// API.
		{"POST", "/api/v1/parent/login/code", true, s.apiRequestCode},
		{"POST", "/api/v1/parent/login/verify", true, s.apiVerifyCode},
		{"POST", "/api/v1/parent/passkeys/login/begin", true, s.passkeyLoginBegin},
		{"POST", "/api/v1/parent/passkeys/login/finish", true, s.passkeyLoginFinish},
		{"POST", "/api/v1/parent/passkeys/register/begin", false, s.passkeyRegisterBegin},
		{"POST", "/api/v1/parent/passkeys/register/finish", false, s.passkeyRegisterFinish},
		{"GET", "/api/v1/parent/me", false, s.apiMe},
		{"GET", "/api/v1/parent/today", false, s.apiToday},
		{"GET", "/api/v1/parent/today/stream", false, s.apiTodayStream},
		{"GET", "/api/v1/parent/pickups", false, s.apiPickups},
		{"POST", "/api/v1/parent/pickups", false, s.apiAnnounce},
		{"DELETE", "/api/v1/parent/pickups/{id}", false, s.apiWithdrawPickup},
		{"GET", "/api/v1/parent/people", false, s.apiPeople},
		{"GET", "/api/v1/parent/permissions", false, s.apiPermissions},
		{"POST", "/api/v1/parent/permissions", false, s.apiGrant},
		{"DELETE", "/api/v1/parent/permissions/{id}", false, s.apiRevoke},
		{"GET", "/api/v1/parent/absences", false, s.apiAbsences},
		{"POST", "/api/v1/parent/absences", false, s.apiReportAbsence},
		{"DELETE", "/api/v1/parent/absences/{id}", false, s.apiWithdrawAbsence},
		{"GET", "/api/v1/parent/history", false, s.apiHistory},
		{"GET", "/api/v1/parent/invoices", false, s.apiInvoices},
		{"GET", "/api/v1/parent/invoices/{location}/{file}", false, s.invoiceDownload},
		{"GET", "/api/v1/parent/data", false, s.apiData},
		{"POST", "/api/v1/parent/requests", false, s.apiRequest},
		{"PUT", "/api/v1/parent/children/{id}/photo-consent", false, s.apiPhotoConsent},
		{"PUT", "/api/v1/parent/notify", false, s.apiNotify},
		{"POST", "/api/v1/parent/logout", false, s.apiLogout},
	}
}

// parentTokens is the bearer-token store of the portal (static tokens).
type parentTokens map[string]string

func (t parentTokens) LookupToken(_ context.Context, hash string) (auth.Principal, error) {
	for tok, acc := range t {
		if tok != "" && auth.HashToken(tok) == hash {
			return auth.Principal{ID: acc, Name: "parent token", Role: RoleParent}, nil
		}
	}
	return auth.Principal{}, auth.ErrUnknownToken
}

type ctxKey int

const familyKey ctxKey = 0

// guard authenticates a parent (session cookie with CSRF on unsafe
// methods, or a parent bearer token), rate-limits per parent and loads the
// family into the context. Pages without a session go to the sign-in page.
func (s *Server) guard(pattern string, h http.HandlerFunc) http.Handler {
	isPage := strings.HasPrefix(pattern, "/ouders")
	inner := s.a.Authenticate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := auth.PrincipalFrom(r.Context())
		if p.Role != RoleParent {
			auth.WriteError(w, http.StatusForbidden, "forbidden", "parents only")
			return
		}
		if ok, _ := s.apiLimit.Allow("parent:" + p.ID); !ok {
			w.Header().Set("Retry-After", "1")
			auth.WriteError(w, http.StatusTooManyRequests, "rate_limited", "too many requests")
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if ok, wait := s.writeLimit.Allow("parent:" + p.ID); !ok {
				w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
				if isPage {
					http.Error(w, "Te veel wijzigingen achter elkaar: probeer het over een minuut opnieuw.\nToo many changes in a row: please try again in a minute.", http.StatusTooManyRequests)
					return
				}
				auth.WriteError(w, http.StatusTooManyRequests, "rate_limited", "too many changes in a row; retry later")
				return
			}
		}
		f, err := s.loadFamily(r.Context(), p.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), familyKey, f)))
	}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		// Pages take forms; the API always reads JSON, whatever the
		// Content-Type (curl -d sends it as a form).
		if isPage && r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			if err := r.ParseForm(); err != nil {
				auth.WriteError(w, http.StatusBadRequest, "malformed", "bad form")
				return
			}
		}
		if isPage && r.Method == http.MethodGet && r.Header.Get("Authorization") == "" {
			c, err := r.Cookie(s.a.CookieName())
			if err != nil {
				http.Redirect(w, r, "/ouders/login", http.StatusSeeOther)
				return
			}
			if _, err := s.a.Sessions.Lookup(r.Context(), c.Value); err != nil {
				s.a.ClearSessionCookie(w)
				http.Redirect(w, r, "/ouders/login", http.StatusSeeOther)
				return
			}
		}
		inner.ServeHTTP(w, r)
	})
}

func (s *Server) public(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		h(w, r)
	})
}

func familyOf(r *http.Request) *Family { f, _ := r.Context().Value(familyKey).(*Family); return f }

func (s *Server) writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		s.log.Debug("portal: write", "err", err)
	}
}

// fail maps errors to answers: ids outside the family 404, bans 403,
// bad input 400.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, context.Canceled):
		return
	case errors.Is(err, errNotYours), errors.Is(err, central.ErrNotFound):
		auth.WriteError(w, http.StatusNotFound, "not_found", "not found")
	case errors.Is(err, errBanned):
		auth.WriteError(w, http.StatusForbidden, "not_allowed", "this person may not pick up these children; please contact the location")
	case errors.Is(err, errStarted):
		auth.WriteError(w, http.StatusConflict, "conflict", err.Error())
	case errors.Is(err, errBadInput), errors.Is(err, central.ErrMalformed), errors.Is(err, roster.ErrBadName):
		auth.WriteError(w, http.StatusBadRequest, "malformed", err.Error())
	default:
		s.log.Error("portal: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		auth.WriteError(w, http.StatusInternalServerError, "internal", "internal error; retry later")
	}
}

func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	b, err := io.ReadAll(r.Body)
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		auth.WriteError(w, http.StatusBadRequest, "malformed", "want a JSON body: "+err.Error())
		return false
	}
	return true
}

// ---- API: family ----

type meAnswer struct {
	Email     string      `json:"email"`
	Name      string      `json:"name"`
	Locations []meLoc     `json:"locations"`
	Children  []meChild   `json:"children"`
	Wording   [2]string   `json:"permission_wording"` // nl, en
	Requests  []subjReq   `json:"requests"`
	People    []meContact `json:"people"`
}
type meLoc struct{ ID, Name string }
type meChild struct {
	ID           string `json:"id"`
	Location     string `json:"location_id"`
	Name         string `json:"name"`
	Group        string `json:"group"`
	PhotoConsent bool   `json:"photo_consent"`
	// OutOfSchool: BSO/BKO, so the child may be given permission to
	// leave alone.
	OutOfSchool bool `json:"out_of_school_care"`
}
type meContact struct {
	ID       string `json:"id"`
	Location string `json:"location_id"`
	Name     string `json:"name"`
	Relation string `json:"relation,omitempty"`
}
type subjReq = central.SubjectRequest

func (s *Server) me(ctx context.Context, f *Family) (meAnswer, error) {
	out := meAnswer{Email: f.Account.Email, Name: f.Name, Locations: []meLoc{}, Children: []meChild{}, People: []meContact{},
		Wording: [2]string{PermissionWording, PermissionWordingEN}, Requests: []subjReq{}}
	for _, pl := range f.Places {
		out.Locations = append(out.Locations, meLoc{pl.LocationID, pl.LocationName})
		groups := map[string]string{}
		for _, g := range pl.Roster.Groups {
			groups[g.ID] = g.Name
		}
		for _, c := range pl.Children {
			out.Children = append(out.Children, meChild{ID: c.ID, Location: pl.LocationID, Name: c.FirstName, Group: groups[c.GroupID], PhotoConsent: c.PhotoConsent, OutOfSchool: outOfSchoolCare(&pl, c)})
			rs, err := s.subjects.SubjectRequests(ctx, "child:"+c.ID)
			if err != nil {
				return out, err
			}
			for _, r := range rs {
				if strings.HasPrefix(r.Actor, "parent:") {
					out.Requests = append(out.Requests, r)
				}
			}
		}
		for _, p := range pl.knownPeople() {
			out.People = append(out.People, meContact{ID: p.ID, Location: pl.LocationID, Name: p.Name, Relation: p.Relation})
		}
	}
	return out, nil
}

func (s *Server) apiMe(w http.ResponseWriter, r *http.Request) {
	m, err := s.me(r.Context(), familyOf(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, m)
}

func (s *Server) apiPeople(w http.ResponseWriter, r *http.Request) {
	m, err := s.me(r.Context(), familyOf(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, m.People)
}

func (s *Server) apiToday(w http.ResponseWriter, r *http.Request) {
	t, err := s.today(r.Context(), familyOf(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, t)
}

// apiTodayStream sends today's state as server-sent events: one now, then
// one whenever it changes, with a comment every 25 s to keep proxies from
// closing the stream. The family is re-read each time, so withdrawn
// rights end the stream.
func (s *Server) apiTodayStream(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		auth.WriteError(w, http.StatusInternalServerError, "internal", "streaming unsupported")
		return
	}
	p, _ := auth.PrincipalFrom(r.Context())
	if !s.openStream(p.ID) {
		w.Header().Set("Retry-After", "30")
		auth.WriteError(w, http.StatusTooManyRequests, "rate_limited", "too many live views open; close one")
		return
	}
	defer s.closeStream(p.ID)
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	f := familyOf(r)
	last := ""
	tick := time.NewTicker(s.livePoll)
	defer tick.Stop()
	idle := 0
	deadline := time.Now().Add(30 * time.Minute) // the client reconnects
	for {
		t, err := s.today(r.Context(), f)
		if err != nil {
			return
		}
		b, _ := json.Marshal(t)
		rc.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if string(b) != last {
			last = string(b)
			fmt.Fprintf(w, "event: today\ndata: %s\n\n", b)
			fl.Flush()
			idle = 0
		} else if idle++; idle*int(s.livePoll) >= int(25*time.Second) {
			fmt.Fprint(w, ": keep-alive\n\n")
			fl.Flush()
			idle = 0
		}
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			return
		}
		if f, err = s.loadFamily(r.Context(), p.ID); err != nil || len(f.Places) == 0 {
			return
		}
	}
}

// maxStreams is how many live views one account may hold open (a phone,
// a tablet, a laptop, a tab too many).
const maxStreams = 4

func (s *Server) openStream(account string) bool {
	s.streamsMu.Lock()
	defer s.streamsMu.Unlock()
	if s.streams[account] >= maxStreams {
		return false
	}
	s.streams[account]++
	return true
}

func (s *Server) closeStream(account string) {
	s.streamsMu.Lock()
	defer s.streamsMu.Unlock()
	if s.streams[account]--; s.streams[account] <= 0 {
		delete(s.streams, account)
	}
}

// ---- API: pickups ----

func (s *Server) apiPickups(w http.ResponseWriter, r *http.Request) {
	ps := s.pickups(familyOf(r))
	if ps == nil {
		ps = []Pickup{}
	}
	s.writeJSON(w, http.StatusOK, ps)
}

func (s *Server) apiAnnounce(w http.ResponseWriter, r *http.Request) {
	var req PickupRequest
	if !s.decode(w, r, &req) {
		return
	}
	p, err := s.announce(r.Context(), familyOf(r), req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/parent/pickups/"+p.ID)
	s.writeJSON(w, http.StatusCreated, p)
}

func (s *Server) apiWithdrawPickup(w http.ResponseWriter, r *http.Request) {
	if err := s.withdrawPickup(r.Context(), familyOf(r), r.PathValue("id")); err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, map[string]string{"withdrawn": r.PathValue("id")})
}

// ---- API: permissions ----

func (s *Server) apiPermissions(w http.ResponseWriter, r *http.Request) {
	ps := s.permissions(familyOf(r))
	if ps == nil {
		ps = []PermissionView{}
	}
	s.writeJSON(w, http.StatusOK, ps)
}

func (s *Server) apiGrant(w http.ResponseWriter, r *http.Request) {
	var req PermissionRequest
	if !s.decode(w, r, &req) {
		return
	}
	p, err := s.grantPermission(r.Context(), familyOf(r), req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusCreated, p)
}

func (s *Server) apiRevoke(w http.ResponseWriter, r *http.Request) {
	if err := s.revokePermission(r.Context(), familyOf(r), r.PathValue("id")); err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, map[string]string{"revoked": r.PathValue("id")})
}

// ---- API: absences ----

func (s *Server) apiAbsences(w http.ResponseWriter, r *http.Request) {
	as, err := s.absences(r.Context(), familyOf(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if as == nil {
		as = []central.ParentAbsence{}
	}
	s.writeJSON(w, http.StatusOK, as)
}

func (s *Server) apiReportAbsence(w http.ResponseWriter, r *http.Request) {
	var req AbsenceRequest
	if !s.decode(w, r, &req) {
		return
	}
	as, existed, err := s.reportAbsence(r.Context(), familyOf(r), req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	status := http.StatusCreated
	if existed {
		status = http.StatusOK // the day was reported already: that report stands
	}
	s.writeJSON(w, status, as)
}

func (s *Server) apiWithdrawAbsence(w http.ResponseWriter, r *http.Request) {
	if err := s.withdrawAbsence(r.Context(), familyOf(r), r.PathValue("id")); err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, map[string]string{"withdrawn": r.PathValue("id")})
}

// ---- API: history, data ----

func (s *Server) monthParam(r *http.Request) string {
	m := r.URL.Query().Get("month")
	if m == "" {
		m = s.now().Format("2006-01")
	}
	return m
}

func (s *Server) apiHistory(w http.ResponseWriter, r *http.Request) {
	m, err := s.month(r.Context(), familyOf(r), s.monthParam(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, m)
}

func (s *Server) apiData(w http.ResponseWriter, r *http.Request) {
	f := familyOf(r)
	x, err := s.export(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.record(r.Context(), f, audit.PersonalDataExport, "parent:"+f.Account.ID, map[string]any{"by": "parent"})
	w.Header().Set("Content-Disposition", `attachment; filename="mijn-gegevens.json"`)
	s.writeJSON(w, http.StatusOK, x)
}

// SubjectRequestBody asks for a correction or erasure.
type SubjectRequestBody struct {
	Kind    string `json:"kind"`    // correction or erasure
	Subject string `json:"subject"` // a child id of the family, or "me"
	Message string `json:"message"`
}

func (s *Server) subjectRequest(ctx context.Context, f *Family, b SubjectRequestBody) (central.SubjectRequest, error) {
	if b.Kind != "correction" && b.Kind != "erasure" {
		return central.SubjectRequest{}, bad("request_kind", "kind: correction or erasure")
	}
	var subject string
	if b.Subject == "me" || b.Subject == "" {
		if len(f.Places) == 0 {
			return central.SubjectRequest{}, errNotYours
		}
		subject = "person:" + f.Places[0].PersonID
	} else {
		refs, err := f.Child(b.Subject)
		if err != nil {
			return central.SubjectRequest{}, err
		}
		subject = "child:" + refs[0].Child.ID
	}
	msg := cleanText(b.Message, 1000)
	if b.Kind == "correction" && msg == "" {
		return central.SubjectRequest{}, bad("message", "message: say what should be corrected")
	}
	req, err := s.subjects.LogSubjectRequest(ctx, b.Kind, subject, s.actor(f))
	if err != nil {
		return req, err
	}
	s.record(ctx, f, audit.SubjectRequested, subject, map[string]any{"request": req.ID, "kind": b.Kind, "message": msg,
		"deadline": req.Deadline.Format(time.RFC3339)})
	return req, nil
}

func (s *Server) apiRequest(w http.ResponseWriter, r *http.Request) {
	var b SubjectRequestBody
	if !s.decode(w, r, &b) {
		return
	}
	req, err := s.subjectRequest(r.Context(), familyOf(r), b)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusCreated, req)
}

func (s *Server) apiPhotoConsent(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Consent bool `json:"consent"`
	}
	if !s.decode(w, r, &b) {
		return
	}
	if err := s.setPhotoConsent(r.Context(), familyOf(r), r.PathValue("id"), b.Consent); err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"child": r.PathValue("id"), "photo_consent": b.Consent})
}

func (s *Server) apiNotify(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Checkout bool `json:"checkout"`
	}
	if !s.decode(w, r, &b) {
		return
	}
	if err := s.setNotify(r.Context(), familyOf(r), b.Checkout); err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"checkout": b.Checkout})
}

// setNotify switches the check-out e-mail of the signed-in parent (every
// guardian record of their address).
func (s *Server) setNotify(ctx context.Context, f *Family, on bool) error {
	if err := s.parents.SetNotifyCheckout(ctx, f.Account.Email, on); err != nil {
		return err
	}
	for _, pl := range f.Places {
		s.record(ctx, f, audit.ConsentChange, "person:"+pl.PersonID, map[string]any{"checkout_email": on, "location": pl.LocationID})
	}
	return nil
}

func (s *Server) endSession(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(s.a.CookieName()); err == nil {
		if err := s.a.Sessions.End(r.Context(), c.Value); err != nil {
			s.log.Warn("portal: end session", "err", err)
		}
	}
	if f := familyOf(r); f != nil {
		s.record(r.Context(), f, audit.SignOut, "parent:"+f.Account.ID, nil)
	}
	s.a.ClearSessionCookie(w)
}

func (s *Server) apiLogout(w http.ResponseWriter, r *http.Request) {
	s.endSession(w, r)
	s.writeJSON(w, http.StatusOK, map[string]bool{"signed_out": true})
}

var _ = retention.ErasureRequest{}
var _ = attendance.Date{}

// Mount serves the portal's paths with portal and everything else with
// rest (central's admin pages and API).
func Mount(portal, rest http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if Owns(r.URL.Path) {
			portal.ServeHTTP(w, r)
			return
		}
		rest.ServeHTTP(w, r)
	})
}
