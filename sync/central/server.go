// Package central is the central service of the door kiosks: it takes in
// event batches from enrolled devices exactly once, hands out rosters,
// shares presence between the doors of a location and serves attendance
// exports to admins. Storage is SQLite or PostgreSQL through one
// database/sql code path (package sqldb), with one store per job (see DB).
// The wire protocol is in sync/protocol.
package central

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/audit"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/attendance/sheet"
	"github.com/kinderdeur/kiosk/attendance/stays"
	"github.com/kinderdeur/kiosk/sync/central/auth"
	"github.com/kinderdeur/kiosk/sync/protocol"
)

// Config configures a Server.
type Config struct {
	DB *DB
	// AdminTokens are static bearer tokens with the admin role (the
	// -admin-token flag), accepted besides the api_tokens table.
	AdminTokens []string
	// Auth authenticates admin requests; default: bearer tokens from
	// NewTokenStore(DB.Users, AdminTokens...). Set it to add sessions.
	Auth *auth.Authenticator
	// Audit, when set, records enrolments, revocations, roster versions
	// and API tokens in the hash-chained audit log (see DB.OpenAudit).
	Audit  *audit.Log
	Logger *slog.Logger
	Now    func() time.Time // default time.Now; must match the DB's clock in tests
	// PresenceWindow bounds how far back presence looks (default 24h).
	PresenceWindow time.Duration
	// EnrolLimiter limits enrolment attempts per client address (default
	// bursts of 20, then one per 5 s), so tokens cannot be guessed.
	EnrolLimiter *auth.Limiter
	// AdminLimiter limits admin requests per client address (default
	// bursts of 200, then 20/s).
	AdminLimiter *auth.Limiter
	// DeviceLimiter limits device requests per device and client address,
	// checked before the body is read (default bursts of 600, then 50/s:
	// a kiosk catching up after days offline pushes batch after batch).
	// Besides, at most maxDeviceInFlight requests per device and client
	// address are served at once, which bounds the memory bodies of one
	// device id can take from one address.
	DeviceLimiter *auth.Limiter
	// ClientIP keys the rate limits by client address (default
	// auth.ClientIP, the connection's address; behind a reverse proxy use
	// auth.Proxies.ClientIP so only trusted proxies' X-Forwarded-For counts).
	ClientIP func(*http.Request) string
	// Observer is told about every batch (central's metrics); nil: nobody.
	Observer IngestObserver
	// Metrics, when set, is served at GET /metrics to an admin bearer
	// token (manage_devices) or one of MetricsTokens.
	Metrics       http.Handler
	MetricsTokens []string
}

// IngestObserver is told about each batch a device posted: how long
// central took (decoding, the transaction), its outcome ("ok" or the
// error code it was refused with) and the events' results.
type IngestObserver interface {
	BatchDone(took time.Duration, outcome string, results []protocol.EventResult)
}

// healthRecorder keeps the health report that comes with a batch.
type healthRecorder interface {
	PutHealth(ctx context.Context, deviceID string, h protocol.HealthReport) error
}

// What the API uses of central's storage, one small interface per part;
// the stores of DB satisfy them.
type (
	pinger interface {
		PingContext(ctx context.Context) error
	}
	deviceRegistry interface {
		Enrol(ctx context.Context, req protocol.EnrolRequest) (protocol.EnrolResponse, error)
		Device(ctx context.Context, id string) (Device, error)
		Devices(ctx context.Context) ([]Device, error)
		Revoke(ctx context.Context, id string) error
		CreateEnrolmentToken(ctx context.Context, locationID string, ttl time.Duration, note string) (string, error)
		UseNonce(ctx context.Context, deviceID, nonce string) error
		PruneNonces(ctx context.Context) error
	}
	batchIngester interface {
		Ingest(ctx context.Context, deviceID string, b protocol.Batch, evs []attendance.Event) (protocol.BatchResponse, error)
	}
	eventReader interface {
		Events(ctx context.Context, f EventFilter) ([]StoredEvent, error)
		Alerts(ctx context.Context) ([]Alert, error)
		Rejected(ctx context.Context) ([]RejectedEvent, error)
	}
	siteStore interface {
		PutLocation(ctx context.Context, id, name string, key attendance.BadgeKey) error
		Location(ctx context.Context, id string) (Location, error)
		Locations(ctx context.Context) ([]Location, error)
		PutRoster(ctx context.Context, r roster.Roster) (int64, error)
		Roster(ctx context.Context, locationID string) (roster.Roster, []byte, error)
		pinPepper(locationID string) string
	}
	attendanceReader interface {
		Attendance(ctx context.Context, q AttendanceQuery) ([]stays.Stay, error)
		Presence(ctx context.Context, locationID string, maxAge time.Duration) (protocol.Presence, error)
	}
	guardianContacts interface {
		SetGuardianEmail(ctx context.Context, locationID, personID, email string) error
		SetGuardianWithdrawn(ctx context.Context, locationID, personID string, withdrawn bool) error
		GuardianEmails(ctx context.Context, locationID string) ([]GuardianLink, error)
	}
	rosterWaiter interface {
		Wait(ctx context.Context, location string, have int64) (int64, error)
	}
	tokenIssuer interface {
		CreateAPIToken(ctx context.Context, name string, role auth.Role) (string, auth.Principal, error)
		RevokeAPIToken(ctx context.Context, id string) error
	}
)

