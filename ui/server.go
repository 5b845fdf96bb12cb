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
	"net/http"
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
	s := &Server{cfg: cfg, log: cfg.Logger}
	s.hub = newHub(s)
	return s
}

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
	mux.HandleFunc("GET /api/v1/presence", s.presence)
	mux.HandleFunc("GET /api/v1/status", s.status)
	if s.cfg.Sim != nil {
		mux.HandleFunc("POST /api/v1/sim/tap", s.simTap)
		mux.HandleFunc("GET /api/v1/sim/cards", s.simCards)
	}
	return securityHeaders(mux)
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
