package central

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/kinderdeur/kiosk/sync/central/auth"
	"github.com/kinderdeur/kiosk/sync/protocol"
)

// metricsAuth lets a scraper in with one of the metrics tokens (a bearer
// token good for /metrics only, -metrics-token) or an admin credential
// with manage_devices. A separate -metrics-listen address needs neither.
func (s *Server) metricsAuth(tokens []string, h http.Handler) http.Handler {
	admin := s.auth.Require(auth.ManageDevices)(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			for _, t := range tokens {
				if t != "" && subtle.ConstantTimeCompare([]byte(got), []byte(t)) == 1 {
					h.ServeHTTP(w, r)
					return
				}
			}
		}
		admin.ServeHTTP(w, r)
	})
}

// batchRecorder remembers a batch answer's status and error code for the
// IngestObserver.
type batchRecorder struct {
	http.ResponseWriter
	status  int
	code    string
	results []protocol.EventResult
}

func (b *batchRecorder) WriteHeader(code int) {
	b.status = code
	b.ResponseWriter.WriteHeader(code)
}

func (b *batchRecorder) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	if b.status >= 400 && b.code == "" {
		var e protocol.Error
		if json.Unmarshal(p, &e) == nil {
			b.code = e.Code
		}
	}
	return b.ResponseWriter.Write(p)
}

// outcome is "ok" or the code the batch was refused with.
func (b *batchRecorder) outcome() string {
	switch {
	case b.status < 400:
		return "ok"
	case b.code != "":
		return b.code
	}
	return "error"
}