// Server is central's HTTP API.
type Server struct {
	db             pinger
	dialect        Dialect
	devices        deviceRegistry
	ingest         batchIngester
	eventLog       eventReader
	sites          siteStore
	rosterFeed     rosterWaiter
	reports        attendanceReader
	tokens         tokenIssuer
	billing        *Billing
	subjects       *Subjects
	corrections    correctionStore
	guardians      guardianContacts
	auth           *auth.Authenticator
	audit          *audit.Log
	log            *slog.Logger
	now            func() time.Time
	presenceWindow time.Duration
	lastPrune      atomic.Int64
	deviceLimit    *auth.Limiter
	inFlightMu     sync.Mutex
	inFlight       map[string]int // device id and client address -> requests being served
	clientIP       func(*http.Request) string
	webhooks       webhookAdmin
	routes         []string
	handler        http.Handler
	health         healthRecorder
	observer       IngestObserver
	// closing ends the long-polls at shutdown (Close), so a graceful
	// shutdown does not wait out every kiosk's roster wait.
	closing context.Context
	close   context.CancelFunc
}

// NewServer builds the API on cfg.
func NewServer(cfg Config) *Server {
	s := &Server{auth: cfg.Auth, audit: cfg.Audit, log: cfg.Logger, now: cfg.Now, presenceWindow: cfg.PresenceWindow, observer: cfg.Observer}
	var users *Users
	if d := cfg.DB; d != nil {
		if cfg.Audit != nil {
			d.Events.SetDoorAudit(cfg.Audit)
			d.Corrections.SetAudit(cfg.Audit)
		}
		s.corrections = d.Corrections
		s.db, s.dialect = d.SQL(), d.Dialect()
		s.devices, s.ingest, s.eventLog, s.sites, s.reports, s.tokens = d.Devices, d.Events, d.Events, d.Sites, d.Reports, d.Users
		s.billing = d.Billing
		s.subjects = d.Subjects
		s.rosterFeed = d.Rosters
		users = d.Users
		s.guardians = d.Parents
		s.health = d.Fleet
		s.webhooks = d.Webhooks
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.closing, s.close = context.WithCancel(context.Background())
	if s.presenceWindow == 0 {
		s.presenceWindow = 24 * time.Hour
	}
	if s.auth == nil {
		s.auth = &auth.Authenticator{Tokens: NewTokenStore(users, cfg.AdminTokens...), Log: s.log}
	}
	if cfg.EnrolLimiter == nil {
		cfg.EnrolLimiter = auth.NewLimiter(0.2, 20, s.now)
	}
	if cfg.AdminLimiter == nil {
		cfg.AdminLimiter = auth.NewLimiter(20, 200, s.now)
	}
	if s.deviceLimit = cfg.DeviceLimiter; s.deviceLimit == nil {
		s.deviceLimit = auth.NewLimiter(50, 600, s.now)
	}
	if s.clientIP = cfg.ClientIP; s.clientIP == nil {
		s.clientIP = auth.ClientIP
	}
	enrolLimit := auth.RateLimit(cfg.EnrolLimiter, s.clientIP)
	adminLimit := auth.RateLimit(cfg.AdminLimiter, s.clientIP)
	admin := func(p auth.Permission, h http.HandlerFunc) http.Handler { return adminLimit(s.auth.Require(p)(h)) }
	m := newRouteMux()
	m.HandleFunc("GET /healthz", s.healthz)
	m.HandleFunc("GET /api/openapi.json", s.openAPI)
	m.Handle("POST "+protocol.PathEnrol, enrolLimit(http.HandlerFunc(s.enrol)))
	m.Handle("POST "+protocol.PathEvents, s.device(protocol.MaxBatchBytes, s.events))
	m.Handle("GET "+protocol.PathRoster, s.device(0, s.deviceRoster))
	m.Handle("GET "+protocol.PathRosterWait, s.device(0, s.rosterWait))
	m.Handle("GET "+protocol.PathDevicePresence, s.device(0, s.devicePresence))
	m.Handle("GET "+protocol.PathDeviceCorrections, s.device(0, s.deviceCorrections))
	m.Handle("GET "+protocol.PathAttendance, admin(auth.ReadAttendance, s.attendance))
	m.Handle("GET /api/v1/admin/locations", admin(auth.ReadInspection, s.listLocations))
	m.Handle("POST /api/v1/admin/locations", admin(auth.ManageDevices, s.putLocation))
	// The full roster holds health alerts, contact bans and badge hashes:
	// the roster page's permission (admin, manager), never the inspector's.
	m.Handle("GET /api/v1/admin/locations/{id}/roster", admin(auth.ReadPersonalData, s.getRoster))
	m.Handle("PUT /api/v1/admin/locations/{id}/roster", admin(auth.EditRoster, s.putRoster))
	m.Handle("GET /api/v1/admin/locations/{id}/presence", admin(auth.ReadInspection, s.adminPresence))
	m.Handle("GET /api/v1/admin/locations/{id}/corrections", admin(auth.ReadAttendance, s.listCorrections))
	m.Handle("POST /api/v1/admin/locations/{id}/corrections", admin(auth.CorrectAttendance, s.createCorrection))
	// Parents' portal invitations: the guardian's e-mail address, kept at
	// central beside the roster (never in it, so never on a kiosk).
	m.Handle("GET /api/v1/admin/locations/{id}/guardians", admin(auth.ReadPersonalData, s.listGuardianEmails))
	m.Handle("PUT /api/v1/admin/locations/{id}/guardians/{person}", admin(auth.EditPersonalData, s.putGuardianEmail))
	m.Handle("POST /api/v1/admin/enrolment-tokens", admin(auth.ManageDevices, s.createToken))
	m.Handle("GET /api/v1/admin/devices", admin(auth.ManageDevices, s.listDevices))
	m.Handle("POST /api/v1/admin/devices/{id}/revoke", admin(auth.ManageDevices, s.revoke))
	m.Handle("GET /api/v1/admin/events", admin(auth.ReadAttendance, s.listEvents))
	m.Handle("GET /api/v1/admin/alerts", admin(auth.ReadAttendance, s.listAlerts))
	m.Handle("GET /api/v1/admin/rejected", admin(auth.ReadAttendance, s.listRejected))
	m.Handle("POST /api/v1/admin/tokens", admin(auth.ManageUsers, s.createAPIToken))
	m.Handle("POST /api/v1/admin/tokens/{id}/revoke", admin(auth.ManageUsers, s.revokeAPIToken))
	if s.billing != nil {
		s.billingRoutes(m, admin)
	}
	if s.subjects != nil {
		s.careRoutes(m, admin)
	}
	if cfg.Metrics != nil {
		m.Handle("GET /metrics", adminLimit(s.metricsAuth(cfg.MetricsTokens, cfg.Metrics)))
	}
	if s.webhooks != nil {
		s.webhookRoutes(m, admin)
	}
	s.routes = m.patterns
	s.handler = auth.SecurityHeaders(m)
	return s
}

// record appends to the audit log when there is one. The action already
// happened: a failure to record it is logged loudly, not undone.
func (s *Server) record(r *http.Request, action audit.Action, subject string, details map[string]any) {
	if s.audit == nil {
		return
	}
	actor := "system"
	if p, ok := auth.PrincipalFrom(r.Context()); ok {
		actor = "user:" + p.ID
	}
	if dev, ok := details["device"].(string); ok && action == audit.DeviceEnrolled {
		actor = "device:" + dev
	}
	var det any // a nil map would marshal as null, which is not an object
	if details != nil {
		det = details
	}
	if _, err := s.audit.Append(r.Context(), audit.Record{Actor: actor, Action: action, Subject: subject, Details: det}); err != nil {
		s.log.Error("central: audit append failed", "action", action, "subject", subject, "err", err)
	}
}

// Handler returns the API handler (with security headers).
func (s *Server) Handler() http.Handler { return s.handler }

// Close ends every roster long-poll at once (each answers "no change");
// call it when shutting down (http.Server.RegisterOnShutdown).
func (s *Server) Close() { s.close() }

func (s *Server) writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		s.log.Debug("central: write response", "err", err)
	}
}

