// Package ui is the kiosk's face: the HTTP server on the daemon's listen
// address, the websocket hub that feeds the touch screen (protocol in
// PROTOCOL.md), the embedded page under web/ (no build step), and the
// simulator endpoints that exist only when readers are simulated.
package ui

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/door"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/attendance/rules"
)

//go:embed web
var webFS embed.FS

// Simulator places cards in the field of simulated readers.
type Simulator interface {
	Present(reader string, uid []byte) error
	Remove(reader string)
}

// Health reports whether the daemon is ready and why not.
type Health func(ctx context.Context) (ok bool, details map[string]any)

// Door is what the screen needs from the door (attendance/door.Service):
// its results and updates, and the intents the page sends.
type Door interface {
	Subscribe() (<-chan door.Update, func())
	Snapshot() door.Snapshot
	Presence() door.Presence
	// Await returns the result of the next tap of uid on reader.
	Await(reader string, uid []byte) (<-chan door.Result, func())
	Select(ctx context.Context, session string, children []string) (door.Result, error)
	Cancel(session string) error
	ConfirmTo(ctx context.Context, session string, children []string, idType, note string, to rules.Handover) (door.Result, error)
	Refuse(ctx context.Context, session, reason string) error
	PIN(pin string) error
	Manual(ctx context.Context, action, subject, reason string) error
	Lock()
	Activity()
}

var _ Door = (*door.Service)(nil)

// Corrector is a Door whose staff correct today's stays (door.Service); the
// correct intent needs it.
type Corrector interface {
	Correct(ctx context.Context, c door.Correction) error
}

var _ Corrector = (*door.Service)(nil)

// Config builds a Server.
type Config struct {
	Door Door
	// Sim and Cards are set only when readers are simulated; without them
	// the /api/v1/sim endpoints do not exist.
	Sim   Simulator
	Cards []roster.DemoCard
	// Readers names the simulated readers, for the card panel.
	Readers []string
	Health  Health
	// Status is the discreet status line (readers, sync, clock, storage).
	Status func() Status
	Logger *slog.Logger
	// TapTimeout bounds how long a simulated tap waits for its decision.
	TapTimeout time.Duration
	// AllowedHosts names the host names (without port, case-insensitive)
	// the page and the API may be reached by, besides loopback
	// ("localhost", "*.localhost", 127.0.0.0/8, ::1) and the IP address a
	// request came in on. A request with any other Host is refused (403):
	// a page on a hostile name that resolves to the kiosk (DNS rebinding)
	// cannot reach the websocket or the API. kioskd passes the host of its
	// listen address and its configured names.
	AllowedHosts []string
	// StaffScreens are the remote addresses whose screens get the staff
	// panel and may act (send intents), besides this machine's (loopback,
	// always). A screen from any other address that reaches /ws sees the
	// public screen only: the staff panel stays null for it and its
	// intents are refused. kioskd passes its staff_screens.
	StaffScreens []netip.Prefix
	// Metrics, when set, is served at GET /metrics behind the same Host
	// check as the page and the API (the Prometheus text format).
	Metrics http.Handler
	// IntentRate and IntentBurst limit the messages one screen may send:
	// IntentRate a second with bursts of IntentBurst (0: the defaults, 20
	// and 40, far above any finger). Only tests that drive the page at
	// machine speed raise them.
	IntentRate, IntentBurst int
}

// Status is the status line shown small on the idle screen.
type Status struct {
	Readers     any  `json:"readers"`
	Sync        any  `json:"sync"`
	ClockSynced bool `json:"clock_synced"`
	StorageOK   bool `json:"storage_ok"`
}

// Server serves the kiosk UI and its APIs.
type Server struct {
	cfg Config
	log *slog.Logger
	hub *hub
}

// New returns a server; Run its hub with Serve's context.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.TapTimeout <= 0 {
		cfg.TapTimeout = 3 * time.Second
	}
	if cfg.IntentRate <= 0 {
		cfg.IntentRate = intentRate
	}
	if cfg.IntentBurst <= 0 {
		cfg.IntentBurst = intentBurst
	}
	s := &Server{cfg: cfg, log: cfg.Logger}
	s.hub = newHub(s)
	return s
}

