package central

import (
	"net/http"
	"slices"
)

// routeMux is the API's ServeMux, remembering every pattern registered on
// it: the OpenAPI test compares them with the published description
// (openapi.json), so the two cannot drift apart.
type routeMux struct {
	*http.ServeMux
	patterns []string
}

func newRouteMux() *routeMux { return &routeMux{ServeMux: http.NewServeMux()} }

// Handle registers h for pattern ("METHOD /path").
func (m *routeMux) Handle(pattern string, h http.Handler) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.Handle(pattern, h)
}

// HandleFunc registers f for pattern.
func (m *routeMux) HandleFunc(pattern string, f func(http.ResponseWriter, *http.Request)) {
	m.Handle(pattern, http.HandlerFunc(f))
}

// Routes lists the patterns of every route the API serves ("GET
// /api/v1/admin/devices", ...), sorted.
func (s *Server) Routes() []string {
	out := slices.Clone(s.routes)
	slices.Sort(out)
	return out
}