func (s *Server) writeError(w http.ResponseWriter, status int, code, msg string) {
	s.writeJSON(w, status, &protocol.Error{Code: code, Message: msg, ServerTime: s.now().UTC()})
}

func (s *Server) internal(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	s.log.Error("central: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	s.writeError(w, http.StatusInternalServerError, protocol.CodeInternal, "internal error; retry later")
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if err := s.db.PingContext(r.Context()); err != nil {
		s.writeError(w, http.StatusServiceUnavailable, protocol.CodeUnavailable, "database unreachable")
		return
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"ok": true, "db": s.dialect, "server_time": s.now().UTC()})
}

// readBody reads at most limit bytes; over it, it answers 413 and returns false.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.writeError(w, http.StatusRequestEntityTooLarge, protocol.CodeTooLarge, fmt.Sprintf("body over %d bytes", limit))
		} else {
			s.writeError(w, http.StatusBadRequest, protocol.CodeMalformed, "reading body: "+err.Error())
		}
		return nil, false
	}
	return body, true
}

// deviceHandler serves an authenticated device request.
type deviceHandler func(w http.ResponseWriter, r *http.Request, dev Device, body []byte)

// device authenticates a signed device request: a known, unrevoked device,
// a valid signature over method, URI, timestamp, nonce and body, a
// timestamp in the window and a nonce not seen before. The device id comes
// from the verified credential, never from the body.
//
// Everything that can be checked without the body is checked before a
// byte of it is read: the signature headers' form, the timestamp window,
// that the device is known and not revoked, and the device's rate limit.
// A request failing these is refused at once and its connection closed, so
// an unauthenticated flood costs central neither memory nor a goroutine
// waiting for a slow body. Only then is the body read, up to limit.
func (s *Server) device(limit int64, h deviceHandler) http.Handler {
	if limit == 0 {
		limit = protocol.MaxSmallBody
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		refuse := func(status int, code, msg string) {
			w.Header().Set("Connection", "close") // do not drain an unwanted body
			s.writeError(w, status, code, msg)
		}
		signed, err := protocol.ParseSigned(r.Header)
		if err != nil {
			refuse(http.StatusUnauthorized, protocol.CodeUnauthorized, err.Error())
			return
		}
		now := s.now()
		if d := now.Sub(signed.At); d > protocol.SignatureWindow || d < -protocol.SignatureWindow {
			refuse(http.StatusUnauthorized, protocol.CodeClockSkew, fmt.Sprintf("%v: off by %s", protocol.ErrClockSkew, d.Round(time.Second)))
			return
		}
		dev, err := s.devices.Device(r.Context(), signed.DeviceID)
		if errors.Is(err, ErrUnknownDevice) {
			refuse(http.StatusUnauthorized, protocol.CodeUnauthorized, "unknown device: enrol first")
			return
		}
		if err != nil {
			s.internal(w, r, err)
			return
		}
		if !dev.RevokedAt.IsZero() {
			refuse(http.StatusForbidden, protocol.CodeRevoked, "this device was revoked; ask an admin to enrol it again")
			return
		}
		// Per device and client address: a stranger who knows a device id
		// cannot use up the real kiosk's allowance from elsewhere.
		if ok, wait := s.deviceLimit.Allow("device:" + dev.ID + "|" + s.clientIP(r)); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(max(int(math.Ceil(wait.Seconds())), 1)))
			refuse(http.StatusTooManyRequests, protocol.CodeRateLimited, "too many requests from this device")
			return
		}
		if r.ContentLength > limit {
			refuse(http.StatusRequestEntityTooLarge, protocol.CodeTooLarge, fmt.Sprintf("body over %d bytes", limit))
			return
		}
		// The cap is taken before the signature can be checked (that needs
		// the body), so it is per device and client address too: a
		// stranger holding slow requests in a door's name takes only his
		// own slots, never the real kiosk's.
		slot := dev.ID + "|" + s.clientIP(r)
		if !s.enter(slot) {
			w.Header().Set("Retry-After", "1")
			refuse(http.StatusTooManyRequests, protocol.CodeRateLimited, "too many requests of this device at once")
			return
		}
		defer s.leave(slot)
		body, ok := s.readBody(w, r, limit)
		if !ok {
			return
		}
		if err := signed.Verify(dev.PublicKey, r.Method, r.URL.RequestURI(), body, now); err != nil {
			if errors.Is(err, protocol.ErrClockSkew) {
				s.writeError(w, http.StatusUnauthorized, protocol.CodeClockSkew, err.Error())
				return
			}
			s.log.Warn("central: bad device signature", "device", dev.ID, "err", err)
			s.writeError(w, http.StatusUnauthorized, protocol.CodeUnauthorized, "bad signature")
			return
		}
		if err := s.devices.UseNonce(r.Context(), dev.ID, signed.Nonce); err != nil {
			if errors.Is(err, ErrReplay) {
				s.writeError(w, http.StatusUnauthorized, protocol.CodeReplay, "nonce seen before: a replayed request")
				return
			}
			s.internal(w, r, err)
			return
		}
		if last := s.lastPrune.Load(); now.UnixNano()-last > int64(time.Minute) && s.lastPrune.CompareAndSwap(last, now.UnixNano()) {
			if err := s.devices.PruneNonces(r.Context()); err != nil {
				s.log.Warn("central: prune nonces", "err", err)
			}
		}
		h(w, r, dev, body)
	})
}