// Clients is the number of screens connected over the websocket.
func (s *Server) Clients() int { return int(s.hub.clients.Load()) }

// Run feeds the connected screens from the door until ctx is done.
func (s *Server) Run(ctx context.Context) error { return s.hub.run(ctx) }

// Handler returns the HTTP routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	sub, err := fs.Sub(webFS, "web")
	if err != nil {
		panic(err) // the embed pattern guarantees the directory
	}
	mux.Handle("GET /", http.FileServerFS(sub))
	mux.HandleFunc("GET /ws", s.hub.serveWS)
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /api/v1/presence", s.staffOnly(s.presence))
	mux.HandleFunc("GET /api/v1/status", s.status)
	if s.cfg.Metrics != nil {
		mux.Handle("GET /metrics", s.cfg.Metrics)
	}
	if s.cfg.Sim != nil {
		mux.HandleFunc("POST /api/v1/sim/tap", s.staffOnly(s.simTap))
		mux.HandleFunc("GET /api/v1/sim/cards", s.staffOnly(s.simCards))
	}
	return securityHeaders(s.checkHost(mux))
}

// checkHost refuses requests whose Host is not one of ours (DNS
// rebinding): everything but the health check, which says nothing private
// and is probed by any name.
func (s *Server) checkHost(h http.Handler) http.Handler {
	allowed := map[string]bool{}
	for _, a := range s.cfg.AllowedHosts {
		if host := normalHost(a); host != "" {
			allowed[host] = true
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" && !hostAllowed(r, allowed) {
			s.log.Warn("request with a foreign Host refused", "host", r.Host, "path", r.URL.Path, "remote", r.RemoteAddr)
			writeError(w, http.StatusForbidden, "host %q is not this kiosk's: use 127.0.0.1 or localhost, or add the name to the kiosk's allowed hosts", r.Host)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// normalHost is a Host header's or a configured name's host: no port, no
// brackets, no trailing dot, lower case.
func normalHost(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	return strings.ToLower(host)
}

// staffScreen reports whether the screen that sent r is trusted with the
// staff panel: this machine, or an address in Config.StaffScreens. The
// peer's own address counts, never a forwarded header. This machine is
// loopback, or the address the request came in on: with kioskd listening
// on the machine's LAN address, its own browser reaches it by that
// address and comes from it.
func (s *Server) staffScreen(r *http.Request) bool {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := ap.Addr().Unmap().WithZone("") // a link-local peer's zone: prefixes have none
	if ip.IsLoopback() {
		return true
	}
	if la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if lp, err := netip.ParseAddrPort(la.String()); err == nil && lp.Addr().Unmap().WithZone("") == ip {
			return true
		}
	}
	for _, p := range s.cfg.StaffScreens {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// staffOnly answers h only to staff screens: the presence API names every
// child present in full, and the simulator taps and lists cards; a screen
// elsewhere sees the public screen only and may not act (403).
func (s *Server) staffOnly(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.staffScreen(r) {
			s.log.Warn("API request from a screen that is not a staff screen refused", "path", r.URL.Path, "remote", r.RemoteAddr)
			writeError(w, http.StatusForbidden, "%s answers this machine and the staff_screens only", r.URL.Path)
			return
		}
		h(w, r)
	}
}

func hostAllowed(r *http.Request, allowed map[string]bool) bool {
	host := normalHost(r.Host)
	switch {
	case host == "":
		return false
	case host == "localhost" || strings.HasSuffix(host, ".localhost") || allowed[host]:
		return true
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return false // a name we were not told about
	}
	if ip.IsLoopback() {
		return true
	}
	// An IP address is no rebinding risk, but accept only the one this
	// request reached us on.
	if la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if ap, err := netip.ParseAddrPort(la.String()); err == nil && ap.Addr().Unmap() == ip.Unmap() {
			return true
		}
	}
	return false
}

// sameOriginPost refuses a request a web page on another site could make
// (CSRF): a browser (it sends Origin or Sec-Fetch-Site) must be
// same-origin and send JSON; a tool without those headers (curl -d sends
// application/x-www-form-urlencoded) may also send a form content type or
// none. It answers and returns false when refused.
func sameOriginPost(w http.ResponseWriter, r *http.Request) bool {
	origin, site := r.Header.Get("Origin"), r.Header.Get("Sec-Fetch-Site")
	if site != "" && site != "same-origin" && site != "none" {
		writeError(w, http.StatusForbidden, "cross-site request refused (Sec-Fetch-Site: %s)", site)
		return false
	}
	if origin != "" {
		u, err := url.Parse(origin)
		if err != nil || u.Host == "" || !strings.EqualFold(u.Host, r.Host) {
			writeError(w, http.StatusForbidden, "cross-origin request refused (Origin: %s)", origin)
			return false
		}
	}
	ct := r.Header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	browser := origin != "" || site != ""
	if mt == "application/json" || !browser && (ct == "" || mt == "application/x-www-form-urlencoded") {
		return true
	}
	writeError(w, http.StatusUnsupportedMediaType, "Content-Type %q: want application/json", ct)
	return false
}

func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}

// apiError is the JSON error every endpoint answers with.
type apiError struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, code int, format string, a ...any) {
	writeJSON(w, code, apiError{Error: fmt.Sprintf(format, a...)})
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ok, details := true, map[string]any{}
	if s.cfg.Health != nil {
		ok, details = s.cfg.Health(r.Context())
	}
	details["ok"] = ok
	code := http.StatusOK
	if !ok {
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, details)
}

func (s *Server) presence(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, presenceOf(s.cfg.Door.Presence()))
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.statusNow())
}

func (s *Server) statusNow() Status {
	if s.cfg.Status == nil {
		return Status{ClockSynced: true, StorageOK: true}
	}
	return s.cfg.Status()
}

// tapRequest is the body of POST /api/v1/sim/tap.
type tapRequest struct {
	Reader string `json:"reader"`
	UID    string `json:"uid"`
}

const maxBody = 4 << 10

func (s *Server) simTap(w http.ResponseWriter, r *http.Request) {
	if !sameOriginPost(w, r) {
		return
	}
	var req tapRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, "request body over %d bytes", maxBody)
			return
		}
		writeError(w, http.StatusBadRequest, `bad JSON: %v; want {"reader":"<reader name>","uid":"<hex uid>"}`, err)
		return
	}
	if err := dec.Decode(new(json.RawMessage)); err != io.EOF {
		writeError(w, http.StatusBadRequest, "bad JSON: trailing data after the object")
		return
	}
	if req.Reader == "" {
		if len(s.cfg.Readers) != 1 {
			writeError(w, http.StatusBadRequest, "missing reader: one of %s", strings.Join(s.cfg.Readers, ", "))
			return
		}
		req.Reader = s.cfg.Readers[0]
	}
	known := false
	for _, n := range s.cfg.Readers {
		known = known || n == req.Reader
	}
	if !known {
		writeError(w, http.StatusNotFound, "unknown reader %q: readers are %s", req.Reader, strings.Join(s.cfg.Readers, ", "))
		return
	}
	uid, err := attendance.ParseUID(req.UID)
	if err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	wait, cancel := s.cfg.Door.Await(req.Reader, uid)
	defer cancel()
	if err := s.cfg.Sim.Present(req.Reader, uid); err != nil {
		writeError(w, http.StatusConflict, "reader %q: %v", req.Reader, err)
		return
	}
	defer s.cfg.Sim.Remove(req.Reader)
	select {
	case r := <-wait:
		writeJSON(w, http.StatusOK, viewOf(r))
	case <-time.After(s.cfg.TapTimeout):
		writeError(w, http.StatusGatewayTimeout, "reader %q did not report the card within %s: the reader is unhealthy, or the same card came back within the reader's debounce time and counts as the same tap", req.Reader, s.cfg.TapTimeout)
	case <-r.Context().Done():
	}
}

// simCard is a demo card with the reader a tap on the card panel uses.
type simCard struct {
	roster.DemoCard
	Reader string `json:"reader"`
}

func (s *Server) simCards(w http.ResponseWriter, r *http.Request) {
	cards := make([]simCard, 0, len(s.cfg.Cards))
	for _, c := range s.cfg.Cards {
		cards = append(cards, simCard{DemoCard: c, Reader: s.cfg.Readers[0]})
	}
	writeJSON(w, http.StatusOK, cards)
}