// maxDeviceInFlight bounds a device's concurrent requests from one client
// address (a kiosk makes one or two at a time: a push, a roster or presence
// pull, the roster long-poll).
const maxDeviceInFlight = 4

func (s *Server) enter(id string) bool {
	s.inFlightMu.Lock()
	defer s.inFlightMu.Unlock()
	if s.inFlight[id] >= maxDeviceInFlight {
		return false
	}
	if s.inFlight == nil {
		s.inFlight = map[string]int{}
	}
	s.inFlight[id]++
	return true
}

func (s *Server) leave(id string) {
	s.inFlightMu.Lock()
	defer s.inFlightMu.Unlock()
	if s.inFlight[id]--; s.inFlight[id] <= 0 {
		delete(s.inFlight, id)
	}
}

func (s *Server) events(w http.ResponseWriter, r *http.Request, dev Device, body []byte) {
	if s.observer == nil {
		s.ingestBatch(w, r, dev, body)
		return
	}
	start := time.Now()
	rec := &batchRecorder{ResponseWriter: w}
	s.ingestBatch(rec, r, dev, body)
	s.observer.BatchDone(time.Since(start), rec.outcome(), rec.results)
}

func (s *Server) ingestBatch(w http.ResponseWriter, r *http.Request, dev Device, body []byte) {
	b, evs, err := protocol.DecodeBatch(bytes.NewReader(body))
	if err != nil {
		var be *protocol.BatchError
		switch {
		case errors.Is(err, protocol.ErrTooLarge):
			s.writeError(w, http.StatusRequestEntityTooLarge, protocol.CodeTooLarge, err.Error())
		case errors.As(err, &be) && be.Code == protocol.CodeOtherDevice:
			s.writeError(w, http.StatusForbidden, be.Code, err.Error())
		case errors.As(err, &be) && be.Code == protocol.CodeTooLarge:
			s.writeError(w, http.StatusRequestEntityTooLarge, be.Code, err.Error())
		case errors.As(err, &be):
			s.writeError(w, http.StatusBadRequest, be.Code, err.Error())
		default:
			s.writeError(w, http.StatusBadRequest, protocol.CodeMalformed, err.Error())
		}
		return
	}
	if b.DeviceID != dev.ID {
		s.log.Warn("central: device posted as another", "device", dev.ID, "claimed", b.DeviceID)
		s.writeError(w, http.StatusForbidden, protocol.CodeOtherDevice, "the batch names another device than the one that signed it")
		return
	}
	resp, err := s.ingest.Ingest(r.Context(), dev.ID, b, evs)
	switch {
	case errors.Is(err, ErrSeqGap):
		s.writeError(w, http.StatusConflict, protocol.CodeSeqGap, err.Error())
		return
	case errors.Is(err, ErrRevoked):
		s.writeError(w, http.StatusForbidden, protocol.CodeRevoked, "device revoked")
		return
	case err != nil:
		s.internal(w, r, err)
		return
	}
	var stored, dup, rej int
	for _, res := range resp.Results {
		switch res.Status {
		case protocol.StatusStored:
			stored++
		case protocol.StatusDuplicate:
			dup++
		default:
			rej++
		}
	}
	s.log.Debug("central: batch", "device", dev.ID, "events", len(evs), "stored", stored, "duplicate", dup, "rejected", rej, "acked_through", resp.AckedThroughSeq)
	if rej > 0 {
		s.log.Warn("central: events rejected", "device", dev.ID, "rejected", rej)
	}
	if b.Health != nil && s.health != nil {
		// The report is a view, not a fact: failing to keep it never
		// fails the batch.
		if err := s.health.PutHealth(r.Context(), dev.ID, *b.Health); err != nil {
			s.log.Warn("central: health report not kept", "device", dev.ID, "err", err)
		}
	}
	if rec, ok := w.(*batchRecorder); ok {
		rec.results = resp.Results
	}
	s.writeJSON(w, http.StatusOK, resp)
}

func (s *Server) pinPepper(loc string) string { return s.sites.pinPepper(loc) }

func rosterETag(v int64) string { return `"` + strconv.FormatInt(v, 10) + `"` }

func (s *Server) deviceRoster(w http.ResponseWriter, r *http.Request, dev Device, _ []byte) {
	ro, body, err := s.sites.Roster(r.Context(), dev.LocationID)
	if errors.Is(err, ErrNotFound) {
		s.writeError(w, http.StatusNotFound, protocol.CodeNotFound, "no roster for this location yet")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	etag := rosterETag(ro.Version)
	w.Header().Set("ETag", etag)
	if pep := s.pinPepper(dev.LocationID); pep != "" {
		w.Header().Set(protocol.HeaderPINPepper, pep)
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		if have, err := strconv.ParseInt(strings.Trim(inm, `"W/`), 10, 64); err == nil && have >= ro.Version {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(body)
}

// rosterWait is the roster long-poll (PathRosterWait): it answers as soon
// as the device's location has a roster above ?version, or after ?wait
// seconds (default protocol.RosterWaitDefault, at most RosterWaitMax). The
// device middleware has checked the signature, window, nonce and rate
// before; holding the request costs a goroutine and a channel, and one
// version query per wake-up.
func (s *Server) rosterWait(w http.ResponseWriter, r *http.Request, dev Device, _ []byte) {
	if s.rosterFeed == nil {
		s.writeError(w, http.StatusNotFound, protocol.CodeNotFound, "no roster feed")
		return
	}
	q := r.URL.Query()
	have, err := strconv.ParseInt(q.Get("version"), 10, 64)
	if err != nil || have < 0 {
		s.writeError(w, http.StatusBadRequest, protocol.CodeMalformed, "version: want the kiosk's roster version (0 for none)")
		return
	}
	wait := protocol.RosterWaitDefault
	if v := q.Get("wait"); v != "" {
		if wait, err = strconv.Atoi(v); err != nil || wait < 0 {
			s.writeError(w, http.StatusBadRequest, protocol.CodeMalformed, "wait: seconds")
			return
		}
		wait = min(wait, protocol.RosterWaitMax)
	}
	ctx, cancel := context.WithTimeout(r.Context(), time.Duration(wait)*time.Second)
	defer cancel()
	stop := context.AfterFunc(s.closing, cancel)
	defer stop()
	v, err := s.rosterFeed.Wait(ctx, dev.LocationID, have)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if r.Context().Err() != nil {
		return // the kiosk went away
	}
	s.writeJSON(w, http.StatusOK, protocol.RosterChange{LocationID: dev.LocationID, Version: v, Changed: v > have, ServerTime: s.now().UTC()})
}

func (s *Server) devicePresence(w http.ResponseWriter, r *http.Request, dev Device, _ []byte) {
	p, err := s.reports.Presence(r.Context(), dev.LocationID, s.presenceWindow)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, p)
}

func (s *Server) enrol(w http.ResponseWriter, r *http.Request) {
	body, ok := s.readBody(w, r, protocol.MaxSmallBody)
	if !ok {
		return
	}
	var req protocol.EnrolRequest
	if err := json.Unmarshal(body, &req); err != nil {
		s.writeError(w, http.StatusBadRequest, protocol.CodeMalformed, "json: "+err.Error())
		return
	}
	resp, err := s.devices.Enrol(r.Context(), req)
	switch {
	case errors.Is(err, ErrBadToken):
		s.log.Warn("central: enrolment with a bad token", "device", req.DeviceID)
		s.writeError(w, http.StatusUnauthorized, protocol.CodeBadToken, err.Error())
	case errors.Is(err, ErrConflict):
		s.writeError(w, http.StatusConflict, protocol.CodeConflict, err.Error())
	case errors.Is(err, ErrMalformed):
		s.writeError(w, http.StatusBadRequest, protocol.CodeMalformed, err.Error())
	case err != nil:
		s.internal(w, r, err)
	default:
		s.log.Info("central: device enrolled", "device", resp.DeviceID, "location", resp.LocationID)
		s.record(r, audit.DeviceEnrolled, "device:"+resp.DeviceID, map[string]any{"device": resp.DeviceID, "location": resp.LocationID, "name": req.Name})
		s.writeJSON(w, http.StatusOK, resp)
	}
}

func (s *Server) attendance(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	from, err1 := attendance.ParseDate(q.Get("from"))
	to, err2 := attendance.ParseDate(q.Get("to"))
	if err := errors.Join(err1, err2); err != nil {
		s.writeError(w, http.StatusBadRequest, protocol.CodeMalformed, "from and to: "+err.Error())
		return
	}
	format := q.Get("format")
	if format == "" {
		format = "csv"
	}
	var sf sheet.Format
	if format != "json" {
		var err error
		if sf, err = sheet.ParseFormat(format); err != nil {
			s.writeError(w, http.StatusBadRequest, protocol.CodeMalformed, "format: want csv, csv-excel, xlsx or json")
			return
		}
	}
	if to.Before(from) || to.In(time.UTC).Sub(from.In(time.UTC)) > 400*24*time.Hour {
		s.writeError(w, http.StatusBadRequest, protocol.CodeMalformed, "to must not be before from, and the range at most 400 days")
		return
	}
	loc := q.Get("location")
	if loc != "" {
		if _, err := s.sites.Location(r.Context(), loc); err != nil {
			s.writeError(w, http.StatusNotFound, protocol.CodeNotFound, "unknown location")
			return
		}
	}
	out, err := s.reports.Attendance(r.Context(), AttendanceQuery{From: from, To: to, LocationID: loc, Group: q.Get("group"), ChildID: q.Get("child")})
	if err != nil {
		s.internal(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	if format == "json" {
		w.Header().Set("Content-Type", "application/json")
		err = stays.WriteJSON(w, out)
	} else {
		SetDownload(w.Header(), sf, fmt.Sprintf("attendance-%s-%s", from, to))
		err = stays.Write(w, sf, out)
	}
	if err != nil {
		s.log.Warn("central: write attendance", "err", err)
	}
}

func (s *Server) listLocations(w http.ResponseWriter, r *http.Request) {
	ls, err := s.sites.Locations(r.Context())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if ls == nil {
		ls = []Location{}
	}
	s.writeJSON(w, http.StatusOK, ls)
}

func (s *Server) putLocation(w http.ResponseWriter, r *http.Request) {
	body, ok := s.readBody(w, r, protocol.MaxSmallBody)
	if !ok {
		return
	}
	var req struct {
		ID       string `json:"id"`
		Name     string `json:"name"`
		BadgeKey string `json:"badge_key,omitempty"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.ID == "" {
		s.writeError(w, http.StatusBadRequest, protocol.CodeMalformed, "want {\"id\":...,\"name\":...}")
		return
	}
	var key attendance.BadgeKey
	if req.BadgeKey != "" {
		var err error
		if key, err = attendance.ParseBadgeKey(req.BadgeKey); err != nil {
			s.writeError(w, http.StatusBadRequest, protocol.CodeMalformed, err.Error())
			return
		}
	}
	if err := s.sites.PutLocation(r.Context(), req.ID, req.Name, key); err != nil {
		s.internal(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, map[string]string{"id": req.ID})
}

// getRoster answers the roster without staff PIN hashes: they leave
// central only to enrolled kiosks (deviceRoster). A PUT of the answer
// keeps the stored PINs (putRoster).
func (s *Server) getRoster(w http.ResponseWriter, r *http.Request) {
	ro, _, err := s.sites.Roster(r.Context(), r.PathValue("id"))
	if errors.Is(err, ErrNotFound) {
		s.writeError(w, http.StatusNotFound, protocol.CodeNotFound, "no roster for this location")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, WithoutPINHashes(ro))
}

// WithoutPINHashes returns r with every staff PIN hash removed, for any
// answer that is not the device roster pull (admin API, pages, exports).
func WithoutPINHashes(r roster.Roster) roster.Roster {
	r.Staff = append([]roster.Staff(nil), r.Staff...)
	for i := range r.Staff {
		r.Staff[i].PINHash = ""
	}
	return r
}

// keepPINHashes gives each staff member of next who comes without a PIN
// hash the one stored in cur (the admin API never hands hashes out, so a
// GET-edit-PUT must not drop them).
func keepPINHashes(next *roster.Roster, cur roster.Roster) {
	old := map[string]string{}
	for _, st := range cur.Staff {
		old[st.ID] = st.PINHash
	}
	for i := range next.Staff {
		if next.Staff[i].PINHash == "" {
			next.Staff[i].PINHash = old[next.Staff[i].ID]
		}
	}
}

func (s *Server) putRoster(w http.ResponseWriter, r *http.Request) {
	body, ok := s.readBody(w, r, protocol.MaxRosterBytes)
	if !ok {
		return
	}
	var ro roster.Roster
	if err := json.Unmarshal(body, &ro); err != nil {
		s.writeError(w, http.StatusBadRequest, protocol.CodeMalformed, "json: "+err.Error())
		return
	}
	if ro.Location.ID != r.PathValue("id") {
		s.writeError(w, http.StatusBadRequest, protocol.CodeInvalidRoster, "location.id differs from the URL's location")
		return
	}
	if err := ro.Validate(); err != nil {
		s.writeError(w, http.StatusUnprocessableEntity, protocol.CodeInvalidRoster, err.Error())
		return
	}
	if cur, _, err := s.sites.Roster(r.Context(), ro.Location.ID); err == nil {
		keepPINHashes(&ro, cur)
	} else if !errors.Is(err, ErrNotFound) {
		s.internal(w, r, err)
		return
	}
	v, err := s.sites.PutRoster(r.Context(), ro)
	switch {
	case errors.Is(err, ErrStaleRoster):
		s.writeError(w, http.StatusConflict, protocol.CodeConflict, err.Error())
	case errors.Is(err, ErrNotFound):
		s.writeError(w, http.StatusNotFound, protocol.CodeNotFound, "unknown location: create it first")
	case errors.Is(err, ErrMalformed):
		s.writeError(w, http.StatusUnprocessableEntity, protocol.CodeInvalidRoster, err.Error())
	case err != nil:
		s.internal(w, r, err)
	default:
		s.log.Info("central: roster stored", "location", ro.Location.ID, "version", v)
		s.record(r, audit.RosterChange, "location:"+ro.Location.ID, map[string]any{"version": v})
		w.Header().Set("ETag", rosterETag(v))
		s.writeJSON(w, http.StatusOK, map[string]any{"location_id": ro.Location.ID, "version": v})
	}
}

func (s *Server) adminPresence(w http.ResponseWriter, r *http.Request) {
	p, err := s.reports.Presence(r.Context(), r.PathValue("id"), s.presenceWindow)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, p)
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) {
	body, ok := s.readBody(w, r, protocol.MaxSmallBody)
	if !ok {
		return
	}
	var req struct {
		LocationID string  `json:"location_id"`
		TTLHours   float64 `json:"ttl_hours"`
		Note       string  `json:"note"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.LocationID == "" {
		s.writeError(w, http.StatusBadRequest, protocol.CodeMalformed, "want {\"location_id\":...,\"ttl_hours\":24}")
		return
	}
	if req.TTLHours <= 0 || req.TTLHours > 24*30 {
		req.TTLHours = 24
	}
	ttl := time.Duration(req.TTLHours * float64(time.Hour))
	tok, err := s.devices.CreateEnrolmentToken(r.Context(), req.LocationID, ttl, req.Note)
	if errors.Is(err, ErrNotFound) {
		s.writeError(w, http.StatusNotFound, protocol.CodeNotFound, "unknown location")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"token": tok, "location_id": req.LocationID, "expires_at": s.now().Add(ttl).UTC()})
}

func (s *Server) listDevices(w http.ResponseWriter, r *http.Request) {
	ds, err := s.devices.Devices(r.Context())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if ds == nil {
		ds = []Device{}
	}
	s.writeJSON(w, http.StatusOK, ds)
}

func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	err := s.devices.Revoke(r.Context(), id)
	if errors.Is(err, ErrUnknownDevice) {
		s.writeError(w, http.StatusNotFound, protocol.CodeNotFound, "unknown device")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	s.log.Info("central: device revoked", "device", id)
	s.record(r, audit.DeviceRevoked, "device:"+id, nil)
	s.writeJSON(w, http.StatusOK, map[string]string{"revoked": id})
}

func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := EventFilter{LocationID: q.Get("location"), DeviceID: q.Get("device"), Limit: 10000}
	if v := q.Get("after_seq"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			s.writeError(w, http.StatusBadRequest, protocol.CodeMalformed, "after_seq: not a number")
			return
		}
		f.AfterSeq = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 || n > 100000 {
			s.writeError(w, http.StatusBadRequest, protocol.CodeMalformed, "limit: 1..100000")
			return
		}
		f.Limit = n
	}
	evs, err := s.eventLog.Events(r.Context(), f)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if evs == nil {
		evs = []StoredEvent{}
	}
	s.writeJSON(w, http.StatusOK, evs)
}

func (s *Server) listAlerts(w http.ResponseWriter, r *http.Request) {
	as, err := s.eventLog.Alerts(r.Context())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if as == nil {
		as = []Alert{}
	}
	s.writeJSON(w, http.StatusOK, as)
}

func (s *Server) listRejected(w http.ResponseWriter, r *http.Request) {
	rs, err := s.eventLog.Rejected(r.Context())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if rs == nil {
		rs = []RejectedEvent{}
	}
	s.writeJSON(w, http.StatusOK, rs)
}

func (s *Server) createAPIToken(w http.ResponseWriter, r *http.Request) {
	body, ok := s.readBody(w, r, protocol.MaxSmallBody)
	if !ok {
		return
	}
	var req struct {
		Name string `json:"name"`
		Role string `json:"role"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.Name == "" {
		s.writeError(w, http.StatusBadRequest, protocol.CodeMalformed, `want {"name":...,"role":"admin|manager|billing|inspector"}`)
		return
	}
	plain, p, err := s.tokens.CreateAPIToken(r.Context(), req.Name, auth.Role(req.Role))
	if errors.Is(err, ErrMalformed) {
		s.writeError(w, http.StatusBadRequest, protocol.CodeMalformed, err.Error())
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	who, _ := auth.PrincipalFrom(r.Context())
	s.log.Info("central: api token created", "id", p.ID, "role", p.Role, "by", who.ID)
	s.record(r, audit.TokenIssued, "token:"+p.ID, map[string]any{"role": string(p.Role), "name": p.Name})
	s.writeJSON(w, http.StatusOK, map[string]any{"token": plain, "id": p.ID, "name": p.Name, "role": p.Role})
}

func (s *Server) revokeAPIToken(w http.ResponseWriter, r *http.Request) {
	err := s.tokens.RevokeAPIToken(r.Context(), r.PathValue("id"))
	if errors.Is(err, ErrNotFound) {
		s.writeError(w, http.StatusNotFound, protocol.CodeNotFound, "unknown or already revoked token")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	s.record(r, audit.TokenRevoked, "token:"+r.PathValue("id"), nil)
	s.writeJSON(w, http.StatusOK, map[string]string{"revoked": r.PathValue("id")})
}

// SetDownload sets the headers of a file download in format f named
// base plus the format's extension (base must be a plain file name).
func SetDownload(h http.Header, f sheet.Format, base string) {
	h.Set("Content-Type", f.ContentType())
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s%s"`, base, f.Ext()))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
}

func (s *Server) listGuardianEmails(w http.ResponseWriter, r *http.Request) {
	ls, err := s.guardians.GuardianEmails(r.Context(), r.PathValue("id"))
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if ls == nil {
		ls = []GuardianLink{}
	}
	s.writeJSON(w, http.StatusOK, ls)
}

// putGuardianEmail invites a guardian to the parents' portal (or changes
// the address; "" forgets it) and withdraws or restores their portal
// access: {"email": "...", "withdrawn": false}. The person must be in the
// location's current roster.
func (s *Server) putGuardianEmail(w http.ResponseWriter, r *http.Request) {
	body, ok := s.readBody(w, r, protocol.MaxSmallBody)
	if !ok {
		return
	}
	var req struct {
		Email     string `json:"email"`
		Withdrawn bool   `json:"withdrawn"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		s.writeError(w, http.StatusBadRequest, protocol.CodeMalformed, `want {"email":"...","withdrawn":false}`)
		return
	}
	loc, person := r.PathValue("id"), r.PathValue("person")
	ro, _, err := s.sites.Roster(r.Context(), loc)
	if err != nil {
		s.writeError(w, http.StatusNotFound, protocol.CodeNotFound, "no roster for this location")
		return
	}
	found := false
	for _, p := range ro.People {
		found = found || p.ID == person
	}
	if !found {
		s.writeError(w, http.StatusNotFound, protocol.CodeNotFound, "no such person in the roster")
		return
	}
	err = s.guardians.SetGuardianEmail(r.Context(), loc, person, req.Email)
	if err == nil && req.Email != "" {
		err = s.guardians.SetGuardianWithdrawn(r.Context(), loc, person, req.Withdrawn)
	}
	if errors.Is(err, ErrMalformed) {
		s.writeError(w, http.StatusBadRequest, protocol.CodeMalformed, err.Error())
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	s.record(r, audit.PersonalDataChange, "person:"+person, map[string]any{"location": loc, "portal_invitation": req.Email != "", "withdrawn": req.Withdrawn})
	s.writeJSON(w, http.StatusOK, map[string]any{"location_id": loc, "person_id": person, "invited": req.Email != "", "withdrawn": req.Withdrawn})
}
